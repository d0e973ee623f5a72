/**
 * Maximum-likelihood training of the Note RNN (SPEC §3): next-step prediction, truncated BPTT over
 * windows, Adam, gradient clipping at global norm 5.
 *
 * Batching: B lanes; each lane walks through one melody window by window (T steps each), carrying its
 * LSTM state from one window to the next, and takes the next melody when its own ends (its state reset to
 * zero). So every prediction sees the whole melody before it, as in generation. An epoch ends when fewer
 * than half the lanes still hold a melody, so its last updates are not fitted to a handful of tunes (the
 * order is reshuffled every epoch). Inputs are events 0..n-2 and labels 1..n-1 of each melody.
 */
import type { Kernels } from '../engine/kernels.js';
import { createModel } from '../engine/arena.js';
import { hiddenSizesProblem } from '../engine/layout.js';
import type { AdamSettings, LstmModel } from '../engine/lstm_model.js';
import { NO_EVENT, NUM_CLASSES } from '../music/encoding.js';
import { Random, type RandomState } from '../random.js';

export interface TrainingSettings {
  /** LSTM layer sizes, bottom first. */
  hiddenSizes: number[];
  /** Lanes (melodies trained side by side). */
  batchSize: number;
  /** Steps per BPTT window. */
  windowSteps: number;
  /** The most epochs to run. */
  epochs: number;
  /** Stop when validation loss has not improved for this many epochs (early stopping). Default 5. */
  patience?: number;
  learningRate: number;
  /** Global gradient norm bound. */
  clipNorm: number;
  seed: number;
}

export const DEFAULT_TRAINING: Readonly<Required<TrainingSettings>> = Object.freeze({
  hiddenSizes: [100],
  batchSize: 64,
  windowSteps: 64,
  epochs: 200,
  patience: 5,
  learningRate: 0.002,
  clipNorm: 5,
  seed: 1,
});

export interface SequenceMetrics {
  /** Mean negative log-likelihood, nats per predicted step. */
  nats: number;
  perplexity: number;
  accuracy: number;
  /** Accuracy over steps whose target is not NO_EVENT. */
  accuracyOnEvents: number;
  steps: number;
}

export interface EpochRecord {
  epoch: number;
  trainNats: number;
  valid: SequenceMetrics;
  seconds: number;
}

export interface TrainerCheckpoint {
  settings: TrainingSettings;
  epoch: number;
  random: RandomState;
  adamStep: number;
  history: EpochRecord[];
  bestValidNats: number;
  bestEpoch: number;
}

/** Fills [T][B] windows lane by lane; see the file comment. */
class LaneScheduler {
  private next = 0;
  private readonly melodyOf: Int32Array;
  private readonly position: Int32Array;

  constructor(private readonly melodies: readonly Uint8Array[], private readonly order: Int32Array, private readonly B: number) {
    this.melodyOf = new Int32Array(B).fill(-1);
    this.position = new Int32Array(B);
  }

  /** Lanes that currently hold a melody. */
  activeLanes = 0;

  /**
   * Fills one window; returns the number of weighted rows (0 when every melody is done). `fresh[b]` is
   * set when lane b starts a new melody (its state must be reset before the window runs).
   */
  fill(T: number, inputs: Int32Array, labels: Int32Array, weights: Float32Array, fresh: Uint8Array): number {
    const B = this.B;
    let rows = 0;
    this.activeLanes = 0;
    fresh.fill(0);
    for (let b = 0; b < B; b++) {
      let m = this.melodyOf[b];
      if (m < 0 || this.position[b] >= this.melodies[m].length - 1) {
        m = this.next < this.order.length ? this.order[this.next++] : -1;
        this.melodyOf[b] = m;
        this.position[b] = 0;
        fresh[b] = 1;
      }
      const melody = m >= 0 ? this.melodies[m] : null;
      if (melody) this.activeLanes++;
      const pos = this.position[b];
      for (let t = 0; t < T; t++) {
        const i = t * B + b;
        if (melody && pos + t + 1 < melody.length) {
          inputs[i] = melody[pos + t];
          labels[i] = melody[pos + t + 1];
          weights[i] = 1;
          rows++;
        } else {
          inputs[i] = NO_EVENT;
          labels[i] = NO_EVENT;
          weights[i] = 0;
        }
      }
      this.position[b] = pos + T;
    }
    return rows;
  }
}

export class NoteRnnTrainer {
  readonly model: LstmModel;
  readonly settings: TrainingSettings;
  readonly rng: Random;
  epoch = 0;
  history: EpochRecord[] = [];
  bestValidNats = Infinity;
  bestEpoch = 0;
  /** The parameters of the best epoch by validation loss (the initial ones before the first epoch). */
  readonly bestParams: Float32Array;
  private readonly inputs: Int32Array;
  private readonly labels: Int32Array;
  private readonly weights: Float32Array;
  private readonly fresh: Uint8Array;

  constructor(kernels: Kernels, settings: TrainingSettings) {
    validateTrainingSettings(settings);
    this.settings = { ...settings, hiddenSizes: [...settings.hiddenSizes], patience: settings.patience ?? DEFAULT_TRAINING.patience };
    this.rng = new Random(settings.seed);
    this.model = createModel(kernels, { inputSize: NUM_CLASSES, hiddenSizes: settings.hiddenSizes, outputSize: NUM_CLASSES }, {
      maxBatch: settings.batchSize, maxSteps: settings.windowSteps, trainable: true,
    });
    this.model.initialize(this.rng);
    this.bestParams = Float32Array.from(this.model.params);
    const n = settings.batchSize * settings.windowSteps;
    this.inputs = new Int32Array(n);
    this.labels = new Int32Array(n);
    this.weights = new Float32Array(n);
    this.fresh = new Uint8Array(settings.batchSize);
  }

  /** One pass over the training melodies in a random order; returns mean training nats per step. */
  trainEpoch(melodies: readonly Uint8Array[], onProgress?: (done: number, total: number, nats: number) => void): number {
    const order = Int32Array.from(melodies.keys());
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const { batchSize: B, windowSteps: T } = this.settings;
    const adam: AdamSettings = { learningRate: this.settings.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const scheduler = new LaneScheduler(melodies, order, B);
    const totalSteps = melodies.reduce((s, m) => s + Math.max(0, m.length - 1), 0);
    let done = 0, natsSum = 0;
    this.model.resetState(B);
    for (;;) {
      const rows = scheduler.fill(T, this.inputs, this.labels, this.weights, this.fresh);
      // When most lanes have run dry, the few melodies left would dominate the last updates of the
      // epoch; end it there (the order is reshuffled every epoch, so no melody is skipped for good).
      if (rows === 0 || scheduler.activeLanes * 2 < B) break;
      for (let b = 0; b < B; b++) if (this.fresh[b]) this.model.resetStateRow(b);
      const nats = this.model.trainSequence(this.inputs, this.labels, this.weights, B, T, adam,
        { mode: 'global', maxNorm: this.settings.clipNorm }, 'carried');
      if (!Number.isFinite(nats)) throw new Error(`training diverged: loss is ${nats} at epoch ${this.epoch + 1}; lower --lr`);
      natsSum += nats * rows;
      done += rows;
      onProgress?.(done, totalSteps, natsSum / done);
    }
    this.epoch++;
    return natsSum / Math.max(1, done);
  }

  /** Next-step metrics over whole melodies (state carried through each melody). */
  evaluate(melodies: readonly Uint8Array[]): SequenceMetrics {
    return evaluateNoteRnn(this.model, melodies, this.settings.windowSteps, this.inputs, this.labels, this.weights, this.fresh);
  }

  /** Epochs since the best one (0 right after an improvement). */
  get epochsWithoutImprovement(): number {
    return this.epoch - this.bestEpoch;
  }

  /** True when validation has not improved for `settings.patience` epochs. */
  get patienceRunOut(): boolean {
    return this.history.length > 0 && this.epochsWithoutImprovement >= (this.settings.patience ?? DEFAULT_TRAINING.patience);
  }

  /** Records an epoch; returns true when its validation loss is the best so far (its parameters are then kept). */
  record(trainNats: number, valid: SequenceMetrics, seconds: number): boolean {
    this.history.push({ epoch: this.epoch, trainNats, valid, seconds });
    if (valid.nats < this.bestValidNats) {
      this.bestValidNats = valid.nats;
      this.bestEpoch = this.epoch;
      this.bestParams.set(this.model.params);
      return true;
    }
    return false;
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

  checkpoint(): TrainerCheckpoint {
    return {
      settings: this.settings, epoch: this.epoch, random: this.rng.getState(), adamStep: this.model.adamStep,
      history: this.history, bestValidNats: this.bestValidNats, bestEpoch: this.bestEpoch,
    };
  }

  restore(c: TrainerCheckpoint): void {
    this.epoch = c.epoch;
    this.rng.setState(c.random);
    this.model.adamStep = c.adamStep;
    this.history = c.history;
    this.bestValidNats = c.bestValidNats ?? Infinity;
    this.bestEpoch = c.bestEpoch;
  }
}

/** What the training loop reports and asks (the CLI writes files; a library caller may do anything). */
export interface TrainingHooks {
  /** During an epoch, after each window. */
  onProgress?(epoch: number, done: number, total: number, nats: number): void;
  /** After each epoch, its record given (`isBest`: its parameters are the best so far, now in trainer.bestParams). */
  onEpoch?(record: EpochRecord, isBest: boolean): void | Promise<void>;
  /** Asked before each epoch; true stops the run there. */
  shouldStop?(): boolean;
  /** A monotonic clock in milliseconds [performance.now]. */
  now?(): number;
}

/** How a training run ended. */
export interface TrainingOutcome {
  /** shouldStop ended it. */
  stopped: boolean;
  /** Validation did not improve for `patience` epochs before `epochs` ran. */
  stoppedEarly: boolean;
}

/**
 * The training loop (SPEC §3): until `epochs` have run, or validation has not improved for `patience`
 * epochs: one epoch of truncated BPTT over the training melodies in a new random order, then the validation
 * loss, keeping the best epoch's parameters.
 */
export async function runTraining(
  trainer: NoteRnnTrainer, data: { train: readonly Uint8Array[]; valid: readonly Uint8Array[] }, hooks: TrainingHooks = {},
): Promise<TrainingOutcome> {
  const now = hooks.now ?? (() => performance.now());
  while (trainer.epoch < trainer.settings.epochs) {
    if (hooks.shouldStop?.()) return { stopped: true, stoppedEarly: false };
    const started = now();
    const epoch = trainer.epoch + 1;
    const trainNats = trainer.trainEpoch(data.train, (done, total, nats) => hooks.onProgress?.(epoch, done, total, nats));
    const valid = trainer.evaluate(data.valid);
    const isBest = trainer.record(trainNats, valid, (now() - started) / 1000);
    await hooks.onEpoch?.(trainer.history[trainer.history.length - 1], isBest);
    if (trainer.patienceRunOut) break;
  }
  return { stopped: false, stoppedEarly: trainer.patienceRunOut && trainer.epoch < trainer.settings.epochs };
}

/**
 * Next-step metrics of any model over whole melodies, lanes of at most the model's batch, windows of
 * `windowSteps` (at most the model's maxSteps). Scratch arrays may be passed to avoid allocation;
 * `onProgress` hears the predicted steps done after each window.
 */
export function evaluateNoteRnn(
  model: LstmModel, melodies: readonly Uint8Array[], windowSteps = model.maxSteps,
  inputs?: Int32Array, labels?: Int32Array, weights?: Float32Array, fresh?: Uint8Array,
  onProgress?: (done: number, total: number) => void,
): SequenceMetrics {
  const B = model.maxBatch, T = Math.min(windowSteps, model.maxSteps);
  inputs ??= new Int32Array(B * T);
  labels ??= new Int32Array(B * T);
  weights ??= new Float32Array(B * T);
  fresh ??= new Uint8Array(B);
  const scheduler = new LaneScheduler(melodies, Int32Array.from(melodies.keys()), B);
  let loss = 0, steps = 0, correct = 0, correctOnEvents = 0, events = 0;
  const total = onProgress ? melodies.reduce((sum, m) => sum + Math.max(0, m.length - 1), 0) : 0;
  model.resetState(B);
  for (;;) {
    const rows = scheduler.fill(T, inputs, labels, weights, fresh);
    if (rows === 0) break;
    for (let b = 0; b < B; b++) if (fresh[b]) model.resetStateRow(b);
    const s = model.evaluateSequence(inputs, labels, weights, B, T, 'carried', NO_EVENT);
    loss += s.loss;
    steps += s.weight;
    correct += s.correct;
    correctOnEvents += s.correctOnEvents;
    events += s.events;
    onProgress?.(steps, total);
  }
  if (steps === 0) throw new Error('evaluate: the melodies hold no step to predict (each needs at least 2 steps)');
  const nats = loss / steps;
  return { nats, perplexity: Math.exp(nats), accuracy: correct / steps, accuracyOnEvents: events ? correctOnEvents / events : NaN, steps };
}

/**
 * The allowed range of each numeric training setting (hiddenSizes: the engine's hiddenSizesProblem): what
 * validateTrainingSettings holds a trainer to and `rltuner train` its flags.
 */
export const TRAINING_LIMITS = {
  batchSize: { min: 1, max: 4096, integer: true },
  windowSteps: { min: 1, max: 4096, integer: true },
  epochs: { min: 0, max: 100000, integer: true },
  patience: { min: 1, max: 100000, integer: true },
  learningRate: { min: 1e-7, max: 1, integer: false },
  clipNorm: { min: 1e-6, max: 1e6, integer: false },
} as const satisfies Record<Exclude<keyof TrainingSettings, 'hiddenSizes' | 'seed'>, { min: number; max: number; integer: boolean }>;

export function validateTrainingSettings(s: TrainingSettings): void {
  for (const [name, { min, max, integer }] of Object.entries(TRAINING_LIMITS)) {
    const v = s[name as keyof typeof TRAINING_LIMITS];
    if (v === undefined && name === 'patience') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw new RangeError(`training setting ${name} = ${v} is outside ${min}..${max}${integer ? ' (an integer)' : ''}`);
    }
  }
  const problem = hiddenSizesProblem(s.hiddenSizes);
  if (problem !== null) throw new RangeError(`training setting ${problem}`);
}
