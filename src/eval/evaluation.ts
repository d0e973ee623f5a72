/**
 * Evaluating a policy the way the paper does (SPEC §6): sample N compositions from the acting softmax
 * (no exploration), compute the rule statistics, and report beside them what tells whether the model
 * still sounds like the data: the mean log p of its notes under the Note RNN, a Monte-Carlo estimate of
 * KL(π ‖ p) per note, and how many compositions are distinct.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { sampleCompositions, type Priming, type SampleResult } from '../policy/sampling.js';
import type { Random } from '../random.js';
import { C_MAJOR_RULES, type RuleContext } from '../rules/rules.js';
import { DATA_ROWS } from './report.js';
import { PITCH_OFFSET } from '../music/encoding.js';
import { dataLikeness, type DataLikeness } from './data_likeness.js';
import { DISTINCT_WINDOW_STEPS, shippedReference, type DataReference } from './data_reference.js';
import { blockDistinctWindowShare, listenerMetrics, type ListenerMetrics } from './listener.js';
import { compositionStatistics, type CompositionStatistics } from './statistics.js';

export interface PolicyEvaluation {
  statistics: CompositionStatistics;
  /** Mean over notes of log p(a|s) under the Note RNN (a lookback prior's: of the class chosen, src/music/encodings.ts). */
  meanLogProbNoteRnn: number;
  /**
   * Mean over notes of log π(a|s) − log p(a|s): an estimate of KL(π ‖ p) per note. At temperature 0 the
   * policy is the argmax (π = 1 on the note it plays), so the estimate is exactly −log p(a|s).
   */
  klFromPrior: number;
  /** The k3 estimate of the same KL per note: mean of (r − 1) − log r, r = p(a|s)/π(a|s). */
  klFromPriorK3: number;
  /** What a listener hears: openings, pitch variety, repetition, tonic/dominant, rests and holds. */
  listener: ListenerMetrics;
  distinctCompositions: number;
  /** Data-likeness counts of the compositions (rhythm, range, ending, recurrence; src/eval/data_likeness.ts). */
  data: DataLikeness;
  /**
   * Distinct 8-step windows per block of as many compositions as the reference has tunes (the mean over
   * the blocks), to compare with the reference's one-piece-per-tune sets; null without a reference.
   */
  distinctWindows8PerBlock: { blockSize: number; blocks: number; share: number } | null;
  /** The reference the data rows compare with (null: none at this length). */
  dataReference: DataReference | null;
  compositions: Uint8Array[];
  /** The priming tokens each composition started from. */
  primers: ArrayLike<number>[];
}

export interface EvaluationOptions {
  count: number;
  numNotes: number;
  temperature: number;
  priming: Priming;
  rules?: RuleContext;
  /**
   * The data reference of the data-likeness rows: by default the shipped Nottingham test split at this
   * length (32, 64 or 128 steps; none at other lengths); null for none.
   */
  reference?: DataReference | null;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Samples from `policy` (models whose logits sum to the acting scores) and scores every note under
 * `noteRnn` (which may be the policy's only model, for the Note RNN baseline).
 */
export function evaluatePolicy(policy: LstmModel[], noteRnn: LstmModel, rng: Random, options: EvaluationOptions): PolicyEvaluation {
  const sample = sampleCompositions(policy, rng, {
    count: options.count, numNotes: options.numNotes, temperature: options.temperature, priming: options.priming,
    reference: noteRnn, onProgress: options.onProgress,
  });
  return evaluateSample(sample, options);
}

/**
 * The evaluation of compositions already sampled (or chosen from a sample: a resampled set of the Note
 * RNN's, bench/prefs_learning_curve.ts), with each one's summed log π and log p and k3 over its steps.
 * The KL rows are the per-note means of those sums, so a resampled set must bring its own (log π of the
 * set's distribution).
 */
export function evaluateSample(
  sample: Pick<SampleResult, 'compositions' | 'primers' | 'logProbPolicy' | 'logProbReference' | 'klK3'>,
  options: Pick<EvaluationOptions, 'numNotes' | 'rules' | 'reference'>,
): PolicyEvaluation {
  const count = sample.compositions.length;
  const notes = count * options.numNotes;
  let logP = 0, logPi = 0, k3 = 0;
  for (let i = 0; i < count; i++) {
    logP += sample.logProbReference[i];
    logPi += sample.logProbPolicy[i];
    k3 += sample.klK3[i];
  }
  const rules = { ...(options.rules ?? C_MAJOR_RULES), numNotes: options.numNotes };
  const statistics = compositionStatistics(sample.compositions, rules);
  const reference = options.reference === undefined ? shippedReference(options.numNotes) : options.reference;
  if (reference && reference.numNotes !== options.numNotes) {
    throw new RangeError(`evaluatePolicy: the data reference ${reference.name} has pieces of ${reference.numNotes} steps, the compositions ${options.numNotes}; make the reference at the same length`);
  }
  return {
    statistics,
    meanLogProbNoteRnn: logP / notes,
    klFromPrior: (logPi - logP) / notes,
    klFromPriorK3: k3 / notes,
    listener: listenerMetrics(sample.compositions, rules),
    distinctCompositions: statistics.distinctCompositions,
    data: dataLikeness(sample.compositions, (rules.tonic + PITCH_OFFSET) % 12),
    distinctWindows8PerBlock: reference ? blockDistinctWindowShare(sample.compositions, reference.tunesUsed, DISTINCT_WINDOW_STEPS) : null,
    dataReference: reference,
    compositions: sample.compositions,
    primers: sample.primers,
  };
}

/** An evaluation as a flat record of `eval/…`, `listener/…` and `data/…` numbers (metrics.jsonl, the page's table). */
export function evaluationMetrics(step: number, e: PolicyEvaluation): Record<string, number> {
  const s = e.statistics;
  return {
    step,
    'eval/notes_excessively_repeated': s.notesExcessivelyRepeated,
    'eval/notes_not_in_key': s.notesNotInKey,
    'eval/notes_in_motif': s.notesInMotif,
    'eval/notes_in_repeated_motif': s.notesInRepeatedMotif,
    'eval/leaps_resolved': s.leapsResolved ?? NaN,
    'eval/starting_with_tonic': s.startingWithTonic,
    'eval/unique_max_note': s.uniqueMaxNote,
    'eval/unique_min_note': s.uniqueMinNote,
    'eval/mean_reward_per_note': s.meanRewardPerNote,
    'eval/mean_log_p_note_rnn': e.meanLogProbNoteRnn,
    'eval/kl_from_prior': e.klFromPrior,
    'eval/kl_from_prior_k3': e.klFromPriorK3,
    'eval/distinct_compositions': e.distinctCompositions,
    'listener/top_opening_share': e.listener.topOpeningShare,
    'listener/pitch_class_entropy_bits': e.listener.pitchClassEntropyBits,
    'listener/distinct_windows_4': e.listener.distinctWindows4,
    'listener/distinct_windows_8': e.listener.distinctWindows8,
    'listener/mean_max_repeat_8': e.listener.meanMaxRepeat8,
    'listener/tonic_share': e.listener.tonicShare,
    'listener/dominant_share': e.listener.dominantShare,
    'listener/rest_share': e.listener.restShare,
    'listener/hold_share': e.listener.holdShare,
    ...Object.fromEntries(DATA_ROWS.map((row) => [`data/${row.key}`, row.value(e) ?? NaN])),
  };
}
