/** Step rewards, TD targets of Q / Psi / G learning and acting scores on hand-computed values. */
import { describe, expect, it } from 'vitest';
import { logSoftmaxRow, logSumExpRow } from '../../src/policy/softmax.js';
import { actingScores, stepReward, tdTargets } from '../../src/rl/targets.js';

const STRIDE = 40; // 38 actions + 2 padding entries that must never be read

/** A minibatch of three next-state rows: one ordinary, one terminal, one with huge logits. */
function batchFixture() {
  const rewards = Float32Array.from([1, -3, 0.5]);
  const terminal = Uint8Array.from([0, 1, 0]);
  const scores = new Float32Array(3 * STRIDE);
  const logProbs = new Float32Array(3 * STRIDE);
  for (let r = 0; r < 3; r++) {
    for (let a = 0; a < 38; a++) {
      scores[r * STRIDE + a] = r === 2 ? 1000 : 0;
      logProbs[r * STRIDE + a] = -Math.log(38);
    }
    scores[r * STRIDE + 38] = 1e9; // padding
    scores[r * STRIDE + 39] = 1e9;
  }
  scores[5] = 2; // row 0, action 5
  return { rewards, terminal, scores, logProbs };
}

describe('stepReward', () => {
  it('adds log p for Q and Psi, not for G or music-theory-only rewards', () => {
    expect(stepReward('q', -2, 3, 0.5)).toBe(-0.5);
    expect(stepReward('psi', -2, 3, 0.5)).toBe(-0.5);
    expect(stepReward('g', -2, 3, 0.5)).toBe(1.5);
    expect(stepReward('q', -2, 3, 0.5, true)).toBe(1.5);
  });
});

describe('logsumexp and log softmax', () => {
  it('computes log Σ exp on a row', () => {
    expect(logSumExpRow([Math.log(1), Math.log(2), Math.log(5)], 0, 3)).toBeCloseTo(Math.log(8), 12);
    expect(logSumExpRow([7, 1000, 1000], 1, 2)).toBeCloseTo(1000 + Math.log(2), 9);
    expect(logSumExpRow([-1000, -1000], 0, 2)).toBeCloseTo(-1000 + Math.log(2), 9);
  });
  it('writes log softmax at the same offset and returns the logsumexp', () => {
    const logits = Float32Array.from([9, 1, 2, 3]);
    const out = new Float32Array(4);
    const lse = logSoftmaxRow(logits, 1, 3, out);
    const expected = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(lse).toBeCloseTo(expected, 12);
    expect(out[0]).toBe(0);
    expect(out[3]).toBeCloseTo(3 - expected, 6);
    expect(Math.exp(out[1]) + Math.exp(out[2]) + Math.exp(out[3])).toBeCloseTo(1, 6);
  });
});

describe('tdTargets', () => {
  const gamma = 0.5;
  it('Q: y = r + γ max Q_T; terminal y = r; stable with huge logits', () => {
    const f = batchFixture();
    const y = tdTargets('q', f.rewards, f.terminal, 3, f.scores, STRIDE, null, gamma, new Float32Array(3));
    expect(Array.from(y)).toEqual([2, -3, 500.5]);
  });
  it('Psi: y = r + γ logsumexp Q_T', () => {
    const f = batchFixture();
    const y = tdTargets('psi', f.rewards, f.terminal, 3, f.scores, STRIDE, null, gamma, new Float32Array(3));
    expect(y[0]).toBeCloseTo(1 + 0.5 * Math.log(37 + Math.exp(2)), 5);
    expect(y[1]).toBe(-3);
    expect(y[2]).toBeCloseTo(0.5 + 0.5 * (1000 + Math.log(38)), 3);
  });
  it('G: y = r + γ logsumexp (Q_T + log p)', () => {
    const f = batchFixture();
    const y = tdTargets('g', f.rewards, f.terminal, 3, f.scores, STRIDE, f.logProbs, gamma, new Float32Array(3));
    expect(y[0]).toBeCloseTo(1 + 0.5 * (Math.log(37 + Math.exp(2)) - Math.log(38)), 5);
    expect(y[1]).toBe(-3);
    expect(y[2]).toBeCloseTo(500.5, 3);
  });
  it('G without the Reward RNN log-probabilities is an error', () => {
    const f = batchFixture();
    expect(() => tdTargets('g', f.rewards, f.terminal, 3, f.scores, STRIDE, null, gamma, new Float32Array(3))).toThrow(/nextLogProbs/);
  });
});

describe('actingScores', () => {
  it('acts on Q for q and psi, on Q + Reward RNN logits for g', () => {
    const q = Float32Array.from({ length: 38 }, (_, a) => a);
    const prior = Float32Array.from({ length: 38 }, () => -1);
    expect(actingScores('q', q, prior, new Float32Array(38))[10]).toBe(10);
    expect(actingScores('psi', q, prior, new Float32Array(38))[10]).toBe(10);
    expect(actingScores('g', q, prior, new Float32Array(38))[10]).toBe(9);
  });
});
