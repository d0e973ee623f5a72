/** Every row of the reference reward vectors (golden/rewards.json) reproduced rule by rule. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_NAMES, autocorrelation, musicTheoryReward, newLeapState, ruleContext } from '../../src/rules/rules.js';

interface GoldenCase {
  composition: number[];
  rewards: number[][];
  autocorrelation_lag1_2_3: number[];
}
interface GoldenFile {
  order: string[];
  cases: Record<string, GoldenCase>;
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/golden_rewards.json', import.meta.url), 'utf8')) as GoldenFile;
const ctx = ruleContext({ numNotes: 32 });

describe('golden reward vectors', () => {
  it('uses the same rule order', () => {
    expect(golden.order).toEqual([...RULE_NAMES, 'total']);
  });

  for (const [name, goldenCase] of Object.entries(golden.cases)) {
    it(`case ${name}: every step's nine rule values and total match to 1e-5`, () => {
      const composition = Uint8Array.from(goldenCase.composition);
      expect(goldenCase.rewards.length).toBe(32);
      const leap = newLeapState();
      for (let beat = 0; beat < composition.length; beat++) {
        const result = musicTheoryReward(composition, beat, composition[beat], leap, ctx);
        const expected = goldenCase.rewards[beat];
        for (let r = 0; r < RULE_NAMES.length; r++) {
          expect(Math.abs(result.perRule[r] - expected[r]), `beat ${beat} rule ${RULE_NAMES[r]}: got ${result.perRule[r]}, want ${expected[r]}`).toBeLessThan(1e-5);
        }
        expect(Math.abs(result.total - expected[9]), `beat ${beat} total`).toBeLessThan(1e-5);
      }
    });

    it(`case ${name}: whole-composition autocorrelation at lags 1, 2, 3`, () => {
      const c = goldenCase.composition;
      for (let k = 0; k < 3; k++) {
        expect(autocorrelation(c, c.length - 1, c[c.length - 1], k + 1)).toBeCloseTo(goldenCase.autocorrelation_lag1_2_3[k], 5);
      }
    });
  }
});
