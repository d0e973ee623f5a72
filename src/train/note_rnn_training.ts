/**
 * Maximum-likelihood training of the Note RNN (SPEC §3): next-step prediction, truncated BPTT over
 * windows, Adam, gradient clipping at global norm 5.
 *
 * Batching: B lanes; each lane walks through one melody window by window (T steps each), carrying its
 * LSTM state from one window to the next, and takes the next melody when its own ends (its state reset to
 * zero). So every prediction sees the whole melody before it, as in generation. An epoch ends when fewer
 * than half the lanes still hold a melody, so its last updates are not fitted to a handful of tunes (the
 * order is reshuffled every epoch). Inputs are events 0..n-2 and labels 1..n-1 of each melody, as the
 * model's encoding (src/music/encodings.ts) makes them: the basic encoding's are the tokens; the lookback
 * encoding's read each melody's bar grid (its meter and pickup).
 *
 * Regularisation (settings): dropout on the LSTM's inputs and outputs, its masks drawn from the trainer's
 * one Random (so a resumed run draws the masks it would have drawn), and decoupled weight decay in Adam.
 * Evaluation never drops.
 */
import type { Kernels } from '../engine/kernels.js';
import { createModel } from '../engine/arena.js';
import { hiddenSizesProblem } from '../engine/layout.js';
import type { AdamSettings, LstmModel } from '../engine/lstm_model.js';
import { NO_EVENT } from '../music/encoding.js';
import {
  actionsPlaying, BASIC_ENCODING, DEFAULT_BAR_GRID, encodingConfig, encodingNamed, encodingOf, ENCODING_NAMES, type BarGrid,
  type EncodingName, type MelodyEncoding,
} from '../music/encodings.js';
import { Random, type RandomState } from '../random.js';
import { EpochTrainer, runEpochs, shuffledOrder, type EpochHooks, type TrainingOutcome } from './epochs.js';

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
  /** How melodies become inputs and labels (src/music/encodings.ts). Default 'basic'. */
  encoding?: EncodingName;
  /** Probability of dropping each unit of each LSTM layer's output while training (Magenta: 0.5). Default 0. */
  dropout?: number;
  /** Probability of dropping each input entry of the first layer while training. Default 0. */
  inputDropout?: number;
  /** Decoupled weight decay λ of Adam (AdamW): weight matrices shrink by lr·λ per step. Default 0. */
  weightDecay?: number;
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
  encoding: 'basic',
  dropout: 0,
  inputDropout: 0,
  weightDecay: 0,
});

export interface SequenceMetrics {
  /**
   * Mean negative log-likelihood of the events, nats per predicted step. For the lookback encoding, each
   * event's probability sums the classes that play it (its own and a repeat class that would repeat it),
   * so the figure compares with the basic encoding's.
   */
  nats: number;
  /** Lookback encoding: the mean negative log-likelihood of the labels (what training minimises). */
  labelNats?: number;
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

/** Training or evaluation melodies: their tokens and where their steps fall in bars (absent: 4/4 from a downbeat). */
export interface MelodySet {
  tokens: readonly Uint8Array[];
  grids?: readonly BarGrid[];
}

/** Fills [T][B] windows lane by lane; see the file comment. */
class LaneScheduler {
  private next = 0;
  private readonly melodyOf: Int32Array;
  private readonly position: Int32Array;
  /** Each lane's melody and the position of its window's first input, as of the last fill. */
  readonly windowMelody: Int32Array;
  readonly windowStart: Int32Array;

  constructor(
    private readonly melodies: readonly Uint8Array[], private readonly order: Int32Array, private readonly B: number,
    private readonly encoding: MelodyEncoding = BASIC_ENCODING, private readonly grids?: readonly BarGrid[],
  ) {
    this.melodyOf = new Int32Array(B).fill(-1);
    this.position = new Int32Array(B);
    this.windowMelody = new Int32Array(B).fill(-1);
    this.windowStart = new Int32Array(B);
    if (grids !== undefined && grids.length !== melodies.length) throw new RangeError(`${melodies.length} melodies but ${grids.length} bar grids`);
  }

  /** Lanes that currently hold a melody. */
  activeLanes = 0;

  /**
   * Fills one window; returns the number of weighted rows (0 when every melody is done). `fresh[b]` is
   * set when lane b starts a new melody (its state must be reset before the window runs).
   */
  fill(T: number, inputs: Int32Array, labels: Int32Array, weights: Float32Array, fresh: Uint8Array): number {
    const B = this.B;
    const encoding = this.encoding;
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
      const grid = m >= 0 && this.grids ? this.grids[m] : DEFAULT_BAR_GRID;
      if (melody) this.activeLanes++;
      const pos = this.position[b];
      this.windowMelody[b] = m;
      this.windowStart[b] = pos;
      for (let t = 0; t < T; t++) {
        const i = t * B + b;
        if (melody && pos + t + 1 < melody.length) {
          inputs[i] = encoding.inputAt(melody, pos + t, grid);
          labels[i] = encoding.labelAt(melody, pos + t + 1, grid);
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

export class NoteRnnTrainer extends EpochTrainer<EpochRecord> {
  readonly settings: TrainingSettings;
  readonly encoding: MelodyEncoding;
  private readonly inputs: Int32Array;
  private readonly labels: Int32Array;
  private readonly weights: Float32Array;
  private readonly fresh: Uint8Array;

  constructor(kernels: Kernels, settings: TrainingSettings) {
    validateTrainingSettings(settings);
    const encoding = encodingNamed(settings.encoding ?? 'basic');
    const rng = new Random(settings.seed);
    const model = createModel(kernels, encodingConfig(encoding, settings.hiddenSizes), {
      maxBatch: settings.batchSize, maxSteps: settings.windowSteps, trainable: true, dropout: dropping(settings),
    });
    model.initialize(rng);
    super(model, rng, settings.patience ?? DEFAULT_TRAINING.patience);
    this.settings = { ...settings, hiddenSizes: [...settings.hiddenSizes], patience: this.patience };
    this.encoding = encoding;
    const n = settings.batchSize * settings.windowSteps;
    this.inputs = new Int32Array(n);
    this.labels = new Int32Array(n);
    this.weights = new Float32Array(n);
    this.fresh = new Uint8Array(settings.batchSize);
  }

  /**
   * One pass over the training melodies in a random order; returns mean training nats per step (of the
   * labels, under dropout when it is on). `grids`: each melody's bar grid (the lookback encoding reads them).
   */
  trainEpoch(melodies: readonly Uint8Array[], onProgress?: (done: number, total: number, nats: number) => void, grids?: readonly BarGrid[]): number {
    const order = shuffledOrder(melodies.length, this.rng);
    const { batchSize: B, windowSteps: T } = this.settings;
    const adam: AdamSettings = { learningRate: this.settings.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    if ((this.settings.weightDecay ?? 0) > 0) adam.weightDecay = this.settings.weightDecay;
    const dropout = dropping(this.settings) ? { input: this.settings.inputDropout ?? 0, output: this.settings.dropout ?? 0, source: this.rng } : undefined;
    const scheduler = new LaneScheduler(melodies, order, B, this.encoding, grids);
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
        { mode: 'global', maxNorm: this.settings.clipNorm }, 'carried', dropout);
      if (!Number.isFinite(nats)) throw new Error(`training diverged: loss is ${nats} at epoch ${this.epoch + 1}; lower --lr`);
      natsSum += nats * rows;
      done += rows;
      onProgress?.(done, totalSteps, natsSum / done);
    }
    this.epoch++;
    return natsSum / Math.max(1, done);
  }

  /** Next-step metrics over whole melodies (state carried through each melody; no dropout). */
  evaluate(melodies: readonly Uint8Array[], grids?: readonly BarGrid[]): SequenceMetrics {
    return evaluateNoteRnn(this.model, melodies, this.settings.windowSteps, this.inputs, this.labels, this.weights, this.fresh, grids);
  }

  /** The best epoch's validation loss, nats per step. */
  get bestValidNats(): number {
    return this.bestLoss;
  }

  /** Records an epoch; returns true when its validation loss is the best so far (its parameters are then kept). */
  record(trainNats: number, valid: SequenceMetrics, seconds: number): boolean {
    return this.recordEpoch({ epoch: this.epoch, trainNats, valid, seconds }, valid.nats);
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
    this.bestLoss = c.bestValidNats ?? Infinity;
    this.bestEpoch = c.bestEpoch;
  }
}

/** What the training loop reports (onProgress: after each window, the mean training nats so far) and asks. */
export type TrainingHooks = EpochHooks<EpochRecord>;

/**
 * The training loop (SPEC §3): until `epochs` have run, or validation has not improved for `patience`
 * epochs: one epoch of truncated BPTT over the training melodies in a new random order, then the validation
 * loss, keeping the best epoch's parameters.
 */
export async function runTraining(
  trainer: NoteRnnTrainer,
  data: { train: readonly Uint8Array[]; valid: readonly Uint8Array[]; grids?: { train: readonly BarGrid[]; valid: readonly BarGrid[] } },
  hooks: TrainingHooks = {},
): Promise<TrainingOutcome> {
  return runEpochs(trainer, trainer.settings.epochs, hooks, (onProgress, seconds) => {
    const trainNats = trainer.trainEpoch(data.train, onProgress, data.grids?.train);
    return trainer.record(trainNats, trainer.evaluate(data.valid, data.grids?.valid), seconds());
  });
}

/**
 * Next-step metrics of any model over whole melodies, lanes of at most the model's batch, windows of
 * `windowSteps` (at most the model's maxSteps), in the model's encoding (each melody on its bar grid from
 * `grids`, default 4/4 from a downbeat). Scratch arrays may be passed to avoid allocation; `onProgress`
 * hears the predicted steps done after each window.
 */
export function evaluateNoteRnn(
  model: LstmModel, melodies: readonly Uint8Array[], windowSteps = model.maxSteps,
  inputs?: Int32Array, labels?: Int32Array, weights?: Float32Array, fresh?: Uint8Array, grids?: readonly BarGrid[],
  onProgress?: (done: number, total: number) => void,
): SequenceMetrics {
  const B = model.maxBatch, T = Math.min(windowSteps, model.maxSteps);
  const encoding = encodingOf(model.config);
  inputs ??= new Int32Array(B * T);
  labels ??= new Int32Array(B * T);
  weights ??= new Float32Array(B * T);
  fresh ??= new Uint8Array(B);
  const scheduler = new LaneScheduler(melodies, Int32Array.from(melodies.keys()), B, encoding, grids);
  const events = encoding === BASIC_ENCODING ? null : new EventScorer(model, melodies, grids);
  let loss = 0, labelLoss = 0, steps = 0, correct = 0, correctOnEvents = 0, eventSteps = 0;
  const total = onProgress ? melodies.reduce((sum, m) => sum + Math.max(0, m.length - 1), 0) : 0;
  model.resetState(B);
  for (;;) {
    const rows = scheduler.fill(T, inputs, labels, weights, fresh);
    if (rows === 0) break;
    for (let b = 0; b < B; b++) if (fresh[b]) model.resetStateRow(b);
    const s = model.evaluateSequence(inputs, labels, weights, B, T, 'carried', NO_EVENT);
    steps += s.weight;
    if (events) {
      labelLoss += s.loss;
      const e = events.score(scheduler, weights, B, T);
      loss += e.loss;
      correct += e.correct;
      correctOnEvents += e.correctOnEvents;
      eventSteps += e.events;
    } else {
      loss += s.loss;
      correct += s.correct;
      correctOnEvents += s.correctOnEvents;
      eventSteps += s.events;
    }
    onProgress?.(steps, total);
  }
  if (steps === 0) throw new Error('evaluate: the melodies hold no step to predict (each needs at least 2 steps)');
  const nats = loss / steps;
  return {
    nats, ...(events ? { labelNats: labelLoss / steps } : {}), perplexity: Math.exp(nats), accuracy: correct / steps,
    accuracyOnEvents: eventSteps ? correctOnEvents / eventSteps : NaN, steps,
  };
}

/**
 * The events' log-probabilities under an encoding whose classes are not the events (lookback): at each
 * weighted row of the last evaluated window, log Σ p(a) over the classes a that play the row's event, and
 * whether the most likely class plays it.
 */
class EventScorer {
  private readonly encoding: MelodyEncoding;
  private readonly playing = new Int32Array(8);

  constructor(private readonly model: LstmModel, private readonly melodies: readonly Uint8Array[], private readonly grids?: readonly BarGrid[]) {
    this.encoding = encodingOf(model.config);
  }

  score(scheduler: LaneScheduler, weights: Float32Array, B: number, T: number): { loss: number; correct: number; correctOnEvents: number; events: number } {
    const logits = this.model.lastSequenceLogits(B, T);
    const stride = this.model.outputStride, C = this.encoding.outputSize;
    let loss = 0, correct = 0, correctOnEvents = 0, events = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const i = t * B + b;
        const w = weights[i];
        if (w === 0) continue;
        const m = scheduler.windowMelody[b];
        const melody = this.melodies[m];
        const grid = this.grids ? this.grids[m] : DEFAULT_BAR_GRID;
        const position = scheduler.windowStart[b] + t + 1; // the event predicted
        const event = melody[position];
        const row = i * stride;
        let best = -Infinity, argmax = 0;
        for (let a = 0; a < C; a++) if (logits[row + a] > best) { best = logits[row + a]; argmax = a; }
        let all = 0;
        for (let a = 0; a < C; a++) all += Math.exp(logits[row + a] - best);
        const n = actionsPlaying(this.encoding, event, melody, position, grid, this.playing);
        let hit = 0;
        for (let k = 0; k < n; k++) hit += Math.exp(logits[row + this.playing[k]] - best);
        loss -= w * Math.log(hit / all);
        const right = this.encoding.decode(argmax, melody, position, grid) === event ? w : 0;
        correct += right;
        if (event !== NO_EVENT) {
          events += w;
          correctOnEvents += right;
        }
      }
    }
    return { loss, correct, correctOnEvents, events };
  }
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
  dropout: { min: 0, max: 0.95, integer: false },
  inputDropout: { min: 0, max: 0.95, integer: false },
  weightDecay: { min: 0, max: 100, integer: false },
} as const satisfies Record<Exclude<keyof TrainingSettings, 'hiddenSizes' | 'seed' | 'encoding'>, { min: number; max: number; integer: boolean }>;

/** Whether the settings ask for dropout (the model then plans its masks). */
function dropping(s: TrainingSettings): boolean {
  return (s.dropout ?? 0) > 0 || (s.inputDropout ?? 0) > 0;
}

/** The settings a trainer may leave out (the defaults then hold). */
const OPTIONAL_SETTINGS: ReadonlySet<string> = new Set(['patience', 'dropout', 'inputDropout', 'weightDecay']);

export function validateTrainingSettings(s: TrainingSettings): void {
  for (const [name, { min, max, integer }] of Object.entries(TRAINING_LIMITS)) {
    const v = s[name as keyof typeof TRAINING_LIMITS];
    if (v === undefined && OPTIONAL_SETTINGS.has(name)) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      throw new RangeError(`training setting ${name} = ${v} is outside ${min}..${max}${integer ? ' (an integer)' : ''}`);
    }
  }
  const problem = hiddenSizesProblem(s.hiddenSizes);
  if (problem !== null) throw new RangeError(`training setting ${problem}`);
  if (s.encoding !== undefined && !(ENCODING_NAMES as readonly string[]).includes(s.encoding)) {
    throw new RangeError(`training setting encoding = ${JSON.stringify(s.encoding)} is not one of ${ENCODING_NAMES.join(', ')}`);
  }
}
