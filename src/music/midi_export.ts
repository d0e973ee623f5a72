/**
 * Melody tokens → a format-1 Standard MIDI File (SPEC §2, "Export"). Pure: returns bytes, no file system.
 *
 * Track 0 is the conductor (tempo, time signature — 4/4 unless given — and the key signature when a key
 * is given; a MIDI key signature knows major and minor only, so a key in another mode is written with
 * the signature of its notes — D dorian with C major's, no sharps or flats, marked minor by its third —
 * and a text event naming it, "D dorian", which importMidi reads back); track 1 holds the melody on
 * channel 0: a program
 * change, then one note per note-on token, held through NO_EVENT tokens and ended by NOTE_OFF, the next
 * note-on or the end of the composition. Token t plays MIDI pitch t + 46 (the reference wrote t + 48, a
 * bug). The melody track ends exactly at the composition's last step, so a trailing rest survives
 * export → import (see midi_import.ts on trailing silence).
 *
 * A melody that starts part-way into a bar (`barPosition`, e.g. after a pickup or a primer) is written
 * that many steps after the first bar line, so its bars line up with the meter; importMidi drops the
 * leading silence and reports the same bar position.
 *
 * Round trip: importMidi(exportMidi(x), { transpose: false, centre: false }) returns x for a melody that
 * starts with a note, writes NOTE_OFF only while a note sounds (a NOTE_OFF during a rest means the same as
 * NO_EVENT and comes back as one) and ends with at most 16 steps of rest (importMidi's
 * maxTrailingRestSteps). With default import options a C major melody centred in 48..83 also comes back.
 */

import { tokensToNotes, type StepNote } from './notes.js';
import { writeMidi, type MidiData, type MidiEvent } from 'midi-file';
import { STEPS_PER_QUARTER, assertTokens } from './encoding.js';
import { isMajorMode, keyName, signatureOfKey, type Key } from './keys.js';

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
  /** Time signature written in the conductor track. Default 4/4. The steps stay 16th notes. */
  timeSignature?: { numerator: number; denominator: number };
  /**
   * The key of the written notes; its key signature (sharps or flats, major or minor) is written, so an
   * import reads the key back instead of estimating it. Default C major (the key melodies are imported
   * in); null writes none.
   */
  key?: Key | null;
  /**
   * Semitones added to every note as it is written (e.g. the inverse of an import's transposition, to
   * put a melody back in its file's key). Default 0. Every note must stay in MIDI 0..127.
   */
  transpose?: number;
  /**
   * Steps from the bar line before the melody's first step to that step (0..steps per bar − 1): the
   * melody is written that many steps into its first bar. Default 0 (it starts on a downbeat).
   */
  barPosition?: number;
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

  const timeSignature = options.timeSignature ?? { numerator: 4, denominator: 4 };
  const { numerator, denominator } = timeSignature;
  if (!(Number.isInteger(numerator) && numerator >= 1 && numerator <= 255 && Number.isInteger(denominator) && denominator >= 1 && denominator <= 128 && (denominator & (denominator - 1)) === 0)) {
    throw new MidiExportError(`time signature ${numerator}/${denominator} cannot be written; the numerator must be 1..255 and the denominator a power of two up to 128 (e.g. 6/8)`);
  }
  const transpose = options.transpose ?? 0;
  const notes = tokensToNotes(tokens);
  if (!Number.isInteger(transpose) || notes.some((note) => note.pitch + transpose < 0 || note.pitch + transpose > 127)) {
    throw new MidiExportError(`transpose ${transpose} must be a whole number of semitones that keeps every note in MIDI 0..127`);
  }
  for (const note of notes) note.pitch += transpose;
  const stepsPerBar = (numerator * 16) / denominator;
  const barPosition = options.barPosition ?? 0;
  if (!(Number.isInteger(barPosition) && barPosition >= 0 && barPosition < Math.max(1, stepsPerBar))) {
    throw new MidiExportError(`barPosition ${barPosition} must be a whole number of steps from 0 to ${Math.ceil(stepsPerBar) - 1} (a ${numerator}/${denominator} bar has ${stepsPerBar} steps)`);
  }
  for (const note of notes) {
    note.start += barPosition;
    note.end += barPosition;
  }

  const ticksPerStep = ticksPerQuarter / STEPS_PER_QUARTER;
  const midi: MidiData = {
    header: { format: 1, numTracks: 2, ticksPerBeat: ticksPerQuarter },
    tracks: [
      conductorTrack(microsecondsPerQuarter, timeSignature, options.key === undefined ? { tonic: 0, mode: 'major' } : options.key),
      melodyTrack(notes, (barPosition + tokens.length) * ticksPerStep, ticksPerStep, velocity, program),
    ],
  };
  return Uint8Array.from(writeMidi(midi));
}

function conductorTrack(microsecondsPerQuarter: number, meter: { numerator: number; denominator: number }, key: Key | null): MidiEvent[] {
  // A click per beat: a dotted quarter (36 MIDI clocks) in compound meters (6/8, 9/8, 12/8), else one denominator note.
  const compound = meter.denominator === 8 && meter.numerator % 3 === 0 && meter.numerator > 3;
  const metronome = compound ? 36 : Math.max(1, Math.round(96 / meter.denominator));
  const events: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: microsecondsPerQuarter },
    { deltaTime: 0, meta: true, type: 'timeSignature', numerator: meter.numerator, denominator: meter.denominator, metronome, thirtyseconds: 8 },
  ];
  if (key !== null) {
    const signature = signatureOfKey(key);
    events.push({ deltaTime: 0, meta: true, type: 'keySignature', key: signature.sharps, scale: signature.mode === 'minor' ? 1 : 0 });
    const plain = isMajorMode(key.mode) ? (key.mode === 'major' || key.mode === 'ionian') : (key.mode === 'minor' || key.mode === 'aeolian');
    if (!plain) events.push({ deltaTime: 0, meta: true, type: 'text', text: keyName(key) });
  }
  events.push({ deltaTime: 0, meta: true, type: 'endOfTrack' });
  return events;
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
