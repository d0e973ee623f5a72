/**
 * The nine music-theory reward rules of RL Tuner (SPEC §5), each a small pure function of
 * (composition, beat, action, context), plus the one stateful rule (leap resolution) whose state is an
 * explicit `LeapState` object.
 *
 * Conventions shared by every function here:
 * - `composition` holds the tokens chosen before this step and `beat` is their number t: only
 *   `composition[0 .. beat)` is read, so the tuning loop can pass its whole preallocated episode buffer.
 * - `action` is the token a played at this beat. Rules that look at "composition + [a]" read `action`
 *   in place of index `beat`; nothing is allocated.
 * - Values are unscaled (reward_scaler is applied by the caller, SPEC §4.2).
 *
 * Which rule fired can be read back from the per-rule values: key < 0, repeating < 0, motif > 0,
 * repeated motif > 0, and the sign of the leap value is the leap outcome (+1 resolved, −1 doubled).
 */
import {
  C_MAJOR_FIFTH_NOTES,
  C_MAJOR_KEY,
  C_MAJOR_THIRD_NOTES,
  C_MAJOR_TONIC,
  C_MAJOR_TONIC_NOTES,
  DEFAULT_NUM_NOTES,
  NO_EVENT,
  NOTE_OFF,
  isSpecial,
} from '../music/encoding.js';

/** Rule names in SPEC order; index i of every per-rule vector is rule RULE_NAMES[i]. */
export const RULE_NAMES = [
  'key',
  'tonic',
  'repeating',
  'autocorrelation',
  'motif',
  'repeated_motif',
  'intervals',
  'leap',
  'unique_extremes',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];
export const NUM_RULES = RULE_NAMES.length;

/** Position of each rule in a per-rule vector. */
export const RULE_INDEX: Readonly<Record<RuleName, number>> = Object.freeze(
  Object.fromEntries(RULE_NAMES.map((name, i) => [name, i])) as Record<RuleName, number>,
);

// ---- Reward amounts (SPEC §5) ----
export const OUT_OF_KEY_PENALTY = -1;
export const TONIC_REWARD = 3;
export const REPEATING_PENALTY = -100;
/** |ρ_k| above this is penalised by AUTOCORRELATION_WEIGHT·|ρ_k|. */
export const AUTOCORRELATION_THRESHOLD = 0.15;
export const AUTOCORRELATION_WEIGHT = 3;
export const AUTOCORRELATION_LAGS: readonly number[] = [1, 2, 3];
/** Length of the motif window, in steps. */
export const MOTIF_LENGTH = 8;
/** A window with at least this many distinct notes is a motif. */
export const MOTIF_MIN_UNIQUE_NOTES = 3;
export const MOTIF_REWARD = 3;
export const MOTIF_BONUS_PER_NOTE = 0.3;
export const REPEATED_MOTIF_REWARD = 4;
export const REPEATED_MOTIF_BONUS_PER_NOTE = 1;
export const INTERVAL_REWARD_SCALE = 5;
export const LEAP_REWARD = 5;
/** A pending leap resolved by a leap back earns LEAP_REWARD only when more steps than this have passed. */
export const STEPS_BETWEEN_LEAPS = 6;
export const UNIQUE_EXTREME_REWARD = 3;

// ---- Interval codes of rule 7 (the plain |a − prev| is used for every other interval) ----
/** No previous note, or an interval to/from nothing worth scoring. */
export const NO_INTERVAL = 0;
/** A rest (NOTE_OFF) after a note that is not tonic- or fifth-class. */
export const REST_INTERVAL = -1;
/** A hold (NO_EVENT) after a note that is not tonic- or fifth-class. */
export const HOLD_INTERVAL = -1.5;
/** A rest after a tonic- or fifth-class note. */
export const REST_AFTER_TONIC_OR_FIFTH = -2;
/** A hold after a tonic- or fifth-class note. */
export const HOLD_AFTER_TONIC_OR_FIFTH = -2.5;
/** A perfect fifth (7 semitones) from a tonic- or fifth-class note. */
export const IN_KEY_FIFTH = -5;
/** A major third (4 semitones) from a tonic- or third-class note. */
export const IN_KEY_THIRD = -3;
/** Intervals of at least this many semitones (or IN_KEY_FIFTH) are leaps. */
export const LEAP_MIN_SEMITONES = 7;
/** Intervals above this many semitones are punished as too wide. */
export const OCTAVE = 12;

/** Base reward of each interval code, before INTERVAL_REWARD_SCALE; codes absent here score 0. */
const INTERVAL_BASE_REWARD: ReadonlyMap<number, number> = new Map([
  [REST_INTERVAL, 0.05],
  [HOLD_INTERVAL, 0.075],
  [REST_AFTER_TONIC_OR_FIFTH, 0.15],
  [HOLD_AFTER_TONIC_OR_FIFTH, 0.3],
  [IN_KEY_FIFTH, 0.1],
  [IN_KEY_THIRD, 0.15],
  [2, 0.08],
  [4, 0.09],
  [5, 0.07],
  [7, 0.02],
  [9, 0.05],
  [11, -0.3],
]);
const WIDE_INTERVAL_BASE_REWARD = -1.0;

/** What the rules need to know besides the composition: its length and the key tables. */
export interface RuleContext {
  /** Composition length in steps; the tonic and unique-extremes rules look at its last bar. Default 32. */
  numNotes: number;
  /** Classes in the key; the specials count as in key. Default C major. */
  key: ReadonlySet<number>;
  /** The tonic note rewarded at the first beat and at the start of the last bar. Default 14 (C4). */
  tonic: number;
  /** Tonic-class notes (all octaves). Default {2, 14, 26}. */
  tonicNotes: ReadonlySet<number>;
  /** Fifth-class notes (all octaves). Default {9, 21, 33}. */
  fifthNotes: ReadonlySet<number>;
  /** Third-class notes (all octaves). Default {6, 18, 30}. */
  thirdNotes: ReadonlySet<number>;
  /**
   * Weight of rule 7's tonic-and-dominant bonus: how much more a hold or rest after a tonic- or
   * fifth-class note earns than after any other note (1: the paper's 0.3 / 0.15 against 0.075 / 0.05;
   * 0: no bonus). Default 1.
   */
  tonicDominantBonus: number;
  /**
   * Semitones the key lies above its reference layout (C for major modes, A for minor ones: 2 for D major,
   * −5 for E minor; see src/rules/key_context.ts). Rule 4 reads every note this much lower, so a melody
   * scores the same in every key. Default 0.
   */
  noteOffset?: number;
}

/** C major, 32 steps: the reference setting. */
export const C_MAJOR_RULES: Readonly<RuleContext> = Object.freeze({
  numNotes: DEFAULT_NUM_NOTES,
  key: C_MAJOR_KEY,
  tonic: C_MAJOR_TONIC,
  tonicNotes: C_MAJOR_TONIC_NOTES,
  fifthNotes: C_MAJOR_FIFTH_NOTES,
  thirdNotes: C_MAJOR_THIRD_NOTES,
  tonicDominantBonus: 1,
});

/** A rule context: the C major defaults with `options` laid over them. */
export function ruleContext(options: Partial<RuleContext> = {}): RuleContext {
  const ctx = { ...C_MAJOR_RULES, ...options };
  if (!Number.isInteger(ctx.numNotes) || ctx.numNotes < 1) {
    throw new RangeError(`ruleContext: numNotes = ${ctx.numNotes} must be an integer >= 1`);
  }
  return ctx;
}

// ---- Shared helpers ----

/** The most recent non-special token among composition[0 .. length), or −1 when there is none. */
export function previousNote(composition: ArrayLike<number>, length: number): number {
  for (let i = length - 1; i >= 0; i--) {
    if (!isSpecial(composition[i])) return composition[i];
  }
  return -1;
}

/**
 * Rule 7's interval code from `prev` (−1 = none) to `action`: NO_INTERVAL without a previous note,
 * a rest/hold code for a special action, IN_KEY_FIFTH / IN_KEY_THIRD for those intervals from the
 * right notes, otherwise the distance |action − prev| in semitones.
 */
export function intervalCode(prev: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  if (prev < 0) return NO_INTERVAL;
  const fromTonicOrFifth = ctx.tonicNotes.has(prev) || ctx.fifthNotes.has(prev);
  if (action === NO_EVENT) return fromTonicOrFifth ? HOLD_AFTER_TONIC_OR_FIFTH : HOLD_INTERVAL;
  if (action === NOTE_OFF) return fromTonicOrFifth ? REST_AFTER_TONIC_OR_FIFTH : REST_INTERVAL;
  const distance = Math.abs(action - prev);
  if (distance === 7 && fromTonicOrFifth) return IN_KEY_FIFTH;
  if (distance === 4 && (ctx.tonicNotes.has(prev) || ctx.thirdNotes.has(prev))) return IN_KEY_THIRD;
  return distance;
}

/** True when an interval code is a leap for rule 8 (a fifth or wider, or an in-key fifth). */
export function isLeap(code: number): boolean {
  return code >= LEAP_MIN_SEMITONES || code === IN_KEY_FIFTH;
}

/** Token i of composition[0 .. length) + [action]. */
function extendedToken(composition: ArrayLike<number>, length: number, action: number, i: number): number {
  return i < length ? composition[i] : action;
}

// ---- Rule 1: key ----

/** True when `action` is outside the key (rule 1 fires). */
export function isOutOfKey(action: number, ctx: RuleContext = C_MAJOR_RULES): boolean {
  return !ctx.key.has(action);
}

/** Rule 1: −1 for a note outside the key. */
export function keyReward(_composition: ArrayLike<number>, _beat: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  return isOutOfKey(action, ctx) ? OUT_OF_KEY_PENALTY : 0;
}

// ---- Rule 2: tonic ----

/** Rule 2: +3 for the tonic at beat 0 and at the first beat F of the last bar, a hold at F + 1, a rest or hold after. */
export function tonicReward(_composition: ArrayLike<number>, beat: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  const lastBarStart = ctx.numNotes - 4;
  if (beat === 0 || beat === lastBarStart) return action === ctx.tonic ? TONIC_REWARD : 0;
  if (beat === lastBarStart + 1) return action === NO_EVENT ? TONIC_REWARD : 0;
  if (beat > lastBarStart + 1) return action === NOTE_OFF || action === NO_EVENT ? TONIC_REWARD : 0;
  return 0;
}

// ---- Rule 3: repeating ----

/**
 * True when `action` repeats excessively (rule 3 fires). Walking back from the end, tokens equal to the
 * action are counted; a rest or hold (other than the action itself) is stepped over and remembered; any
 * other token stops the walk. Limits: a rest repeated more than once; otherwise more than 4 repeats
 * with nothing in between, or more than 6 with a rest or hold in between.
 */
export function isExcessivelyRepeated(composition: ArrayLike<number>, beat: number, action: number): boolean {
  let count = 0;
  let restOrHoldSeen = false;
  for (let i = beat - 1; i >= 0; i--) {
    const token = composition[i];
    if (token === action) count++;
    else if (token === NOTE_OFF || token === NO_EVENT) restOrHoldSeen = true;
    else break;
  }
  if (action === NOTE_OFF) return count > 1;
  return restOrHoldSeen ? count > 6 : count > 4;
}

/** Rule 3: −100 for an excessively repeated token. */
export function repeatingReward(composition: ArrayLike<number>, beat: number, action: number): number {
  return isExcessivelyRepeated(composition, beat, action) ? REPEATING_PENALTY : 0;
}

// ---- Rule 4: autocorrelation ----

/**
 * Autocorrelation at `lag` of composition[0 .. length) + [action] as integers: Σ x_t·x_{t+lag} / n / var
 * with x centred and var the population variance. 0 when lag ≥ n; NaN when var = 0.
 * For a whole composition c of n tokens, pass (c, n − 1, c[n − 1], lag). Notes are read `noteOffset`
 * lower (the specials as they are), which makes the value the same in every key (RuleContext.noteOffset).
 */
export function autocorrelation(composition: ArrayLike<number>, length: number, action: number, lag: number, noteOffset = 0): number {
  const variance = centre(composition, length, action, noteOffset);
  return autocorrelationOfCentred(length + 1, variance, lag);
}

/** Rule 4: −3·|ρ_k| for each lag 1, 2, 3 of composition + [a] with |ρ_k| > 0.15 (lags with var = 0 skipped). */
export function autocorrelationReward(composition: ArrayLike<number>, beat: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  // The mean and variance are the same at every lag: computed once, then each lag as autocorrelation() would.
  const variance = centre(composition, beat, action, ctx.noteOffset ?? 0);
  let reward = 0;
  for (const lag of AUTOCORRELATION_LAGS) {
    const rho = Math.abs(autocorrelationOfCentred(beat + 1, variance, lag));
    if (rho > AUTOCORRELATION_THRESHOLD) reward -= AUTOCORRELATION_WEIGHT * rho;
  }
  return reward;
}

/** composition[0 .. length) + [action] as integers, centred (see centre): reused from call to call. */
let centred = new Float64Array(64);

/**
 * Fills `centred` with x_i − mean for the n = length + 1 values x of composition + [action] (notes read
 * noteOffset lower) and returns their population variance Σ (x_i − mean)² / n. The sums run in the order
 * of the definition, so every value is the one computed the long way.
 */
function centre(composition: ArrayLike<number>, length: number, action: number, noteOffset: number): number {
  const n = length + 1;
  if (centred.length < n) centred = new Float64Array(Math.max(n, 2 * centred.length));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const token = extendedToken(composition, length, action, i);
    const x = isSpecial(token) ? token : token - noteOffset;
    centred[i] = x;
    sum += x;
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = centred[i] - mean;
    centred[i] = x;
    squares += x * x;
  }
  return squares / n;
}

/** ρ at `lag` of the n values last centred: Σ x_i·x_{i+lag} / n / var; NaN when var = 0, 0 when lag ≥ n. */
function autocorrelationOfCentred(n: number, variance: number, lag: number): number {
  if (variance === 0) return NaN;
  if (lag >= n) return 0;
  let products = 0;
  for (let i = 0; i + lag < n; i++) products += centred[i] * centred[i + lag];
  return products / n / variance;
}

// ---- Rules 5 and 6: motif, repeated motif ----

/**
 * Number of distinct non-special tokens in the last MOTIF_LENGTH tokens of composition + [action],
 * or 0 when composition + [action] is shorter than that.
 */
export function motifUniqueNotes(composition: ArrayLike<number>, beat: number, action: number): number {
  const n = beat + 1;
  if (n < MOTIF_LENGTH) return 0;
  let unique = 0;
  for (let i = n - MOTIF_LENGTH; i < n; i++) {
    const token = extendedToken(composition, beat, action, i);
    if (isSpecial(token)) continue;
    let seenBefore = false;
    for (let j = n - MOTIF_LENGTH; j < i && !seenBefore; j++) seenBefore = extendedToken(composition, beat, action, j) === token;
    if (!seenBefore) unique++;
  }
  return unique;
}

/** True when the last MOTIF_LENGTH tokens of composition + [action] are a motif (rule 5 fires). */
export function endsWithMotif(composition: ArrayLike<number>, beat: number, action: number): boolean {
  return motifUniqueNotes(composition, beat, action) >= MOTIF_MIN_UNIQUE_NOTES;
}

/** Rule 5: +3 + 0.3·(u − 3) when the last 8 tokens of composition + [a] hold u ≥ 3 distinct notes. */
export function motifReward(composition: ArrayLike<number>, beat: number, action: number): number {
  const unique = motifUniqueNotes(composition, beat, action);
  if (unique < MOTIF_MIN_UNIQUE_NOTES) return 0;
  return MOTIF_REWARD + MOTIF_BONUS_PER_NOTE * (unique - MOTIF_MIN_UNIQUE_NOTES);
}

/**
 * True when composition + [action] ends with a motif whose 8 tokens also occur contiguously in the
 * composition before the motif (rule 6 fires).
 */
export function endsWithRepeatedMotif(composition: ArrayLike<number>, beat: number, action: number): boolean {
  if (!endsWithMotif(composition, beat, action)) return false;
  const motifStart = beat + 1 - MOTIF_LENGTH;
  for (let start = 0; start + MOTIF_LENGTH <= motifStart; start++) {
    let matches = true;
    for (let j = 0; j < MOTIF_LENGTH && matches; j++) {
      matches = composition[start + j] === extendedToken(composition, beat, action, motifStart + j);
    }
    if (matches) return true;
  }
  return false;
}

/** Rule 6: +4 + (u − 3) when the motif that composition + [a] ends with was played before. */
export function repeatedMotifReward(composition: ArrayLike<number>, beat: number, action: number): number {
  if (!endsWithRepeatedMotif(composition, beat, action)) return 0;
  const unique = motifUniqueNotes(composition, beat, action);
  return REPEATED_MOTIF_REWARD + REPEATED_MOTIF_BONUS_PER_NOTE * (unique - MOTIF_MIN_UNIQUE_NOTES);
}

// ---- Rule 7: preferred intervals ----

/**
 * Base reward (before ×5) of an interval code: the table of SPEC §5 rule 7, −1 above an octave. The
 * extra a hold or rest earns after a tonic- or fifth-class note is scaled by `tonicDominantBonus`.
 */
export function intervalBaseReward(code: number, tonicDominantBonus = 1): number {
  if (code > OCTAVE) return WIDE_INTERVAL_BASE_REWARD;
  if (code === HOLD_AFTER_TONIC_OR_FIFTH || code === REST_AFTER_TONIC_OR_FIFTH) {
    const plain = INTERVAL_BASE_REWARD.get(code === HOLD_AFTER_TONIC_OR_FIFTH ? HOLD_INTERVAL : REST_INTERVAL) as number;
    return plain + tonicDominantBonus * ((INTERVAL_BASE_REWARD.get(code) as number) - plain);
  }
  return INTERVAL_BASE_REWARD.get(code) ?? 0;
}

/** Rule 7: 5 × the base reward of the interval from the previous note to `action`. */
export function intervalsReward(composition: ArrayLike<number>, beat: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  const code = intervalCode(previousNote(composition, beat), action, ctx);
  return INTERVAL_REWARD_SCALE * intervalBaseReward(code, ctx.tonicDominantBonus ?? 1);
}

// ---- Rule 8: leap resolution (stateful) ----

/** Direction of a pending leap: −1 down, 0 none, +1 up. */
export type LeapDirection = -1 | 0 | 1;
/** What rule 8 decided this step: +1 a leap resolved, −1 a leap doubled, 0 neither. */
export type LeapOutcome = -1 | 0 | 1;

/** Rule 8's memory across one episode. */
export interface LeapState {
  /** Direction of the unresolved leap, 0 when none is pending. */
  pending: LeapDirection;
  /** The note the pending leap started from (meaningless when none is pending). */
  leaptFrom: number;
  /** Steps since the last leap. */
  stepsSinceLeap: number;
}

/** The leap state at the start of an episode. */
export function newLeapState(): LeapState {
  return { pending: 0, leaptFrom: -1, stepsSinceLeap: 0 };
}

/** Puts `leap` back to the start-of-episode state without allocating. */
export function resetLeapState(leap: LeapState): void {
  leap.pending = 0;
  leap.leaptFrom = -1;
  leap.stepsSinceLeap = 0;
}

/**
 * Advances rule 8's state by one step and returns the outcome. Must run exactly once per step.
 * A leap opposite to a pending one clears it (resolved only when more than STEPS_BETWEEN_LEAPS steps
 * passed); a leap the same way is doubled; a first leap is recorded. A non-leap that returns to or past
 * the note the pending leap started from resolves it gradually.
 */
export function advanceLeap(composition: ArrayLike<number>, beat: number, action: number, leap: LeapState, ctx: RuleContext = C_MAJOR_RULES): LeapOutcome {
  if (beat === 0) return 0;
  if (isSpecial(action)) {
    leap.stepsSinceLeap++;
    return 0;
  }
  const prev = previousNote(composition, beat);
  const code = intervalCode(prev, action, ctx);
  if (isLeap(code)) {
    const direction: LeapDirection = action > prev ? 1 : -1;
    let outcome: LeapOutcome = 0;
    if (leap.pending === 0) {
      leap.pending = direction;
      leap.leaptFrom = prev;
    } else if (leap.pending !== direction) {
      if (leap.stepsSinceLeap > STEPS_BETWEEN_LEAPS) outcome = 1;
      leap.pending = 0;
      leap.leaptFrom = -1;
    } else {
      outcome = -1;
    }
    leap.stepsSinceLeap = 0;
    return outcome;
  }
  leap.stepsSinceLeap++;
  if ((leap.pending === 1 && action <= leap.leaptFrom) || (leap.pending === -1 && action >= leap.leaptFrom)) {
    leap.pending = 0;
    leap.leaptFrom = -1;
    return 1;
  }
  return 0;
}

/** Rule 8: +5 when a leap is resolved, −5 when one is doubled. Mutates `leap`; run once per step. */
export function leapReward(composition: ArrayLike<number>, beat: number, action: number, leap: LeapState, ctx: RuleContext = C_MAJOR_RULES): number {
  return LEAP_REWARD * advanceLeap(composition, beat, action, leap, ctx);
}

// ---- Rule 9: unique extremes ----

/** True when the highest token of composition[0 .. length) + [action] (specials included) occurs once. */
export function hasUniqueMaximum(composition: ArrayLike<number>, length: number, action: number): boolean {
  let highest = action;
  let count = 1;
  for (let i = 0; i < length; i++) {
    const token = composition[i];
    if (token > highest) {
      highest = token;
      count = 1;
    } else if (token === highest) count++;
  }
  return count === 1;
}

/** True when composition[0 .. length) + [action] has a note and its lowest note occurs once. */
export function hasUniqueMinimum(composition: ArrayLike<number>, length: number, action: number): boolean {
  let lowest = Infinity;
  let count = 0;
  for (let i = 0; i <= length; i++) {
    const token = extendedToken(composition, length, action, i);
    if (isSpecial(token)) continue;
    if (token < lowest) {
      lowest = token;
      count = 1;
    } else if (token === lowest) count++;
  }
  return count === 1;
}

/** Rule 9, at the final beat only: +3 for a unique highest token, +3 for a unique lowest note. */
export function uniqueExtremesReward(composition: ArrayLike<number>, beat: number, action: number, ctx: RuleContext = C_MAJOR_RULES): number {
  if (beat !== ctx.numNotes - 1) return 0;
  let reward = 0;
  if (hasUniqueMaximum(composition, beat, action)) reward += UNIQUE_EXTREME_REWARD;
  if (hasUniqueMinimum(composition, beat, action)) reward += UNIQUE_EXTREME_REWARD;
  return reward;
}

// ---- All nine ----

/**
 * Writes the nine rule values for playing `action` at `beat` into `perRule` (SPEC order) and returns
 * their sum r_MT. Advances `leap` once. Allocates nothing: this is the tuning loop's entry point.
 */
export function musicTheoryRewardInto(
  perRule: Float64Array,
  composition: ArrayLike<number>,
  beat: number,
  action: number,
  leap: LeapState,
  ctx: RuleContext = C_MAJOR_RULES,
): number {
  perRule[0] = keyReward(composition, beat, action, ctx);
  perRule[1] = tonicReward(composition, beat, action, ctx);
  perRule[2] = repeatingReward(composition, beat, action);
  perRule[3] = autocorrelationReward(composition, beat, action, ctx);
  perRule[4] = motifReward(composition, beat, action);
  perRule[5] = repeatedMotifReward(composition, beat, action);
  perRule[6] = intervalsReward(composition, beat, action, ctx);
  perRule[7] = leapReward(composition, beat, action, leap, ctx);
  perRule[8] = uniqueExtremesReward(composition, beat, action, ctx);
  let total = 0;
  for (let i = 0; i < NUM_RULES; i++) total += perRule[i];
  return total;
}

/** The nine rule values, their total, and rule 8's outcome for one step. */
export interface MusicTheoryReward {
  total: number;
  perRule: Float64Array;
  leapOutcome: LeapOutcome;
}

/** Like `musicTheoryRewardInto`, returning a fresh result object (for tests, statistics and tools). */
export function musicTheoryReward(
  composition: ArrayLike<number>,
  beat: number,
  action: number,
  leap: LeapState,
  ctx: RuleContext = C_MAJOR_RULES,
): MusicTheoryReward {
  const perRule = new Float64Array(NUM_RULES);
  const total = musicTheoryRewardInto(perRule, composition, beat, action, leap, ctx);
  return { total, perRule, leapOutcome: Math.sign(perRule[RULE_INDEX.leap]) as LeapOutcome };
}
