/** Rules in any key: the tables of a key and mode, and the golden vectors moved to D major. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { KeyNameError } from '../../src/music/keys.js';
import { keyRuleContext } from '../../src/rules/key_context.js';
import { C_MAJOR_RULES, RULE_NAMES, autocorrelation, musicTheoryReward, newLeapState, type RuleContext } from '../../src/rules/rules.js';

interface GoldenCase {
  composition: number[];
  rewards: number[][];
  autocorrelation_lag1_2_3: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/golden_rewards.json', import.meta.url), 'utf8')) as { cases: Record<string, GoldenCase> };

/** The members of a table among the 38 classes, sorted. */
const onClasses = (set: ReadonlySet<number>) => [...set].filter((t) => t < NUM_CLASSES).sort((a, b) => a - b);

describe('keyRuleContext', () => {
  it('C major gives the SPEC §1 tables on the 38 classes', () => {
    const ctx = keyRuleContext();
    expect(onClasses(ctx.key)).toEqual(onClasses(C_MAJOR_RULES.key));
    expect(ctx.tonic).toBe(14);
    expect(onClasses(ctx.tonicNotes)).toEqual([2, 14, 26]);
    expect(onClasses(ctx.fifthNotes)).toEqual([9, 21, 33]);
    expect(onClasses(ctx.thirdNotes)).toEqual([6, 18, 30]);
    expect(ctx.noteOffset).toBe(0);
    expect(ctx.numNotes).toBe(32);
  });

  it('D major: every table two classes up; the tonic is D4', () => {
    const ctx = keyRuleContext({ key: 'D', mode: 'major', numNotes: 64 });
    expect(ctx.tonic).toBe(16);
    expect(onClasses(ctx.key)).toEqual([0, 1, 3, 4, 6, 8, 9, 11, 13, 15, 16, 18, 20, 21, 23, 25, 27, 28, 30, 32, 33, 35, 37]);
    expect(onClasses(ctx.tonicNotes)).toEqual([4, 16, 28]);
    expect(onClasses(ctx.fifthNotes)).toEqual([11, 23, 35]);
    expect(onClasses(ctx.thirdNotes)).toEqual([8, 20, 32]);
    expect(ctx.noteOffset).toBe(2);
    expect(ctx.numNotes).toBe(64);
  });

  it('minor and church modes: degrees from the mode, the tonic nearest C4 (ties upward)', () => {
    const aMinor = keyRuleContext({ key: 'A', mode: 'minor' });
    expect(aMinor.tonic).toBe(11); // A3 (57) is nearer C4 than A4 (69)
    expect(onClasses(aMinor.key)).toEqual(onClasses(C_MAJOR_RULES.key)); // same notes as C major
    expect(onClasses(aMinor.thirdNotes)).toEqual([2, 14, 26]); // C, the minor third
    expect(onClasses(aMinor.fifthNotes)).toEqual([6, 18, 30]); // E
    expect(aMinor.noteOffset).toBe(0);
    const dDorian = keyRuleContext({ key: 'd', mode: 'Dorian' });
    expect(onClasses(dDorian.key)).toEqual(onClasses(C_MAJOR_RULES.key));
    expect(dDorian.tonic).toBe(16);
    expect(onClasses(keyRuleContext({ key: 'G', mode: 'mixolydian' }).key)).toEqual(onClasses(C_MAJOR_RULES.key));
    expect(keyRuleContext({ key: 'F#' }).tonic).toBe(20); // F#4 (66), a tie with F#3 (54) broken upward
    expect(keyRuleContext({ key: 'G' }).tonic).toBe(9); // G3 (55)
    expect(keyRuleContext({ key: 'E', mode: 'minor' }).noteOffset).toBe(-5);
  });

  it('names an unknown tonic or mode and lists the known ones', () => {
    expect(() => keyRuleContext({ key: 'H' })).toThrow(KeyNameError);
    expect(() => keyRuleContext({ key: 'H' })).toThrow(/key "H" is not a tonic name; expected one of C C# Db/);
    expect(() => keyRuleContext({ mode: 'blues' })).toThrow(/mode "blues" is not known; expected one of major \| minor/);
  });
});

describe('golden reward vectors moved up two semitones and scored in D major', () => {
  const dMajor: RuleContext = keyRuleContext({ key: 'D', mode: 'major', numNotes: 32 });
  for (const [name, goldenCase] of Object.entries(golden.cases)) {
    it(`case ${name}: the same nine rule values and total at every step`, () => {
      const moved = goldenCase.composition.map((t) => (t < 2 ? t : t + 2));
      const leap = newLeapState();
      for (let beat = 0; beat < moved.length; beat++) {
        const result = musicTheoryReward(moved, beat, moved[beat], leap, dMajor);
        for (let r = 0; r < RULE_NAMES.length; r++) {
          expect(Math.abs(result.perRule[r] - goldenCase.rewards[beat][r]), `beat ${beat} rule ${RULE_NAMES[r]}`).toBeLessThan(1e-5);
        }
      }
      for (let k = 0; k < 3; k++) {
        expect(autocorrelation(moved, moved.length - 1, moved[moved.length - 1], k + 1, dMajor.noteOffset)).toBeCloseTo(goldenCase.autocorrelation_lag1_2_3[k], 5);
      }
    });

    it(`case ${name}: scored in C major instead, the moved melody loses on the key-dependent rules`, () => {
      const moved = goldenCase.composition.map((t) => (t < 2 ? t : t + 2));
      const leap = newLeapState();
      let differs = false;
      for (let beat = 0; beat < moved.length; beat++) {
        const result = musicTheoryReward(moved, beat, moved[beat], leap, C_MAJOR_RULES);
        if (Math.abs(result.total - goldenCase.rewards[beat][9]) > 1e-5) differs = true;
      }
      expect(differs).toBe(true);
    });
  }
});
