/**
 * The Bradley–Terry loss of a reward model on answered pairs (Bradley & Terry 1952; as a reward model's loss,
 * Christiano et al. 2017): the chance that the first composition of a pair is preferred is σ(r₁ − r₂), r the
 * model's scores. For an answer y (1: the first preferred, 0: the second, ½: no preference, a tie),
 *
 *   loss = −y·log σ(d) − (1 − y)·log σ(−d),   d = r₁ − r₂        (per pair; the mean over the pairs)
 *   ∂loss/∂r₁ = σ(d) − y = −∂loss/∂r₂
 *
 * A tie pulls the two scores together (its loss is least at d = 0). A handful of scalars per pair, so it is
 * computed here in float64, and the gradient is handed to the model's backward pass
 * (LstmModel.backwardFromOutputGradient): kernels compute, TypeScript decides.
 */

/** The answer of a pair as the loss reads it: 'A' prefers the first composition, 'B' the second, 'none' neither. */
export type PairAnswer = 'A' | 'B' | 'none';

/** y of an answer: the probability it gives the first composition being preferred. */
export function answerTarget(answer: PairAnswer): number {
  return answer === 'A' ? 1 : answer === 'B' ? 0 : 0.5;
}

/** log σ(x), stable for every x: −softplus(−x). */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/** σ(x), stable for every x. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * The mean Bradley–Terry loss over `count` pairs: scores of the first and second compositions and the targets
 * y (answerTarget). When `dFirst` and `dSecond` are given, they receive the gradient of the mean with respect
 * to each score. Returns the mean loss (nats per pair).
 */
export function bradleyTerryLoss(
  first: ArrayLike<number>, second: ArrayLike<number>, targets: ArrayLike<number>, count: number,
  dFirst?: Float64Array, dSecond?: Float64Array,
): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`bradleyTerryLoss: count ${count} must be a positive integer`);
  if (first.length < count || second.length < count || targets.length < count) {
    throw new RangeError(`bradleyTerryLoss: expected ${count} scores of each side and ${count} targets, got ${first.length}, ${second.length} and ${targets.length}`);
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    const y = targets[i];
    if (!(y >= 0 && y <= 1)) throw new RangeError(`bradleyTerryLoss: target ${y} of pair ${i} is outside [0, 1]`);
    const d = first[i] - second[i];
    if (!Number.isFinite(d)) throw new RangeError(`bradleyTerryLoss: the scores of pair ${i} (${first[i]}, ${second[i]}) are not finite`);
    total -= y * logSigmoid(d) + (1 - y) * logSigmoid(-d);
    if (dFirst && dSecond) {
      const g = (sigmoid(d) - y) / count;
      dFirst[i] = g;
      dSecond[i] = -g;
    }
  }
  return total / count;
}

/**
 * How often the scores order the pairs as answered: among the pairs with a preference (y ≠ ½), the share
 * whose first score is above the second when the first was preferred, and below it when the second was
 * (equal scores count half). Null when no pair has a preference.
 */
export function pairAgreement(first: ArrayLike<number>, second: ArrayLike<number>, targets: ArrayLike<number>, count: number): { agree: number; pairs: number; share: number | null } {
  let agree = 0, pairs = 0;
  for (let i = 0; i < count; i++) {
    const y = targets[i];
    if (y === 0.5) continue;
    pairs++;
    const d = first[i] - second[i];
    agree += d === 0 ? 0.5 : (d > 0) === (y > 0.5) ? 1 : 0;
  }
  return { agree, pairs, share: pairs > 0 ? agree / pairs : null };
}
