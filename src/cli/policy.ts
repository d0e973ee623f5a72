/**
 * Loading a model file as a sampling policy: a Note RNN or a Q/Ψ-tuned network acts alone; a G-tuned
 * network acts with its Note RNN prior (acting scores G + prior logits, SPEC §4.4).
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { decodeModel, loadModelInto, type DecodedModel } from '../io/model_file.js';
import { readModelBytes } from './common.js';

export interface Policy {
  /** Models stepped in lockstep; their logits are summed into acting scores. */
  models: LstmModel[];
  /** What this policy is: 'note_rnn', 'q', 'psi' or 'g'. */
  kind: string;
  path: string;
  decoded: DecodedModel;
}

/** The tuning algorithm recorded in a tuned model's metadata, or 'note_rnn'. */
export function policyKind(decoded: DecodedModel): string {
  const notes = decoded.info.notes as { algorithm?: string } | undefined;
  return notes?.algorithm ?? 'note_rnn';
}

export function loadPolicy(kernels: Kernels, modelFile: string | undefined, maxBatch: number, priorFile?: string): Policy {
  const { path, bytes } = readModelBytes(modelFile);
  const decoded = decodeModel(bytes, path);
  const kind = policyKind(decoded);
  if (kind !== 'g') {
    const arena = createArena(kernels, { policy: { config: decoded.config, maxBatch } });
    loadModelInto(arena.models.policy, decoded, path);
    return { models: [arena.models.policy], kind, path, decoded };
  }
  const prior = readModelBytes(priorFile);
  const priorDecoded = decodeModel(prior.bytes, prior.path);
  const arena = createArena(kernels, {
    policy: { config: decoded.config, maxBatch },
    prior: { config: priorDecoded.config, maxBatch },
  });
  loadModelInto(arena.models.policy, decoded, path);
  loadModelInto(arena.models.prior, priorDecoded, prior.path);
  return { models: [arena.models.policy, arena.models.prior], kind, path, decoded };
}
