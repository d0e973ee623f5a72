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
