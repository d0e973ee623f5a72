/**
 * NoteSequence ⇄ melody tokens: the JSON form of Magenta's NoteSequence that Magenta.js passes around
 * (`INoteSequence`: plain objects, camelCase fields, absent fields meaning 0/false as in protobuf).
 * Pure: no file system, so it runs wherever the library runs.
 *
 * In (`fromNoteSequence`), the same melody pipeline as MIDI import (SPEC §2, src/music/midi_import.ts):
 *   notes (drums skipped) → 16th steps → keep the highest note of each onset → cut overlaps →
 *   transpose to C major / A minor → centre by octaves in MIDI 48..83 → fold stragglers → tokens.
 * - Steps: a quantized sequence (quantizationInfo.stepsPerQuarter) uses its quantizedStartStep/EndStep,
 *   rescaled to 4 steps per quarter when it has another resolution; a sequence quantized in steps per
 *   second, or not quantized, has its times in seconds converted to quarters through its tempo map
 *   (120 qpm before the first tempo, as Magenta assumes) and rounded to the nearest step.
 * - Transposition: by the sequence's first key signature when it is major or minor and the notes do not
 *   contradict it (its scale holds at least 90% of the note steps the best-fitting major scale holds),
 *   else by the notes, as the MIDI importer chooses. The result says which.
 * - The melody ends where its last note ends, or at the sequence's end (totalQuantizedSteps / totalTime)
 *   when the silence up to it is at most `maxTrailingRestSteps`; leading silence is dropped (SPEC §2.4).
 *
 * Out (`toNoteSequence`): a quantized sequence at 4 steps per quarter, with times in seconds from the
 * tempo, one tempo, 4/4, the key signature when given, and totalQuantizedSteps = the token count, so a
 * trailing rest is kept. Magenta.js's MusicRNN reads it directly (its `basic_rnn` melody encoding).
 *
 * Round trip: fromNoteSequence(toNoteSequence(x)) returns x for a melody that starts with a note, writes
 * NOTE_OFF only while a note sounds, ends with at most 16 steps of rest, and is in C major and centred
 * (or is read back with `{ transpose: false, centre: false }`).
 */

import { MAX_PITCH, MIN_PITCH, STEPS_PER_QUARTER, assertTokens } from './encoding.js';
import { preview } from '../io/preview.js';
import { tokensToNotes } from './notes.js';
import {
  chooseMelodyEnd, chooseOctaveShift, chooseTransposition, cutOverlaps, DEFAULT_MAX_STEPS, encodeNotes, foldIntoRange,
  keepHighestAtEachOnset, MAX_STEPS_LIMIT, stepsInCMajor, type NoteList,
} from './midi_import.js';

/** A number field as Magenta.js and protobuf JSON write it (64-bit steps may come as decimal strings). */
type Numeric = number | string | null | undefined;

/** One note of a NoteSequence (the fields rltuner reads or writes). */
export interface NoteSequenceNote {
  pitch?: number | null;
  velocity?: number | null;
  /** Seconds. */
  startTime?: number | null;
  endTime?: number | null;
  quantizedStartStep?: Numeric;
  quantizedEndStep?: Numeric;
  instrument?: number | null;
  program?: number | null;
  isDrum?: boolean | null;
}

/** Key as Magenta's enum: the tonic's pitch class (0 = C .. 11 = B) or its name ('C', 'F_SHARP', 'B_FLAT'). */
export type NoteSequenceKeyValue = number | string;
/** Mode as Magenta's enum: 0 = MAJOR, 1 = MINOR (2..7: not specified, church modes) or its name. */
export type NoteSequenceModeValue = number | string;

export interface NoteSequenceKeySignature {
  time?: number | null;
  key?: NoteSequenceKeyValue | null;
  mode?: NoteSequenceModeValue | null;
}

/** The NoteSequence fields rltuner reads and writes; other fields are ignored on input. */
export interface NoteSequence {
  notes?: NoteSequenceNote[] | null;
  tempos?: { time?: number | null; qpm?: number | null }[] | null;
  keySignatures?: NoteSequenceKeySignature[] | null;
  timeSignatures?: { time?: number | null; numerator?: number | null; denominator?: number | null }[] | null;
  /** Seconds. */
  totalTime?: number | null;
  totalQuantizedSteps?: Numeric;
  quantizationInfo?: { stepsPerQuarter?: number | null; stepsPerSecond?: number | null } | null;
}

/** A key as numbers: tonic pitch class 0..11 (0 = C) and mode 0..7 (0 = major, 1 = minor), Magenta's enums. */
export interface MusicalKey {
  key: number;
  mode: number;
}

/** A sequence (or options) that cannot be read or written; the message names the field and the value. */
export class NoteSequenceError extends Error {
  override readonly name = 'NoteSequenceError';
}

export interface FromNoteSequenceOptions {
  /** Name used in messages. Default "<NoteSequence>". */
  name?: string;
  /** Transpose to C major / A minor (SPEC §2.3). Default true. */
  transpose?: boolean;
  /** Shift by octaves so the melody is centred in MIDI 48..83. Default true. Folding always happens. */
  centre?: boolean;
  /** Take only the notes of this instrument number. Default: every instrument. */
  instrument?: number;
  /** Silence after the last note, up to the sequence's end, is kept when at most this many steps. Default 16. */
  maxTrailingRestSteps?: number;
  /**
   * Melodies longer than this many steps are refused before any token is allocated (as importMidi's
   * maxSteps). Default DEFAULT_MAX_STEPS (65,536); at most MAX_STEPS_LIMIT (4,194,304).
   */
  maxSteps?: number;
}

export interface FromNoteSequenceResult {
  /** The melody: classes 0..37, starting with a note-on. */
  tokens: Uint8Array;
  /** Tempo of the sequence's first tempo event (120 when it has none). */
  qpm: number;
  /** The sequence's first key signature (before transposition), or null when it has none. */
  key: MusicalKey | null;
  /** What chose the transposition. */
  keySource: 'key-signature' | 'notes' | 'not-transposed';
  /** Semitones applied to put the melody in C major / A minor (−6..+5). */
  transposition: number;
  /** Whole octaves applied after the transposition to centre the melody. */
  octaveShift: number;
  /** Notes read (non-drum, of the chosen instrument). */
  noteCount: number;
  /** Notes dropped because a higher note starts on the same step. */
  chordNotesDropped: number;
  /** Notes shortened because the next note starts before they end. */
  notesCut: number;
  /** Notes still outside 48..83 after centring, moved by octaves into range. */
  notesFolded: number;
  warnings: string[];
}

export interface ToNoteSequenceOptions {
  /** Tempo in quarter notes per minute. Default 120. */
  qpm?: number;
  /** Key signature to record at time 0 (e.g. `key` from fromNoteSequence). Default: none. */
  key?: MusicalKey;
  /** Semitones added to every pitch (e.g. −(transposition + 12·octaveShift) to undo an import). Default 0. */
  transpose?: number;
  /** Note velocity, 1..127. Default 100. */
  velocity?: number;
  /** General MIDI program, 0..127. Default 0. */
  program?: number;
}

const DEFAULT_QPM = 120;
const KEY_NAMES: Record<string, number> = {
  C: 0, C_SHARP: 1, D_FLAT: 1, D: 2, D_SHARP: 3, E_FLAT: 3, E: 4, F: 5, F_SHARP: 6, G_FLAT: 6, G: 7,
  G_SHARP: 8, A_FLAT: 8, A: 9, A_SHARP: 10, B_FLAT: 10, B: 11,
};
const MODE_NAMES: Record<string, number> = {
  MAJOR: 0, MINOR: 1, NOT_SPECIFIED: 2, MIXOLYDIAN: 3, DORIAN: 4, PHRYGIAN: 5, LYDIAN: 6, LOCRIAN: 7,
};
const MAJOR = 0;
const MINOR = 1;
/** Pitch class the tonic is moved to: C for major, A for minor (SPEC §2.3). */
const TARGET_TONIC: Record<number, number> = { [MAJOR]: 0, [MINOR]: 9 };
/** A key signature stands when its scale holds at least this share of what the best-fitting scale holds. */
const KEY_SIGNATURE_AGREEMENT = 0.9;

// ---- in ----

/**
 * The most notes a sequence may hold: 1,000,000. A long piano performance (MAESTRO's longest) has tens of
 * thousands; a melody a few hundred. Checked before any note is read.
 */
export const MAX_NOTE_SEQUENCE_NOTES = 1_000_000;
/**
 * The most tempo changes, key signatures or time signatures a sequence may list: 100,000 each (a tempo
 * change on every beat of an hour at 200 qpm is 12,000). Checked before the list is sorted.
 */
export const MAX_NOTE_SEQUENCE_EVENTS = 100_000;
/**
 * The fastest tempo read: 60,000,000 quarter notes per minute, one microsecond per quarter, the fastest a
 * MIDI tempo event can say. Bounds how far a time in seconds can reach in steps.
 */
export const MAX_QPM = 60_000_000;
/** The finest quantization read: 2,147,483,647 steps per quarter or per second (Magenta stores them as int32). */
export const MAX_STEPS_PER_UNIT = 2_147_483_647;

/** Reads a NoteSequence's melody as tokens (see the file comment for every decision). */
export function fromNoteSequence(sequence: NoteSequence, options: FromNoteSequenceOptions = {}): FromNoteSequenceResult {
  const name = options.name ?? '<NoteSequence>';
  if (typeof sequence !== 'object' || sequence === null || Array.isArray(sequence)) {
    throw new NoteSequenceError(`${name}: a NoteSequence is an object with a notes list, got ${Array.isArray(sequence) ? 'an array' : typeof sequence}`);
  }
  const maxSteps = checkMaxSteps(options.maxSteps, name);
  const warnings: string[] = [];
  const given = sequence.notes ?? [];
  if (!Array.isArray(given)) throw new NoteSequenceError(`${name}: notes is ${preview(given)}, not a list of notes`);
  if (given.length > MAX_NOTE_SEQUENCE_NOTES) {
    throw new NoteSequenceError(`${name}: holds ${given.length} notes, above the ${MAX_NOTE_SEQUENCE_NOTES} a sequence may have (MAX_NOTE_SEQUENCE_NOTES)`);
  }
  const tempos = sortedByTime(sequence.tempos, `${name}: tempos`, true);
  const qpm = tempos.length === 0 ? DEFAULT_QPM : (tempos[0].qpm as number);
  const key = firstKey(sequence, name);
  const toStep = stepReader(sequence, tempos, name);

  // Notes as parallel arrays (no object per note), in the order given; then sorted by onset below.
  const pitch = new Int32Array(given.length);
  const start = new Float64Array(given.length);
  const end = new Float64Array(given.length);
  let noteCount = 0;
  given.forEach((note, i) => {
    const where = `${name}: notes[${i}]`;
    if (typeof note !== 'object' || note === null) throw new NoteSequenceError(`${where} is ${preview(note)}, not a note object`);
    if (note.isDrum) return;
    if (options.instrument !== undefined && (note.instrument ?? 0) !== options.instrument) return;
    const p = note.pitch ?? 0;
    if (!Number.isInteger(p) || p < 0 || p > 127) throw new NoteSequenceError(`${where}.pitch = ${preview(p)} is not a MIDI pitch 0..127`);
    const steps = toStep(note, where);
    pitch[noteCount] = p;
    start[noteCount] = steps.start;
    end[noteCount] = Math.max(steps.start + 1, steps.end);
    noteCount++;
  });
  if (noteCount === 0) {
    const drums = given.length > 0 ? ' (drum notes and other instruments are skipped)' : '';
    throw new NoteSequenceError(`${name}: has no notes to make a melody of${drums}`);
  }
  // The importer's note stages work in place on notes in onset order (ties: the order given).
  const order = Uint32Array.from({ length: noteCount }, (_, i) => i).sort((a, b) => start[a] - start[b] || a - b);
  const notes: NoteList = {
    count: noteCount,
    pitch: Int32Array.from(order, (i) => pitch[i]),
    start: Float64Array.from(order, (i) => start[i]),
    end: Float64Array.from(order, (i) => end[i]),
  };
  const chordNotesDropped = keepHighestAtEachOnset(notes);
  const notesCut = cutOverlaps(notes);
  const sequenceEnd = toStep.sequenceEnd();
  const melodyEnd = chooseMelodyEnd(notes, sequenceEnd ?? 0, options.maxTrailingRestSteps ?? 16);
  // The melody's length in steps is known here, before its tokens are allocated.
  const length = melodyEnd - notes.start[0];
  if (length > maxSteps) {
    const fix = length > MAX_STEPS_LIMIT
      ? `beyond the ${MAX_STEPS_LIMIT} steps any import allows; the sequence's times or quantization are corrupt`
      : `raise maxSteps, up to ${MAX_STEPS_LIMIT}, if the sequence is right`;
    throw new NoteSequenceError(`${name}: melody is ${length} steps long, above the maximum of ${maxSteps} (${fix})`);
  }

  let transposition = 0;
  let keySource: FromNoteSequenceResult['keySource'] = 'not-transposed';
  if (options.transpose !== false) {
    const byNotes = chooseTransposition(notes);
    const bySignature = key ? signatureTransposition(key) : null;
    const agrees = bySignature !== null && stepsInCMajor(notes, bySignature) >= KEY_SIGNATURE_AGREEMENT * stepsInCMajor(notes, byNotes);
    transposition = agrees ? bySignature : byNotes;
    keySource = agrees ? 'key-signature' : 'notes';
    if (bySignature !== null && !agrees) warnings.push(`the key signature (key ${key!.key}, mode ${key!.mode}) does not fit the notes; transposed by the notes instead`);
  }
  const transposed = notes.pitch.map((p) => p + transposition);
  const octaveShift = options.centre === false ? 0 : chooseOctaveShift(transposed);
  const { pitches, notesFolded } = foldIntoRange(transposed.map((p) => p + 12 * octaveShift));
  notes.pitch = pitches;
  if (chordNotesDropped > 0) warnings.push(`${chordNotesDropped} notes dropped: a higher note starts on the same step`);
  if (notesFolded > 0) warnings.push(`${notesFolded} notes outside MIDI ${MIN_PITCH}..${MAX_PITCH} folded by octaves`);

  return {
    tokens: encodeNotes(notes, melodyEnd),
    qpm, key, keySource, transposition, octaveShift, noteCount, chordNotesDropped, notesCut, notesFolded, warnings,
  };
}

function checkMaxSteps(maxSteps: number | undefined, name: string): number {
  if (maxSteps === undefined) return DEFAULT_MAX_STEPS;
  if (!(Number.isInteger(maxSteps) && maxSteps >= 1 && maxSteps <= MAX_STEPS_LIMIT)) {
    throw new NoteSequenceError(`${name}: maxSteps ${maxSteps} is out of range; expected an integer in 1..${MAX_STEPS_LIMIT}`);
  }
  return maxSteps;
}

/** The transposition (−6..+5) that moves a major tonic to C or a minor tonic to A; null for other modes. */
function signatureTransposition(key: MusicalKey): number | null {
  const target = TARGET_TONIC[key.mode];
  if (target === undefined) return null;
  const up = (((target - key.key) % 12) + 12) % 12; // 0..11
  return up > 5 ? up - 12 : up;
}

function firstKey(sequence: NoteSequence, name: string): MusicalKey | null {
  const signatures = sortedByTime(sequence.keySignatures, `${name}: keySignatures`);
  if (signatures.length === 0) return null;
  const s = signatures[0];
  return {
    key: enumValue(s.key, KEY_NAMES, 11, `${name}: keySignatures[0].key`),
    mode: enumValue(s.mode, MODE_NAMES, 7, `${name}: keySignatures[0].mode`),
  };
}

/** An enum field given as a number or as its name; absent means 0 (protobuf's default). */
function enumValue(value: number | string | null | undefined, names: Record<string, number>, max: number, where: string): number {
  if (value === undefined || value === null) return 0;
  const v = typeof value === 'string' && Object.hasOwn(names, value) ? names[value] : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new NoteSequenceError(`${where} = ${preview(value)} is not one of 0..${max} or ${Object.keys(names).join(', ')}`);
  }
  return v;
}

/**
 * Entries sorted by time (absent time = 0), each checked to have a finite time ≥ 0 and, for tempos, a
 * qpm in (0, MAX_QPM]; at most MAX_NOTE_SEQUENCE_EVENTS of them.
 */
function sortedByTime<T extends { time?: number | null; qpm?: number | null }>(list: T[] | null | undefined, where: string, tempos = false): T[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new NoteSequenceError(`${where} is ${preview(list)}, not a list`);
  if (list.length > MAX_NOTE_SEQUENCE_EVENTS) {
    throw new NoteSequenceError(`${where} lists ${list.length} entries, above the ${MAX_NOTE_SEQUENCE_EVENTS} a sequence may have (MAX_NOTE_SEQUENCE_EVENTS)`);
  }
  list.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new NoteSequenceError(`${where}[${i}] is ${preview(entry)}, not an object`);
    const time = entry.time ?? 0;
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw new NoteSequenceError(`${where}[${i}].time = ${preview(time)} is not a time ≥ 0 in seconds`);
    if (tempos && !(typeof entry.qpm === 'number' && entry.qpm > 0 && entry.qpm <= MAX_QPM)) {
      throw new NoteSequenceError(`${where}[${i}].qpm = ${preview(entry.qpm)} is not a tempo in (0, ${MAX_QPM}] quarter notes per minute (MAX_QPM)`);
    }
  });
  return [...list].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
}

/** A non-negative integer from a number or decimal-string field; absent means 0. */
function stepValue(value: Numeric, where: string): number {
  if (value === undefined || value === null) return 0;
  const v = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new NoteSequenceError(`${where} = ${preview(value)} is not a step number ≥ 0`);
  return v;
}

function secondsValue(value: number | null | undefined, where: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new NoteSequenceError(`${where} = ${preview(value)} is not a time ≥ 0 in seconds`);
  return v;
}

/** A quantization rate: absent or 0 (not this kind of quantization), or a whole number up to MAX_STEPS_PER_UNIT. */
function rateValue(value: unknown, where: string): number {
  if (value === undefined || value === null) return 0;
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_STEPS_PER_UNIT)) {
    throw new NoteSequenceError(`${where} = ${preview(value)} is not a whole number of steps from 0 to ${MAX_STEPS_PER_UNIT} (Magenta stores it as an int32; MAX_STEPS_PER_UNIT)`);
  }
  return value;
}

interface StepReader {
  (note: NoteSequenceNote, where: string): { start: number; end: number };
  /** The sequence's end in steps (totalQuantizedSteps or totalTime), or null when it gives none. */
  sequenceEnd(): number | null;
}

/** Reads a note's onset and offset as 16th steps (see the file comment); `tempos` sorted by time. */
function stepReader(sequence: NoteSequence, tempos: readonly { time?: number | null; qpm?: number | null }[], name: string): StepReader {
  const info: unknown = sequence.quantizationInfo ?? {};
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new NoteSequenceError(`${name}: quantizationInfo is ${preview(info)}, not an object`);
  const { stepsPerQuarter: perQuarter, stepsPerSecond: perSecond } = info as { stepsPerQuarter?: unknown; stepsPerSecond?: unknown };
  const stepsPerQuarter = rateValue(perQuarter, `${name}: quantizationInfo.stepsPerQuarter`);
  const stepsPerSecond = rateValue(perSecond, `${name}: quantizationInfo.stepsPerSecond`);
  const total = sequence.totalQuantizedSteps;
  if (stepsPerQuarter > 0) {
    // Quantized relative to the tempo: steps, rescaled to 4 per quarter.
    return quantizedStepReader((step) => Math.round((step * STEPS_PER_QUARTER) / stepsPerQuarter), total, name);
  }
  const quarters = quartersAt(tempos);
  const stepAt = (seconds: number) => Math.round(quarters(seconds) * STEPS_PER_QUARTER);
  if (stepsPerSecond > 0) {
    // Quantized in absolute time: steps of 1/stepsPerSecond seconds.
    return quantizedStepReader((step) => stepAt(step / stepsPerSecond), total, name);
  }
  // Not quantized: times in seconds.
  const reader = ((note, where) => checkedSteps(
    stepAt(secondsValue(note.startTime, `${where}.startTime`)),
    stepAt(secondsValue(note.endTime, `${where}.endTime`)),
    where,
  )) as StepReader;
  reader.sequenceEnd = () => (sequence.totalTime == null ? null : stepAt(secondsValue(sequence.totalTime, `${name}: totalTime`)));
  return reader;
}

/** Reads a quantized sequence's notes: their quantized steps (and the sequence's total) through `toStep`. */
function quantizedStepReader(toStep: (step: number) => number, total: Numeric | null | undefined, name: string): StepReader {
  const reader = ((note, where) => checkedSteps(
    toStep(stepValue(note.quantizedStartStep, `${where}.quantizedStartStep`)),
    toStep(stepValue(note.quantizedEndStep, `${where}.quantizedEndStep`)),
    where,
  )) as StepReader;
  reader.sequenceEnd = () => (total == null ? null : toStep(stepValue(total, `${name}: totalQuantizedSteps`)));
  return reader;
}

/** A note's steps, refused when they lie beyond 2^53 (times far past any music; the length check cannot count there). */
function checkedSteps(start: number, end: number, where: string): { start: number; end: number } {
  if (!(end <= Number.MAX_SAFE_INTEGER && start <= Number.MAX_SAFE_INTEGER)) {
    throw new NoteSequenceError(`${where} lies at step ${Math.max(start, end)}, beyond 2^53 sixteenth notes; the sequence's times are corrupt`);
  }
  return { start, end };
}

/**
 * Seconds → quarter notes through a tempo map (sorted; 120 qpm before the first tempo and without one).
 * The quarters at each tempo change are summed once, in order; each lookup is a binary search, so a
 * sequence of n notes and t tempo changes takes O(t + n log t).
 */
function quartersAt(tempos: readonly { time?: number | null; qpm?: number | null }[]): (seconds: number) => number {
  const count = tempos.length + 1;
  const times = new Float64Array(count);
  const qpms = new Float64Array(count);
  const quartersBefore = new Float64Array(count); // quarters from 0 s to times[i]
  qpms[0] = DEFAULT_QPM;
  tempos.forEach((t, i) => {
    times[i + 1] = t.time ?? 0;
    qpms[i + 1] = t.qpm as number;
  });
  for (let i = 1; i < count; i++) quartersBefore[i] = quartersBefore[i - 1] + ((times[i] - times[i - 1]) * qpms[i - 1]) / 60;
  return (seconds) => {
    if (seconds <= times[0]) return 0;
    // The last change strictly before `seconds`.
    let low = 0;
    let high = count - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (times[mid] < seconds) low = mid;
      else high = mid - 1;
    }
    return quartersBefore[low] + ((seconds - times[low]) * qpms[low]) / 60;
  };
}

// ---- out ----

/** A quantized NoteSequence (4 steps per quarter) of a melody, with tempo, 4/4 and the key carried. */
export function toNoteSequence(tokens: ArrayLike<number>, options: ToNoteSequenceOptions = {}): NoteSequence {
  try {
    assertTokens(tokens, 'melody');
  } catch (error) {
    throw new NoteSequenceError(`cannot write a NoteSequence: ${(error as Error).message}`);
  }
  const qpm = options.qpm ?? DEFAULT_QPM;
  const transpose = options.transpose ?? 0;
  const velocity = options.velocity ?? 100;
  const program = options.program ?? 0;
  if (!(typeof qpm === 'number' && Number.isFinite(qpm) && qpm > 0)) throw new NoteSequenceError(`qpm ${qpm} is not a tempo > 0 (quarter notes per minute)`);
  if (!Number.isInteger(transpose)) throw new NoteSequenceError(`transpose ${transpose} is not a whole number of semitones`);
  if (!(Number.isInteger(velocity) && velocity >= 1 && velocity <= 127)) throw new NoteSequenceError(`velocity ${velocity} must be an integer in 1..127`);
  if (!(Number.isInteger(program) && program >= 0 && program <= 127)) throw new NoteSequenceError(`program ${program} must be an integer in 0..127`);
  const { key } = options;
  if (key !== undefined && !(Number.isInteger(key.key) && key.key >= 0 && key.key <= 11 && Number.isInteger(key.mode) && key.mode >= 0 && key.mode <= 7)) {
    throw new NoteSequenceError(`key ${JSON.stringify(key)}: expected { key: 0..11 (tonic pitch class, 0 = C), mode: 0..7 (0 = major, 1 = minor) }`);
  }
  const secondsPerStep = 60 / qpm / STEPS_PER_QUARTER;
  const notes = tokensToNotes(tokens).map((note) => {
    const pitch = note.pitch + transpose;
    if (pitch < 0 || pitch > 127) throw new NoteSequenceError(`transpose ${transpose} moves MIDI pitch ${note.pitch} to ${pitch}, outside 0..127`);
    return {
      pitch, velocity, program, instrument: 0, isDrum: false,
      startTime: note.start * secondsPerStep, endTime: note.end * secondsPerStep,
      quantizedStartStep: note.start, quantizedEndStep: note.end,
    };
  });
  const sequence: NoteSequence = {
    notes,
    tempos: [{ time: 0, qpm }],
    timeSignatures: [{ time: 0, numerator: 4, denominator: 4 }],
    totalTime: tokens.length * secondsPerStep,
    totalQuantizedSteps: tokens.length,
    quantizationInfo: { stepsPerQuarter: STEPS_PER_QUARTER },
  };
  if (key !== undefined) sequence.keySignatures = [{ time: 0, key: key.key, mode: key.mode }];
  return sequence;
}
