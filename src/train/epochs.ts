/**
 * Training in epochs with early stopping (SPEC §3), as the Note RNN's and the reward model's trainers share
 * it: each epoch's random order, the records of the epochs run with the best one by held-out loss and its
 * parameters, and the loop of epochs.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import type { Random } from '../random.js';

/** 0..n-1 in a random order (Fisher–Yates: rng.int(i + 1) for i from n - 1 down to 1). */
export function shuffledOrder(n: number, rng: Random): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A trainer of `model` in epochs (`rng`: its one Random): the epochs' records, and the best by held-out loss. */
export abstract class EpochTrainer<R> {
  /** Epochs run (a trainer's trainEpoch counts them). */
  epoch = 0;
  history: R[] = [];
  /** The best epoch's held-out loss (lower is better). */
  bestLoss = Infinity;
  bestEpoch = 0;
  /** The parameters of the best epoch (the initial ones before the first epoch). */
  readonly bestParams: Float32Array;

  constructor(readonly model: LstmModel, readonly rng: Random, protected readonly patience: number) {
    this.bestParams = Float32Array.from(model.params);
  }

  /** Epochs since the best one (0 right after an improvement). */
  get epochsWithoutImprovement(): number {
    return this.epoch - this.bestEpoch;
  }

  /** True when the held-out loss has not improved for `patience` epochs. */
  get patienceRunOut(): boolean {
    return this.history.length > 0 && this.epochsWithoutImprovement >= this.patience;
  }

  /** Records the epoch just run; true when its `loss` is the lowest yet or `alwaysBest` (its parameters then kept). */
  protected recordEpoch(record: R, loss: number, alwaysBest = false): boolean {
    this.history.push(record);
    if (!(alwaysBest || loss < this.bestLoss)) return false;
    this.bestLoss = loss;
    this.bestEpoch = this.epoch;
    this.bestParams.set(this.model.params);
    return true;
  }

  /** Runs `f` with the best epoch's parameters in the model, then puts the live ones back. */
  withBestParams<T>(f: () => T): T {
    const live = Float32Array.from(this.model.params);
    this.model.params.set(this.bestParams);
    try {
      return f();
    } finally {
      this.model.params.set(live);
    }
  }
}

/** What the loop of epochs reports and asks (the CLI writes files; a library caller may do anything). */
export interface EpochHooks<R> {
  /** During an epoch (counted from 1), after each update. */
  onProgress?(epoch: number, done: number, total: number, loss: number): void;
  /** After each epoch, its record given (`isBest`: its parameters are the best so far, now in bestParams). */
  onEpoch?(record: R, isBest: boolean): void | Promise<void>;
  /** Asked before each epoch; true stops the run there. */
  shouldStop?(): boolean;
  /** A monotonic clock in milliseconds [performance.now]. */
  now?(): number;
}

/** How a training run ended: shouldStop ended it, or patience ran out before `epochs` had run. */
export interface TrainingOutcome {
  stopped: boolean;
  stoppedEarly: boolean;
}

/**
 * The loop of epochs: until `epochs` have run or patience runs out, `runEpoch` trains an epoch, evaluates
 * the held-out data and records the epoch with its `seconds()`, returning whether it is the best so far.
 */
export async function runEpochs<R>(
  trainer: EpochTrainer<R>, epochs: number, hooks: EpochHooks<R>,
  runEpoch: (onProgress: (done: number, total: number, loss: number) => void, seconds: () => number) => boolean,
): Promise<TrainingOutcome> {
  const now = hooks.now ?? (() => performance.now());
  while (trainer.epoch < epochs) {
    if (hooks.shouldStop?.()) return { stopped: true, stoppedEarly: false };
    const started = now(), epoch = trainer.epoch + 1;
    const isBest = runEpoch((done, total, loss) => hooks.onProgress?.(epoch, done, total, loss), () => (now() - started) / 1000);
    await hooks.onEpoch?.(trainer.history[trainer.history.length - 1], isBest);
    if (trainer.patienceRunOut) break;
  }
  return { stopped: false, stoppedEarly: trainer.patienceRunOut && trainer.epoch < epochs };
}
