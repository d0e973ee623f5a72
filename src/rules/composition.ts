/**
 * Composition-level reward terms: what only a whole piece shows — how it ends, whether its rhythm is
 * the corpus's, how wide it ranges, whether a phrase comes back. Each is a small pure function of a
 * finished composition (SPEC §1 tokens), scaled like the nine rules (a rule firing is worth 1 to 5):
 *
 *   tonic_ending       0..3    3 when the last note is in the tonic class and starts on a strong beat
 *                              (beat 1 or 3 of a 4/4 bar: a step divisible by 8), 1 when it is in the tonic
 *                              class elsewhere, 0 otherwise (or with no note).
 *   rhythm             −5..0   −5 × the total-variation distance between the piece's note-duration
 *                              histogram and the training corpus's note-duration distribution: 0 for a piece
 *                              whose notes last as the corpus's do, in the same proportions (eighths, then
 *                              quarters, few sixteenths), −5 for one that shares no duration with it. The
 *                              note cut by the piece's end is left out (unless it is the only one): its
 *                              length is unknown. A distance, not a likelihood: a likelihood scores a piece
 *                              of only the most common duration (all eighths) best, and tuning on it lost
 *                              the corpus's quarter notes; a bigram over durations scored sixteenth runs as
 *                              well as a real tune (the corpus's sixteenths come in pairs).
 *   pitch_range        −5..0   2 × (log q(range) − the corpus's mean log q(range)), clipped to [−5, 0]: q is
 *                              the distribution of the range (highest − lowest note, semitones) of the
 *                              corpus's pieces of the piece's length. A range at least as likely as the
 *                              corpus's typical one scores 0 (an octave, a fifth to a sixth), an unusual one
 *                              (13, 15 semitones, or a tritone) below it; −5 for a piece without notes. A
 *                              band (0 inside the 10th..90th percentile) was tried first and left the tuned
 *                              pieces at 13 to 14 semitones, within the band and unlike the corpus.
 *   phrase_recurrence  0..3    pieces of ≥ 64 steps: 3 when a 2-bar window (32 steps) recurs, 1 when only a
 *                              1-bar window (16 steps) does (hasRecurringWindow: the same tokens again,
 *                              not overlapping, with at least 2 note-ons); 0 for shorter pieces.
 *
 * Q, Ψ and G add s·Σ_j w_j c_j to the reward of a composition's last step (src/rl/env.ts); a policy
 * gradient over whole compositions can add it to each composition's return. The duration distribution and the
 * range distributions are fitted on the Nottingham train split by scripts/data_summaries.mjs (a small JSON,
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
export const RHYTHM_FLOOR = -5;
export const PITCH_RANGE_SCALE = 2;
export const PITCH_RANGE_FLOOR = -5;
/** Ranges 0..MAX_RANGE semitones (SPEC §1's 36 pitches span 35). */
export const MAX_RANGE = 35;
export const PHRASE_RECURRENCE_REWARD = 3;
export const BAR_RECURRENCE_REWARD = 1;

/** Duration bins: 1..16 steps and longer (index d − 1). */
export const DURATION_STATES = 17;
/** Add-α smoothing of the duration and range counts. */
export const SMOOTHING = 0.5;

/** The fitted parts of the terms (JSON). */
export interface CompositionModel {
  /** What it was fitted on. */
  source: Record<string, unknown>;
  /** q(d) for d in bins 0..16 (1..16 steps, longer): add-α smoothed note-duration counts of the corpus's tunes. */
  durationProbs: number[];
  /** For each fitted length: log q(range) for ranges 0..MAX_RANGE of the corpus's pieces of that length (add-α smoothed), and their mean over those pieces. */
  pitchRange: PitchRangeModel[];
}

export interface PitchRangeModel {
  numNotes: number;
  logProbs: number[];
  meanLogProb: number;
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

/** Fits the duration distribution on whole tunes (a tune's last note ends with the tune): add-α smoothed counts. */
export function fitDurationModel(tunes: readonly ArrayLike<number>[], smoothing = SMOOTHING): number[] {
  const counts = new Array<number>(DURATION_STATES).fill(0);
  let notes = 0;
  for (const tune of tunes) {
    for (const d of noteDurations(tune).bins) {
      counts[d]++;
      notes++;
    }
  }
  return counts.map((c) => (c + smoothing) / (notes + smoothing * DURATION_STATES));
}

/** The piece's note-duration histogram (shares of its notes per bin), the note cut by its end left out unless it is the only one; null without notes. */
export function durationHistogram(tokens: ArrayLike<number>): number[] | null {
  const { bins, lastCut } = noteDurations(tokens);
  const n = lastCut && bins.length > 1 ? bins.length - 1 : bins.length;
  if (n === 0) return null;
  const shares = new Array<number>(DURATION_STATES).fill(0);
  for (let k = 0; k < n; k++) shares[bins[k]] += 1 / n;
  return shares;
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

/** RHYTHM_FLOOR (−5) × the TV distance between the piece's duration histogram and the corpus's; the floor without notes. */
export function rhythmTerm(tokens: ArrayLike<number>, model: Pick<CompositionModel, 'durationProbs'> = NOTTINGHAM_COMPOSITION_MODEL): number {
  const shares = durationHistogram(tokens);
  if (shares === null) return RHYTHM_FLOOR;
  let distance = 0;
  for (let d = 0; d < DURATION_STATES; d++) distance += Math.abs(shares[d] - model.durationProbs[d]);
  return RHYTHM_FLOOR * (distance / 2);
}

/** The range model of the fitted length nearest `numNotes` (ties: the shorter). */
export function pitchRangeModel(numNotes: number, model: Pick<CompositionModel, 'pitchRange'> = NOTTINGHAM_COMPOSITION_MODEL): PitchRangeModel {
  let best = model.pitchRange[0];
  for (const m of model.pitchRange) if (Math.abs(m.numNotes - numNotes) < Math.abs(best.numNotes - numNotes)) best = m;
  return best;
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

/** PITCH_RANGE_SCALE × (log q(range) − the corpus's mean), clipped to [−5, 0] (and −5 without notes). */
export function pitchRangeTerm(tokens: ArrayLike<number>, range: PitchRangeModel): number {
  const semitones = pitchRange(tokens);
  if (semitones === null) return PITCH_RANGE_FLOOR;
  const score = PITCH_RANGE_SCALE * (range.logProbs[Math.min(semitones, MAX_RANGE)] - range.meanLogProb);
  return Math.max(PITCH_RANGE_FLOOR, Math.min(0, score));
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
 * given). The range model is the one fitted for the length nearest the composition's.
 */
export function compositionTermsInto(
  out: Float64Array,
  tokens: ArrayLike<number>,
  ctx: Pick<RuleContext, 'tonicNotes'>,
  model: CompositionModel = NOTTINGHAM_COMPOSITION_MODEL,
): Float64Array {
  out[0] = tonicEndingTerm(tokens, ctx);
  out[1] = rhythmTerm(tokens, model);
  out[2] = pitchRangeTerm(tokens, pitchRangeModel(tokens.length, model));
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

/**
 * Fits the model on whole tunes: the duration distribution over the tunes, and for each of `lengths` the
 * distribution of the pitch range of the tunes cut into pieces of that length (`cut`: see
 * src/eval/data_reference.ts).
 */
export function fitCompositionModel(
  source: Record<string, unknown>,
  tunes: readonly ArrayLike<number>[],
  lengths: readonly number[],
  cut: (tokens: ArrayLike<number>, numNotes: number) => ArrayLike<number>[],
): CompositionModel {
  const pitchRangeModels = lengths.map((numNotes) => {
    const counts = new Array<number>(MAX_RANGE + 1).fill(0);
    let pieces = 0;
    for (const tune of tunes) {
      for (const piece of cut(tune, numNotes)) {
        const r = pitchRange(piece);
        if (r === null) continue;
        counts[Math.min(r, MAX_RANGE)]++;
        pieces++;
      }
    }
    const logProbs = counts.map((c) => Math.log((c + SMOOTHING) / (pieces + SMOOTHING * (MAX_RANGE + 1))));
    let sum = 0;
    for (let r = 0; r <= MAX_RANGE; r++) sum += counts[r] * logProbs[r];
    return { numNotes, logProbs, meanLogProb: pieces > 0 ? sum / pieces : 0 };
  });
  return { source, durationProbs: fitDurationModel(tunes), pitchRange: pitchRangeModels };
}
