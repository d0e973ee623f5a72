import { describe, expect, it } from 'vitest';
import { NO_EVENT, NOTE_OFF, pitchToToken } from '../../src/music/encoding.js';
import { fromNoteSequence, NoteSequenceError, toNoteSequence, type NoteSequence } from '../../src/music/note_sequence.js';
import { Random } from '../../src/random.js';
import { randomMelody as randomCanonicalMelody } from './midi_test_files.js';

const AS_WRITTEN = { transpose: false, centre: false } as const;
const C4 = 60, D4 = 62, E4 = 64, G4 = 67, A4 = 69;

/** A canonical random melody (see midi_test_files.ts) whose trailing rest lasts at most 16 steps. */
function randomMelody(random: Random, length: number, pitches?: readonly number[]): number[] {
  return limitTrailingRest(randomCanonicalMelody(random, length, pitches), 16);
}

/** The melody cut so that the rest after its last note (from a NOTE_OFF to the end) lasts at most `max` steps. */
function limitTrailingRest(tokens: number[], max: number): number[] {
  let last = tokens.length - 1;
  while (last > 0 && tokens[last] === NO_EVENT) last--;
  const rest = tokens[last] === NOTE_OFF ? tokens.length - last : 0;
  return rest > max ? tokens.slice(0, last + max) : tokens;
}

describe('toNoteSequence', () => {
  it('writes a quantized sequence: notes in steps and seconds, tempo, 4/4, key, total steps', () => {
    const ns = toNoteSequence([pitchToToken(C4), NO_EVENT, NOTE_OFF, NO_EVENT, pitchToToken(G4), NO_EVENT], { qpm: 90, key: { key: 2, mode: 1 } });
    const step = 60 / 90 / 4;
    expect(ns.notes).toEqual([
      { pitch: C4, velocity: 100, program: 0, instrument: 0, isDrum: false, startTime: 0, endTime: 2 * step, quantizedStartStep: 0, quantizedEndStep: 2 },
      { pitch: G4, velocity: 100, program: 0, instrument: 0, isDrum: false, startTime: 4 * step, endTime: 6 * step, quantizedStartStep: 4, quantizedEndStep: 6 },
    ]);
    expect(ns.tempos).toEqual([{ time: 0, qpm: 90 }]);
    expect(ns.keySignatures).toEqual([{ time: 0, key: 2, mode: 1 }]);
    expect(ns.timeSignatures).toEqual([{ time: 0, numerator: 4, denominator: 4 }]);
    expect(ns.quantizationInfo).toEqual({ stepsPerQuarter: 4 });
    expect(ns.totalQuantizedSteps).toBe(6);
    expect(ns.totalTime).toBeCloseTo(6 * step, 12);
  });

  it('defaults to 120 qpm and no key signature; transposes when asked', () => {
    const ns = toNoteSequence([pitchToToken(C4)], { transpose: 2 });
    expect(ns.tempos).toEqual([{ time: 0, qpm: 120 }]);
    expect(ns.keySignatures).toBeUndefined();
    expect(ns.notes![0].pitch).toBe(D4);
  });

  it('rejects bad tokens and options, naming the value', () => {
    expect(() => toNoteSequence([14, 38])).toThrow(NoteSequenceError);
    expect(() => toNoteSequence([14, 38])).toThrow('melody[1] = 38');
    expect(() => toNoteSequence([14], { qpm: 0 })).toThrow(/qpm 0/);
    expect(() => toNoteSequence([14], { key: { key: 12, mode: 0 } })).toThrow(/key \{"key":12,"mode":0\}/);
    expect(() => toNoteSequence([37], { transpose: 50 })).toThrow(/moves MIDI pitch 83 to 133/);
  });
});

describe('fromNoteSequence', () => {
  it('round trip tokens → NoteSequence → tokens returns canonical melodies unchanged', () => {
    const random = new Random(7);
    for (let i = 0; i < 200; i++) {
      const tokens = randomMelody(random, 1 + random.int(80));
      const back = fromNoteSequence(toNoteSequence(tokens, { qpm: 60 + random.int(120) }), AS_WRITTEN);
      expect(Array.from(back.tokens)).toEqual(tokens);
    }
  });

  it('round trip with default options keeps a C major melody in range, and carries tempo and key', () => {
    const random = new Random(3);
    const scale = [C4, D4, E4, 65, G4, A4, 71, 72];
    for (let i = 0; i < 50; i++) {
      const tokens = randomMelody(random, 8 + random.int(64), scale);
      const back = fromNoteSequence(toNoteSequence(tokens, { qpm: 96, key: { key: 0, mode: 0 } }));
      expect(Array.from(back.tokens)).toEqual(tokens);
      expect(back).toMatchObject({ qpm: 96, key: { key: 0, mode: 0 }, keySource: 'key-signature', transposition: 0, octaveShift: 0 });
    }
  });

  it('reads an unquantized sequence with times in seconds through its tempo', () => {
    // 90 qpm: a quarter is 2/3 s, a 16th step 1/6 s. Onsets a little off the grid round to the nearest step.
    const ns: NoteSequence = {
      tempos: [{ time: 0, qpm: 90 }],
      notes: [
        { pitch: C4, startTime: 0.01, endTime: 0.66, velocity: 80 }, // steps 0..4
        { pitch: E4, startTime: 2 / 3, endTime: 1.0 }, // steps 4..6
        { pitch: G4, startTime: 1.34, endTime: 1.5 }, // steps 8..9 (a rest of two steps before it)
      ],
      totalTime: 1.5,
    };
    const result = fromNoteSequence(ns, AS_WRITTEN);
    expect(Array.from(result.tokens)).toEqual([
      pitchToToken(C4), NO_EVENT, NO_EVENT, NO_EVENT, pitchToToken(E4), NO_EVENT, NOTE_OFF, NO_EVENT, pitchToToken(G4),
    ]);
    expect(result.qpm).toBe(90);
  });

  it('follows tempo changes, and assumes 120 qpm without a tempo', () => {
    // 120 qpm for the first second (8 steps), then 60 qpm (a step is 1/4 s).
    const ns: NoteSequence = {
      tempos: [{ time: 1, qpm: 60 }, { time: 0, qpm: 120 }],
      notes: [{ pitch: C4, startTime: 0, endTime: 1 }, { pitch: D4, startTime: 1, endTime: 1.5 }],
    };
    expect(Array.from(fromNoteSequence(ns, AS_WRITTEN).tokens)).toEqual([pitchToToken(C4), ...Array(7).fill(NO_EVENT), pitchToToken(D4), NO_EVENT]);
    const noTempo = fromNoteSequence({ notes: [{ pitch: C4, startTime: 0, endTime: 0.5 }] }, AS_WRITTEN);
    expect(noTempo.qpm).toBe(120);
    expect(noTempo.tokens.length).toBe(4);
  });

  it('rescales other step resolutions, reads steps written as strings and enum names (protobuf JSON)', () => {
    const ns: NoteSequence = {
      quantizationInfo: { stepsPerQuarter: 8 },
      notes: [{ pitch: C4, quantizedEndStep: '4' }, { pitch: E4, quantizedStartStep: '4', quantizedEndStep: '12' }],
      keySignatures: [{ key: 'C', mode: 'MAJOR' }],
      totalQuantizedSteps: '12',
    };
    const result = fromNoteSequence(ns);
    expect(Array.from(result.tokens)).toEqual([pitchToToken(C4), NO_EVENT, pitchToToken(E4), ...Array(3).fill(NO_EVENT)]);
    expect(result.key).toEqual({ key: 0, mode: 0 });
    expect(fromNoteSequence({ ...ns, keySignatures: [{ key: 'F_SHARP', mode: 'MINOR' }] }, AS_WRITTEN).key).toEqual({ key: 6, mode: 1 });
  });

  it('reads a sequence quantized in steps per second through its tempo', () => {
    const ns: NoteSequence = { quantizationInfo: { stepsPerSecond: 100 }, notes: [{ pitch: C4, quantizedStartStep: 0, quantizedEndStep: 50 }] };
    expect(fromNoteSequence(ns, AS_WRITTEN).tokens.length).toBe(4); // half a second at 120 qpm
  });

  it('keeps the highest note of each onset, cuts overlaps, skips drums and drops leading silence', () => {
    const ns: NoteSequence = {
      quantizationInfo: { stepsPerQuarter: 4 },
      notes: [
        { pitch: 36, quantizedStartStep: 0, quantizedEndStep: 1, isDrum: true },
        { pitch: C4, quantizedStartStep: 2, quantizedEndStep: 8 },
        { pitch: E4, quantizedStartStep: 2, quantizedEndStep: 6 },
        { pitch: G4, quantizedStartStep: 4, quantizedEndStep: 6 },
      ],
    };
    const result = fromNoteSequence(ns, AS_WRITTEN);
    expect(Array.from(result.tokens)).toEqual([pitchToToken(E4), NO_EVENT, pitchToToken(G4), NO_EVENT]);
    expect(result).toMatchObject({ noteCount: 3, chordNotesDropped: 1, notesCut: 1 });
    expect(result.warnings.join()).toMatch(/1 notes dropped/);
  });

  it('transposes by the key signature when the notes agree with it, else by the notes', () => {
    // D major scale notes: the signature (D major) moves them down 2 semitones to C major.
    const dMajor = [D4, E4, 66, G4, A4, 71, 73, 74].map((pitch, i) => ({ pitch, quantizedStartStep: 2 * i, quantizedEndStep: 2 * i + 2 }));
    const base: NoteSequence = { quantizationInfo: { stepsPerQuarter: 4 }, notes: dMajor };
    const bySignature = fromNoteSequence({ ...base, keySignatures: [{ key: 2, mode: 0 }] });
    expect(bySignature).toMatchObject({ keySource: 'key-signature', transposition: -2, key: { key: 2, mode: 0 } });
    expect(bySignature.tokens[0]).toBe(pitchToToken(C4));
    // B minor shares D major's notes: its tonic goes to A, also 2 semitones down.
    expect(fromNoteSequence({ ...base, keySignatures: [{ key: 11, mode: 1 }] })).toMatchObject({ keySource: 'key-signature', transposition: -2 });
    // An E flat major signature on these notes is contradicted: transposed by the notes, with a warning.
    const contradicted = fromNoteSequence({ ...base, keySignatures: [{ key: 3, mode: 0 }] });
    expect(contradicted).toMatchObject({ keySource: 'notes', transposition: -2 });
    expect(contradicted.warnings.join()).toMatch(/does not fit the notes/);
    expect(fromNoteSequence(base)).toMatchObject({ keySource: 'notes', key: null });
    expect(fromNoteSequence(base, AS_WRITTEN)).toMatchObject({ keySource: 'not-transposed', transposition: 0 });
  });

  it('undoes its transposition through toNoteSequence', () => {
    const notes = [{ pitch: 86, quantizedStartStep: 0, quantizedEndStep: 3 }, { pitch: 90, quantizedStartStep: 3, quantizedEndStep: 4 }];
    const ns: NoteSequence = { quantizationInfo: { stepsPerQuarter: 4 }, notes, keySignatures: [{ key: 2, mode: 0 }], tempos: [{ qpm: 100 }] };
    const imported = fromNoteSequence(ns);
    expect(imported.octaveShift).toBe(-2);
    const back = toNoteSequence(imported.tokens, { qpm: imported.qpm, key: imported.key!, transpose: -(imported.transposition + 12 * imported.octaveShift) });
    expect(back.notes!.map((n) => [n.pitch, n.quantizedStartStep, n.quantizedEndStep])).toEqual([[86, 0, 3], [90, 3, 4]]);
    expect(back.tempos).toEqual([{ time: 0, qpm: 100 }]);
    expect(back.keySignatures).toEqual([{ time: 0, key: 2, mode: 0 }]);
  });

  it('says what is wrong with a bad sequence, naming the field', () => {
    expect(() => fromNoteSequence({ notes: [] }, { name: 'tune.json' })).toThrow(/tune\.json: has no notes/);
    expect(() => fromNoteSequence({ notes: [{ pitch: 128, endTime: 1 }] })).toThrow(/notes\[0\]\.pitch = 128/);
    expect(() => fromNoteSequence({ notes: [{ pitch: 60, endTime: -1 }] })).toThrow(/notes\[0\]\.endTime = -1/);
    expect(() => fromNoteSequence({ quantizationInfo: { stepsPerQuarter: 4 }, notes: [{ pitch: 60, quantizedEndStep: 'x' }] })).toThrow(/notes\[0\]\.quantizedEndStep = "x"/);
    expect(() => fromNoteSequence({ tempos: [{ qpm: 0 }], notes: [{ pitch: 60, endTime: 1 }] })).toThrow(/tempos\[0\]\.qpm = 0/);
    expect(() => fromNoteSequence({ keySignatures: [{ key: 'H' }], notes: [{ pitch: 60, endTime: 1 }] })).toThrow(/keySignatures\[0\]\.key = "H"/);
    expect(() => fromNoteSequence([] as unknown as NoteSequence)).toThrow(/got an array/);
  });
});
