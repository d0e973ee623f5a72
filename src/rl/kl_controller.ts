/**
 * Adaptive KL control (Ziegler et al. 2019, the proportional controller): keeps the tuned policy's KL from
 * the prior near a target by adapting β = 1/s, the weight of log p against the music-theory reward. It sees
 * the exact KL(π ‖ p) of every training step, and adapts when the driver asks (every `klEvery` steps, at
 * the next composition end):
 *
 *   KL = mean per step since the last adaptation,  e = clip(KL / target − 1, −0.2, 0.2),
 *   β ← β · (1 + e · n / horizon),  n the steps since the last adaptation.
 */
export interface KlControllerState {
  /** Σ KL(π ‖ p) over the steps since the last adaptation. */
  klSum: number;
  /** Steps since the last adaptation. */
  steps: number;
}

export class KlController {
  private klSum = 0;
  private steps = 0;

  constructor(
    /** Nats per note to hold the policy at (0: off, the reward scaler never changes). */
    readonly target: number,
    /** Steps over which β adapts. */
    readonly horizon: number,
  ) {}

  /** One training step's KL(π ‖ p). */
  observe(kl: number): void {
    this.klSum += kl;
    this.steps++;
  }

  /** The reward scaler s = 1/β after adapting to the steps seen since the last call (unchanged when off). */
  adapt(rewardScaler: number): number {
    const { klSum, steps } = this;
    this.klSum = 0;
    this.steps = 0;
    if (!(this.target > 0) || steps === 0 || !(rewardScaler > 0)) return rewardScaler;
    const kl = klSum / steps;
    const e = Math.min(0.2, Math.max(-0.2, kl / this.target - 1));
    const beta = (1 / rewardScaler) * (1 + (e * steps) / this.horizon);
    return 1 / beta;
  }

  get state(): KlControllerState {
    return { klSum: this.klSum, steps: this.steps };
  }

  set state(s: KlControllerState) {
    this.klSum = s.klSum;
    this.steps = s.steps;
  }
}
