/**
 * Loading a model file as a sampling policy from the command line: a Note RNN or a Q/Ψ-tuned network acts
 * alone; a G-tuned network acts with its Note RNN prior (--prior, or the shipped default), which must be the
 * very Note RNN it was tuned from (src/rl/tuned_policy.ts pairs them and checks the fingerprint).
 */
import type { Kernels } from '../engine/kernels.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { decodeModel, type DecodedModel } from '../io/model_file.js';
import { actingPolicy, priorMatch } from '../rl/tuned_policy.js';
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
  if (kind !== 'g') return { models: actingPolicy(kernels, decoded, path, maxBatch).models, kind, path, decoded };
  const prior = readModelBytes(priorFile);
  checkPriorFingerprint(decoded, path, prior.bytes, prior.path, (line) => process.stderr.write(`warning: ${line}\n`));
  const priorDecoded = decodeModel(prior.bytes, prior.path);
  return { models: actingPolicy(kernels, decoded, path, maxBatch, { decoded: priorDecoded, source: prior.path }).models, kind, path, decoded };
}

/**
 * A G model acts with the Note RNN it was tuned from: refuses a prior whose SHA-256 differs from the one
 * the G model records (naming both fingerprints and files). A G model without recorded fingerprints (an
 * older file) is let through with a warning.
 */
export function checkPriorFingerprint(
  decoded: DecodedModel, modelPath: string, priorBytes: Uint8Array, priorPath: string, warn: (line: string) => void, flag = '--prior',
): void {
  const match = priorMatch(decoded, priorBytes);
  if (match.kind === 'unrecorded') {
    warn(`${modelPath} records no fingerprint of the Note RNN it was tuned from (an older file); its prior is taken on trust: ${priorPath}`);
  } else if (match.kind === 'other') {
    throw new UsageError(
      `${modelPath}: this G model was tuned from ${match.recorded}${match.tunedFrom ? ` (${match.tunedFrom})` : ''}; ${flag} ${priorPath} is ${match.actual}\n` +
        `  A G model acts with the very Note RNN it was tuned from: pass that file with ${flag}.`,
    );
  }
}
