/**
 * The library samples a tuned model the way it acts: loadNoteRnn refuses a G model (alone it samples the
 * wrong distribution), and loadPolicy pairs it with the Note RNN it was tuned from (checked by SHA-256),
 * so generate samples G + prior logits, as `rltuner generate` does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createArena, createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel, loadModelInto, MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../../src/io/model_file.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { generate, loadNoteRnn, loadPolicy, PolicyLoadError } from '../../src/index.js';
import { sampleCompositions } from '../../src/policy/sampling.js';
import { priorMatch } from '../../src/rl/tuned_policy.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

const noteRnnBytes = new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)));
const noteRnn = decodeModel(noteRnnBytes);

/** A network of the shipped Note RNN's shape with weights of its own (seed), written as a model tuned with `algorithm`. */
function tunedModel(algorithm: string, seed: number, fingerprints?: ModelInfo['fingerprints']): Uint8Array {
  const model = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
  model.initialize(new Random(seed));
  return encodeModel(model, { notes: { algorithm, tunedFrom: 'models/note_rnn_basic.safetensors' }, fingerprints });
}

const fingerprintOf = (prior: Uint8Array) => ({ format: MODEL_FINGERPRINT_FORMAT, kernelBuild: 'plain' as const, noteRnn: sha256Hex(prior) });

/** What a G model and its prior sample when stepped in lockstep, loaded by hand. */
function sampledByHand(gBytes: Uint8Array, seed: number, alone = false): Uint8Array[] {
  const g = decodeModel(gBytes);
  const arena = createArena(testKernels(), { g: { config: g.config, maxBatch: 3 }, prior: { config: noteRnn.config, maxBatch: 3 } });
  loadModelInto(arena.models.g, g);
  loadModelInto(arena.models.prior, noteRnn);
  const models = alone ? [arena.models.g] : [arena.models.g, arena.models.prior];
  return sampleCompositions(models, new Random(seed), { count: 3, numNotes: 32, temperature: 1, priming: { kind: 'random_note' } }).compositions;
}

describe('the library loads a tuned model as it acts', () => {
  const g = tunedModel('g', 11, fingerprintOf(noteRnnBytes));

  it('loadNoteRnn refuses a G model, naming why and what to call instead', () => {
    expect(() => loadNoteRnn(testKernels(), g, 1, 'g_tuned.safetensors')).toThrow(PolicyLoadError);
    expect(() => loadNoteRnn(testKernels(), g, 1, 'g_tuned.safetensors'))
      .toThrow(/g_tuned\.safetensors is a G-tuned model: it acts with its Note RNN prior .*loadPolicy\(kernels, bytes, \{ prior: /);
  });

  it('loadPolicy pairs a G model with its prior: generate samples G + prior logits, not G alone', () => {
    const policy = loadPolicy(testKernels(), g, { prior: noteRnnBytes, maxBatch: 3 });
    expect(policy.algorithm).toBe('g');
    expect(policy.models).toHaveLength(2);
    expect(policy.warnings).toEqual([]);
    const sampled = generate(policy, { count: 3, length: 32, seed: 5 });
    expect(sampled).toEqual(sampledByHand(g, 5));
    expect(sampled).not.toEqual(sampledByHand(g, 5, true));
  });

  it('loadPolicy refuses a G model without a prior, and with a prior other than the one it was tuned from', () => {
    expect(() => loadPolicy(testKernels(), g, { source: 'g.safetensors' })).toThrow(/g\.safetensors is a G-tuned model: it acts with its Note RNN prior; pass \{ prior: /);
    const other = tunedModel('q', 12);
    expect(() => loadPolicy(testKernels(), g, { prior: other, source: 'g.safetensors', priorSource: 'other.safetensors' }))
      .toThrow(`g.safetensors: this G model was tuned from the Note RNN ${sha256Hex(noteRnnBytes)} (models/note_rnn_basic.safetensors); other.safetensors is ${sha256Hex(other)}`);
  });

  it('a G model from before fingerprints loads with its prior taken on trust, and says so', () => {
    const old = tunedModel('g', 13);
    expect(priorMatch(decodeModel(old), noteRnnBytes)).toEqual({ kind: 'unrecorded' });
    const policy = loadPolicy(testKernels(), old, { prior: noteRnnBytes, source: 'old.safetensors' });
    expect(policy.warnings).toEqual(['old.safetensors records no fingerprint of the Note RNN it was tuned from (an older file); the prior is taken on trust']);
  });

  it('a Note RNN or a Q model acts alone: loadPolicy and loadNoteRnn sample the same', () => {
    for (const bytes of [noteRnnBytes, tunedModel('q', 14)]) {
      const policy = loadPolicy(testKernels(), bytes, { maxBatch: 2 });
      expect(policy.models).toHaveLength(1);
      expect(generate(policy, { count: 2, length: 24, seed: 9 })).toEqual(generate(loadNoteRnn(testKernels(), bytes, 2).model, { count: 2, length: 24, seed: 9 }));
    }
  });
});
