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
import { tokensToNotes } from './notes.js';
import {
  chooseMelodyEnd, chooseOctaveShift, chooseTransposition, cutOverlaps, encodeNotes, foldIntoRange,
  keepHighestAtEachOnset, stepsInCMajor, type NoteList,
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

/** Reads a NoteSequence's melody as tokens (see the file comment for every decision). */
export function fromNoteSequence(sequence: NoteSequence, options: FromNoteSequenceOptions = {}): FromNoteSequenceResult {
  const name = options.name ?? '<NoteSequence>';
  if (typeof sequence !== 'object' || sequence === null || Array.isArray(sequence)) {
    throw new NoteSequenceError(`${name}: a NoteSequence is an object with a notes list, got ${Array.isArray(sequence) ? 'an array' : typeof sequence}`);
  }
  const warnings: string[] = [];
  const qpm = firstTempo(sequence, name);
  const key = firstKey(sequence, name);
  const toStep = stepReader(sequence, name);

  const read: { pitch: number; start: number; end: number }[] = [];
  let noteCount = 0;
  (sequence.notes ?? []).forEach((note, i) => {
    const where = `${name}: notes[${i}]`;
    if (typeof note !== 'object' || note === null) throw new NoteSequenceError(`${where} is ${JSON.stringify(note)}, not a note object`);
    if (note.isDrum) return;
    if (options.instrument !== undefined && (note.instrument ?? 0) !== options.instrument) return;
    const pitch = note.pitch ?? 0;
    if (!Number.isInteger(pitch) || pitch < 0 || pitch > 127) throw new NoteSequenceError(`${where}.pitch = ${pitch} is not a MIDI pitch 0..127`);
    const { start, end } = toStep(note, where);
    noteCount++;
    read.push({ pitch, start, end: Math.max(start + 1, end) });
  });
  if (read.length === 0) {
    const drums = (sequence.notes ?? []).length > 0 ? ' (drum notes and other instruments are skipped)' : '';
    throw new NoteSequenceError(`${name}: has no notes to make a melody of${drums}`);
  }
  // The importer's note stages work in place on notes in onset order (ties: the order given).
  read.sort((a, b) => a.start - b.start);
  const notes: NoteList = {
    count: read.length,
    pitch: Int32Array.from(read, (n) => n.pitch),
    start: Float64Array.from(read, (n) => n.start),
    end: Float64Array.from(read, (n) => n.end),
  };
  const chordNotesDropped = keepHighestAtEachOnset(notes);
  const notesCut = cutOverlaps(notes);
  const sequenceEnd = toStep.sequenceEnd();
  const melodyEnd = chooseMelodyEnd(notes, sequenceEnd ?? 0, options.maxTrailingRestSteps ?? 16);

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
  const transposed = notes.pitch.map((pitch) => pitch + transposition);
  const octaveShift = options.centre === false ? 0 : chooseOctaveShift(transposed);
  const { pitches, notesFolded } = foldIntoRange(transposed.map((pitch) => pitch + 12 * octaveShift));
  notes.pitch = pitches;
  if (chordNotesDropped > 0) warnings.push(`${chordNotesDropped} notes dropped: a higher note starts on the same step`);
  if (notesFolded > 0) warnings.push(`${notesFolded} notes outside MIDI ${MIN_PITCH}..${MAX_PITCH} folded by octaves`);

  const folded = notes;
  return {
    tokens: encodeNotes(folded, melodyEnd),
    qpm, key, keySource, transposition, octaveShift, noteCount, chordNotesDropped, notesCut, notesFolded, warnings,
  };
}

/** The transposition (−6..+5) that moves a major tonic to C or a minor tonic to A; null for other modes. */
function signatureTransposition(key: MusicalKey): number | null {
  const target = TARGET_TONIC[key.mode];
  if (target === undefined) return null;
  const up = (((target - key.key) % 12) + 12) % 12; // 0..11
  return up > 5 ? up - 12 : up;
}

function firstTempo(sequence: NoteSequence, name: string): number {
  const tempos = sortedByTime(sequence.tempos, `${name}: tempos`, true);
  return tempos.length === 0 ? DEFAULT_QPM : (tempos[0].qpm as number);
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
  const v = typeof value === 'string' && value in names ? names[value] : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new NoteSequenceError(`${where} = ${JSON.stringify(value)} is not one of 0..${max} or ${Object.keys(names).join(', ')}`);
  }
  return v;
}

/** Entries sorted by time (absent time = 0), each checked to have a finite time ≥ 0 and, for tempos, a qpm > 0. */
function sortedByTime<T extends { time?: number | null; qpm?: number | null }>(list: T[] | null | undefined, where: string, tempos = false): T[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new NoteSequenceError(`${where} is not a list`);
  list.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new NoteSequenceError(`${where}[${i}] is ${JSON.stringify(entry)}, not an object`);
    const time = entry.time ?? 0;
    if (!Number.isFinite(time) || time < 0) throw new NoteSequenceError(`${where}[${i}].time = ${time} is not a time ≥ 0 in seconds`);
    if (tempos && !((entry.qpm ?? 0) > 0 && Number.isFinite(entry.qpm))) {
      throw new NoteSequenceError(`${where}[${i}].qpm = ${entry.qpm} is not a tempo > 0 (quarter notes per minute)`);
    }
  });
  return [...list].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
}

/** A non-negative integer from a number or decimal-string field; absent means 0. */
function stepValue(value: Numeric, where: string): number {
  if (value === undefined || value === null) return 0;
  const v = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new NoteSequenceError(`${where} = ${JSON.stringify(value)} is not a step number ≥ 0`);
  return v;
}

function secondsValue(value: number | null | undefined, where: string): number {
  const v = value ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new NoteSequenceError(`${where} = ${JSON.stringify(value)} is not a time ≥ 0 in seconds`);
  return v;
}

interface StepReader {
  (note: NoteSequenceNote, where: string): { start: number; end: number };
  /** The sequence's end in steps (totalQuantizedSteps or totalTime), or null when it gives none. */
  sequenceEnd(): number | null;
}

/** Reads a note's onset and offset as 16th steps (see the file comment). */
function stepReader(sequence: NoteSequence, name: string): StepReader {
  const info = sequence.quantizationInfo ?? {};
  const stepsPerQuarter = info.stepsPerQuarter ?? 0;
  const stepsPerSecond = info.stepsPerSecond ?? 0;
  if (!(Number.isFinite(stepsPerQuarter) && stepsPerQuarter >= 0) || !(Number.isFinite(stepsPerSecond) && stepsPerSecond >= 0)) {
    throw new NoteSequenceError(`${name}: quantizationInfo ${JSON.stringify(info)} holds a negative or non-finite rate`);
  }
  const total = sequence.totalQuantizedSteps;
  if (stepsPerQuarter > 0) {
    // Quantized relative to the tempo: steps, rescaled to 4 per quarter.
    return quantizedStepReader((step) => Math.round((step * STEPS_PER_QUARTER) / stepsPerQuarter), total, name);
  }
  const quarters = quartersAt(sortedByTime(sequence.tempos, `${name}: tempos`, true));
  const stepAt = (seconds: number) => Math.round(quarters(seconds) * STEPS_PER_QUARTER);
  if (stepsPerSecond > 0) {
    // Quantized in absolute time: steps of 1/stepsPerSecond seconds.
    return quantizedStepReader((step) => stepAt(step / stepsPerSecond), total, name);
  }
  // Not quantized: times in seconds.
  const reader = ((note, where) => ({
    start: stepAt(secondsValue(note.startTime, `${where}.startTime`)),
    end: stepAt(secondsValue(note.endTime, `${where}.endTime`)),
  })) as StepReader;
  reader.sequenceEnd = () => (sequence.totalTime == null ? null : stepAt(secondsValue(sequence.totalTime, `${name}: totalTime`)));
  return reader;
}

/** Reads a quantized sequence's notes: their quantized steps (and the sequence's total) through `toStep`. */
function quantizedStepReader(toStep: (step: number) => number, total: Numeric | null | undefined, name: string): StepReader {
  const reader = ((note, where) => ({
    start: toStep(stepValue(note.quantizedStartStep, `${where}.quantizedStartStep`)),
    end: toStep(stepValue(note.quantizedEndStep, `${where}.quantizedEndStep`)),
  })) as StepReader;
  reader.sequenceEnd = () => (total == null ? null : toStep(stepValue(total, `${name}: totalQuantizedSteps`)));
  return reader;
}

/** Seconds → quarter notes through a tempo map (sorted; 120 qpm before the first tempo and without one). */
function quartersAt(tempos: { time?: number | null; qpm?: number | null }[]): (seconds: number) => number {
  const changes = [{ time: 0, qpm: DEFAULT_QPM }, ...tempos.map((t) => ({ time: t.time ?? 0, qpm: t.qpm as number }))];
  return (seconds) => {
    let quarters = 0;
    for (let i = 0; i < changes.length; i++) {
      const from = changes[i].time;
      if (seconds <= from) break;
      const to = i + 1 < changes.length ? Math.min(seconds, changes[i + 1].time) : seconds;
      quarters += ((to - from) * changes[i].qpm) / 60;
    }
    return quarters;
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
