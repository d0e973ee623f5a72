/**
 * Softmax arithmetic over rows of scores (logits, Q values, acting scores), in one place: max, logsumexp,
 * log softmax, probabilities at a temperature, and sampling. A row is `n` entries of `values` starting at
 * `offset`. Everything is computed in float64 with the maximum factored out, so large scores are safe.
 */
import type { Random } from '../random.js';

/** max of values[offset .. offset + n). */
export function maxRow(values: ArrayLike<number>, offset: number, n: number): number {
  let best = -Infinity;
  for (let i = 0; i < n; i++) if (values[offset + i] > best) best = values[offset + i];
  return best;
}

/** Index (0 .. n−1) of the first maximum of values[offset .. offset + n). */
export function argmaxRow(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** log Σ exp(values[offset .. offset + n)). */
export function logSumExpRow(values: ArrayLike<number>, offset: number, n: number): number {
  const best = maxRow(values, offset, n);
  if (best === -Infinity || best === Infinity) return best;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(values[offset + i] - best);
  return best + Math.log(sum);
}

/** log softmax(row)[a]. */
export function logSoftmaxAt(values: ArrayLike<number>, offset: number, n: number, a: number): number {
  return values[offset + a] - logSumExpRow(values, offset, n);
}

/**
 * log softmax of values[offset .. offset + n) written to out[offset .. offset + n) (same layout; out may
 * be values). Returns the logsumexp.
 */
export function logSoftmaxRow(values: ArrayLike<number>, offset: number, n: number, out: Float32Array | Float64Array): number {
  const logSumExp = logSumExpRow(values, offset, n);
  for (let i = 0; i < n; i++) out[offset + i] = values[offset + i] - logSumExp;
  return logSumExp;
}

/**
 * The policy's probabilities softmax(row / temperature) into out[0 .. n); temperature 0 puts all the
 * mass on the argmax (the limit of the softmax as the temperature falls to 0).
 */
export function softmaxAtTemperature(values: ArrayLike<number>, offset: number, n: number, temperature: number, out: Float64Array): Float64Array {
  if (temperature === 0) {
    out.fill(0, 0, n);
    out[argmaxRow(values, offset, n)] = 1;
    return out;
  }
  const best = maxRow(values, offset, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (out[i] = Math.exp((values[offset + i] - best) / temperature));
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/**
 * Samples a class from softmax(row / temperature), or takes the argmax at temperature 0. `scratch`
 * holds at least n entries. Draws exactly one number from `rng` when temperature > 0, none otherwise.
 */
export function sampleFromScores(values: ArrayLike<number>, offset: number, n: number, temperature: number, rng: Random, scratch: Float64Array): number {
  if (temperature === 0) return argmaxRow(values, offset, n);
  const best = maxRow(values, offset, n);
  for (let i = 0; i < n; i++) scratch[i] = Math.exp((values[offset + i] - best) / temperature);
  return rng.categorical(scratch, n);
}
