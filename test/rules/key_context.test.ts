/** Rules in any key: the tables of a key and mode, and the golden vectors moved to D major. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { KeyNameError, MODE_NAMES, TONIC_NAMES, isMajorMode, modeNamed, tonicPitchClass } from '../../src/music/keys.js';
import { Random } from '../../src/random.js';
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

  it('minor and church modes: degrees from the mode, the tonic C4 or A3 (by the third) moved to the key', () => {
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
    // E, F and F# minor lie below A minor, as rule 4 reads them: the tonic is E3, F3, F#3 (not E4, F4, F#4).
    expect(keyRuleContext({ key: 'E', mode: 'minor' }).tonic).toBe(52 - 46);
    expect(keyRuleContext({ key: 'F', mode: 'dorian' }).tonic).toBe(53 - 46);
    expect(keyRuleContext({ key: 'F#', mode: 'phrygian' }).tonic).toBe(54 - 46);
    expect(keyRuleContext({ key: 'G', mode: 'minor' }).tonic).toBe(55 - 46);
    expect(keyRuleContext({ key: 'D#', mode: 'minor' }).tonic).toBe(63 - 46);
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

describe('the same melody moved to any tonic scores the same on every rule, in every mode', () => {
  /** Melodies of the reference layout: notes in 7..37 (so a move of −5..+6 stays a note), holds and rests. */
  const rng = new Random(24);
  const melodies: number[][] = Object.values(golden.cases).map((c) => c.composition.map((t) => (t < 2 || t >= 7 ? t : t + 12)));
  for (let m = 0; m < 6; m++) {
    melodies.push(Array.from({ length: 32 }, (_, i) => {
      const r = rng.float();
      if (i > 0 && r < 0.3) return 1;
      if (i > 0 && r < 0.35) return 0;
      return 7 + Math.floor(rng.float() * 31);
    }));
  }
  for (const modeName of MODE_NAMES) {
    it(`${modeName}: 12 tonics give the nine rule values of the reference key (${isMajorMode(modeNamed(modeName)) ? 'C' : 'A'} ${modeName}) at every step`, () => {
      const reference = keyRuleContext({ key: isMajorMode(modeNamed(modeName)) ? 'C' : 'A', mode: modeName });
      expect(reference.noteOffset).toBe(0);
      const seenTonics = new Set<number>();
      for (const tonic of TONIC_NAMES) {
        const ctx = keyRuleContext({ key: tonic, mode: modeName });
        seenTonics.add(tonicPitchClass(tonic));
        const offset = ctx.noteOffset as number;
        expect(offset).toBeGreaterThanOrEqual(-5);
        expect(offset).toBeLessThanOrEqual(6);
        expect(ctx.tonic).toBe(reference.tonic + offset);
        for (const melody of melodies) {
          const moved = melody.map((t) => (t < 2 ? t : t + offset));
          const leapRef = newLeapState();
          const leapMoved = newLeapState();
          for (let beat = 0; beat < melody.length; beat++) {
            const want = musicTheoryReward(melody, beat, melody[beat], leapRef, reference);
            const got = musicTheoryReward(moved, beat, moved[beat], leapMoved, ctx);
            for (let r = 0; r < RULE_NAMES.length; r++) {
              if (got.perRule[r] !== want.perRule[r]) {
                expect.fail(`${tonic} ${modeName}, beat ${beat}: rule ${RULE_NAMES[r]} gives ${got.perRule[r]}, the reference key ${want.perRule[r]}`);
              }
            }
          }
        }
      }
      expect(seenTonics.size).toBe(12);
    });
  }
});
