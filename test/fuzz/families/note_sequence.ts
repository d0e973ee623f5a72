/**
 * The NoteSequence family: Magenta NoteSequences as JSON text through JSON.parse and fromNoteSequence.
 *
 * Seeds are sequences written here with toNoteSequence (random melodies, tempos, keys) and rewritten the
 * ways Magenta also stores them: with times in seconds only (not quantized), quantized in steps per
 * second, with several tempo changes and key signatures by name, with drum notes, other instruments and
 * steps as decimal strings. Each input changes fields where a reader could be misled: a step, time, pitch,
 * rate or total set to 2e9, 4.5e9, 2^53, 1e308, 1e-7, −1, a string or an object; the notes or the tempo
 * list copied many times over; a list made an object; fields dropped. The input is the JSON text.
 *
 * The check: fromNoteSequence returns tokens (classes 0..37, at most maxSteps of them, starting with a
 * note-on) or throws a NoteSequenceError naming the sequence.
 */
import { DEFAULT_MAX_STEPS } from '../../../src/music/midi_import.js';
import { NUM_CLASSES } from '../../../src/music/encoding.js';
import { fromNoteSequence, NoteSequenceError, toNoteSequence, type NoteSequence } from '../../../src/music/note_sequence.js';
import { Random } from '../../../src/random.js';
import { randomMelody } from '../../music/midi_test_files.js';
import { checkNamedError, errorKind, FuzzFailure, INTERESTING_NUMBERS, interestingJsonValue, isRecord, MAX_INPUT_BYTES, pick, type FuzzFamily, type FuzzInput } from '../runner.js';

interface Seed {
  name: string;
  sequence: NoteSequence;
}

function loadSeeds(): Seed[] {
  const random = new Random(20_251_209);
  const melody = (length: number) => randomMelody(random, length);
  const quantized = toNoteSequence(melody(64), { qpm: 96, key: { key: 2, mode: 0 } });
  const inSeconds: NoteSequence = { ...toNoteSequence(melody(48), { qpm: 140 }) };
  delete inSeconds.quantizationInfo;
  delete inSeconds.totalQuantizedSteps;
  for (const note of inSeconds.notes!) {
    delete note.quantizedStartStep;
    delete note.quantizedEndStep;
  }
  const tempoMap: NoteSequence = { ...inSeconds, tempos: [{ time: 0, qpm: 90 }, { time: 1.5, qpm: 120 }, { time: 3, qpm: 180 }, { time: 2, qpm: 60 }] };
  const perSecond = toNoteSequence(melody(40), { qpm: 120 });
  perSecond.quantizationInfo = { stepsPerSecond: 8 };
  const mixed = toNoteSequence(melody(32), { qpm: 110 });
  mixed.notes = [
    ...mixed.notes!.map((n) => ({ ...n, quantizedStartStep: String(n.quantizedStartStep), quantizedEndStep: String(n.quantizedEndStep) })),
    { pitch: 36, quantizedStartStep: 0, quantizedEndStep: 2, isDrum: true },
    { pitch: 40, quantizedStartStep: 4, quantizedEndStep: 8, instrument: 1 },
  ];
  mixed.keySignatures = [{ time: 0, key: 'F_SHARP', mode: 'MINOR' }];
  const coarse = toNoteSequence(melody(24), { qpm: 100 });
  coarse.quantizationInfo = { stepsPerQuarter: 2 };
  return [
    { name: 'quantized, D major', sequence: quantized },
    { name: 'seconds', sequence: inSeconds },
    { name: 'seconds, four tempos', sequence: tempoMap },
    { name: 'steps per second', sequence: perSecond },
    { name: 'string steps, drums, instrument 1, F# minor', sequence: mixed },
    { name: '2 steps per quarter', sequence: coarse },
  ];
}

const NOTE_FIELDS = ['pitch', 'quantizedStartStep', 'quantizedEndStep', 'startTime', 'endTime', 'isDrum', 'instrument'];
const TOP_FIELDS = ['totalTime', 'totalQuantizedSteps', 'quantizationInfo', 'notes', 'tempos', 'keySignatures', 'timeSignatures'];

class SequenceMutator {
  private index = 0;
  constructor(private readonly seeds: readonly Seed[], private readonly random: Random) {}

  next(): FuzzInput<string> {
    const r = this.random;
    const seed = pick(r, this.seeds);
    const sequence = JSON.parse(JSON.stringify(seed.sequence)) as Record<string, unknown>;
    const mutations: string[] = [];
    for (let m = 1 + (r.float() < 0.4 ? r.int(3) : 0); m > 0; m--) this.mutate(sequence, mutations);
    let text = JSON.stringify(sequence);
    if (text.length > MAX_INPUT_BYTES) {
      text = JSON.stringify(seed.sequence);
      mutations.push(`over ${MAX_INPUT_BYTES} bytes: the seed unchanged`);
    }
    const index = this.index++;
    return { index, name: `fuzz sequence ${index}.json`, seedName: seed.name, mutations, value: text, size: text.length };
  }

  private mutate(sequence: Record<string, unknown>, log: string[]): void {
    const r = this.random;
    const notes = Array.isArray(sequence.notes) ? (sequence.notes as unknown[]) : [];
    const noteObjects = notes.filter(isRecord);
    const value = (): unknown => (r.int(3) === 0 ? interestingJsonValue(r) : pick(r, INTERESTING_NUMBERS));
    switch (r.int(9)) {
      case 0:
      case 1: {
        if (noteObjects.length === 0) return;
        const note = pick(r, noteObjects);
        const field = pick(r, NOTE_FIELDS);
        note[field] = value();
        log.push(`a note's ${field} = ${JSON.stringify(note[field])?.slice(0, 40)}`);
        return;
      }
      case 2: {
        const info = sequence.quantizationInfo ?? {};
        if (!isRecord(info)) return;
        const field = pick(r, ['stepsPerQuarter', 'stepsPerSecond']);
        info[field] = value();
        sequence.quantizationInfo = info;
        log.push(`quantizationInfo.${field} = ${JSON.stringify(info[field])?.slice(0, 40)}`);
        return;
      }
      case 3: {
        const tempos = Array.isArray(sequence.tempos) ? (sequence.tempos as unknown[]).filter(isRecord) : [];
        if (r.int(3) === 0 || tempos.length === 0) {
          const count = pick(r, [1, 10, 300, 2000]);
          sequence.tempos = Array.from({ length: count }, (_, k) => ({ time: (k * 7919) % 997 / 10, qpm: 40 + (k % 200) }));
          log.push(`${count} tempos`);
        } else {
          const t = pick(r, tempos);
          t[pick(r, ['time', 'qpm'])] = value();
          log.push(`a tempo changed: ${JSON.stringify(t).slice(0, 60)}`);
        }
        return;
      }
      case 4: {
        const field = pick(r, ['totalTime', 'totalQuantizedSteps']);
        sequence[field] = value();
        log.push(`${field} = ${JSON.stringify(sequence[field])?.slice(0, 40)}`);
        return;
      }
      case 5: {
        if (notes.length === 0) return;
        const times = pick(r, [2, 10, 100]);
        sequence.notes = Array.from({ length: Math.min(notes.length * times, 2_000) }, (_, k) => (isRecord(notes[k % notes.length]) ? { ...(notes[k % notes.length] as object) } : notes[k % notes.length]));
        log.push(`notes copied ${times} times`);
        return;
      }
      case 6: {
        const field = pick(r, TOP_FIELDS);
        if (r.int(2) === 0) delete sequence[field];
        else sequence[field] = interestingJsonValue(r);
        log.push(`${field} ${field in sequence ? `= ${JSON.stringify(sequence[field])?.slice(0, 40)}` : 'dropped'}`);
        return;
      }
      case 7: {
        const field = pick(r, ['keySignatures', 'timeSignatures']);
        sequence[field] = [{ time: value(), key: pick(r, [0, 11, 12, 'C', 'H', 'constructor', -1]), mode: pick(r, [0, 1, 7, 8, 'MINOR', 'toString']) }];
        log.push(`${field} = ${JSON.stringify(sequence[field]).slice(0, 60)}`);
        return;
      }
      default: {
        if (notes.length === 0) return;
        const i = r.int(notes.length);
        notes[i] = interestingJsonValue(r);
        log.push(`notes[${i}] = ${JSON.stringify(notes[i])?.slice(0, 40)}`);
      }
    }
  }
}

const ERROR_KINDS: readonly (readonly [string, RegExp])[] = [
  ['too-long', /steps long, above the maximum/],
  ['no-notes', /has no notes/],
  ['pitch', /\.pitch =/],
  ['step', /Step = |is not a step number|beyond 2\^53/],
  ['time', /is not a time|Time = /],
  ['tempo', /qpm|tempos/],
  ['rate', /stepsPer/],
  ['key', /keySignatures/],
  ['limits', /MAX_NOTE_SEQUENCE/],
  ['structure', /not a list|not a note object|not an object|a NoteSequence is an object/],
];

export const noteSequenceFamily: FuzzFamily<string> = {
  name: 'noteseq',
  description: 'Magenta NoteSequences (JSON text) through fromNoteSequence',
  accepted: 'tokens',
  inputs(random) {
    const mutator = new SequenceMutator(loadSeeds(), random);
    return () => mutator.next();
  },
  check(input) {
    try {
      const { tokens } = fromNoteSequence(JSON.parse(input.value) as NoteSequence, { name: input.name });
      if (tokens.length < 1 || tokens.length > DEFAULT_MAX_STEPS) throw new FuzzFailure(input, `melody of ${tokens.length} steps, outside 1..${DEFAULT_MAX_STEPS}`);
      for (let i = 0; i < tokens.length; i++) if (tokens[i] >= NUM_CLASSES) throw new FuzzFailure(input, `token ${tokens[i]} at step ${i}`);
      if (tokens[0] < 2) throw new FuzzFailure(input, `melody starts with token ${tokens[0]}, not a note-on`);
      return 'tokens';
    } catch (error) {
      return errorKind(checkNamedError(input, error, NoteSequenceError, `${input.name}: `), ERROR_KINDS);
    }
  },
  files: (input) => ({ 'input.json': new TextEncoder().encode(input.value) }),
};
