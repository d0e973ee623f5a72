/**
 * Loading a model file as a sampling policy: a Note RNN or a Q/Ψ-tuned network acts alone; a G-tuned
 * network acts with its Note RNN prior (acting scores G + prior logits, SPEC §4.4), which must be the
 * very Note RNN it was tuned from: its SHA-256 is checked against the G model's recorded fingerprint.
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { decodeModel, loadModelInto, type DecodedModel } from '../io/model_file.js';
import { sha256Hex } from '../io/sha256.js';
import { tunedModelSettings, type TunedModelSettings } from '../rl/tuned_model.js';
import { readModelBytes, UsageError } from './common.js';

export interface Policy {
  /** Models stepped in lockstep; their logits are summed into acting scores. */
  models: LstmModel[];
  /** What this policy is: 'note_rnn', or the algorithm it was tuned with ('q', 'psi', 'g', 'pg'); only 'g' acts with its prior. */
  kind: string;
  path: string;
  decoded: DecodedModel;
}

/** The tuning algorithm recorded in a tuned model's metadata, or 'note_rnn'; an unknown one is refused, naming `path`. */
export function policyKind(decoded: DecodedModel, path: string): TunedModelSettings['algorithm'] {
  return tunedModelSettings(decoded, path).algorithm;
}

export function loadPolicy(kernels: Kernels, modelFile: string | undefined, maxBatch: number, priorFile?: string): Policy {
  const { path, bytes } = readModelBytes(modelFile);
  const decoded = decodeModel(bytes, path);
  const kind = policyKind(decoded, path);
  if (kind !== 'g') {
    const arena = createArena(kernels, { policy: { config: decoded.config, maxBatch } });
    loadModelInto(arena.models.policy, decoded, path);
    return { models: [arena.models.policy], kind, path, decoded };
  }
  const prior = readModelBytes(priorFile);
  checkPriorFingerprint(decoded, path, prior.bytes, prior.path, (line) => process.stderr.write(`warning: ${line}\n`));
  const priorDecoded = decodeModel(prior.bytes, prior.path);
  const arena = createArena(kernels, {
    policy: { config: decoded.config, maxBatch },
    prior: { config: priorDecoded.config, maxBatch },
  });
  loadModelInto(arena.models.policy, decoded, path);
  loadModelInto(arena.models.prior, priorDecoded, prior.path);
  return { models: [arena.models.policy, arena.models.prior], kind, path, decoded };
}

/**
 * A G model acts with the Note RNN it was tuned from: refuses a prior whose SHA-256 differs from the one
 * the G model records (naming both fingerprints and files). A G model without recorded fingerprints (an
 * older file) is let through with a warning.
 */
export function checkPriorFingerprint(
  decoded: DecodedModel, modelPath: string, priorBytes: Uint8Array, priorPath: string, warn: (line: string) => void, flag = '--prior',
): void {
  const recorded = decoded.info.fingerprints?.noteRnn;
  const notes = decoded.info.notes as { tunedFrom?: unknown } | undefined;
  const tunedFrom = typeof notes?.tunedFrom === 'string' ? ` (${notes.tunedFrom})` : '';
  if (recorded === undefined) {
    warn(`${modelPath} records no fingerprint of the Note RNN it was tuned from (an older file); its prior is taken on trust: ${priorPath}`);
    return;
  }
  const actual = sha256Hex(priorBytes);
  if (recorded !== actual) {
    throw new UsageError(
      `${modelPath}: this G model was tuned from ${recorded}${tunedFrom}; ${flag} ${priorPath} is ${actual}\n` +
        `  A G model acts with the very Note RNN it was tuned from: pass that file with ${flag}.`,
    );
  }
}
