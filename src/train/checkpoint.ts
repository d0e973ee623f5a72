/**
 * Training checkpoints that resume exactly: the Note RNN's weights, Adam moments and best epoch's weights,
 * with the trainer's state (epoch, random state, history), the data the run trains on and the fingerprints
 * of what it was made from, in one safetensors file. Every problem names the file.
 */
import type { Fingerprints } from '../io/fingerprint.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { DataChoice } from './training_data.js';
import type { NoteRnnTrainer, TrainerCheckpoint } from './note_rnn_training.js';

export const TRAIN_CHECKPOINT_FORMAT = 'rltuner-train-checkpoint';
export const TRAIN_CHECKPOINT_VERSION = '2';

/** The file is not a training checkpoint this rltuner can resume from. */
export class TrainingCheckpointError extends Error {
  override readonly name = 'TrainingCheckpointError';
}

/** What a training checkpoint holds. */
export interface TrainingCheckpoint {
  state: TrainerCheckpoint;
  data: DataChoice;
  fingerprints: Fingerprints;
  tensors: Map<string, { data: Float32Array }>;
}

/** The tensors of a trainer's checkpoint (a Note RNN's or a reward model's): weights, Adam moments, best weights. */
export const TRAINER_TENSORS = ['raw.params', 'raw.adam_m', 'raw.adam_v', 'raw.best_params'] as const;
const TENSORS = TRAINER_TENSORS;

/** The safetensors entries of TRAINER_TENSORS for `model` and the best weights kept beside it. */
export function trainerTensorEntries(model: { params: Float32Array; adamM: Float32Array; adamV: Float32Array }, bestParams: Float32Array) {
  return [
    { name: 'raw.params', shape: [model.params.length], data: model.params },
    { name: 'raw.adam_m', shape: [model.adamM.length], data: model.adamM },
    { name: 'raw.adam_v', shape: [model.adamV.length], data: model.adamV },
    { name: 'raw.best_params', shape: [bestParams.length], data: bestParams },
  ];
}

export function encodeTrainingCheckpoint(trainer: NoteRnnTrainer, data: DataChoice, fingerprints: Fingerprints): Uint8Array {
  return encodeSafetensors(trainerTensorEntries(trainer.model, trainer.bestParams), {
    format: TRAIN_CHECKPOINT_FORMAT,
    format_version: TRAIN_CHECKPOINT_VERSION,
    trainer: JSON.stringify(trainer.checkpoint()),
    data: JSON.stringify(data),
    fingerprints: JSON.stringify(fingerprints),
  });
}

export function decodeTrainingCheckpoint(bytes: Uint8Array, path: string): TrainingCheckpoint {
  const decoded = decodeSafetensors(bytes, path);
  const md = decoded.metadata;
  if (md.format !== TRAIN_CHECKPOINT_FORMAT) throw new TrainingCheckpointError(`${path} is not a training checkpoint (its format is ${JSON.stringify(md.format ?? null)})`);
  if (md.format_version !== TRAIN_CHECKPOINT_VERSION || !md.fingerprints || !md.data) {
    throw new TrainingCheckpointError(
      `${path} was written by an older rltuner (checkpoint version ${md.format_version ?? 1}, without fingerprints) and cannot be resumed safely; ` +
        'start a new run with --out <new folder>');
  }
  const missing = TENSORS.filter((n) => !decoded.tensors.has(n));
  if (missing.length) throw new TrainingCheckpointError(`${path} lacks ${missing.join(', ')}; the checkpoint is damaged; start a new run with --out <new folder>`);
  return { state: JSON.parse(md.trainer), data: JSON.parse(md.data), fingerprints: JSON.parse(md.fingerprints), tensors: decoded.tensors };
}

/** Puts a checkpoint's weights, Adam moments, best weights and state into a trainer built with its settings. */
export function restoreTrainingCheckpoint(trainer: NoteRnnTrainer, checkpoint: TrainingCheckpoint): void {
  const tensor = (name: (typeof TENSORS)[number]) => checkpoint.tensors.get(name)!.data;
  trainer.model.params.set(tensor('raw.params'));
  trainer.model.adamM.set(tensor('raw.adam_m'));
  trainer.model.adamV.set(tensor('raw.adam_v'));
  trainer.bestParams.set(tensor('raw.best_params'));
  trainer.restore(checkpoint.state);
}
