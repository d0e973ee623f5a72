/**
 * Composition-level reward terms: what only a whole piece shows — how it ends, whether its rhythm is
 * the corpus's, how wide it ranges, whether a phrase comes back. Each is a small pure function of a
 * finished composition (SPEC §1 tokens), scaled like the nine rules (a rule firing is worth 1 to 5):
 *
 *   tonic_ending       0..3    3 when the last note is in the tonic class and starts on a strong beat
 *                              (beat 1 or 3 of a 4/4 bar: a step divisible by 8), 1 when it is in the tonic
 *                              class elsewhere, 0 otherwise (or with no note).
 *   rhythm             −5..0   RHYTHM_SCALE × (mean log-likelihood per note of the piece's note durations
 *                              under the training corpus's note-duration distribution − the corpus's own
 *                              mean, i.e. minus its duration entropy), clipped to [−5, 0]: the piece's
 *                              durations' cross-entropy against the corpus's, relative to the corpus's own.
 *                              A rhythm as likely as the corpus's scores 0 and none scores above it (so
 *                              nothing is gained by playing only the most common duration). The note cut by
 *                              the piece's end counts by the probability that a note lasts at least as long
 *                              (a censored duration). A bigram over durations was tried and rejected: the
 *                              corpus's sixteenths come in pairs, so p(16th | 16th) is high and a piece of
 *                              sixteenth runs scored as well as a real tune.
 *   pitch_range        −5..0   0 when the piece's range (highest − lowest note, semitones) lies within the
 *                              corpus's 10th..90th percentile for pieces of its length, else −0.5 per
 *                              semitone outside, down to −5; −5 for a piece without notes.
 *   phrase_recurrence  0..3    pieces of ≥ 64 steps: 3 when a 2-bar window (32 steps) recurs, 1 when only a
 *                              1-bar window (16 steps) does (hasRecurringWindow: the same tokens again,
 *                              not overlapping, with at least 2 note-ons); 0 for shorter pieces.
 *
 * Q, Ψ and G add s·Σ_j w_j c_j to the reward of a composition's last step (src/rl/env.ts); a policy
 * gradient over whole compositions can add it to each composition's return. The duration distribution and the
 * range percentiles are fitted on the Nottingham train split by scripts/data_summaries.mjs (a small JSON,
 * checked against the data by test/rules/composition.test.ts).
 */
import { COMPOSITION_MODEL } from '../generated/composition_model.js';
import { NO_EVENT, NUM_SPECIAL } from '../music/encoding.js';
import { hasRecurringWindow, RECURRENCE_MIN_STEPS, RECURRENCE_WINDOWS } from '../music/recurrence.js';
import type { RuleContext } from './rules.js';

export const COMPOSITION_TERM_NAMES = ['tonic_ending', 'rhythm', 'pitch_range', 'phrase_recurrence'] as const;
export type CompositionTermName = (typeof COMPOSITION_TERM_NAMES)[number];
export const NUM_COMPOSITION_TERMS = COMPOSITION_TERM_NAMES.length;

export const TONIC_ENDING_REWARD = 3;
export const TONIC_ENDING_OFF_BEAT_REWARD = 1;
/** Steps between strong beats (beats 1 and 3 of a 4/4 bar). */
export const STRONG_BEAT_STEPS = 8;
export const RHYTHM_SCALE = 2;
export const RHYTHM_FLOOR = -5;
export const PITCH_RANGE_PENALTY_PER_SEMITONE = -0.5;
export const PITCH_RANGE_FLOOR = -5;
export const PHRASE_RECURRENCE_REWARD = 3;
export const BAR_RECURRENCE_REWARD = 1;

/** Duration bins: 1..16 steps and longer (index d − 1). */
export const DURATION_STATES = 17;
/** Add-α smoothing of the duration counts. */
export const DURATION_SMOOTHING = 0.5;

/** The fitted parts of the terms (JSON). */
export interface CompositionModel {
  /** What it was fitted on. */
  source: Record<string, unknown>;
  /** log q(d) for d in bins 0..16 (1..16 steps, longer): add-α smoothed note-duration counts of the corpus's tunes. */
  durationLogProbs: number[];
  /** log Q(D ≥ d): the same, for the note the piece's end cuts. */
  durationLogSurvival: number[];
  /** The corpus's own mean log q per note (its tunes whole): minus the entropy of its durations. */
  meanLogLikelihoodPerNote: number;
  /** Pitch range percentiles (10th, 90th) of the corpus's pieces of each fitted length. */
  pitchRange: { numNotes: number; low: number; high: number }[];
}

/** The model fitted on the Nottingham train split (shipped). */
export const NOTTINGHAM_COMPOSITION_MODEL: CompositionModel = COMPOSITION_MODEL;

// ---- Note durations -------------------------------------------------------------------------------------

/**
 * The notes of a piece as duration bins (d − 1, capped at 16), in order, and whether the last note is cut
 * by the piece's end (then its entry is the steps it sounded so far). Leading NO_EVENTs belong to no note.
 */
export function noteDurations(tokens: ArrayLike<number>): { bins: number[]; lastCut: boolean } {
  const bins: number[] = [];
  let onset = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === NO_EVENT) continue;
    if (onset >= 0) bins.push(Math.min(i - onset, DURATION_STATES) - 1);
    onset = t >= NUM_SPECIAL ? i : -1;
  }
  if (onset >= 0) bins.push(Math.min(tokens.length - onset, DURATION_STATES) - 1);
  return { bins, lastCut: onset >= 0 };
}

/**
 * Fits the duration distribution on whole tunes (a tune's last note ends with the tune): add-α smoothed
 * counts, their tail sums, and the mean log-likelihood per note of the same tunes under it.
 */
export function fitDurationModel(tunes: readonly ArrayLike<number>[], smoothing = DURATION_SMOOTHING): Pick<CompositionModel, 'durationLogProbs' | 'durationLogSurvival' | 'meanLogLikelihoodPerNote'> {
  const counts = new Array<number>(DURATION_STATES).fill(0);
  let notes = 0;
  for (const tune of tunes) {
    for (const d of noteDurations(tune).bins) {
      counts[d]++;
      notes++;
    }
  }
  const total = notes + smoothing * DURATION_STATES;
  const probabilities = counts.map((c) => (c + smoothing) / total);
  const durationLogProbs = probabilities.map(Math.log);
  const durationLogSurvival = new Array<number>(DURATION_STATES);
  let tail = 0;
  for (let d = DURATION_STATES - 1; d >= 0; d--) {
    tail += probabilities[d];
    durationLogSurvival[d] = Math.log(Math.min(1, tail));
  }
  let sum = 0;
  for (let d = 0; d < DURATION_STATES; d++) sum += counts[d] * durationLogProbs[d];
  return { durationLogProbs, durationLogSurvival, meanLogLikelihoodPerNote: notes > 0 ? sum / notes : 0 };
}

/**
 * Mean log q per note of the piece's durations (the cut last note by log Q(D ≥ d)); null when the piece
 * has no note.
 */
export function durationLogLikelihood(tokens: ArrayLike<number>, model: Pick<CompositionModel, 'durationLogProbs' | 'durationLogSurvival'>): number | null {
  const { bins, lastCut } = noteDurations(tokens);
  if (bins.length === 0) return null;
  let sum = 0;
  for (let k = 0; k < bins.length; k++) {
    sum += lastCut && k === bins.length - 1 ? model.durationLogSurvival[bins[k]] : model.durationLogProbs[bins[k]];
  }
  return sum / bins.length;
}

// ---- The terms ------------------------------------------------------------------------------------------

/** Index and token of the last note-on, or null. */
function lastNote(tokens: ArrayLike<number>): { step: number; token: number } | null {
  for (let i = tokens.length - 1; i >= 0; i--) if (tokens[i] >= NUM_SPECIAL) return { step: i, token: tokens[i] };
  return null;
}

/** 3 for a last note in the tonic class on a strong beat, 1 for one elsewhere, 0 otherwise. */
export function tonicEndingTerm(tokens: ArrayLike<number>, ctx: Pick<RuleContext, 'tonicNotes'>): number {
  const last = lastNote(tokens);
  if (last === null || !ctx.tonicNotes.has(last.token)) return 0;
  return last.step % STRONG_BEAT_STEPS === 0 ? TONIC_ENDING_REWARD : TONIC_ENDING_OFF_BEAT_REWARD;
}

/** RHYTHM_SCALE × (the piece's mean duration log-likelihood − the corpus's), clipped to [RHYTHM_FLOOR, 0]; the floor without notes. */
export function rhythmTerm(tokens: ArrayLike<number>, model: CompositionModel = NOTTINGHAM_COMPOSITION_MODEL): number {
  const ll = durationLogLikelihood(tokens, model);
  if (ll === null) return RHYTHM_FLOOR;
  return Math.max(RHYTHM_FLOOR, Math.min(0, RHYTHM_SCALE * (ll - model.meanLogLikelihoodPerNote)));
}

/** The corpus's typical range for pieces of `numNotes` steps: the fitted length nearest to it (ties: the shorter). */
export function pitchRangeBand(numNotes: number, model: CompositionModel = NOTTINGHAM_COMPOSITION_MODEL): { low: number; high: number } {
  let best = model.pitchRange[0];
  for (const band of model.pitchRange) if (Math.abs(band.numNotes - numNotes) < Math.abs(best.numNotes - numNotes)) best = band;
  return { low: best.low, high: best.high };
}

/** Highest minus lowest note-on in semitones; null without notes. */
export function pitchRange(tokens: ArrayLike<number>): number | null {
  let lowest = Infinity, highest = -Infinity;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t < NUM_SPECIAL) continue;
    if (t < lowest) lowest = t;
    if (t > highest) highest = t;
  }
  return highest >= lowest ? highest - lowest : null;
}

/** 0 inside the band, −0.5 per semitone outside it, floored at −5 (and −5 without notes). */
export function pitchRangeTerm(tokens: ArrayLike<number>, band: { low: number; high: number }): number {
  const range = pitchRange(tokens);
  if (range === null) return PITCH_RANGE_FLOOR;
  const outside = range < band.low ? band.low - range : range > band.high ? range - band.high : 0;
  return outside === 0 ? 0 : Math.max(PITCH_RANGE_FLOOR, PITCH_RANGE_PENALTY_PER_SEMITONE * outside);
}

/** Pieces of ≥ 64 steps: 3 when a 2-bar window recurs, 1 when only a 1-bar window does; else 0. */
export function phraseRecurrenceTerm(tokens: ArrayLike<number>): number {
  if (tokens.length < RECURRENCE_MIN_STEPS) return 0;
  if (hasRecurringWindow(tokens, RECURRENCE_WINDOWS[1])) return PHRASE_RECURRENCE_REWARD;
  if (hasRecurringWindow(tokens, RECURRENCE_WINDOWS[0])) return BAR_RECURRENCE_REWARD;
  return 0;
}

/**
 * Every term of a finished composition, in COMPOSITION_TERM_NAMES order, into `out` (allocated when not
 * given). The range band is the model's for the composition's length.
 */
export function compositionTermsInto(
  out: Float64Array,
  tokens: ArrayLike<number>,
  ctx: Pick<RuleContext, 'tonicNotes'>,
  model: CompositionModel = NOTTINGHAM_COMPOSITION_MODEL,
): Float64Array {
  out[0] = tonicEndingTerm(tokens, ctx);
  out[1] = rhythmTerm(tokens, model);
  out[2] = pitchRangeTerm(tokens, pitchRangeBand(tokens.length, model));
  out[3] = phraseRecurrenceTerm(tokens);
  return out;
}

/** compositionTermsInto with a fresh array. */
export function compositionTerms(tokens: ArrayLike<number>, ctx: Pick<RuleContext, 'tonicNotes'>, model: CompositionModel = NOTTINGHAM_COMPOSITION_MODEL): Float64Array {
  return compositionTermsInto(new Float64Array(NUM_COMPOSITION_TERMS), tokens, ctx, model);
}

/** Σ_j w_j c_j: the composition-level reward before the reward scaler. */
export function compositionReward(terms: ArrayLike<number>, weights: readonly number[]): number {
  let sum = 0;
  for (let j = 0; j < NUM_COMPOSITION_TERMS; j++) if (weights[j] !== 0) sum += weights[j] * terms[j];
  return sum;
}

// ---- Fitting --------------------------------------------------------------------------------------------

/** The q-quantile (0..1) of sorted numbers, by the nearest-rank rule. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Fits the model on whole tunes: the duration distribution over the tunes, and for each of `lengths` the 10th
 * and 90th percentile of the pitch range of the tunes cut into pieces of that length (`cut`: see
 * src/eval/data_reference.ts).
 */
export function fitCompositionModel(
  source: Record<string, unknown>,
  tunes: readonly ArrayLike<number>[],
  lengths: readonly number[],
  cut: (tokens: ArrayLike<number>, numNotes: number) => ArrayLike<number>[],
): CompositionModel {
  const durations = fitDurationModel(tunes);
  const pitchRangeBands = lengths.map((numNotes) => {
    const ranges: number[] = [];
    for (const tune of tunes) {
      for (const piece of cut(tune, numNotes)) {
        const r = pitchRange(piece);
        if (r !== null) ranges.push(r);
      }
    }
    ranges.sort((a, b) => a - b);
    return { numNotes, low: quantile(ranges, 0.1), high: quantile(ranges, 0.9) };
  });
  return { source, ...durations, pitchRange: pitchRangeBands };
}
