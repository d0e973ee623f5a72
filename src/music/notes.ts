/**
 * Melodies as notes: the tokens of the 38-class encoding read as (pitch, start, end) in steps. Used by
 * MIDI export and by anything that draws or plays a melody.
 */
import { NO_EVENT, NOTE_OFF, tokenToPitch } from './encoding.js';

/** A note in steps; `end` is exclusive. */
export interface StepNote {
  /** MIDI pitch. */
  pitch: number;
  start: number;
  end: number;
}

/** Note-on tokens start a note, NO_EVENT holds it, NOTE_OFF or the next note-on ends it, as does the end. */
export function tokensToNotes(tokens: ArrayLike<number>): StepNote[] {
  const notes: StepNote[] = [];
  let sounding: StepNote | null = null;
  for (let step = 0; step < tokens.length; step++) {
    const token = tokens[step];
    if (token === NO_EVENT) continue;
    if (sounding !== null) sounding.end = step;
    sounding = null;
    if (token !== NOTE_OFF) {
      sounding = { pitch: tokenToPitch(token), start: step, end: tokens.length };
      notes.push(sounding);
    }
  }
  return notes;
}

/** A duration in sixteenth-note steps as a musician names it ("8th", "dotted quarter"); else "<n> 16ths". */
export function durationName(steps: number): string {
  const named: Record<number, string> = {
    1: '16th', 2: '8th', 3: 'dotted 8th', 4: 'quarter', 6: 'dotted quarter', 8: 'half', 12: 'dotted half', 16: 'whole',
  };
  return named[steps] ?? `${steps} 16ths`;
}

/**
 * A melody written out for reading: each note as its name and duration ("C4 8th"), rests as "rest" and a
 * duration, bars separated by " | " every `stepsPerBar` steps counted from `barPosition` steps into the
 * first bar, pitches moved by `transpose` semitones (as the MIDI export moves them). A note or rest that
 * crosses a bar line is written in the bar where it starts.
 */
export function melodyAsText(tokens: ArrayLike<number>, stepsPerBar = 16, barPosition = 0, transpose = 0): string {
  const names = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
  const events: { start: number; end: number; text: string }[] = [];
  let at = 0;
  for (const note of tokensToNotes(tokens)) {
    if (note.start > at) events.push({ start: at, end: note.start, text: 'rest' });
    const pitch = note.pitch + transpose;
    events.push({ start: note.start, end: note.end, text: `${names[pitch % 12]}${Math.floor(pitch / 12) - 1}` });
    at = note.end;
  }
  if (at < tokens.length) events.push({ start: at, end: tokens.length, text: 'rest' });
  const bars: string[][] = [];
  for (const e of events) {
    const bar = Math.floor((e.start + barPosition) / stepsPerBar);
    (bars[bar] ??= []).push(`${e.text} ${durationName(e.end - e.start)}`);
  }
  return bars.filter((b) => b !== undefined).map((b) => b.join(', ')).join(' | ');
}
