/**
 * Held-out likelihood of any Note RNN on any melodies (SPEC §3's figures): nats per predicted step,
 * perplexity, accuracy and accuracy on events, beside interpolated Kneser–Ney n-gram baselines fitted on
 * given training melodies with the discount chosen on given validation melodies (as `rltuner train`
 * reports them). Pure; the command is `rltuner score` (src/cli/score.ts).
 *
 * The model is evaluated in lanes of `batch` melodies and windows of `windowSteps` steps with the state
 * carried through each melody; by default the batch and window it was trained with (its metadata), so
 * the figures match the training report to the last digit.
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import { loadModelInto, type DecodedModel } from '../io/model_file.js';
import type { BarGrid } from '../music/encodings.js';
import { ngramBaselines, type NgramMetrics } from './ngram.js';
import { evaluateNoteRnn, type SequenceMetrics } from './note_rnn_training.js';

export interface ScoreOptions {
  /** Lanes evaluated side by side. Default: the model's training batch (metadata), else 64. */
  batch?: number;
  /** Steps per window (the state carries across windows). Default: the model's training window, else 64. */
  windowSteps?: number;
  /** Melodies the n-gram baselines are fitted on; none: no baselines. */
  baselineTrain?: readonly Uint8Array[];
  /** Melodies the baselines' discount is chosen on (default: baselineTrain). */
  baselineValid?: readonly Uint8Array[];
  /** n-gram orders. Default 1..4. */
  orders?: readonly number[];
  /** Hears the model's predicted steps done (of all), after each window. */
  onProgress?: (done: number, total: number) => void;
  /** Each melody's bar grid (its meter and pickup; src/train/training_data.ts's melodyGrid): the lookback encoding reads them. Default 4/4 from a downbeat. */
  grids?: readonly BarGrid[];
}

export interface NoteRnnScore {
  melodies: number;
  /** The Note RNN on the melodies. */
  model: SequenceMetrics;
  /** Each n-gram baseline on the melodies, with the discount chosen on baselineValid. */
  baselines: { order: number; discount: number; metrics: NgramMetrics }[];
  batch: number;
  windowSteps: number;
}

/**
 * The most lanes × window steps a recorded plan may ask the evaluation for: 2^18 (64 lanes of 4,096 steps,
 * or 512 of 512). The evaluation's arena grows with the product (64 × 64 at H = 100 is 13 MB; 4,096 ×
 * 4,096 would be 50 GB), and the figures do not depend on it (state is carried through each melody), so a
 * file recording more is evaluated with the defaults instead; the result says which plan was used.
 */
export const MAX_RECORDED_EVALUATION_STEPS = 2 ** 18;

/** The training batch and window a model file records, if any (both ignored when their product is above MAX_RECORDED_EVALUATION_STEPS). */
export function recordedEvaluationPlan(decoded: DecodedModel): { batch?: number; windowSteps?: number } {
  const training = decoded.info.training as { batchSize?: unknown; windowSteps?: unknown } | undefined;
  const positive = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 4096 ? x : undefined);
  const batch = positive(training?.batchSize);
  const windowSteps = positive(training?.windowSteps);
  if ((batch ?? 64) * (windowSteps ?? 64) > MAX_RECORDED_EVALUATION_STEPS) return {};
  return { batch, windowSteps };
}

/** Scores a decoded Note RNN model file on `melodies` (each at least 2 steps). */
export function scoreNoteRnn(kernels: Kernels, decoded: DecodedModel, melodies: readonly Uint8Array[], options: ScoreOptions = {}): NoteRnnScore {
  const recorded = recordedEvaluationPlan(decoded);
  const batch = options.batch ?? recorded.batch ?? 64;
  const windowSteps = options.windowSteps ?? recorded.windowSteps ?? 64;
  const model = createArena(kernels, { model: { config: decoded.config, maxBatch: batch, maxSteps: windowSteps } }).models.model;
  loadModelInto(model, decoded, 'model');
  const metrics = evaluateNoteRnn(model, melodies, windowSteps, undefined, undefined, undefined, undefined, options.grids, options.onProgress);
  let baselines: NoteRnnScore['baselines'] = [];
  if (options.baselineTrain !== undefined && options.baselineTrain.length > 0) {
    const rows = ngramBaselines([...options.baselineTrain], [...(options.baselineValid ?? options.baselineTrain)], [...melodies], options.orders);
    baselines = rows.map((row) => ({ order: row.order, discount: row.discount, metrics: row.test }));
  }
  return { melodies: melodies.length, model: metrics, baselines, batch, windowSteps };
}
