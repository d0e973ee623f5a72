/**
 * The least change that pleases a scripted listener: the reference a tune on its answers is judged against.
 *
 * Tuning on a reward u with a KL penalty β to the Note RNN p has one optimum over whole compositions,
 * π*(c) ∝ p(c)·exp(u(c)/β) (the KL-regularised objective E_π[u] − β·KL(π ‖ p) is maximised there). For a
 * listener's statistic that is a function of its utility level, π* is the Note RNN's own compositions with
 * each utility level reweighted: P*(level v) ∝ P_p(v)·exp(x·v), x = 1/β, and within a level exactly the
 * Note RNN's conditional distribution. So from a pool of the Note RNN's samples, π* at the x where the
 * statistic reaches a target is a stratified draw: per level, its share of the count, drawn uniformly from
 * the pool's compositions of that level (without replacement while the level has enough).
 *
 * What π* changes besides the statistic is what the statistic itself brings with it in the Note RNN's
 * music (its melodies that end on the tonic hold their notes longer, say); what a tuned model changes
 * beyond π* at the same statistic is what tuning added: the reward model's mistakes and the optimiser's
 * noise (bench/prefs_learning_curve.ts compares the two row by row).
 */
import type { Random } from '../random.js';

/** A pool of the Note RNN's compositions with each one's summed log p over its steps (from sampleCompositions). */
export interface CompositionPool {
  compositions: readonly Uint8Array[];
  primers: readonly ArrayLike<number>[];
  logProbReference: ArrayLike<number>;
}

export interface LeastChangeDraw {
  /** The drawn compositions with their primers; log π* and log p summed over each one's steps; k3 per composition NaN (a per-step estimate π* does not have). */
  compositions: Uint8Array[];
  primers: ArrayLike<number>[];
  logProbPolicy: Float64Array;
  logProbReference: Float64Array;
  klK3: Float64Array;
  /** x = 1/β: the tilt exp(x·u) that reaches the target. */
  tilt: number;
  /** The statistic under π* (exact over the pool's levels) and over the drawn compositions. */
  statistic: number;
  drawnStatistic: number;
  /** KL(π* ‖ p) per composition, exact over the pool's levels: E*[x·u] − log E_p[exp(x·u)]. */
  klPerComposition: number;
  /** Compositions drawn a second time because a level had fewer in the pool than its share (0: none). */
  repeated: number;
}

/**
 * Draws `count` compositions of π*(c) ∝ p(c)·exp(x·utility(c)) from `pool`, x ≥ 0 found by bisection so
 * that the mean of `statisticOf(level)` under π* is `target` (the closest reachable when x = 0 already
 * passes it or x = maxTilt does not reach it). `statisticOf` must be monotone in the utility level.
 */
export function leastChangeDraw(
  pool: CompositionPool, utility: (tokens: ArrayLike<number>) => number, statisticOf: (level: number) => number, target: number,
  count: number, rng: Random, maxTilt = 30,
): LeastChangeDraw {
  const n = pool.compositions.length;
  if (n === 0) throw new RangeError('leastChangeDraw: the pool is empty');
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`leastChangeDraw: count ${count} is not a positive integer`);
  const byLevel = new Map<number, number[]>();
  const levelOf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = utility(pool.compositions[i]);
    if (!Number.isFinite(v)) throw new RangeError(`leastChangeDraw: the utility of pool composition ${i} is ${v}`);
    levelOf[i] = v;
    const list = byLevel.get(v);
    if (list) list.push(i);
    else byLevel.set(v, [i]);
  }
  const levels = [...byLevel.keys()].sort((a, b) => a - b);
  const top = levels[levels.length - 1];
  // Level weights P_p(v)·exp(x·(v − top)) (shifted by the top level, so no overflow), normalised.
  const weightsAt = (x: number) => {
    const w = levels.map((v) => (byLevel.get(v)!.length / n) * Math.exp(x * (v - top)));
    const z = w.reduce((s, y) => s + y, 0);
    return { shares: w.map((y) => y / z), z };
  };
  const statisticAt = (x: number) => weightsAt(x).shares.reduce((s, q, k) => s + q * statisticOf(levels[k]), 0);
  const rising = statisticAt(maxTilt) >= statisticAt(0);
  const below = (x: number) => (rising ? statisticAt(x) < target : statisticAt(x) > target);
  let lo = 0, hi = maxTilt;
  if (!below(0)) hi = 0;
  else if (below(maxTilt)) lo = maxTilt;
  else for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (below(mid)) lo = mid;
    else hi = mid;
  }
  const x = hi;
  const { shares, z } = weightsAt(x);
  // log E_p[exp(x·u)] = x·top + log z.
  const logNormaliser = x * top + Math.log(z);
  let meanTilt = 0;
  shares.forEach((q, k) => (meanTilt += q * x * levels[k]));
  // Largest remainders: counts per level summing to `count`.
  const exact = shares.map((q) => q * count);
  const counts = exact.map(Math.floor);
  let left = count - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, k) => ({ k, r: e - counts[k] })).sort((a, b) => b.r - a.r || a.k - b.k);
  for (let j = 0; left > 0; j++, left--) counts[order[j % order.length].k]++;
  const chosen: number[] = [];
  let repeated = 0;
  levels.forEach((v, k) => {
    const members = byLevel.get(v)!.slice();
    for (let j = 0; j < counts[k]; j++) {
      if (j < members.length) {
        // Partial Fisher–Yates: a uniform draw without replacement.
        const pick = j + Math.floor(rng.float() * (members.length - j));
        [members[j], members[pick]] = [members[pick], members[j]];
        chosen.push(members[j]);
      } else {
        chosen.push(members[Math.floor(rng.float() * members.length)]);
        repeated++;
      }
    }
  });
  // In a random order: rows over blocks of compositions (distinct windows per block) must not see the levels sorted.
  for (let j = chosen.length - 1; j > 0; j--) {
    const pick = Math.floor(rng.float() * (j + 1));
    [chosen[j], chosen[pick]] = [chosen[pick], chosen[j]];
  }
  const drawn = chosen.reduce((s, i) => s + statisticOf(levelOf[i]), 0) / count;
  return {
    compositions: chosen.map((i) => pool.compositions[i]),
    primers: chosen.map((i) => pool.primers[i]),
    logProbReference: Float64Array.from(chosen, (i) => pool.logProbReference[i]),
    logProbPolicy: Float64Array.from(chosen, (i) => pool.logProbReference[i] + x * levelOf[i] - logNormaliser),
    klK3: new Float64Array(count).fill(NaN),
    tilt: x,
    statistic: statisticAt(x),
    drawnStatistic: drawn,
    klPerComposition: meanTilt - logNormaliser,
    repeated,
  };
}
