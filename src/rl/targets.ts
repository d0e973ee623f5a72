/**
 * Rewards and one-step TD targets of RL Tuner (SPEC §4.2–4.4), written out like the paper as pure
 * functions over typed arrays. Q, Ψ and G learning differ only in how the next state is valued:
 *
 *   Q:  y = r + γ · max_a' Q_T(s', a')
 *   Ψ:  y = r + γ · logsumexp_a' Q_T(s', a')
 *   G:  y = r + γ · logsumexp_a' (Q_T(s', a') + log p(a'|s'))
 *   terminal step (last of a composition): y = r
 *
 * Score rows (logits of one state) sit at `row * stride` and hold `actions` valid entries: NUM_CLASSES, or
 * the output classes of the prior's encoding (the lookback encoding's 40).
 */
import { NUM_CLASSES } from '../music/encoding.js';
import { logSumExpRow, maxRow } from '../policy/softmax.js';

/** The value-based tuning algorithms, which learn by one-step TD: Q-learning, Ψ-learning, G-learning. */
export type ValueAlgorithm = 'q' | 'psi' | 'g';
export const VALUE_ALGORITHMS: readonly ValueAlgorithm[] = ['q', 'psi', 'g'];

/** log Σ_a exp(a_values[a] + b_values[a]) over one row of each, stable (G-learning's next-state value). */
function logSumExpOfSumRow(aValues: ArrayLike<number>, bValues: ArrayLike<number>, offset: number, n: number): number {
  let best = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = aValues[offset + i] + bValues[offset + i];
    if (v > best) best = v;
  }
  if (best === -Infinity || best === Infinity) return best;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(aValues[offset + i] + bValues[offset + i] - best);
  return best + Math.log(sum);
}

/**
 * The reward of one step (SPEC §4.2): log p(a|s) + s·r_MT for Q and Ψ; s·r_MT for G (the prior enters
 * through G's target); s·r_MT for every algorithm when `musicTheoryOnly` (the "pure RL" baseline).
 */
export function stepReward(algorithm: ValueAlgorithm, logProb: number, musicTheory: number, rewardScaler: number, musicTheoryOnly = false): number {
  const scaled = rewardScaler * musicTheory;
  if (musicTheoryOnly || algorithm === 'g') return scaled;
  return logProb + scaled;
}

/**
 * TD targets of a minibatch into out[0 .. batch). `targetScores` holds the Target network's logits
 * Q_T(s', ·) per row; `nextLogProbs` the Reward RNN's log p(·|s') per row (same layout, required for g).
 */
export function tdTargets(
  algorithm: ValueAlgorithm,
  rewards: Float32Array, // (batch)
  terminal: Uint8Array, // (batch) 1 = last step of a composition
  batch: number,
  targetScores: Float32Array, // (batch, scoreStride), NUM_CLASSES valid per row
  scoreStride: number,
  nextLogProbs: Float32Array | null, // (batch, scoreStride), g only
  gamma: number,
  out: Float32Array, // (batch)
  actions = NUM_CLASSES,
): Float32Array {
  if (scoreStride < actions) {
    throw new RangeError(`tdTargets: scoreStride = ${scoreStride} is smaller than the ${actions} actions`);
  }
  if (algorithm === 'g' && nextLogProbs === null) {
    throw new RangeError("tdTargets: algorithm 'g' needs nextLogProbs (the Reward RNN's log p at s')");
  }
  for (let r = 0; r < batch; r++) {
    if (terminal[r]) {
      out[r] = rewards[r];
      continue;
    }
    const row = r * scoreStride;
    let nextValue: number;
    if (algorithm === 'q') nextValue = maxRow(targetScores, row, actions);
    else if (algorithm === 'psi') nextValue = logSumExpRow(targetScores, row, actions);
    else nextValue = logSumExpOfSumRow(targetScores, nextLogProbs as Float32Array, row, actions);
    out[r] = rewards[r] + gamma * nextValue;
  }
  return out;
}

/**
 * The scores the agent acts on (SPEC §4.4) for one state, into out[0 .. actions): the Q-network's
 * logits for q and psi; for g, the Q-network's logits plus the Reward RNN's logits (equal, up to a
 * constant per state, to G + log p, so softmax and argmax are the same).
 */
export function actingScores(algorithm: ValueAlgorithm, qLogits: ArrayLike<number>, rewardLogits: ArrayLike<number>, out: Float32Array, actions = NUM_CLASSES): Float32Array {
  for (let a = 0; a < actions; a++) out[a] = algorithm === 'g' ? qLogits[a] + rewardLogits[a] : qLogits[a];
  return out;
}
