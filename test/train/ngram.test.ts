/** Kneser–Ney n-gram baselines: hand-computed probabilities, normalisation, step counting, tuning. */
import { describe, expect, it } from 'vitest';
import { NO_EVENT, NUM_CLASSES } from '../../src/music/encoding.js';
import { Random } from '../../src/random.js';
import {
  evaluateNgram,
  fitNgram,
  formatNgramTable,
  ngramBaselines,
  NgramError,
} from '../../src/train/ngram.js';

const melodies = (...lists: number[][]): Uint8Array[] => lists.map((list) => Uint8Array.from(list));

/** Predicted targets: 3, 2, 3 (first melody) and 2 (second); the first tokens are context only. */
const tiny = melodies([2, 3, 2, 3], [2, 2]);

describe('fitNgram on a hand-made corpus (D = 0.5)', () => {
  it('unigram: discounted counts plus the uniform share', () => {
    const model = fitNgram(tiny, 1, { discount: 0.5 });
    // counts: 2 → 2, 3 → 2; total 4, 2 types; back-off weight 0.5 · 2 / 4 = 0.25.
    expect(Math.exp(model.logProb([], 2))).toBeCloseTo(1.5 / 4 + 0.25 / 38, 12);
    expect(Math.exp(model.logProb([], 3))).toBeCloseTo(1.5 / 4 + 0.25 / 38, 12);
    expect(Math.exp(model.logProb([], 5))).toBeCloseTo(0.25 / 38, 12);
    // Order 1 ignores any context; on the tie between 2 and 3 the lower class is the most likely.
    expect(model.logProb([3, 3, 3], 5)).toBeCloseTo(Math.log(0.25 / 38), 12);
    expect(model.mostLikely([])).toBe(2);
  });

  it('bigram: raw counts on top, continuation counts below', () => {
    const model = fitNgram(tiny, 2, { discount: 0.5 });
    // Continuation (distinct preceding tokens): 3 after {2}; 2 after {3, 2}. Total 3, 2 types.
    const p1 = (w: number): number => (Math.max((w === 2 ? 2 : w === 3 ? 1 : 0) - 0.5, 0) / 3) + (0.5 * 2) / 3 / 38;
    expect(p1(2)).toBeCloseTo(0.5 + 1 / 114, 15);
    // Context 2 saw 3 twice and 2 once: total 3, 2 types, back-off weight 1/3.
    expect(Math.exp(model.logProb([2], 3))).toBeCloseTo(1.5 / 3 + p1(3) / 3, 12);
    expect(Math.exp(model.logProb([2], 2))).toBeCloseTo(0.5 / 3 + p1(2) / 3, 12);
    expect(Math.exp(model.logProb([2], 7))).toBeCloseTo(p1(7) / 3, 12);
    // Context 3 saw 2 once: back-off weight 0.5.
    expect(Math.exp(model.logProb([3], 2))).toBeCloseTo(0.5 + 0.5 * p1(2), 12);
    // An unseen context falls back to the continuation unigram; the empty context uses raw unigram counts.
    expect(Math.exp(model.logProb([20], 3))).toBeCloseTo(p1(3), 12);
    expect(Math.exp(model.logProb([], 3))).toBeCloseTo(1.5 / 4 + 0.25 / 38, 12);
    // `end` cuts the context: [3, 2, 20] up to 2 is the context [3, 2].
    expect(model.logProb([3, 2, 20], 3, 2)).toBe(model.logProb([2], 3));
    expect(model.mostLikely([3, 2, 20], 2)).toBe(3);
    expect(Array.from(model.distribution([3, 2, 20], 1))).toEqual(Array.from(model.distribution([3])));
  });

  it('probabilities sum to 1 for seen, unseen, short and long contexts, and are never 0', () => {
    const corpus = melodies([14, 1, 16, 1, 18, 0, 14, 1, 1, 21], [2, 3, 2, 3, 4], [37, 1, 1, 1]);
    for (const order of [1, 2, 3, 4]) {
      const model = fitNgram(corpus, order, { discount: 0.3 });
      for (const context of [[], [14], [1, 16], [14, 1, 16, 1], [37, 37, 37], [5, 6, 7, 8, 9], [0]]) {
        const p = model.distribution(context);
        expect(p.length).toBe(NUM_CLASSES);
        expect(Math.abs(p.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(1e-9);
        expect(Math.min(...p)).toBeGreaterThan(0);
      }
    }
  });

  it('rejects bad orders, discounts and tokens', () => {
    expect(() => fitNgram(tiny, 0)).toThrow(NgramError);
    expect(() => fitNgram(tiny, 2, { discount: 1 })).toThrow(/discount 1 is outside \(0, 1\)/);
    expect(() => fitNgram(melodies([2, 40]), 2)).toThrow(/melodies\[0\]\[1\] = 40/);
    expect(() => fitNgram(tiny, 2).logProb([2], 38)).toThrow(/next token 38/);
  });
});

describe('evaluateNgram', () => {
  it('counts n − 1 steps per melody and scores against hand-computed values', () => {
    const model = fitNgram(tiny, 1, { discount: 0.5 });
    const valid = melodies([5, 2, 1], [7], [2, 3]);
    const metrics = evaluateNgram(model, valid);
    expect(metrics.steps).toBe(2 + 0 + 1);
    const pSeen = 1.5 / 4 + 0.25 / 38;
    const pUnseen = 0.25 / 38;
    const expectedNats = -(Math.log(pSeen) + Math.log(pUnseen) + Math.log(pSeen)) / 3;
    expect(metrics.nats).toBeCloseTo(expectedNats, 12);
    expect(metrics.perplexity).toBeCloseTo(Math.exp(expectedNats), 10);
    // argmax is class 2 (tie with 3, lowest index wins): targets 2, 1, 3 → one hit out of three.
    expect(metrics.accuracy).toBeCloseTo(1 / 3, 12);
    // Events are the targets 2 and 3 (NO_EVENT excluded): one hit out of two.
    expect(metrics.accuracyOnEvents).toBeCloseTo(1 / 2, 12);
  });

  it('refuses a set with nothing to predict', () => {
    expect(() => evaluateNgram(fitNgram(tiny, 1), melodies([4], []))).toThrow(/no steps to predict/);
  });
});

describe('ngramBaselines', () => {
  // A motif in which the next token depends on up to three previous tokens.
  const motif = [14, 1, 16, 1, 14, 1, 18, 1, 1, 14, 1, 16, 1, 21, 1, 1];
  const tune = (repeats: number, shift: number): Uint8Array =>
    Uint8Array.from({ length: motif.length * repeats }, (_, i) => motif[(i + shift) % motif.length]);
  const train = [tune(8, 0), tune(6, 3), tune(5, 7), tune(7, 11)];
  const valid = [tune(4, 2), tune(3, 9)];
  const test = [tune(4, 5)];

  it('higher orders lower the validation loss on a patterned corpus; the table lists every order', () => {
    const rows = ngramBaselines(train, valid, test, [1, 2, 3, 4], [0.1, 0.5, 0.9]);
    const nats = rows.map((row) => row.valid.nats);
    expect(nats[1]).toBeLessThan(nats[0]);
    expect(nats[2]).toBeLessThan(nats[1]);
    expect(nats[3]).toBeLessThan(nats[2]);
    expect(rows[3].test.accuracy).toBeGreaterThan(rows[0].test.accuracy);
    for (const row of rows) expect([0.1, 0.5, 0.9]).toContain(row.discount);
    expect(rows[0].valid.steps).toBe(4 * 16 - 1 + 3 * 16 - 1);

    const table = formatNgramTable(rows);
    const lines = table.trim().split('\n');
    expect(lines).toHaveLength(2 + 4);
    expect(lines[2]).toMatch(new RegExp(`^\\| 1 \\| ${rows[0].discount} \\| ${rows[0].valid.nats.toFixed(4)} \\|`));
  });

  it('tuning picks the grid value with the lowest validation loss', () => {
    const tuned = fitNgram(train, 3, { validation: valid, discountGrid: [0.1, 0.5, 0.9] });
    const losses = [0.1, 0.5, 0.9].map((d) => evaluateNgram(fitNgram(train, 3, { discount: d }), valid).nats);
    expect(tuned.discount).toBe([0.1, 0.5, 0.9][losses.indexOf(Math.min(...losses))]);
  });
});
