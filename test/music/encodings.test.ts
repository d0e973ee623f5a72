// The melody encodings: the lookback input, labels and decoding written out by hand for a known melody,
// against Magenta's definition (LookbackEventSequenceEncoderDecoder, in rltuner's class order), on bars
// of other meters and after a pickup, and the histories sampling keeps.
import { describe, expect, it } from 'vitest';
import { NO_EVENT, NOTE_OFF } from '../../src/music/encoding.js';
import {
  actionsPlaying, barGrid, BASIC_ENCODING, counterValue, DEFAULT_BAR_GRID, encodingNamed, encodingOf, gridBefore, LOOKBACK_ENCODING,
  LOOKBACK_FEATURES, MelodyHistories, PHRASE_ENCODING, PHRASE_FEATURES, REPEAT_FOUR_BARS, REPEAT_ONE_BAR, REPEAT_TWO_BARS, type BarGrid,
} from '../../src/music/encodings.js';
import { Random } from '../../src/random.js';

/** The dense 121-wide input of an id, from the engine's expansion. */
function dense(id: number): number[] {
  const indices = new Int32Array(LOOKBACK_FEATURES.entries), values = new Float32Array(LOOKBACK_FEATURES.entries);
  LOOKBACK_FEATURES.expand(id, indices, values, 0);
  const out = new Array(121).fill(0);
  indices.forEach((r, k) => (out[r] += values[k]));
  return out;
}

const C4 = 14, D4 = 16, E4 = 18, G4 = 21;

describe('the lookback encoding', () => {
  // 4/4 from a downbeat: bar 1 = C4 - D4 - E4 - - - G4 - - - - - - - ; bar 2 repeats bar 1 up to step 24, then differs.
  const bar1 = [C4, NO_EVENT, D4, NO_EVENT, E4, NO_EVENT, NO_EVENT, NO_EVENT, G4, NO_EVENT, NO_EVENT, NO_EVENT, NO_EVENT, NO_EVENT, NO_EVENT, NOTE_OFF];
  const melody = [...bar1, ...bar1.slice(0, 8), E4, NO_EVENT, D4, NO_EVENT, C4, NO_EVENT, NO_EVENT, NOTE_OFF, ...bar1];
  const grid: BarGrid = { stepsPerBar: 16, barPosition: 0 };

  it('inputs: the event, the events one and two bars back for the next step, the counter of the next step, the repeat flags', () => {
    // Step 0 reads C4; the next step (1) has no bar before it: NO_EVENT in both lookback blocks; n = 1.
    const at0 = dense(LOOKBACK_ENCODING.inputAt(melody, 0, grid));
    const want0 = new Array(121).fill(0);
    want0[C4] = 1; want0[38 + NO_EVENT] = 1; want0[76 + NO_EVENT] = 1;
    [1, -1, -1, -1, -1].forEach((v, bit) => (want0[114 + bit] = v));
    expect(at0).toEqual(want0);
    // Step 17 reads NO_EVENT (a repeat of step 1): the next step (18) one bar back is step 2 = D4; two bars back: before the start.
    // n = 18 = 0b10010; the event repeats one bar back, and two bars back does not exist.
    const at17 = dense(LOOKBACK_ENCODING.inputAt(melody, 17, grid));
    const want17 = new Array(121).fill(0);
    want17[NO_EVENT] = 1; want17[38 + D4] = 1; want17[76 + NO_EVENT] = 1;
    [-1, 1, -1, -1, 1].forEach((v, bit) => (want17[114 + bit] = v));
    want17[119] = 1;
    expect(at17).toEqual(want17);
    // Step 40 (bar 3, which repeats bar 1: G4), written from the melody.
    const p = 40;
    const at = dense(LOOKBACK_ENCODING.inputAt(melody, p, grid));
    expect(at[melody[p]]).toBe(1);
    expect(at[38 + melody[p + 1 - 16]]).toBe(1);
    expect(at[76 + melody[p + 1 - 32]]).toBe(1);
    expect(at.slice(114, 119)).toEqual([1, -1, -1, 1, -1]); // n = 41 = 0b101001 → bits 0..4 of 41 = 1,0,0,1,0
    expect(at[119]).toBe(melody[p] === melody[p - 16] ? 1 : 0);
    expect(at[120]).toBe(melody[p] === melody[p - 32] ? 1 : 0);
  });

  it('labels prefer two bars back, then one; NO_EVENT in the first two bars is "two bars back"; decoding inverts them', () => {
    expect(LOOKBACK_ENCODING.labelAt(melody, 1, grid)).toBe(REPEAT_TWO_BARS); // NO_EVENT before step 32
    expect(LOOKBACK_ENCODING.labelAt(melody, 2, grid)).toBe(D4); // nothing to repeat yet
    expect(LOOKBACK_ENCODING.labelAt(melody, 18, grid)).toBe(REPEAT_ONE_BAR); // D4 = step 2
    expect(LOOKBACK_ENCODING.labelAt(melody, 24, grid)).toBe(E4); // differs from step 8 (G4)
    expect(LOOKBACK_ENCODING.labelAt(melody, 34, grid)).toBe(REPEAT_TWO_BARS); // D4 = step 2 (and step 18): two bars first
    expect(LOOKBACK_ENCODING.decode(REPEAT_ONE_BAR, melody, 5, grid)).toBe(NO_EVENT); // less than a bar played
    expect(LOOKBACK_ENCODING.decode(REPEAT_TWO_BARS, melody, 20, grid)).toBe(NO_EVENT);
    expect(LOOKBACK_ENCODING.decode(REPEAT_ONE_BAR, melody, 24, grid)).toBe(melody[8]);
    expect(LOOKBACK_ENCODING.decode(G4, melody, 24, grid)).toBe(G4);
    // Every label of random melodies (with repeats, on several grids) decodes back to its event.
    const rng = new Random(5);
    for (const g of [grid, barGrid(12, 7), barGrid(8, 3), barGrid(18, 0), barGrid(24, 20)]) {
      const m: number[] = [];
      for (let i = 0; i < 300; i++) {
        const back = rng.float() < 0.5 ? g.stepsPerBar : 2 * g.stepsPerBar;
        m.push(i >= back && rng.float() < 0.5 ? m[i - back] : rng.float() < 0.5 ? NO_EVENT : rng.int(38));
      }
      for (let p = 1; p < m.length; p++) {
        const label = LOOKBACK_ENCODING.labelAt(m, p, g);
        expect(LOOKBACK_ENCODING.decode(label, m, p, g), `grid ${g.stepsPerBar}/${g.barPosition} p=${p}`).toBe(m[p]);
        const out = new Int32Array(3);
        const n = actionsPlaying(LOOKBACK_ENCODING, m[p], m, p, g, out);
        expect(Array.from(out.subarray(0, n))).toContain(label);
        for (let k = 0; k < n; k++) expect(LOOKBACK_ENCODING.decode(out[k], m, p, g)).toBe(m[p]);
      }
    }
  });

  it('bars from the meter and the pickup: 12-step bars look back 12 and 24 steps and count within the bar and its parity', () => {
    const g = barGrid(12, 8); // 6/8, the melody starting 8 steps into its bar (a 4-step pickup)
    expect(g).toEqual({ stepsPerBar: 12, barPosition: 8 });
    const m = Array.from({ length: 40 }, (_, i) => 2 + (i % 30));
    const at = dense(LOOKBACK_ENCODING.inputAt(m, 30, g));
    expect(at[38 + m[30 + 1 - 12]]).toBe(1);
    expect(at[76 + m[30 + 1 - 24]]).toBe(1);
    // The next step lies 8 + 31 = 39 steps after the first bar line: step 3 of bar 3 (an odd bar: + 16).
    expect(counterValue(39, 12)).toBe(3 + 16);
    const bits: number[] = at.slice(114, 119).map((v) => (v > 0 ? 1 : 0));
    expect(bits.reduce((s, b, i) => s + (b << i), 0)).toBe(19);
    // Before the melody's start, a lookback reads NO_EVENT.
    expect(dense(LOOKBACK_ENCODING.inputAt(m, 20, g))[76 + NO_EVENT]).toBe(1);
    // In 4/4 from a downbeat the counter is Magenta's (position + 1) mod 32.
    for (let n = 0; n < 100; n++) expect(counterValue(n, 16)).toBe(n % 32);
    expect(counterValue(30, 24)).toBe(6); // long bars: the step in the bar
    // Bars outside 4..64 steps, or not whole, fall back to 4/4 from step 0 (what Magenta assumes).
    expect(barGrid(1.5, null)).toBe(DEFAULT_BAR_GRID);
    expect(barGrid(96, 3)).toBe(DEFAULT_BAR_GRID);
    expect(barGrid(16, null)).toEqual({ stepsPerBar: 16, barPosition: 0 });
    expect(gridBefore({ stepsPerBar: 16, barPosition: 0 }, 3)).toEqual({ stepsPerBar: 16, barPosition: 13 });
  });

  it('ids pack every input and expand back into 10 entries within the 121 rows', () => {
    const rng = new Random(1);
    for (let i = 0; i < 200; i++) {
      const id = rng.int(LOOKBACK_FEATURES.ids);
      const x = dense(id);
      expect(x.slice(0, 38).filter((v) => v === 1)).toHaveLength(1);
      expect(x.slice(38, 76).filter((v) => v === 1)).toHaveLength(1);
      expect(x.slice(76, 114).filter((v) => v === 1)).toHaveLength(1);
      expect(x.slice(114, 119).every((v) => v === 1 || v === -1)).toBe(true);
      expect(x.slice(119).every((v) => v === 0 || v === 1)).toBe(true);
    }
    expect(LOOKBACK_FEATURES.ids).toBe(38 ** 3 * 32 * 4);
    expect(LOOKBACK_FEATURES.ids).toBeLessThan(2 ** 24); // exact in the f32 a checkpoint stores them in
  });
});

describe('the phrase encoding', () => {
  /** The dense 161-wide input of an id. */
  const densePhrase = (id: number): number[] => {
    const indices = new Int32Array(PHRASE_FEATURES.entries), values = new Float32Array(PHRASE_FEATURES.entries);
    PHRASE_FEATURES.expand(id, indices, values, 0);
    const out = new Array(161).fill(0);
    indices.forEach((r, k) => (out[r] += values[k]));
    return out;
  };
  const grid: BarGrid = { stepsPerBar: 16, barPosition: 0 };
  // Five bars: bar 5 repeats bar 1 (four bars on), bars 2-4 are other notes.
  const rng = new Random(8);
  const bar1 = Array.from({ length: 16 }, (_, i) => (i % 4 === 0 ? 14 + rng.int(12) : NO_EVENT));
  const melody = [...bar1, ...Array.from({ length: 48 }, (_, i) => (i % 2 === 0 ? 2 + ((i * 7) % 36) : NO_EVENT)), ...bar1];

  it('inputs: the event, the events one, two and four bars back for the next step, a 6-bit counter, three repeat flags (161 rows)', () => {
    const p = 70; // bar 5, step 6: the next step (71) four bars back is step 7
    const x = densePhrase(PHRASE_ENCODING.inputAt(melody, p, grid));
    const want = new Array(161).fill(0);
    want[melody[p]] = 1;
    want[38 + melody[p + 1 - 16]] = 1;
    want[76 + melody[p + 1 - 32]] = 1;
    want[114 + melody[p + 1 - 64]] = 1;
    // n = 71 = 0b1000111: bits 0..5 of 71 mod 64 = 7 → 1,1,1,0,0,0 (the fourth bar of each four counts to 63).
    [1, 1, 1, -1, -1, -1].forEach((v, bit) => (want[152 + bit] = v));
    want[158] = melody[p] === melody[p - 16] ? 1 : 0;
    want[159] = melody[p] === melody[p - 32] ? 1 : 0;
    want[160] = 1; // step 70 repeats step 6, four bars back
    expect(x).toEqual(want);
    expect(counterValue(71, 16, 6)).toBe(7);
    expect(counterValue(48 + 5, 16, 6)).toBe(53); // bar 4 of the four: 48 + 5
    expect(counterValue(64 + 5, 16, 6)).toBe(5);
  });

  it('labels prefer four bars back, then two, then one; every label decodes back to its event', () => {
    expect(PHRASE_ENCODING.labelAt(melody, 64, grid)).toBe(REPEAT_FOUR_BARS); // bar 5 = bar 1
    expect(PHRASE_ENCODING.labelAt(melody, 1, grid)).toBe(REPEAT_FOUR_BARS); // NO_EVENT before four bars
    expect(PHRASE_ENCODING.decode(REPEAT_FOUR_BARS, melody, 60, grid)).toBe(NO_EVENT); // less than four bars played
    expect(PHRASE_ENCODING.decode(REPEAT_FOUR_BARS, melody, 66, grid)).toBe(melody[2]);
    const r = new Random(6);
    for (const g of [grid, barGrid(12, 7), barGrid(6, 1)]) {
      const m: number[] = [];
      for (let i = 0; i < 400; i++) {
        const back = [1, 2, 4][r.int(3)] * g.stepsPerBar;
        m.push(i >= back && r.float() < 0.5 ? m[i - back] : r.float() < 0.5 ? NO_EVENT : r.int(38));
      }
      for (let p = 1; p < m.length; p++) {
        const label = PHRASE_ENCODING.labelAt(m, p, g);
        expect(PHRASE_ENCODING.decode(label, m, p, g)).toBe(m[p]);
        const out = new Int32Array(4);
        const n = actionsPlaying(PHRASE_ENCODING, m[p], m, p, g, out);
        expect(Array.from(out.subarray(0, n))).toContain(label);
      }
    }
  });

  it('ids expand into 13 entries within the 161 rows; the largest id still fits an int32', () => {
    const r = new Random(2);
    for (let i = 0; i < 200; i++) {
      const x = densePhrase(r.int(PHRASE_FEATURES.ids));
      for (const [from, to] of [[0, 38], [38, 76], [76, 114], [114, 152]]) expect(x.slice(from, to).filter((v) => v === 1)).toHaveLength(1);
      expect(x.slice(152, 158).every((v) => v === 1 || v === -1)).toBe(true);
      expect(x.slice(158).every((v) => v === 0 || v === 1)).toBe(true);
    }
    expect(PHRASE_FEATURES.ids).toBe(38 ** 4 * 64 * 8);
    expect(PHRASE_FEATURES.ids).toBeLessThan(2 ** 31);
    // The lookback encoding's ids are what they were (Magenta's checkpoints convert with them).
    expect(LOOKBACK_ENCODING.inputAt([14, 1, 16], 2, DEFAULT_BAR_GRID)).toBe(16 + 38 * (1 + 38 * (1 + 38 * 3)));
    expect(encodingNamed('phrase')).toBe(PHRASE_ENCODING);
    expect(encodingOf({ inputSize: 161, hiddenSizes: [4], outputSize: 41, input: PHRASE_FEATURES })).toBe(PHRASE_ENCODING);
  });
});

describe('encodings by name and by network shape', () => {
  it('basic is the token in and out; names and shapes map to their encodings', () => {
    expect(BASIC_ENCODING.inputAt([3, 4, 5], 1, DEFAULT_BAR_GRID)).toBe(4);
    expect(BASIC_ENCODING.labelAt([3, 4, 5], 2, DEFAULT_BAR_GRID)).toBe(5);
    expect(encodingNamed('lookback')).toBe(LOOKBACK_ENCODING);
    expect(() => encodingNamed('attention')).toThrow(/unknown encoding "attention"; the encodings are basic, lookback, phrase/);
    expect(encodingOf({ inputSize: 38, hiddenSizes: [4], outputSize: 38 })).toBe(BASIC_ENCODING);
    expect(encodingOf({ inputSize: 121, hiddenSizes: [4], outputSize: 40, input: LOOKBACK_FEATURES })).toBe(LOOKBACK_ENCODING);
    expect(() => encodingOf({ inputSize: 121, hiddenSizes: [4], outputSize: 40 })).toThrow(/matches no melody encoding/);
  });

  it('histories: inputs of the events so far, a repeat class decoded from them, rows growing as they go', () => {
    const h = new MelodyHistories(LOOKBACK_ENCODING, 2);
    const primer = Array.from({ length: 100 }, (_, i) => 2 + (i % 36));
    h.start(0, primer, { stepsPerBar: 16, barPosition: 4 });
    h.start(1, [C4], DEFAULT_BAR_GRID);
    expect(h.length(0)).toBe(100);
    expect(h.inputId(0)).toBe(LOOKBACK_ENCODING.inputAt(primer, 99, { stepsPerBar: 16, barPosition: 4 }));
    expect(h.inputIdAt(0, 10)).toBe(LOOKBACK_ENCODING.inputAt(primer, 10, { stepsPerBar: 16, barPosition: 4 }));
    expect(h.decode(0, REPEAT_ONE_BAR)).toBe(primer[100 - 16]);
    expect(h.decode(1, REPEAT_ONE_BAR)).toBe(NO_EVENT);
    h.push(1, E4);
    expect(h.inputId(1)).toBe(LOOKBACK_ENCODING.inputAt([C4, E4], 1, DEFAULT_BAR_GRID));
    expect(() => h.push(1, 38)).toThrow(/event 38 is not a class in 0\.\.37/);
    expect(() => h.start(1, [])).toThrow(/the primer is empty/);
  });
});
