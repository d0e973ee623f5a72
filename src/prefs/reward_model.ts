/**
 * A reward model learned from pairwise answers: an LSTM over a composition's tokens (the Note RNN's kernels
 * and layout) with a one-unit output read at the composition's last step as its score, trained with the
 * Bradley–Terry loss (bradley_terry.ts) on (first, second, answer) pairs, ties included.
 *
 * Why a one-unit output layer rather than a head on the Note RNN's 38 logits: the stack's own output layer
 * is the head (output.w [H][1], output.b [1]), so the same planned arena, forward and backward serve, and
 * the model is a plain LSTM stack in a model file. Read at every step, the output is the running score of
 * the composition so far, R(prefix), which is what a tuner's potential-based shaping steps alongside a
 * composition (preference_reward.ts); the loss trains it only at the last step.
 *
 * The LSTM layers can start from the Note RNN's weights (init 'note-rnn': its features of the melody so far,
 * learnt from the corpus, with the head at random), or at random. Training runs in epochs as the Note RNN's
 * does (src/train/epochs.ts): each over the pairs in a new random order, Adam with global clipping, the
 * held-out pairs' loss after each epoch, the best epoch's weights kept, early stopping on patience.
 *
 * Batching: a batch of P pairs is 2P rows (pair i: rows 2i and 2i + 1), time-major, each composition from
 * the zero state; a shorter composition is padded with NO_EVENT after its end (the LSTM reads left to
 * right, so padding after the last step cannot change the score read there).
 */
import type { Kernels } from '../engine/kernels.js';
import { createModel } from '../engine/arena.js';
import type { LstmStackConfig } from '../engine/layout.js';
import type { AdamSettings, LstmModel } from '../engine/lstm_model.js';
import { NO_EVENT, NUM_CLASSES } from '../music/encoding.js';
import { BASIC_ENCODING, encodingOf } from '../music/encodings.js';
import { nameHash } from '../music/corpus.js';
import { Random, type RandomState } from '../random.js';
import { EpochTrainer, runEpochs, shuffledOrder, type EpochHooks, type TrainingOutcome } from '../train/epochs.js';
import { answerTarget, bradleyTerryLoss, pairAgreement, type PairAnswer } from './bradley_terry.js';

/** One answered pair: two compositions (tokens) and which was preferred. */
export interface PreferencePair {
  a: Uint8Array;
  b: Uint8Array;
  answer: PairAnswer;
}

/** The longest composition a pair may hold (steps): the tuning config's numNotes maximum. */
export const MAX_COMPOSITION_STEPS = 1024;

/** The reward model's architecture: the Note RNN's input, the given LSTM layers, one output (the score). */
export function rewardModelConfig(hiddenSizes: readonly number[]): LstmStackConfig {
  return { inputSize: NUM_CLASSES, hiddenSizes: [...hiddenSizes], outputSize: 1 };
}

export interface RewardTrainingSettings {
  /** LSTM layer sizes, bottom first (with init 'note-rnn': the Note RNN's). */
  hiddenSizes: number[];
  /** 'note-rnn': the LSTM layers start from the Note RNN's weights, the head at random; 'random': all at random. */
  init: 'note-rnn' | 'random';
  /** Pairs per update. */
  batchPairs: number;
  /** The most passes over the training pairs. */
  epochs: number;
  /** Stop when the held-out loss has not improved for this many epochs. */
  patience: number;
  learningRate: number;
  /** Global gradient norm bound. */
  clipNorm: number;
  seed: number;
}

/**
 * The defaults: a 64-unit LSTM from random weights, 8 pairs an update at learning rate 0.002, at most 20
 * epochs, patience 6. Chosen in trials with scripted listeners (src/prefs/listeners.ts) answering pairs of
 * the shipped Note RNN's 32-step compositions: over five seeds of 300 answers (20 % lapses) from the
 * tonic-ending listener, the model ordered 2,000 fresh pairs as the listener's statistic does 84–97 % of the
 * time, where starting from the Note RNN's 100 units (lr 0.003, 16 pairs) gave 73–85 % over three seeds.
 * bench/prefs_learning_curve.ts measures the defaults.
 */
export const DEFAULT_REWARD_TRAINING: Readonly<RewardTrainingSettings> = Object.freeze({
  hiddenSizes: [64],
  init: 'random',
  batchPairs: 8,
  epochs: 20,
  patience: 6,
  learningRate: 0.002,
  clipNorm: 5,
  seed: 1,
} as RewardTrainingSettings);

/**
 * The allowed range of each numeric reward training setting (hiddenSizes: 1..4096 units a layer): what
 * validateRewardTrainingSettings holds a trainer to and `rltuner prefs train` its flags.
 */
export const REWARD_TRAINING_LIMITS = {
  batchPairs: { min: 1, max: 2048, integer: true },
  epochs: { min: 0, max: 100000, integer: true },
  patience: { min: 1, max: 100000, integer: true },
  learningRate: { min: 1e-7, max: 1, integer: false },
  clipNorm: { min: 1e-6, max: 1e6, integer: false },
  seed: { min: 0, max: 4294967295, integer: true },
} as const satisfies Record<Exclude<keyof RewardTrainingSettings, 'hiddenSizes' | 'init'>, { min: number; max: number; integer: boolean }>;

export function validateRewardTrainingSettings(s: RewardTrainingSettings): void {
  const check = (name: string, v: number, lo: number, hi: number, integer = true) => {
    if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new RangeError(`reward training setting ${name} = ${v} is outside ${lo}..${hi}${integer ? ' (an integer)' : ''}`);
    }
  };
  for (const [name, { min, max, integer }] of Object.entries(REWARD_TRAINING_LIMITS)) check(name, s[name as keyof typeof REWARD_TRAINING_LIMITS], min, max, integer);
  if (s.init !== 'note-rnn' && s.init !== 'random') throw new RangeError(`reward training setting init = ${String(s.init)} is not 'note-rnn' or 'random'`);
  if (!Array.isArray(s.hiddenSizes) || s.hiddenSizes.length < 1) throw new RangeError('reward training setting hiddenSizes must list at least one layer size');
  s.hiddenSizes.forEach((h, i) => check(`hiddenSizes[${i}]`, h, 1, 4096));
}

/** A pair's name for the held-out split: its two compositions' tokens, in a fixed order (so A/B and B/A agree). */
export function pairName(pair: PreferencePair): string {
  const x = Array.from(pair.a).join(' '), y = Array.from(pair.b).join(' ');
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

/** Share of the pairs held out to choose the best epoch and report accuracy. */
export const HELD_OUT_PAIR_SHARE = 0.1;
export const HELD_OUT_PAIRS_DESCRIPTION = 'the pairs whose two compositions hash (FNV-1a of their tokens, in a fixed order) into the lowest tenth';

/**
 * The held-out tenth by hash: a pair is held out when the FNV-1a hash of pairName % 1000 falls below 100, so
 * its side never depends on the other answers, their order, or which composition played first (the same pair
 * answered twice lands on one side). With two or more pairs, each side gets at least one.
 */
export function splitPairs(pairs: readonly PreferencePair[], share = HELD_OUT_PAIR_SHARE): { train: PreferencePair[]; heldOut: PreferencePair[] } {
  const hashes = pairs.map((p) => nameHash(pairName(p)));
  const isHeldOut = hashes.map((h) => h % 1000 < share * 1000);
  if (pairs.length >= 2) {
    const order = hashes.map((hash, i) => ({ hash, i })).sort((x, y) => x.hash - y.hash || x.i - y.i);
    if (!isHeldOut.includes(true)) isHeldOut[order[0].i] = true;
    if (!isHeldOut.includes(false)) isHeldOut[order[order.length - 1].i] = false;
  }
  return { train: pairs.filter((_, i) => !isHeldOut[i]), heldOut: pairs.filter((_, i) => isHeldOut[i]) };
}

/** The longest composition in the pairs (at least 1). */
export function longestComposition(pairs: readonly PreferencePair[]): number {
  let longest = 1;
  for (const p of pairs) longest = Math.max(longest, p.a.length, p.b.length);
  return longest;
}

/**
 * Writes compositions as rows of a time-major batch [T][B] (padded with NO_EVENT after each one's end) and
 * returns T, the longest. `lastSteps[b]` receives each row's last step.
 */
function fillRows(compositions: readonly ArrayLike<number>[], inputs: Int32Array, lastSteps: Int32Array): number {
  const B = compositions.length;
  let T = 1;
  for (const c of compositions) T = Math.max(T, c.length);
  for (let b = 0; b < B; b++) {
    const c = compositions[b];
    if (c.length === 0) throw new RangeError(`reward model: composition ${b} of the batch is empty; a score needs at least one step`);
    for (let t = 0; t < T; t++) inputs[t * B + b] = t < c.length ? c[t] : NO_EVENT;
    lastSteps[b] = c.length - 1;
  }
  return T;
}

/**
 * The model's score of each composition (its output at the composition's last step, from the zero state),
 * in batches of up to the model's maxBatch; every composition must fit its maxSteps.
 */
export function scoreCompositions(model: LstmModel, compositions: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(compositions.length);
  const B = model.maxBatch, Q = model.outputStride;
  const inputs = new Int32Array(B * model.maxSteps);
  const lastSteps = new Int32Array(B);
  for (let from = 0; from < compositions.length; from += B) {
    const rows = compositions.slice(from, from + B);
    for (const [i, c] of rows.entries()) {
      if (c.length > model.maxSteps) throw new RangeError(`reward model: composition ${from + i} has ${c.length} steps, more than the ${model.maxSteps} this model was planned for`);
    }
    const T = fillRows(rows, inputs, lastSteps);
    const logits = model.forwardSequence(inputs, rows.length, T);
    for (let b = 0; b < rows.length; b++) out[from + b] = logits[(lastSteps[b] * rows.length + b) * Q];
  }
  return out;
}

/** How a reward model does on answered pairs. */
export interface PairMetrics {
  /** Mean Bradley–Terry loss per pair (ties included), nats. */
  loss: number;
  /** Share of the pairs with a preference that the scores order as answered (null: none has one). */
  accuracy: number | null;
  /** Pairs in all, and those with a preference. */
  pairs: number;
  decided: number;
}

/** The model's loss and accuracy on `pairs`. */
export function evaluatePairs(model: LstmModel, pairs: readonly PreferencePair[]): PairMetrics {
  if (pairs.length === 0) return { loss: NaN, accuracy: null, pairs: 0, decided: 0 };
  const first = scoreCompositions(model, pairs.map((p) => p.a));
  const second = scoreCompositions(model, pairs.map((p) => p.b));
  const targets = pairs.map((p) => answerTarget(p.answer));
  const loss = bradleyTerryLoss(first, second, targets, pairs.length);
  const agreement = pairAgreement(first, second, targets, pairs.length);
  return { loss, accuracy: agreement.share, pairs: pairs.length, decided: agreement.pairs };
}

export interface RewardEpochRecord {
  epoch: number;
  trainLoss: number;
  heldOut: PairMetrics;
  seconds: number;
}

/** What a checkpoint keeps of a reward-model trainer besides the weights and Adam's moments. */
export interface RewardTrainerState {
  settings: RewardTrainingSettings;
  maxSteps: number;
  epoch: number;
  random: RandomState;
  adamStep: number;
  history: RewardEpochRecord[];
  bestLoss: number;
  bestEpoch: number;
}

/** The LSTM tensors of a Note RNN (as decoded from a model file), to start a reward model's layers from. */
export interface LstmTensors {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class RewardModelTrainer extends EpochTrainer<RewardEpochRecord> {
  readonly settings: RewardTrainingSettings;
  /** The longest composition a batch may hold. */
  readonly maxSteps: number;
  private readonly inputs: Int32Array;
  private readonly lastSteps: Int32Array;
  private readonly dOutputs: Float64Array;

  /**
   * A reward model planned for compositions of up to `maxSteps`, initialised from `seed`: at random, or with
   * init 'note-rnn' its LSTM layers copied from `noteRnn` (which must have the same hidden sizes).
   */
  constructor(kernels: Kernels, settings: RewardTrainingSettings, maxSteps: number, noteRnn: LstmTensors | null = null) {
    validateRewardTrainingSettings(settings);
    if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > MAX_COMPOSITION_STEPS) {
      throw new RangeError(`reward model: compositions of ${maxSteps} steps; allowed 1..${MAX_COMPOSITION_STEPS} (MAX_COMPOSITION_STEPS)`);
    }
    const rng = new Random(settings.seed);
    const rows = 2 * settings.batchPairs;
    const model = createModel(kernels, rewardModelConfig(settings.hiddenSizes), { maxBatch: rows, maxSteps, trainable: true });
    model.initialize(rng);
    if (settings.init === 'note-rnn') {
      if (!noteRnn) throw new RangeError("reward model: init 'note-rnn' needs the Note RNN's weights");
      copyLstmLayers(model, noteRnn);
    }
    super(model, rng, settings.patience);
    this.settings = { ...settings, hiddenSizes: [...settings.hiddenSizes] };
    this.maxSteps = maxSteps;
    this.inputs = new Int32Array(rows * maxSteps);
    this.lastSteps = new Int32Array(rows);
    this.dOutputs = new Float64Array(rows * maxSteps);
  }

  /** One pass over the training pairs in a new random order; returns the mean training loss per pair. */
  trainEpoch(pairs: readonly PreferencePair[], onProgress?: (done: number, total: number, loss: number) => void): number {
    if (pairs.length === 0) throw new RangeError('reward model: no training pairs');
    const order = shuffledOrder(pairs.length, this.rng);
    const P = this.settings.batchPairs;
    const adam: AdamSettings = { learningRate: this.settings.learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const first = new Float64Array(P), second = new Float64Array(P), targets = new Float64Array(P);
    const dFirst = new Float64Array(P), dSecond = new Float64Array(P);
    let total = 0;
    for (let from = 0; from < order.length; from += P) {
      const batch = Array.from(order.subarray(from, Math.min(order.length, from + P)), (i) => pairs[i]);
      const n = batch.length, B = 2 * n;
      const rows = batch.flatMap((p) => [p.a, p.b]);
      for (const [i, c] of rows.entries()) {
        if (c.length > this.maxSteps) throw new RangeError(`reward model: a composition of ${c.length} steps (pair ${order[from + (i >> 1)]}), more than the ${this.maxSteps} this model was planned for`);
      }
      const T = fillRows(rows, this.inputs, this.lastSteps);
      const logits = this.model.forwardSequence(this.inputs, B, T);
      const Q = this.model.outputStride;
      for (let i = 0; i < n; i++) {
        first[i] = logits[(this.lastSteps[2 * i] * B + 2 * i) * Q];
        second[i] = logits[(this.lastSteps[2 * i + 1] * B + 2 * i + 1) * Q];
        targets[i] = answerTarget(batch[i].answer);
      }
      const loss = bradleyTerryLoss(first, second, targets, n, dFirst, dSecond);
      if (!Number.isFinite(loss)) throw new Error(`reward model training diverged: loss ${loss} at epoch ${this.epoch + 1}; lower the learning rate`);
      const d = this.dOutputs;
      d.fill(0, 0, T * B);
      for (let i = 0; i < n; i++) {
        d[this.lastSteps[2 * i] * B + 2 * i] = dFirst[i];
        d[this.lastSteps[2 * i + 1] * B + 2 * i + 1] = dSecond[i];
      }
      this.model.backwardFromOutputGradient(d, B, T);
      this.model.adamUpdate(adam, { mode: 'global', maxNorm: this.settings.clipNorm });
      total += loss * n;
      onProgress?.(from + n, order.length, total / (from + n));
    }
    this.epoch++;
    return total / pairs.length;
  }

  /** Loss and accuracy on `pairs` with the current weights. */
  evaluate(pairs: readonly PreferencePair[]): PairMetrics {
    return evaluatePairs(this.model, pairs);
  }

  /**
   * Records an epoch; returns true when its held-out loss is the best so far (its weights are then kept).
   * Without held-out pairs every epoch is the best: the last weights are kept.
   */
  record(trainLoss: number, heldOut: PairMetrics, seconds: number): boolean {
    return this.recordEpoch({ epoch: this.epoch, trainLoss, heldOut, seconds }, heldOut.loss, heldOut.pairs === 0);
  }

  state(): RewardTrainerState {
    return {
      settings: this.settings, maxSteps: this.maxSteps, epoch: this.epoch, random: this.rng.getState(), adamStep: this.model.adamStep,
      history: this.history, bestLoss: this.bestLoss, bestEpoch: this.bestEpoch,
    };
  }

  restore(s: RewardTrainerState): void {
    this.epoch = s.epoch;
    this.rng.setState(s.random);
    this.model.adamStep = s.adamStep;
    this.history = s.history;
    this.bestLoss = s.bestLoss ?? Infinity;
    this.bestEpoch = s.bestEpoch;
  }
}

/** A Note RNN a reward model cannot start from (init 'note-rnn'): other hidden sizes, or another encoding. */
export class IncompatibleNoteRnnError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'IncompatibleNoteRnnError';
  }
}

/**
 * Copies a Note RNN's LSTM layers into a reward model of the same hidden sizes (the head is left as it is).
 * The Note RNN must read what the reward model reads, the basic encoding's 38 classes: a lookback or phrase
 * Note RNN's first layer reads other inputs, so it is refused.
 */
export function copyLstmLayers(model: LstmModel, noteRnn: LstmTensors): void {
  const encoding = encodingOf(noteRnn.config);
  if (encoding !== BASIC_ENCODING) {
    throw new IncompatibleNoteRnnError(`reward model: starting from the Note RNN needs one of the basic encoding (${NUM_CLASSES} classes in, the events a reward model reads), but this Note RNN uses the ${encoding.name} encoding (${noteRnn.config.inputSize} inputs); pass a basic Note RNN with --model, or --init random`);
  }
  const want = model.config.hiddenSizes.join(','), have = noteRnn.config.hiddenSizes.join(',');
  if (want !== have) {
    throw new IncompatibleNoteRnnError(`reward model: starting from the Note RNN needs its hidden sizes [${have}], but the reward model has [${want}]; pass --hidden ${have}, or --init random`);
  }
  const tensors = new Map(model.exportTensors().map((t) => [t.name, { shape: t.shape, data: t.data }]));
  for (const name of tensors.keys()) {
    if (!name.startsWith('lstm.')) continue;
    const t = noteRnn.tensors.get(name);
    if (!t) throw new RangeError(`reward model: the Note RNN has no tensor "${name}"`);
    tensors.set(name, { shape: t.shape, data: t.data });
  }
  model.importTensors(tensors, 'Note RNN');
}

/** What the reward training loop reports and asks (the CLI writes files; the page's worker posts messages). */
export type RewardTrainingHooks = EpochHooks<RewardEpochRecord>;

/**
 * The training loop: until `epochs` have run or the held-out loss has not improved for `patience` epochs,
 * an epoch over the training pairs, then the held-out pairs' loss and accuracy, keeping the best epoch's
 * weights. Without held-out pairs every epoch is the best (the last weights are kept).
 */
export async function runRewardTraining(
  trainer: RewardModelTrainer, data: { train: readonly PreferencePair[]; heldOut: readonly PreferencePair[] }, hooks: RewardTrainingHooks = {},
): Promise<TrainingOutcome> {
  return runEpochs(trainer, trainer.settings.epochs, hooks, (onProgress, seconds) => {
    const trainLoss = trainer.trainEpoch(data.train, onProgress);
    return trainer.record(trainLoss, trainer.evaluate(data.heldOut), seconds());
  });
}
