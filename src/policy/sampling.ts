/**
 * Sampling compositions from a policy: one or more LSTM models stepped in lockstep whose logits are
 * summed into acting scores (the Note RNN alone; a Q or Ψ network alone; a G network plus the Reward
 * RNN, SPEC §4.4). Batched: up to the models' maxBatch compositions at a time.
 *
 * The models share one encoding (src/music/encodings.ts): the policy chooses among its output classes (the
 * 38 events; the lookback encoding's 40, two of them "repeat the event of one / two bars ago"), the class is
 * decoded to the event played, and the models read that event's input. Compositions hold events; the
 * log-probabilities are of the classes chosen. A lookback model's bars: `meter` says where the
 * composition's first step falls (default 4/4 from a downbeat), its primer lying just before.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { NUM_CLASSES } from '../music/encoding.js';
import { DEFAULT_BAR_GRID, encodingOf, gridBefore, MelodyHistories, type BarGrid, type MelodyEncoding } from '../music/encodings.js';
import type { Random } from '../random.js';
import { logSoftmaxAt, sampleFromScores, softmaxAtTemperature } from './softmax.js';

export type Priming =
  | { kind: 'random_note' }
  | { kind: 'primer'; tokens: ArrayLike<number> }
  | { kind: 'corpus'; melodies: readonly Uint8Array[]; length: number };

/** Steps of a training melody fed before each composition with corpus priming. */
export const CORPUS_WINDOW_STEPS = 16;

/**
 * The Priming a config's `priming` mode asks for, from the material given: a primer melody for 'primer',
 * corpus melodies for 'corpus'. Throws a RangeError saying what is missing.
 */
export function primingFor(mode: 'random_note' | 'primer' | 'corpus', material: { primer?: ArrayLike<number>; corpus?: readonly Uint8Array[] } = {}): Priming {
  if (mode === 'primer') {
    if (!material.primer || material.primer.length === 0) throw new RangeError("priming 'primer' needs a primer melody (tokens), and it is missing or empty");
    return { kind: 'primer', tokens: material.primer };
  }
  if (mode === 'corpus') {
    const usable = (material.corpus ?? []).filter((m) => m.length >= CORPUS_WINDOW_STEPS);
    if (usable.length === 0) throw new RangeError(`priming 'corpus' needs corpus melodies of at least ${CORPUS_WINDOW_STEPS} steps, and none were given`);
    return { kind: 'corpus', melodies: usable, length: CORPUS_WINDOW_STEPS };
  }
  return { kind: 'random_note' };
}

export interface SampleOptions {
  count: number;
  /** Steps per composition. */
  numNotes: number;
  /** Softmax temperature; 0 takes the argmax. */
  temperature: number;
  priming: Priming;
  /** Called after each batch with the number of compositions done. */
  onProgress?: (done: number, total: number) => void;
  /**
   * A model (e.g. the Note RNN prior) primed and fed the same tokens, under whose softmax each sampled
   * note is also scored; it may be one of the policy's models (it is then not stepped twice).
   */
  reference?: LstmModel;
  /** The bar grid of each composition's first step (the lookback encoding reads it) [4/4 from a downbeat]. */
  meter?: BarGrid;
}

export interface SampleResult {
  compositions: Uint8Array[];
  /** The priming tokens each composition started from (fed to the models, not part of the composition). */
  primers: ArrayLike<number>[];
  /** Per composition: sum over its steps of log π(a|s), π = softmax(scores / temperature) (0 for argmax). */
  logProbPolicy: Float64Array;
  /** Per composition: sum over its steps of log p(a|s) under the reference (or the first model). */
  logProbReference: Float64Array;
  /**
   * Per composition: sum over its steps of the k3 estimate of KL(π ‖ p), (r − 1) − log r with
   * r = p(a|s) / π(a|s): never negative, and of lower variance than log π − log p (Schulman 2020).
   */
  klK3: Float64Array;
}

/** The priming tokens for one composition (SPEC §4.1); the priming input is not part of the composition. */
export function primingTokens(priming: Priming, rng: Random): ArrayLike<number> {
  switch (priming.kind) {
    case 'random_note':
      return [rng.int(NUM_CLASSES)];
    case 'primer':
      if (priming.tokens.length === 0) throw new RangeError('priming: the primer melody is empty');
      return priming.tokens;
    case 'corpus': {
      const usable = priming.melodies.filter((m) => m.length >= priming.length);
      if (usable.length === 0) throw new RangeError(`priming: no corpus melody has ${priming.length} steps`);
      const m = usable[rng.int(usable.length)];
      const start = rng.int(m.length - priming.length + 1);
      return m.subarray(start, start + priming.length);
    }
  }
}

/** The encoding `models` share; throws when they differ (a policy and its prior must read the same inputs). */
export function sharedEncoding(models: readonly LstmModel[]): MelodyEncoding {
  const encoding = encodingOf(models[0].config);
  for (const m of models) {
    const other = encodingOf(m.config);
    if (other !== encoding) throw new RangeError(`the models of a policy must share an encoding; got ${encoding.name} and ${other.name}: a tuned network shares its Note RNN's encoding, so act with (and score against) the Note RNN it was tuned from`);
  }
  return encoding;
}

/**
 * Feeds each row its priming tokens (rows may have different lengths) from the zero state. With
 * `histories` (the models' encoding, rows started with these primers), the inputs are the encoding's;
 * without, the tokens themselves (the basic encoding).
 */
export function primeModels(models: readonly LstmModel[], primers: ArrayLike<number>[], batch: number, histories?: MelodyHistories): Float32Array[] {
  for (const m of models) m.resetState(batch);
  const longest = Math.max(...primers.slice(0, batch).map((p) => p.length));
  // Rows with shorter primers are right-aligned: they start on a zero state and are fed their tokens last.
  const tokens = new Int32Array(batch);
  const logits: Float32Array[] = [];
  for (let t = 0; t < longest; t++) {
    for (let b = 0; b < batch; b++) {
      const p = primers[b];
      const offset = longest - p.length;
      tokens[b] = t < offset ? 1 : histories ? histories.inputIdAt(b, t - offset) : p[t - offset];
    }
    for (let i = 0; i < models.length; i++) {
      logits[i] = models[i].step(tokens, batch);
      // Rows not yet started go back to the zero state.
      for (let b = 0; b < batch; b++) if (t < longest - primers[b].length) models[i].resetStateRow(b);
    }
  }
  return logits;
}

/** Samples `count` compositions from the policy formed by `models` (see the file comment). */
export function sampleCompositions(models: readonly LstmModel[], rng: Random, options: SampleOptions): SampleResult {
  const { count, numNotes, temperature } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(numNotes) || numNotes < 1) throw new RangeError(`numNotes must be a positive integer, got ${numNotes}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be finite and >= 0, got ${temperature}`);
  if (models.length === 0) throw new Error('sampleCompositions: no model given');
  const reference = options.reference ?? models[0];
  const separateReference = !models.includes(reference);
  const stepped = separateReference ? [...models, reference] : models;
  const encoding = sharedEncoding(stepped);
  const A = encoding.outputSize; // classes the policy chooses among
  const meter = options.meter ?? DEFAULT_BAR_GRID;
  const maxBatch = Math.min(...stepped.map((m) => m.maxBatch));
  const stride = models[0].outputStride;
  const compositions: Uint8Array[] = [];
  const primers: ArrayLike<number>[] = [];
  const logProbPolicy = new Float64Array(count);
  const logProbReference = new Float64Array(count);
  const klK3 = new Float64Array(count);
  const scores = new Float32Array(maxBatch * A);
  const scratch = new Float64Array(A);
  const tokens = new Int32Array(maxBatch);
  const histories = new MelodyHistories(encoding, maxBatch);
  for (let start = 0; start < count; start += maxBatch) {
    const batch = Math.min(maxBatch, count - start);
    const batchPrimers = Array.from({ length: batch }, () => primingTokens(options.priming, rng));
    primers.push(...batchPrimers);
    batchPrimers.forEach((p, b) => histories.start(b, p, gridBefore(meter, p.length)));
    let logits = primeModels(stepped, batchPrimers, batch, histories);
    const refIndex = separateReference ? models.length : models.indexOf(reference);
    const batchCompositions = Array.from({ length: batch }, () => new Uint8Array(numNotes));
    for (let t = 0; t < numNotes; t++) {
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < A; j++) {
          let s = 0;
          for (let i = 0; i < models.length; i++) s += logits[i][b * stride + j];
          scores[b * A + j] = s;
        }
        const a = sampleFromScores(scores, b * A, A, temperature, rng, scratch);
        let logPi = 0; // the argmax policy (temperature 0) plays a with probability 1
        if (temperature > 0) {
          for (let j = 0; j < A; j++) scratch[j] = scores[b * A + j] / temperature;
          logPi = logSoftmaxAt(scratch, 0, A, a);
        }
        const logP = logSoftmaxAt(logits[refIndex], b * stride, A, a);
        logProbPolicy[start + b] += logPi;
        logProbReference[start + b] += logP;
        klK3[start + b] += Math.expm1(logP - logPi) - (logP - logPi);
        const event = histories.decode(b, a);
        batchCompositions[b][t] = event;
        histories.push(b, event);
        tokens[b] = histories.inputId(b);
      }
      if (t + 1 < numNotes) logits = stepped.map((m) => m.step(tokens, batch));
    }
    compositions.push(...batchCompositions);
    options.onProgress?.(compositions.length, count);
  }
  return { compositions, primers, logProbPolicy, logProbReference, klK3 };
}

/**
 * The policy's probabilities of each event at every step of `composition`, primed with `primer` exactly
 * as the composition was sampled: out[t * NUM_CLASSES + e] = π(e | step t), the probability softmax(scores
 * / temperature) gives the classes that play event e (for the basic encoding, class e alone).
 */
export function policyProbabilities(
  models: readonly LstmModel[], primer: ArrayLike<number>, composition: ArrayLike<number>, temperature: number, meter: BarGrid = DEFAULT_BAR_GRID,
): Float64Array {
  const encoding = sharedEncoding(models);
  const A = encoding.outputSize;
  const out = new Float64Array(composition.length * NUM_CLASSES);
  const scores = new Float64Array(A);
  const probs = new Float64Array(A);
  const histories = new MelodyHistories(encoding, 1);
  histories.start(0, primer, gridBefore(meter, primer.length));
  let logits = primeModels(models, [primer], 1, histories);
  for (let t = 0; t < composition.length; t++) {
    scores.fill(0);
    for (const l of logits) for (let j = 0; j < A; j++) scores[j] += l[j];
    const p = softmaxAtTemperature(scores, 0, A, temperature, probs);
    if (A === NUM_CLASSES) out.set(p, t * NUM_CLASSES);
    else for (let a = 0; a < A; a++) out[t * NUM_CLASSES + histories.decode(0, a)] += p[a];
    histories.push(0, composition[t]);
    if (t + 1 < composition.length) logits = models.map((m) => m.step([histories.inputId(0)], 1));
  }
  return out;
}
