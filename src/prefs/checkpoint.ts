/**
 * Reward-model training checkpoints that resume exactly (as src/train/checkpoint.ts does for the Note RNN):
 * the weights, Adam's moments and the best epoch's weights, with the trainer's state (epoch, random state,
 * history), the answers the run trains on and the fingerprints of what it was made from, in one safetensors
 * file. Every problem names the file.
 */
import type { Fingerprints } from '../io/fingerprint.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { RewardModelTrainer, RewardTrainerState } from './reward_model.js';
import { TRAINER_TENSORS, trainerTensorEntries } from '../train/checkpoint.js';

export const PREFS_CHECKPOINT_FORMAT = 'rltuner-prefs-checkpoint';
export const PREFS_CHECKPOINT_VERSION = '1';

/** What a run trains on: the answers files (as given and resolved) and, for init 'note-rnn', the Note RNN file. */
export interface AnswersChoice {
  answers: { given: string; path: string }[];
  noteRnn?: string;
}

export class RewardCheckpointError extends Error {
  override readonly name = 'RewardCheckpointError';
}

export interface RewardCheckpoint {
  state: RewardTrainerState;
  data: AnswersChoice;
  fingerprints: Fingerprints;
  tensors: Map<string, { data: Float32Array }>;
}

const TENSORS = TRAINER_TENSORS;

export function encodeRewardCheckpoint(trainer: RewardModelTrainer, data: AnswersChoice, fingerprints: Fingerprints): Uint8Array {
  return encodeSafetensors(trainerTensorEntries(trainer.model, trainer.bestParams), {
    format: PREFS_CHECKPOINT_FORMAT,
    format_version: PREFS_CHECKPOINT_VERSION,
    trainer: JSON.stringify(trainer.state()),
    data: JSON.stringify(data),
    fingerprints: JSON.stringify(fingerprints),
  });
}

export function decodeRewardCheckpoint(bytes: Uint8Array, path: string): RewardCheckpoint {
  const decoded = decodeSafetensors(bytes, path);
  const md = decoded.metadata;
  if (md.format !== PREFS_CHECKPOINT_FORMAT) throw new RewardCheckpointError(`${path} is not a reward-model training checkpoint (its format is ${JSON.stringify(md.format ?? null)})`);
  if (md.format_version !== PREFS_CHECKPOINT_VERSION) {
    throw new RewardCheckpointError(`${path}: checkpoint version ${JSON.stringify(md.format_version ?? null)}; this rltuner resumes version ${PREFS_CHECKPOINT_VERSION}; start a new run with --out <new folder>`);
  }
  const missing = TENSORS.filter((n) => !decoded.tensors.has(n));
  if (missing.length) throw new RewardCheckpointError(`${path} lacks ${missing.join(', ')}; the checkpoint is damaged; start a new run with --out <new folder>`);
  const json = (key: string): unknown => {
    try {
      return JSON.parse(md[key] ?? '');
    } catch {
      throw new RewardCheckpointError(`${path}: its ${key} record is missing or not JSON; the checkpoint is damaged; start a new run with --out <new folder>`);
    }
  };
  const state = json('trainer') as RewardTrainerState;
  if (typeof state !== 'object' || state === null || !Number.isInteger(state.epoch) || typeof state.settings !== 'object' || !Number.isInteger(state.maxSteps)) {
    throw new RewardCheckpointError(`${path}: its trainer record is damaged; start a new run with --out <new folder>`);
  }
  return { state, data: json('data') as AnswersChoice, fingerprints: json('fingerprints') as Fingerprints, tensors: decoded.tensors };
}

/** Puts a checkpoint's weights, Adam moments, best weights and state into a trainer built with its settings. */
export function restoreRewardCheckpoint(trainer: RewardModelTrainer, checkpoint: RewardCheckpoint, path: string): void {
  const tensor = (name: (typeof TENSORS)[number], length: number) => {
    const data = checkpoint.tensors.get(name)!.data;
    if (data.length !== length) throw new RewardCheckpointError(`${path}: ${name} holds ${data.length} values, this model needs ${length}; the checkpoint is damaged`);
    return data;
  };
  const n = trainer.model.params.length;
  trainer.model.params.set(tensor('raw.params', n));
  trainer.model.adamM.set(tensor('raw.adam_m', n));
  trainer.model.adamV.set(tensor('raw.adam_v', n));
  trainer.bestParams.set(tensor('raw.best_params', n));
  trainer.restore(checkpoint.state);
}
