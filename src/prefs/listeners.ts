/**
 * Scripted listeners, for tests and benchmarks only: functions of two compositions to an answer, with noise,
 * standing in for a person so that what a reward model learns can be checked against what the listener
 * wanted. A listener has a utility (a statistic of a composition, higher preferred); it prefers the
 * composition of higher utility, answers the other with probability `noise` (a lapse), and has no preference
 * when the utilities are equal. A person's answers are noisier and depend on more than one statistic: these
 * measure the machinery, not music.
 *
 * A listener script for `rltuner prefs pairs --listener <module>` is an ES module whose default export is a
 * ListenerFunction; it gets the page's token encoding (SPEC §1) and a seeded uniform source for its noise.
 */
import { NUM_SPECIAL } from '../music/encoding.js';
import { C_MAJOR_RULES } from '../rules/rules.js';
import { pitchRange, tonicEndingTerm } from '../rules/composition.js';
import type { PairAnswer } from './bradley_terry.js';

/** A listener: two compositions (A played first) and a uniform source in [0, 1) for its noise → its answer. */
export type ListenerFunction = (a: Uint8Array, b: Uint8Array, random: () => number) => PairAnswer;

export interface ScriptedListener {
  name: string;
  /** What it listens for (one line). */
  doc: string;
  /** The statistic it prefers more of. */
  utility(tokens: ArrayLike<number>): number;
}

/** The widest pitch range (semitones) the narrow-range listener hears as narrow: a fifth. */
export const NARROW_RANGE_SEMITONES = 7;

/** The built-in scripted listeners, by name. */
export const SCRIPTED_LISTENERS = {
  'tonic-ending': {
    name: 'tonic-ending',
    doc: 'prefers a melody whose last note is in the tonic class (C major), more so on a strong beat: the composition term tonic_ending (0, 1 or 3)',
    utility: (tokens: ArrayLike<number>) => tonicEndingTerm(tokens, C_MAJOR_RULES),
  },
  'few-notes': {
    name: 'few-notes',
    doc: 'prefers a calmer melody of fewer, longer notes: −(the number of note-ons)',
    utility: (tokens: ArrayLike<number>) => {
      let notes = 0;
      for (let i = 0; i < tokens.length; i++) if (tokens[i] >= NUM_SPECIAL) notes++;
      return -notes;
    },
  },
  'narrow-range': {
    name: 'narrow-range',
    doc: `prefers a melody within a narrow pitch range: −(semitones of range beyond ${NARROW_RANGE_SEMITONES}), all within a fifth alike`,
    utility: (tokens: ArrayLike<number>) => {
      const range = pitchRange(tokens);
      return range === null ? -(38 - NUM_SPECIAL) : -Math.max(0, range - NARROW_RANGE_SEMITONES);
    },
  },
} as const satisfies Record<string, ScriptedListener>;

export type ScriptedListenerName = keyof typeof SCRIPTED_LISTENERS;
export const SCRIPTED_LISTENER_NAMES = Object.keys(SCRIPTED_LISTENERS) as ScriptedListenerName[];

/** A listener preferring the higher `utility`, answering the other with probability `noise`, 'none' on equal utility. */
export function noisyListener(utility: (tokens: ArrayLike<number>) => number, noise: number): ListenerFunction {
  if (!(noise >= 0 && noise <= 0.5)) throw new RangeError(`listener noise ${noise} is outside [0, 0.5] (the chance of answering against the utility)`);
  return (a, b, random) => {
    const ua = utility(a), ub = utility(b);
    if (ua === ub) return 'none';
    const lapse = random() < noise;
    return (ua > ub) !== lapse ? 'A' : 'B';
  };
}

/**
 * How often `scores` order pairs as `utility` does, over the pairs whose utilities differ (equal scores count
 * half): the ground truth a scripted listener allows. Null when no pair differs.
 */
export function rankingAgreement(utility: (tokens: ArrayLike<number>) => number, pairs: readonly { a: ArrayLike<number>; b: ArrayLike<number> }[], scoresA: ArrayLike<number>, scoresB: ArrayLike<number>): { share: number | null; pairs: number } {
  let agree = 0, counted = 0;
  pairs.forEach((p, i) => {
    const du = utility(p.a) - utility(p.b);
    if (du === 0) return;
    counted++;
    const ds = scoresA[i] - scoresB[i];
    agree += ds === 0 ? 0.5 : (ds > 0) === (du > 0) ? 1 : 0;
  });
  return { share: counted > 0 ? agree / counted : null, pairs: counted };
}
