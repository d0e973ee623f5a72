/**
 * The library's reward-model training in one call (what the page's worker runs; the CLI's `prefs train`
 * drives the same trainer with its run folder): answers in, the held-out tenth by hash, the training loop,
 * and the best epoch's model as model-file bytes with the fingerprints of what it was made from.
 */
import type { Kernels } from '../engine/kernels.js';
import { kernelDigest } from '../io/fingerprint.js';
import { decodeModel, encodeModel, REWARD_MODEL, REWARD_MODEL_FINGERPRINT_FORMAT } from '../io/model_file.js';
import { sha256Hex } from '../io/sha256.js';
import { answersToJsonLines } from './answers.js';
import {
  DEFAULT_REWARD_TRAINING, HELD_OUT_PAIRS_DESCRIPTION, longestComposition, RewardModelTrainer, runRewardTraining, splitPairs,
  type PairMetrics, type PreferencePair, type RewardEpochRecord, type RewardTrainingSettings,
} from './reward_model.js';

export interface TrainRewardModelOptions {
  /** Settings over DEFAULT_REWARD_TRAINING. */
  settings?: Partial<RewardTrainingSettings>;
  /** The Note RNN's model-file bytes, for settings.init 'note-rnn'. */
  noteRnn?: Uint8Array;
  /** Within an epoch, after each update. */
  onProgress?(epoch: number, done: number, total: number, loss: number): void;
  /** After each epoch. */
  onEpoch?(record: RewardEpochRecord, isBest: boolean): void | Promise<void>;
  /** Stops between epochs (the result then holds the best epoch so far); an AbortSignal. */
  signal?: { readonly aborted: boolean };
}

export interface TrainRewardModelResult {
  settings: RewardTrainingSettings;
  /** The best epoch's model as a reward model file (what `tune --reward-model` and the library's tune take). */
  modelBytes: Uint8Array;
  /** Pairs trained on and held out (the held-out tenth by hash). */
  split: { train: number; heldOut: number };
  /** The best epoch's loss and accuracy on each side. */
  train: PairMetrics;
  heldOut: PairMetrics;
  bestEpoch: number;
  history: RewardEpochRecord[];
  stopped: boolean;
}

/** Trains a reward model on `pairs` (at least 2) and returns the best epoch's as model-file bytes. */
export async function trainRewardModel(kernels: Kernels, pairs: readonly PreferencePair[], options: TrainRewardModelOptions = {}): Promise<TrainRewardModelResult> {
  if (pairs.length < 2) throw new RangeError(`trainRewardModel: ${pairs.length} answered pairs; a reward model needs at least 2 (20 to 50 is a start)`);
  const settings: RewardTrainingSettings = { ...DEFAULT_REWARD_TRAINING, hiddenSizes: [...DEFAULT_REWARD_TRAINING.hiddenSizes], ...options.settings };
  const noteRnn = settings.init === 'note-rnn' ? decodeModel(requireBytes(options.noteRnn), 'the Note RNN') : null;
  if (noteRnn && !options.settings?.hiddenSizes) settings.hiddenSizes = [...noteRnn.config.hiddenSizes];
  const split = splitPairs(pairs);
  const trainer = new RewardModelTrainer(kernels, settings, longestComposition(pairs), noteRnn);
  const { stopped } = await runRewardTraining(trainer, split, {
    onProgress: options.onProgress,
    onEpoch: options.onEpoch,
    shouldStop: () => options.signal?.aborted ?? false,
  });
  const best = trainer.withBestParams(() => ({ train: trainer.evaluate(split.train), heldOut: trainer.evaluate(split.heldOut) }));
  const modelBytes = trainer.withBestParams(() => encodeModel(trainer.model, {
    data: { pairs: pairs.length, train: split.train.length, heldOut: split.heldOut.length, heldOutChosenBy: HELD_OUT_PAIRS_DESCRIPTION },
    training: { ...settings, epochsRun: trainer.epoch, bestEpoch: trainer.bestEpoch, bestHeldOut: best.heldOut },
    fingerprints: {
      format: REWARD_MODEL_FINGERPRINT_FORMAT, kernelBuild: kernels.relaxed ? 'relaxed' : 'plain',
      ...(kernels.wasmBytes ? { kernels: kernelDigest(kernels.wasmBytes) } : {}),
      answers: sha256Hex(answersToJsonLines(pairs)),
      ...(options.noteRnn && noteRnn ? { noteRnn: sha256Hex(options.noteRnn) } : {}),
    },
  }, REWARD_MODEL));
  return {
    settings, modelBytes, split: { train: split.train.length, heldOut: split.heldOut.length }, train: best.train, heldOut: best.heldOut,
    bestEpoch: trainer.bestEpoch, history: trainer.history, stopped,
  };
}

function requireBytes(bytes: Uint8Array | undefined): Uint8Array {
  if (!bytes) throw new RangeError("trainRewardModel: settings.init 'note-rnn' needs options.noteRnn, the Note RNN's model-file bytes");
  return bytes;
}
