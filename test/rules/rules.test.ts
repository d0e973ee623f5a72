/** Hand-made cases for each music-theory rule, one edge of SPEC §5 at a time. */
import { describe, expect, it } from 'vitest';
import {
  HOLD_AFTER_TONIC_OR_FIFTH,
  HOLD_INTERVAL,
  IN_KEY_FIFTH,
  IN_KEY_THIRD,
  NO_INTERVAL,
  REST_AFTER_TONIC_OR_FIFTH,
  REST_INTERVAL,
  RULE_INDEX,
  RULE_NAMES,
  advanceLeap,
  autocorrelation,
  autocorrelationReward,
  intervalCode,
  intervalsReward,
  isExcessivelyRepeated,
  keyReward,
  motifReward,
  musicTheoryReward,
  musicTheoryRewardInto,
  newLeapState,
  previousNote,
  repeatedMotifReward,
  repeatingReward,
  ruleContext,
  tonicReward,
  uniqueExtremesReward,
  type LeapOutcome,
} from '../../src/rules/rules.js';

/** Rule 8's outcome at every beat of a composition, with a fresh leap state. */
function leapOutcomes(composition: number[]): LeapOutcome[] {
  const leap = newLeapState();
  return composition.map((action, beat) => advanceLeap(composition, beat, action, leap));
}

describe('rule names', () => {
  it('are in SPEC order with matching indices', () => {
    expect(RULE_NAMES).toEqual(['key', 'tonic', 'repeating', 'autocorrelation', 'motif', 'repeated_motif', 'intervals', 'leap', 'unique_extremes']);
    expect(RULE_INDEX.leap).toBe(7);
    expect(RULE_INDEX.unique_extremes).toBe(8);
  });
});

describe('rule 1: key', () => {
  it('penalises notes outside C major only', () => {
    expect(keyReward([], 0, 15)).toBe(-1); // C#4
    expect(keyReward([], 0, 14)).toBe(0);
    expect(keyReward([], 0, 0)).toBe(0);
    expect(keyReward([], 0, 1)).toBe(0);
  });
  it('follows another key given in the context', () => {
    const ctx = ruleContext({ key: new Set([0, 1, 15]) });
    expect(keyReward([], 0, 15, ctx)).toBe(0);
    expect(keyReward([], 0, 14, ctx)).toBe(-1);
  });
});

describe('rule 2: tonic', () => {
  it('rewards the tonic at beat 0 and beat F = 28 only', () => {
    expect(tonicReward([], 0, 14)).toBe(3);
    expect(tonicReward([], 0, 26)).toBe(0);
    expect(tonicReward([], 28, 14)).toBe(3);
    expect(tonicReward([], 28, 1)).toBe(0);
    expect(tonicReward([], 5, 14)).toBe(0);
    expect(tonicReward([], 27, 14)).toBe(0);
  });
  it('rewards a hold (not a rest) at F + 1, and a rest or hold after', () => {
    expect(tonicReward([], 29, 1)).toBe(3);
    expect(tonicReward([], 29, 0)).toBe(0);
    expect(tonicReward([], 29, 14)).toBe(0);
    expect(tonicReward([], 30, 0)).toBe(3);
    expect(tonicReward([], 31, 1)).toBe(3);
    expect(tonicReward([], 31, 14)).toBe(0);
  });
  it('moves F with numNotes', () => {
    const ctx = ruleContext({ numNotes: 16 });
    expect(tonicReward([], 12, 14, ctx)).toBe(3);
    expect(tonicReward([], 28, 14, ctx)).toBe(0);
    expect(tonicReward([], 13, 1, ctx)).toBe(3);
  });
});

describe('rule 3: repeating', () => {
  const repeats = (n: number, token: number) => new Array<number>(n).fill(token);
  it('allows 4 plain repeats and penalises the fifth', () => {
    expect(isExcessivelyRepeated(repeats(4, 14), 4, 14)).toBe(false);
    expect(isExcessivelyRepeated(repeats(5, 14), 5, 14)).toBe(true);
    expect(repeatingReward(repeats(5, 14), 5, 14)).toBe(-100);
    expect(repeatingReward(repeats(4, 14), 4, 14)).toBe(0);
  });
  it('allows up to 6 repeats when a rest or hold is between them', () => {
    const withHold = [14, 1, 14, 14, 14, 14, 14];
    expect(isExcessivelyRepeated(withHold, withHold.length, 14)).toBe(false); // count 6
    const withRest = [14, 0, 14, 14, 14, 14, 14, 14];
    expect(isExcessivelyRepeated(withRest, withRest.length, 14)).toBe(true); // count 7
  });
  it('stops the walk at any other note', () => {
    expect(isExcessivelyRepeated([...repeats(6, 14), 16], 7, 14)).toBe(false);
    expect(isExcessivelyRepeated([16, ...repeats(4, 14)], 5, 14)).toBe(false);
  });
  it('reads only composition[0 .. beat)', () => {
    expect(isExcessivelyRepeated(repeats(9, 14), 4, 14)).toBe(false);
  });
  it('allows one rest before a rest, not two (a hold in between does not help)', () => {
    expect(isExcessivelyRepeated([14, 0], 2, 0)).toBe(false);
    expect(isExcessivelyRepeated([0, 0], 2, 0)).toBe(true);
    expect(isExcessivelyRepeated([0, 1, 0], 3, 0)).toBe(true);
  });
  it('counts holds like notes when the action is a hold', () => {
    expect(isExcessivelyRepeated(repeats(4, 1), 4, 1)).toBe(false);
    expect(isExcessivelyRepeated(repeats(5, 1), 5, 1)).toBe(true);
    expect(isExcessivelyRepeated([1, 0, 1, 1, 1, 1], 6, 1)).toBe(false); // 5 holds, a rest between
  });
});

describe('rule 4: autocorrelation', () => {
  it('computes ρ over composition + [a] without building it', () => {
    // x = [2, 4, 2]: centred [-2/3, 4/3, -2/3], var 8/9 -> ρ1 = -2/3, ρ2 = 1/6, ρ3 = 0 (lag >= n)
    expect(autocorrelation([2, 4], 2, 2, 1)).toBeCloseTo(-2 / 3, 12);
    expect(autocorrelation([2, 4], 2, 2, 2)).toBeCloseTo(1 / 6, 12);
    expect(autocorrelation([2, 4], 2, 2, 3)).toBe(0);
    expect(autocorrelationReward([2, 4], 2, 2)).toBeCloseTo(-3 * (2 / 3 + 1 / 6), 12);
  });
  it('ignores lags with |ρ| <= 0.15', () => {
    // x = [0, 0, 1, 0]: ρ1 = -5/12, ρ2 = -1/6, ρ3 = 1/12 (below the threshold)
    expect(autocorrelation([0, 0, 1], 3, 0, 3)).toBeCloseTo(1 / 12, 12);
    expect(autocorrelationReward([0, 0, 1], 3, 0)).toBeCloseTo(-3 * (5 / 12 + 1 / 6), 12);
  });
  it('skips a constant sequence (var = 0) and a single token', () => {
    expect(autocorrelation([14, 14, 14], 3, 14, 1)).toBeNaN();
    expect(autocorrelationReward([14, 14, 14], 3, 14)).toBe(0);
    expect(autocorrelationReward([], 0, 20)).toBe(0);
  });
});

describe('rule 5: motif', () => {
  it('needs 8 tokens and 3 distinct notes among the last 8', () => {
    expect(motifReward([14, 1, 16, 1, 18, 1], 6, 14)).toBe(0); // 7 tokens
    expect(motifReward([14, 1, 16, 1, 18, 1, 14], 7, 1)).toBe(3);
    expect(motifReward([14, 1, 16, 1, 14, 1, 16], 7, 1)).toBe(0); // u = 2
    expect(motifReward([0, 1, 0, 1, 14, 16, 18], 7, 0)).toBe(3); // specials do not count
  });
  it('adds 0.3 per distinct note above 3', () => {
    expect(motifReward([14, 1, 16, 1, 18, 1, 14], 7, 19)).toBeCloseTo(3.3, 12);
    expect(motifReward([14, 16, 18, 19, 21, 23, 25], 7, 26)).toBeCloseTo(3 + 0.3 * 5, 12);
  });
  it('looks only at the last 8 tokens', () => {
    expect(motifReward([20, 21, 23, 14, 14, 14, 14, 14, 14, 14], 10, 14)).toBe(0);
  });
});

describe('rule 6: repeated motif', () => {
  it('rewards a motif played before, with +1 per distinct note above 3', () => {
    const twice = [14, 0, 18, 0, 21, 0, 18, 0, 14, 0, 18, 0, 21, 0, 18];
    expect(repeatedMotifReward(twice, 15, 0)).toBe(4);
    expect(repeatedMotifReward(twice, 15, 1)).toBe(0); // last 8 differ from the first 8
    const fourNotes = [14, 16, 18, 19, 1, 1, 1, 1, 14, 16, 18, 19, 1, 1, 1];
    expect(repeatedMotifReward(fourNotes, 15, 1)).toBe(5);
  });
  it('only searches the composition before the motif (no overlap)', () => {
    const cycle = (n: number) => Array.from({ length: n }, (_, i) => [14, 16, 18][i % 3]);
    const c = cycle(17);
    // 16 tokens: window 8..15 starts in phase 2, the 8 tokens before it only in phase 0
    expect(repeatedMotifReward(c, 15, c[15])).toBe(0);
    // 17 tokens: window 9..16 is phase 0, found at offset 0
    expect(repeatedMotifReward(c, 16, c[16])).toBe(4);
    // 12 tokens: the 4 tokens before the window cannot hold it
    expect(repeatedMotifReward(c, 11, c[11])).toBe(0);
  });
  it('needs the repeated window to be a motif (u >= 3)', () => {
    const c = [14, 16, 14, 16, 14, 16, 14, 16, 14, 16, 14, 16, 14, 16, 14, 16];
    expect(repeatedMotifReward(c, 15, 16)).toBe(0);
  });
});

describe('rule 7: interval codes and preferred intervals', () => {
  it('has no interval without a previous note', () => {
    expect(intervalCode(-1, 14)).toBe(NO_INTERVAL);
    expect(previousNote([0, 1, 0], 3)).toBe(-1);
    expect(previousNote([20, 1, 0], 3)).toBe(20);
    expect(intervalsReward([0, 1], 2, 14)).toBe(0);
    expect(intervalsReward([], 0, 14)).toBe(0);
  });
  it('codes holds and rests by whether prev is tonic- or fifth-class', () => {
    expect(intervalCode(14, 1)).toBe(HOLD_AFTER_TONIC_OR_FIFTH);
    expect(intervalCode(21, 1)).toBe(HOLD_AFTER_TONIC_OR_FIFTH);
    expect(intervalCode(18, 1)).toBe(HOLD_INTERVAL);
    expect(intervalCode(14, 0)).toBe(REST_AFTER_TONIC_OR_FIFTH);
    expect(intervalCode(18, 0)).toBe(REST_INTERVAL);
    expect([HOLD_AFTER_TONIC_OR_FIFTH, HOLD_INTERVAL, REST_AFTER_TONIC_OR_FIFTH, REST_INTERVAL]).toEqual([-2.5, -1.5, -2, -1]);
  });
  it('codes in-key fifths (from C or G) and in-key thirds (from C or E), either direction', () => {
    expect(intervalCode(14, 21)).toBe(IN_KEY_FIFTH);
    expect(intervalCode(21, 14)).toBe(IN_KEY_FIFTH);
    expect(intervalCode(9, 16)).toBe(IN_KEY_FIFTH);
    expect(intervalCode(16, 23)).toBe(7); // D -> A
    expect(intervalCode(14, 18)).toBe(IN_KEY_THIRD);
    expect(intervalCode(18, 22)).toBe(IN_KEY_THIRD);
    expect(intervalCode(21, 25)).toBe(4); // G -> B is not an in-key third
    expect(intervalCode(14, 27)).toBe(13);
  });
  it('rewards each code by the table x 5, skipping holds/rests back to the last note', () => {
    const cases: [number, number, number][] = [
      [14, 1, 1.5], [18, 1, 0.375], [14, 0, 0.75], [18, 0, 0.25],
      [14, 21, 0.5], [14, 18, 0.75], [16, 18, 0.4], [16, 20, 0.45], [16, 21, 0.35], [16, 23, 0.1],
      [16, 25, 0.25], [16, 27, -1.5], [16, 17, 0], [16, 19, 0], [16, 16, 0], [14, 26, 0], [14, 27, -5], [2, 37, -5],
    ];
    for (const [prev, action, reward] of cases) {
      expect(intervalsReward([prev, 1, 0], 3, action), `${prev} -> ${action}`).toBeCloseTo(reward, 12);
    }
  });
});

describe('rule 8: leap resolution', () => {
  it('is 0 on an empty composition and leaves the state alone', () => {
    const leap = newLeapState();
    expect(advanceLeap([], 0, 26, leap)).toBe(0);
    expect(leap).toEqual(newLeapState());
  });
  it('resolves a leap back only when more than 6 steps passed', () => {
    const sevenHolds = [14, 26, 1, 1, 1, 1, 1, 1, 1, 14];
    expect(leapOutcomes(sevenHolds)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const sixHolds = [14, 26, 1, 1, 1, 1, 1, 1, 14, 26];
    // the early leap back clears the pending leap without reward, so the next leap up is a new one
    expect(leapOutcomes(sixHolds)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('records direction, origin and steps', () => {
    const leap = newLeapState();
    const c = [14, 26, 0, 27];
    c.forEach((a, beat) => advanceLeap(c, beat, a, leap));
    expect(leap).toEqual({ pending: 1, leaptFrom: 14, stepsSinceLeap: 2 });
  });
  it('resolves gradually on returning to the leap origin', () => {
    expect(leapOutcomes([14, 26, 24, 22, 19, 16, 14])).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(leapOutcomes([26, 14, 16, 19, 21, 23, 26])).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(leapOutcomes([26, 14, 16, 19, 21, 23, 25])).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
  it('punishes a doubled leap and keeps the leap pending', () => {
    // 14 -> 21 in-key fifth up; 21 -> 28 in-key fifth up (doubled); 28 -> 35 plain fifth up (doubled again)
    expect(leapOutcomes([14, 21, 28, 35])).toEqual([0, 0, -1, -1]);
    expect(leapOutcomes([14, 21, 28, 26, 23, 21, 18, 16, 14])).toEqual([0, 0, -1, 0, 0, 0, 0, 0, 1]);
  });
  it('gives +5 / -5 through the full reward', () => {
    const c = [14, 26, 24, 22, 19, 16, 14];
    const leap = newLeapState();
    const leapValues = c.map((a, beat) => musicTheoryReward(c, beat, a, leap).perRule[RULE_INDEX.leap]);
    expect(leapValues[6]).toBe(5);
    const c2 = [14, 21, 28];
    const leap2 = newLeapState();
    const results = c2.map((a, beat) => musicTheoryReward(c2, beat, a, leap2));
    expect(results[2].perRule[RULE_INDEX.leap]).toBe(-5);
    expect(results[2].leapOutcome).toBe(-1);
  });
});

describe('rule 9: unique extremes', () => {
  const ctx = ruleContext({ numNotes: 4 });
  it('only scores the final beat', () => {
    expect(uniqueExtremesReward([14, 16], 2, 18, ctx)).toBe(0);
    expect(uniqueExtremesReward([14, 16, 18], 3, 1, ctx)).toBe(6);
  });
  it('scores a unique maximum token and a unique minimum note separately', () => {
    expect(uniqueExtremesReward([14, 16, 14], 3, 18, ctx)).toBe(3); // max 18 once, min 14 twice
    expect(uniqueExtremesReward([14, 16, 14], 3, 16, ctx)).toBe(0);
    expect(uniqueExtremesReward([16, 20, 20], 3, 14, ctx)).toBe(3); // min 14 once, max 20 twice
  });
  it('counts specials for the maximum but not the minimum', () => {
    expect(uniqueExtremesReward([0, 0, 0], 3, 1, ctx)).toBe(3);
    expect(uniqueExtremesReward([0, 1, 0], 3, 1, ctx)).toBe(0);
  });
});

describe('all nine rules together, computed by hand from SPEC §5', () => {
  type Row = [key: number, tonic: number, repeating: number, autocorrelation: number, motif: number,
    repeatedMotif: number, intervals: number, leap: number, uniqueExtremes: number];

  /** Plays `composition` beat by beat through both entry points (one leap state each) and returns the rows. */
  function play(composition: number[], ctx = ruleContext()) {
    const leapInto = newLeapState(), leapObject = newLeapState();
    const perRule = new Float64Array(9);
    return composition.map((action, beat) => {
      const total = musicTheoryRewardInto(perRule, composition, beat, action, leapInto, ctx);
      const object = musicTheoryReward(composition, beat, action, leapObject, ctx);
      return { total, perRule: Array.from(perRule), object };
    });
  }

  function expectRow(got: ReturnType<typeof play>[number], want: Row, beat: number) {
    const total = want.reduce((s, v) => s + v, 0);
    want.forEach((v, rule) => {
      expect(got.perRule[rule], `beat ${beat} ${RULE_NAMES[rule]}`).toBeCloseTo(v, 12);
      expect(got.object.perRule[rule], `beat ${beat} ${RULE_NAMES[rule]} (object form)`).toBeCloseTo(v, 12);
    });
    expect(got.total, `beat ${beat} total`).toBeCloseTo(total, 12);
    expect(got.object.total, `beat ${beat} total (object form)`).toBeCloseTo(total, 12);
    expect(got.object.leapOutcome).toBe(Math.sign(want[7]));
  }

  it('an 8-step composition: tonic frame, a leap resolved, an out-of-key note, a motif, a unique maximum', () => {
    // numNotes 8: the last bar starts at F = 4 (tonic), F + 1 = 5 wants a hold, 6 and 7 a rest or hold;
    // unique extremes at beat 7. Autocorrelation of x = composition + [a]: e.g. at beat 2, x = [14, 21, 19],
    // mean 18, centred [-4, 3, 1], var 26/3: ρ1 = (-12 + 3)/3 / var = -9/26, ρ2 = -4/3 / var = -2/13, both
    // above 0.15 in size; the longer prefixes are worked the same way (ρ values below).
    const c = [14, 21, 19, 15, 14, 1, 0, 1];
    const rows = play(c, ruleContext({ numNotes: 8 }));
    const want: Row[] = [
      // beat 0, C4: the tonic at beat 0; no previous note
      [0, 3, 0, 0, 0, 0, 0, 0, 0],
      // beat 1, G4: ρ1 = -1/2; an in-key fifth up from C (0.1) and a leap up from 14, now pending
      [0, 0, 0, -3 * (1 / 2), 0, 0, 5 * 0.1, 0, 0],
      // beat 2, F4: ρ1 = -9/26, ρ2 = -2/13; a whole step (0.08)
      [0, 0, 0, -3 * (9 / 26 + 2 / 13), 0, 0, 5 * 0.08, 0, 0],
      // beat 3, C#4: out of key; ρ = -153/524, -113/262, 117/524; a major third not from C or E: plain 4 (0.09)
      [-1, 0, 0, -3 * (153 / 524 + 113 / 262 + 117 / 524), 0, 0, 5 * 0.09, 0, 0],
      // beat 4 = F, C4: tonic; ρ1 = -7/515 (below 0.15), ρ2 = -244/515, ρ3 = -91/515; a half step (0);
      // back to the leap's origin 14 three steps later: resolved, +5
      [0, 3, 0, -3 * (244 / 515 + 91 / 515), 0, 0, 0, 5, 0],
      // beat 5 = F + 1, hold: tonic; ρ = 10/61, -3/122 (below), -65/244; a hold after C (0.3)
      [0, 3, 0, -3 * (10 / 61 + 65 / 244), 0, 0, 5 * 0.3, 0, 0],
      // beat 6, rest: tonic; ρ = 109/206, -1/206 (below), -89/412; a rest after C (0.15)
      [0, 3, 0, -3 * (109 / 206 + 89 / 412), 0, 0, 5 * 0.15, 0, 0],
      // beat 7, hold: tonic; ρ = 22103/33144, 3731/16572, -7027/33144; the 8 tokens hold 4 distinct notes:
      // motif 3 + 0.3; a hold after C (0.3); the maximum 21 occurs once (+3), the minimum 14 twice (0)
      [0, 3, 0, -3 * (22103 / 33144 + 3731 / 16572 + 7027 / 33144), 3 + 0.3, 0, 5 * 0.3, 0, 3],
    ];
    rows.forEach((row, beat) => expectRow(row, want[beat], beat));
  });

  it('a 16-step call and answer: the repeated motif at beat 15', () => {
    const c = [14, 0, 18, 0, 21, 0, 18, 0, 14, 0, 18, 0, 21, 0, 18, 0];
    const rows = play(c);
    // beat 15, rest: the last 8 tokens [14, 0, 18, 0, 21, 0, 18, 0] hold u = 3 notes (motif 3) and are
    // also the first 8 (repeated motif 4 + 0); a rest after E, not C or G (0.05); autocorrelation over the
    // 16 tokens: ρ1 = -77745/83824, ρ2 = 36295/41912, ρ3 = -5183/6448; no leap anywhere (thirds only).
    expectRow(rows[15], [0, 0, 0, -3 * (77745 / 83824 + 36295 / 41912 + 5183 / 6448), 3, 4, 5 * 0.05, 0, 0], 15);
  });

  it('a sixth C4 in a row: only the repeating penalty', () => {
    const rows = play([14, 14, 14, 14, 14, 14]);
    // five plain repeats before it (count 5 > 4); a constant x (variance 0, skipped); interval 0 scores 0
    expectRow(rows[5], [0, 0, -100, 0, 0, 0, 0, 0, 0], 5);
    expectRow(rows[4], [0, 0, 0, 0, 0, 0, 0, 0, 0], 4);
  });
});
