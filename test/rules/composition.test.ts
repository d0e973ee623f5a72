// The composition-level reward terms on hand-made compositions, the duration model fitted on a tiny
// corpus by hand, and the documented ranges on random and degenerate compositions.
import { describe, expect, it } from 'vitest';
import {
  compositionReward, compositionTerms, durationLogLikelihood, fitCompositionModel, fitDurationModel, noteDurations, phraseRecurrenceTerm,
  pitchRangeBand, pitchRangeTerm, rhythmTerm, tonicEndingTerm, COMPOSITION_TERM_NAMES, NOTTINGHAM_COMPOSITION_MODEL, type CompositionModel,
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
  const fitted = fitDurationModel(corpus, 0.5);

  it('fits add-α smoothed duration probabilities, their tails, and the corpus mean log q', () => {
    // 6 eighths, 2 quarters; 17 bins with α = 0.5: total 8 + 8.5.
    expect(Math.exp(fitted.durationLogProbs[1])).toBeCloseTo(6.5 / 16.5, 12);
    expect(Math.exp(fitted.durationLogProbs[3])).toBeCloseTo(2.5 / 16.5, 12);
    expect(Math.exp(fitted.durationLogProbs[0])).toBeCloseTo(0.5 / 16.5, 12);
    expect(Math.exp(fitted.durationLogSurvival[0])).toBeCloseTo(1, 12);
    expect(Math.exp(fitted.durationLogSurvival[3])).toBeCloseTo((2.5 + 13 * 0.5) / 16.5, 12);
    expect(fitted.meanLogLikelihoodPerNote).toBeCloseTo((6 * Math.log(6.5 / 16.5) + 2 * Math.log(2.5 / 16.5)) / 8, 12);
  });

  it('mean log q per note; the cut last note by the chance a note lasts at least that long', () => {
    const piece = [14, H, 16, H, 18, H, H]; // eighth, eighth, then a note cut after 3 steps
    const expected = (2 * fitted.durationLogProbs[1] + fitted.durationLogSurvival[2]) / 3;
    expect(durationLogLikelihood(piece, fitted)).toBeCloseTo(expected, 12);
    expect(durationLogLikelihood([H, H], fitted)).toBeNull();
  });

  it("is 0 for a rhythm at least as likely as the corpus's, negative below, floored at −5", () => {
    const model: CompositionModel = { source: {}, ...fitted, pitchRange: [{ numNotes: 32, low: 5, high: 14 }] };
    expect(rhythmTerm(bars(32, [14, H]), model)).toBe(0); // all eighths: above the corpus mean, clipped
    const quarters = rhythmTerm(bars(32, [14, H, H, H]), model); // 7 quarters and one cut by the end after 4 steps
    const meanLogQ = (7 * fitted.durationLogProbs[3] + fitted.durationLogSurvival[3]) / 8;
    expect(quarters).toBeCloseTo(2 * (meanLogQ - fitted.meanLogLikelihoodPerNote), 12);
    expect(quarters).toBeLessThan(0);
    // Sixteenths the corpus never plays (the last one cut, log Q(D ≥ 1) = 0): clipped at −5 where they fall further.
    const sixteenths = Math.max(-5, 2 * ((31 * fitted.durationLogProbs[0]) / 32 - fitted.meanLogLikelihoodPerNote));
    expect(sixteenths).toBeLessThan(-4);
    expect(rhythmTerm(bars(32, [14, 16]), model)).toBeCloseTo(sixteenths, 12);
    const harsh = { ...model, durationLogProbs: model.durationLogProbs.map((x, d) => (d === 0 ? -20 : x)) };
    expect(rhythmTerm(bars(32, [14, 16]), harsh)).toBe(-5); // the floor
    expect(rhythmTerm(new Array(32).fill(OFF), model)).toBe(-5); // no note at all
  });

  it('with the shipped model: sixteenth runs score far below a tune of eighths and quarters', () => {
    const tune = bars(32, [14, H, 16, H, 18, H, H, H]);
    const runs = bars(32, [14, 16, 18, 21]);
    expect(rhythmTerm(tune)).toBe(0);
    expect(rhythmTerm(runs)).toBeLessThan(-4);
  });
});

describe('pitch_range', () => {
  it('0 inside the band, −0.5 per semitone outside, floored at −5 (and −5 without notes)', () => {
    const band = { low: 5, high: 14 };
    expect(pitchRangeTerm([14, H, 21, H], band)).toBe(0); // 7
    expect(pitchRangeTerm([14, H, 26, H], band)).toBe(0); // 12
    expect(pitchRangeTerm([14, H, 30, H], band)).toBe(-1); // 16: 2 above
    expect(pitchRangeTerm([14, H, 16, H], band)).toBe(-1.5); // 2: 3 below
    expect(pitchRangeTerm([2, 37], band)).toBe(-5); // 35
    expect(pitchRangeTerm([H, OFF], band)).toBe(-5);
  });

  it("the band of the fitted length nearest the composition's", () => {
    const model = NOTTINGHAM_COMPOSITION_MODEL;
    expect(model.pitchRange.map((b) => b.numNotes)).toEqual([32, 64, 128]);
    expect(pitchRangeBand(32)).toEqual({ low: model.pitchRange[0].low, high: model.pitchRange[0].high });
    expect(pitchRangeBand(40)).toEqual(pitchRangeBand(32));
    expect(pitchRangeBand(48)).toEqual(pitchRangeBand(32)); // a tie goes to the shorter
    expect(pitchRangeBand(100)).toEqual(pitchRangeBand(128));
  });

  it('fits the bands as the 10th and 90th percentile of the pieces of each length', () => {
    // Ten tunes of 8 steps whose ranges are 1..10 semitones.
    const tunes = Array.from({ length: 10 }, (_, i) => [14, H, H, H, 14 + i + 1, H, H, H]);
    const model = fitCompositionModel({ corpus: 'hand-made' }, tunes, [8], cutPieces);
    expect(model.pitchRange).toEqual([{ numNotes: 8, low: 1, high: 9 }]);
    expect(model.source).toEqual({ corpus: 'hand-made' });
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
    expect(Array.from(terms)).toEqual([tonicEndingTerm(piece, C_MAJOR_RULES), rhythmTerm(piece), pitchRangeTerm(piece, pitchRangeBand(32)), 0]);
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
