/**
 * Melody tokens → a format-1 Standard MIDI File (SPEC §2, "Export"). Pure: returns bytes, no file system.
 *
 * Track 0 is the conductor (tempo, 4/4 time signature); track 1 holds the melody on channel 0: a program
 * change, then one note per note-on token, held through NO_EVENT tokens and ended by NOTE_OFF, the next
 * note-on or the end of the composition. Token t plays MIDI pitch t + 46 (the reference wrote t + 48, a
 * bug). The melody track ends exactly at the composition's last step, so a trailing rest survives
 * export → import (see midi_import.ts on trailing silence).
 *
 * Round trip: importMidi(exportMidi(x), { transpose: false, centre: false }) returns x for a melody that
 * starts with a note, writes NOTE_OFF only while a note sounds (a NOTE_OFF during a rest means the same as
 * NO_EVENT and comes back as one) and ends with at most 16 steps of rest (importMidi's
 * maxTrailingRestSteps). With default import options a C major melody centred in 48..83 also comes back.
 */

import { tokensToNotes, type StepNote } from './notes.js';
import { writeMidi, type MidiData, type MidiEvent } from 'midi-file';
import { STEPS_PER_QUARTER, assertTokens } from './encoding.js';

/** Tokens or options that cannot be written as MIDI; the message names the value and the allowed range. */
export class MidiExportError extends Error {
  override readonly name = 'MidiExportError';
}

export interface ExportOptions {
  /** Tempo in quarter notes per minute. Default 120. */
  qpm?: number;
  /** Time resolution; a multiple of 4 so every 16th step is a whole number of ticks. Default 480. */
  ticksPerQuarter?: number;
  /** Note-on velocity, 1..127. Default 100. */
  velocity?: number;
  /** General MIDI program (instrument), 0..127. Default 0 (acoustic grand piano). */
  program?: number;
}

const MELODY_CHANNEL = 0;
const MAX_TICKS_PER_QUARTER = 0x7fff;
const MAX_MICROSECONDS_PER_QUARTER = 0xffffff;

/** Writes the melody as a format-1 MIDI file. */
export function exportMidi(tokens: ArrayLike<number>, options: ExportOptions = {}): Uint8Array {
  try {
    assertTokens(tokens, 'melody');
  } catch (error) {
    throw new MidiExportError(`cannot export: ${(error as Error).message}`);
  }
  const qpm = options.qpm ?? 120;
  const ticksPerQuarter = options.ticksPerQuarter ?? 480;
  const velocity = options.velocity ?? 100;
  const program = options.program ?? 0;
  const microsecondsPerQuarter = Math.round(60_000_000 / qpm);
  if (!(Number.isFinite(qpm) && qpm > 0 && microsecondsPerQuarter >= 1 && microsecondsPerQuarter <= MAX_MICROSECONDS_PER_QUARTER)) {
    throw new MidiExportError(`qpm ${qpm} is not a usable tempo; give a number from ${Math.ceil(60_000_000 / MAX_MICROSECONDS_PER_QUARTER)} to 60000000`);
  }
  if (!(Number.isInteger(ticksPerQuarter) && ticksPerQuarter > 0 && ticksPerQuarter <= MAX_TICKS_PER_QUARTER && ticksPerQuarter % STEPS_PER_QUARTER === 0)) {
    throw new MidiExportError(`ticksPerQuarter ${ticksPerQuarter} must be a multiple of ${STEPS_PER_QUARTER} in ${STEPS_PER_QUARTER}..${MAX_TICKS_PER_QUARTER} (e.g. 480)`);
  }
  if (!(Number.isInteger(velocity) && velocity >= 1 && velocity <= 127)) {
    throw new MidiExportError(`velocity ${velocity} must be an integer in 1..127`);
  }
  if (!(Number.isInteger(program) && program >= 0 && program <= 127)) {
    throw new MidiExportError(`program ${program} must be an integer in 0..127`);
  }

  const ticksPerStep = ticksPerQuarter / STEPS_PER_QUARTER;
  const midi: MidiData = {
    header: { format: 1, numTracks: 2, ticksPerBeat: ticksPerQuarter },
    tracks: [
      conductorTrack(microsecondsPerQuarter),
      melodyTrack(tokensToNotes(tokens), tokens.length * ticksPerStep, ticksPerStep, velocity, program),
    ],
  };
  return Uint8Array.from(writeMidi(midi));
}

function conductorTrack(microsecondsPerQuarter: number): MidiEvent[] {
  return [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: microsecondsPerQuarter },
    { deltaTime: 0, meta: true, type: 'timeSignature', numerator: 4, denominator: 4, metronome: 24, thirtyseconds: 8 },
    { deltaTime: 0, meta: true, type: 'endOfTrack' },
  ];
}

/** Program change, note-on/note-off pairs (a note-off before a note-on at the same tick), end of track. */
function melodyTrack(notes: StepNote[], endTick: number, ticksPerStep: number, velocity: number, program: number): MidiEvent[] {
  const timed: { tick: number; event: MidiEvent }[] = [
    { tick: 0, event: { deltaTime: 0, channel: MELODY_CHANNEL, type: 'programChange', programNumber: program } },
  ];
  for (const note of notes) {
    timed.push({ tick: note.start * ticksPerStep, event: { deltaTime: 0, channel: MELODY_CHANNEL, type: 'noteOn', noteNumber: note.pitch, velocity } });
    timed.push({ tick: note.end * ticksPerStep, event: { deltaTime: 0, channel: MELODY_CHANNEL, type: 'noteOff', noteNumber: note.pitch, velocity: 0 } });
  }
  timed.push({ tick: endTick, event: { deltaTime: 0, meta: true, type: 'endOfTrack' } });
  const rank = (event: MidiEvent): number => (event.type === 'noteOff' ? 0 : event.type === 'endOfTrack' ? 2 : 1);
  timed.sort((a, b) => a.tick - b.tick || rank(a.event) - rank(b.event));
  let previousTick = 0;
  return timed.map(({ tick, event }) => {
    const withDelta = { ...event, deltaTime: tick - previousTick };
    previousTick = tick;
    return withDelta;
  });
}
