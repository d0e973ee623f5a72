/**
 * A model file as an acting policy: a Note RNN or a Q/Ψ-tuned network acts alone; a G-tuned network acts
 * with its Note RNN prior (acting scores = G + the prior's logits, SPEC §4.4), which must be the very Note RNN
 * it was tuned from: its SHA-256 is checked against the fingerprint the G model records. The library
 * (loadPolicy in src/index.ts) and the CLI (src/cli/policy.ts) load policies here and word the refusals
 * for their callers.
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { loadModelInto, type DecodedModel } from '../io/model_file.js';
import { sha256Hex } from '../io/sha256.js';
import { tunedModelSettings, type TunedModelSettings } from './tuned_model.js';

/** How a prior matches the G model that acts with it. */
export type PriorMatch =
  | { kind: 'same' }
  /** The G model records no fingerprint of its Note RNN (a file from before fingerprints): taken on trust. */
  | { kind: 'unrecorded' }
  | { kind: 'other'; recorded: string; actual: string; tunedFrom?: string };

/** Whether `priorBytes` are the Note RNN the G model `decoded` was tuned from (its recorded SHA-256). */
export function priorMatch(decoded: DecodedModel, priorBytes: Uint8Array): PriorMatch {
  const recorded = decoded.info.fingerprints?.noteRnn;
  if (recorded === undefined) return { kind: 'unrecorded' };
  const actual = sha256Hex(priorBytes);
  if (recorded === actual) return { kind: 'same' };
  const notes = decoded.info.notes as { tunedFrom?: unknown } | undefined;
  return { kind: 'other', recorded, actual, ...(typeof notes?.tunedFrom === 'string' ? { tunedFrom: notes.tunedFrom } : {}) };
}

export interface ActingPolicy {
  /** Models stepped in lockstep; their logits are summed into acting scores (sampleCompositions takes them). */
  models: LstmModel[];
  /** 'note_rnn' for a model the file does not say was tuned; else the tuning algorithm. */
  algorithm: TunedModelSettings['algorithm'];
}

/**
 * The acting models of a decoded model file (its algorithm checked: tunedModelSettings), with room for
 * `maxBatch` compositions at a time: alone, or for a G model with `prior` (which the caller has matched with
 * priorMatch). A G model without a prior throws; callers check first and say what to pass.
 */
export function actingPolicy(
  kernels: Kernels, decoded: DecodedModel, source: string, maxBatch: number, prior?: { decoded: DecodedModel; source: string },
): ActingPolicy {
  const { algorithm } = tunedModelSettings(decoded, source);
  if (algorithm !== 'g') {
    const arena = createArena(kernels, { policy: { config: decoded.config, maxBatch } });
    loadModelInto(arena.models.policy, decoded, source);
    return { models: [arena.models.policy], algorithm };
  }
  if (prior === undefined) throw new Error(`${source}: a G model acts with its Note RNN prior; none was given`);
  const arena = createArena(kernels, {
    policy: { config: decoded.config, maxBatch },
    prior: { config: prior.decoded.config, maxBatch },
  });
  loadModelInto(arena.models.policy, decoded, source);
  loadModelInto(arena.models.prior, prior.decoded, prior.source);
  return { models: [arena.models.policy, arena.models.prior], algorithm };
}
