// The composition-level reward terms on hand-made compositions, the duration model fitted on a tiny
// corpus by hand, and the documented ranges on random and degenerate compositions.
import { describe, expect, it } from 'vitest';
import {
  compositionReward, compositionTerms, durationHistogram, fitCompositionModel, fitDurationModel, noteDurations, phraseRecurrenceTerm,
  pitchRangeModel, pitchRangeTerm, rhythmTerm, tonicEndingTerm, COMPOSITION_TERM_NAMES, NOTTINGHAM_COMPOSITION_MODEL,
} from '../../src/rules/composition.js';
import { cutPieces } from '../../src/eval/data_reference.js';
import { keyRuleContext } from '../../src/rules/key_context.js';
import { C_MAJOR_RULES } from '../../src/rules/rules.js';
import { Random } from '../../src/random.js';

// Tokens: 14 = C4, 16 = D4, 18 = E4, 21 = G4, 23 = A4, 26 = C5, 0 = NOTE_OFF, 1 = NO_EVENT (hold).
const H = 1, OFF = 0;
const bars = (n: number, fill: number[]) => Array.from({ length: n }, (_, i) => fill[i % fill.length]);

describe('tonic_ending', () => {
  it('3 for a tonic-class last note on a strong beat, 1 elsewhere, 0 for any other note or none', () => {
    const lastAt = (step: number, note: number) => [...bars(step, [16, H]), note, ...new Array(31 - step).fill(H)];
    expect(tonicEndingTerm(lastAt(24, 14), C_MAJOR_RULES)).toBe(3); // C4 on beat 3 of bar 2
    expect(tonicEndingTerm(lastAt(16, 26), C_MAJOR_RULES)).toBe(3); // C5 on beat 1 of bar 2
    expect(tonicEndingTerm(lastAt(28, 14), C_MAJOR_RULES)).toBe(1); // beat 4
    expect(tonicEndingTerm(lastAt(29, 14), C_MAJOR_RULES)).toBe(1); // off the beat
    expect(tonicEndingTerm(lastAt(24, 21), C_MAJOR_RULES)).toBe(0); // G4
    expect(tonicEndingTerm([...lastAt(24, 14).slice(0, 30), OFF, H], C_MAJOR_RULES)).toBe(3); // a rest after it still ends on it
    expect(tonicEndingTerm(new Array(32).fill(H), C_MAJOR_RULES)).toBe(0);
    // In A minor the tonic class is A.
    expect(tonicEndingTerm(lastAt(24, 23), keyRuleContext({ key: 'A', mode: 'minor' }))).toBe(3);
    expect(tonicEndingTerm(lastAt(24, 14), keyRuleContext({ key: 'A', mode: 'minor' }))).toBe(0);
  });
});

describe('note durations and the rhythm term', () => {
  it('durations in steps, leading holds belong to no note, the last one may be cut', () => {
    expect(noteDurations([H, 14, H, 16, OFF, H, 18, H, H])).toEqual({ bins: [1, 0, 2], lastCut: true });
    expect(noteDurations([14, H, 16, OFF])).toEqual({ bins: [1, 0], lastCut: false });
    expect(noteDurations([H, OFF, H])).toEqual({ bins: [], lastCut: false });
  });

  // A corpus of eighths and quarters, 3 : 1, no other duration.
  const corpus = [[14, H, 16, H, 18, H, 21, H, H, H], [14, H, 16, H, 18, H, 21, H, H, H]];
  const durationProbs = fitDurationModel(corpus, 0.5);

  it('fits add-α smoothed duration probabilities', () => {
    // 6 eighths, 2 quarters; 17 bins with α = 0.5: total 8 + 8.5.
    expect(durationProbs[1]).toBeCloseTo(6.5 / 16.5, 12);
    expect(durationProbs[3]).toBeCloseTo(2.5 / 16.5, 12);
    expect(durationProbs[0]).toBeCloseTo(0.5 / 16.5, 12);
    expect(durationProbs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("the piece's duration histogram leaves the note cut by the end out, unless it is the only one", () => {
    expect(durationHistogram([14, H, 16, H, 18, H, H])).toEqual([0, 1, ...new Array(15).fill(0)]); // two eighths, the cut note left out
    expect(durationHistogram([H, 14, H, H])).toEqual([0, 0, 1, ...new Array(14).fill(0)]); // the only note: 3 steps so far
    expect(durationHistogram([14, H, H, H, 16, OFF, H, H])).toEqual([1 / 2, 0, 0, 1 / 2, ...new Array(13).fill(0)]); // a quarter and a 16th, then a rest
    expect(durationHistogram([H, OFF])).toBeNull();
  });

  it('−5 × the TV distance to the corpus: 0 at its proportions, −5 for none of its durations or no note', () => {
    const model = { durationProbs: [0, 0.75, 0, 0.25, ...new Array(13).fill(0)] };
    // Three eighths and a quarter per 10 steps, as the corpus: distance 0 (the cut last note left out).
    expect(rhythmTerm(bars(32, [14, H, 16, H, 18, H, 21, H, H, H]), model)).toBeCloseTo(0, 12);
    // All eighths: |1 − 0.75| + |0 − 0.25| = 0.5, TV 0.25.
    expect(rhythmTerm(bars(32, [14, H]), model)).toBeCloseTo(-1.25, 12);
    // All quarters: TV 0.75.
    expect(rhythmTerm(bars(32, [14, H, H, H]), model)).toBeCloseTo(-3.75, 12);
    // Sixteenths only: no duration in common, TV 1.
    expect(rhythmTerm(bars(32, [14, 16]), model)).toBeCloseTo(-5, 12);
    expect(rhythmTerm(new Array(32).fill(OFF), model)).toBe(-5);
  });

  it('with the shipped model: sixteenth runs and all-eighths both score below a tune of eighths and quarters', () => {
    const tune = bars(32, [14, H, 16, H, 18, H, 21, H, 23, H, H, H, 21, H, H, H]); // 4 eighths, 2 quarters per bar
    const eighths = bars(32, [14, H]);
    const runs = bars(32, [14, 16, 18, 21]);
    expect(rhythmTerm(tune)).toBeGreaterThan(rhythmTerm(eighths));
    expect(rhythmTerm(eighths)).toBeGreaterThan(rhythmTerm(runs));
    expect(rhythmTerm(runs)).toBeLessThan(-4);
  });
});

describe('pitch_range', () => {
  // Ranges 0..35: an octave most likely, 7 half as likely, 13 rare.
  const logProbs = new Array<number>(36).fill(Math.log(0.001));
  logProbs[12] = Math.log(0.5);
  logProbs[7] = Math.log(0.25);
  logProbs[13] = Math.log(0.01);
  const model = { numNotes: 32, logProbs, meanLogProb: Math.log(0.25) };

  it('2 × (log q(range) − the mean), clipped to [−5, 0]; −5 without notes', () => {
    expect(pitchRangeTerm([14, H, 26, H], model)).toBe(0); // 12: above the mean, clipped
    expect(pitchRangeTerm([14, H, 21, H], model)).toBeCloseTo(0, 12); // 7: at the mean
    expect(pitchRangeTerm([14, H, 27, H], model)).toBe(-5); // 13: 2 × ln(0.04) = −6.4, clipped
    logProbs[13] = Math.log(0.1);
    expect(pitchRangeTerm([14, H, 27, H], model)).toBeCloseTo(2 * Math.log(0.1 / 0.25), 12); // 13 at q = 0.1: −1.8
    expect(pitchRangeTerm([2, 37], model)).toBe(-5); // 35
    expect(pitchRangeTerm([H, OFF], model)).toBe(-5);
  });

  it("the model of the fitted length nearest the composition's", () => {
    const shipped = NOTTINGHAM_COMPOSITION_MODEL;
    expect(shipped.pitchRange.map((m) => m.numNotes)).toEqual([32, 64, 128]);
    expect(pitchRangeModel(32)).toBe(shipped.pitchRange[0]);
    expect(pitchRangeModel(40)).toBe(shipped.pitchRange[0]);
    expect(pitchRangeModel(48)).toBe(shipped.pitchRange[0]); // a tie goes to the shorter
    expect(pitchRangeModel(100)).toBe(shipped.pitchRange[2]);
  });

  it('with the shipped model: an octave or a sixth scores 0, 13 or 15 semitones below', () => {
    const range = pitchRangeModel(32);
    expect(pitchRangeTerm([14, H, 26, H], range)).toBe(0);
    expect(pitchRangeTerm([14, H, 23, H], range)).toBe(0);
    expect(pitchRangeTerm([14, H, 27, H], range)).toBeLessThan(-1);
    expect(pitchRangeTerm([14, H, 29, H], range)).toBeLessThan(-1);
  });

  it('fits the range distribution of the pieces of each length, add-α smoothed, and its mean log q', () => {
    // Ten tunes of 8 steps whose ranges are 1..10 semitones, and two more of range 1.
    const tunes = [...Array.from({ length: 10 }, (_, i) => [14, H, H, H, 14 + i + 1, H, H, H]), [14, 15, H, H, H, H, H, H], [20, 21, H, H, H, H, H, H]];
    const fitted = fitCompositionModel({ corpus: 'hand-made' }, tunes, [8], cutPieces);
    expect(fitted.source).toEqual({ corpus: 'hand-made' });
    const [m] = fitted.pitchRange;
    expect(m.numNotes).toBe(8);
    const total = 12 + 0.5 * 36;
    expect(Math.exp(m.logProbs[1])).toBeCloseTo(3.5 / total, 12);
    expect(Math.exp(m.logProbs[5])).toBeCloseTo(1.5 / total, 12);
    expect(Math.exp(m.logProbs[20])).toBeCloseTo(0.5 / total, 12);
    expect(m.meanLogProb).toBeCloseTo((3 * Math.log(3.5 / total) + 9 * Math.log(1.5 / total)) / 12, 12);
  });
});

describe('phrase_recurrence', () => {
  const rng = new Random(5);
  const phrase = (n: number) => Array.from({ length: n }, () => [14, 16, 18, 21, 23, H][rng.int(6)]);
  const distinct = (n: number, from: number) => Array.from({ length: n }, (_, i) => 2 + ((from + i) % 36));

  it('3 when a 2-bar window recurs, 1 when only a 1-bar one does, 0 otherwise or below 64 steps', () => {
    const two = phrase(32);
    expect(phraseRecurrenceTerm([...two, ...two])).toBe(3);
    const one = phrase(16);
    expect(phraseRecurrenceTerm([...one, ...distinct(20, 0), ...one, ...distinct(12, 20)])).toBe(1);
    expect(phraseRecurrenceTerm(Array.from({ length: 64 }, (_, i) => (i % 2 ? H : 2 + i / 2)))).toBe(0); // 32 different notes
    expect(phraseRecurrenceTerm([...two, ...two.slice(0, 31)])).toBe(0); // 63 steps
  });
});

describe('all terms', () => {
  it('in COMPOSITION_TERM_NAMES order, and Σ w_j c_j', () => {
    expect(COMPOSITION_TERM_NAMES).toEqual(['tonic_ending', 'rhythm', 'pitch_range', 'phrase_recurrence']);
    const piece = [...bars(24, [16, H, 18, H, 21, H, H, H]), 14, ...new Array(7).fill(H)];
    const terms = compositionTerms(piece, C_MAJOR_RULES);
    expect(Array.from(terms)).toEqual([tonicEndingTerm(piece, C_MAJOR_RULES), rhythmTerm(piece), pitchRangeTerm(piece, pitchRangeModel(32)), 0]);
    expect(terms[0]).toBe(3);
    expect(compositionReward(terms, [2, 1, 0.5, 4])).toBeCloseTo(2 * terms[0] + terms[1] + 0.5 * terms[2], 12);
    expect(compositionReward([NaN, 1, 1, 1], [0, 1, 1, 1])).toBe(3); // a weight of 0 reads nothing
  });

  it('stay within their documented ranges on random and degenerate compositions of 32, 64 and 128 steps', () => {
    const rng = new Random(9);
    const lows = [0, -5, -5, 0], highs = [3, 0, 0, 3];
    for (const n of [32, 64, 128]) {
      const pieces = [
        new Array(n).fill(H), new Array(n).fill(OFF), new Array(n).fill(14), [14, ...new Array(n - 1).fill(H)],
        ...Array.from({ length: 50 }, () => Array.from({ length: n }, () => rng.int(38))),
      ];
      for (const p of pieces) {
        compositionTerms(p, C_MAJOR_RULES).forEach((c, j) => {
          expect(c).toBeGreaterThanOrEqual(lows[j]);
          expect(c).toBeLessThanOrEqual(highs[j]);
        });
      }
    }
  });
});
