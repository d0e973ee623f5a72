/**
 * Sampling compositions from a policy: one or more LSTM models stepped in lockstep whose logits are
 * summed into acting scores (the Note RNN alone; a Q or Ψ network alone; a G network plus the Reward
 * RNN, SPEC §4.4). Batched: up to the models' maxBatch compositions at a time.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { NUM_CLASSES } from '../music/encoding.js';
import type { Random } from '../random.js';

export type Priming =
  | { kind: 'random_note' }
  | { kind: 'primer'; tokens: ArrayLike<number> }
  | { kind: 'corpus'; melodies: readonly Uint8Array[]; length: number };

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
}

export interface SampleResult {
  compositions: Uint8Array[];
  /** Per composition: sum over its steps of log π(a|s), π = softmax(scores / temperature) (0 for argmax). */
  logProbPolicy: Float64Array;
  /** Per composition: sum over its steps of log p(a|s) under the reference (or the first model). */
  logProbReference: Float64Array;
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

/** Feeds each row its priming tokens (rows may have different lengths) from the zero state. */
export function primeModels(models: readonly LstmModel[], primers: ArrayLike<number>[], batch: number): Float32Array[] {
  for (const m of models) m.resetState(batch);
  const longest = Math.max(...primers.slice(0, batch).map((p) => p.length));
  // Rows with shorter primers are right-aligned: they start on a zero state and are fed their tokens last.
  const tokens = new Int32Array(batch);
  const logits: Float32Array[] = [];
  for (let t = 0; t < longest; t++) {
    for (let b = 0; b < batch; b++) {
      const p = primers[b];
      const offset = longest - p.length;
      tokens[b] = t >= offset ? p[t - offset] : 1;
    }
    for (let i = 0; i < models.length; i++) {
      logits[i] = models[i].step(tokens, batch);
      // Rows not yet started go back to the zero state.
      for (let b = 0; b < batch; b++) if (t < longest - primers[b].length) models[i].resetStateRow(b);
    }
  }
  return logits;
}

/** Samples a class from scores / temperature (argmax for temperature 0), reading `n` entries at `offset`. */
export function sampleFromScores(scores: ArrayLike<number>, offset: number, n: number, temperature: number, rng: Random, scratch: Float64Array): number {
  let best = 0, mx = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = scores[offset + j];
    if (v > mx) {
      mx = v;
      best = j;
    }
  }
  if (temperature === 0) return best;
  for (let j = 0; j < n; j++) scratch[j] = Math.exp((scores[offset + j] - mx) / temperature);
  return rng.categorical(scratch, n);
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
  const maxBatch = Math.min(...stepped.map((m) => m.maxBatch));
  const stride = models[0].outputStride;
  const compositions: Uint8Array[] = [];
  const logProbPolicy = new Float64Array(count);
  const logProbReference = new Float64Array(count);
  const scores = new Float32Array(maxBatch * NUM_CLASSES);
  const scratch = new Float64Array(NUM_CLASSES);
  const tokens = new Int32Array(maxBatch);
  for (let start = 0; start < count; start += maxBatch) {
    const batch = Math.min(maxBatch, count - start);
    const primers = Array.from({ length: batch }, () => primingTokens(options.priming, rng));
    let logits = primeModels(stepped, primers, batch);
    const refIndex = separateReference ? models.length : models.indexOf(reference);
    const batchCompositions = Array.from({ length: batch }, () => new Uint8Array(numNotes));
    for (let t = 0; t < numNotes; t++) {
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < NUM_CLASSES; j++) {
          let s = 0;
          for (let i = 0; i < models.length; i++) s += logits[i][b * stride + j];
          scores[b * NUM_CLASSES + j] = s;
        }
        const a = sampleFromScores(scores, b * NUM_CLASSES, NUM_CLASSES, temperature, rng, scratch);
        if (temperature > 0) {
          for (let j = 0; j < NUM_CLASSES; j++) scratch[j] = scores[b * NUM_CLASSES + j] / temperature;
          logProbPolicy[start + b] += logSoftmaxAt(scratch, 0, NUM_CLASSES, a);
        }
        logProbReference[start + b] += logSoftmaxAt(logits[refIndex], b * stride, NUM_CLASSES, a);
        batchCompositions[b][t] = a;
        tokens[b] = a;
      }
      if (t + 1 < numNotes) logits = stepped.map((m) => m.step(tokens, batch));
    }
    compositions.push(...batchCompositions);
    options.onProgress?.(compositions.length, count);
  }
  return { compositions, logProbPolicy, logProbReference };
}

/** log softmax(row)[a] over n entries at offset. */
export function logSoftmaxAt(row: ArrayLike<number>, offset: number, n: number, a: number): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) mx = Math.max(mx, row[offset + j]);
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(row[offset + j] - mx);
  return row[offset + a] - mx - Math.log(s);
}
