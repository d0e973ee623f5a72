import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadPolicy } from '../../src/cli/policy.js';
import { UsageError } from '../../src/cli/common.js';
import { createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel, MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../../src/io/model_file.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

const shippedPath = fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url));
const shippedBytes = new Uint8Array(readFileSync(shippedPath));
const work = mkdtempSync(join(tmpdir(), 'rltuner-policy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A G-tuned model of the shipped Note RNN's shape, written with the given fingerprints. */
function gModel(name: string, fingerprints?: ModelInfo['fingerprints']): string {
  const { config } = decodeModel(shippedBytes);
  const model = createModel(testKernels(), config, { maxBatch: 1 });
  model.initialize(new Random(5));
  const path = join(work, name);
  writeFileSync(path, encodeModel(model, { notes: { algorithm: 'g', tunedFrom: shippedPath }, fingerprints }));
  return path;
}

describe('loading a G model checks its prior', () => {
  const shippedSha = sha256Hex(shippedBytes);

  it('loads with the Note RNN it was tuned from', () => {
    const path = gModel('g_ok.safetensors', { format: MODEL_FINGERPRINT_FORMAT, kernelBuild: 'plain', noteRnn: shippedSha });
    const policy = loadPolicy(testKernels(), path, 2, shippedPath);
    expect(policy.kind).toBe('g');
    expect(policy.models).toHaveLength(2);
  });

  it('refuses another prior, naming both fingerprints and both files', () => {
    const other = 'f'.repeat(64);
    const path = gModel('g_other.safetensors', { format: MODEL_FINGERPRINT_FORMAT, kernelBuild: 'plain', noteRnn: other });
    let error: unknown;
    try {
      loadPolicy(testKernels(), path, 2, shippedPath);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(`${path}: this G model was tuned from ${other} (${shippedPath}); --prior ${shippedPath} is ${shippedSha}`);
  });

  it('loads an older G model without fingerprints, with a warning', () => {
    const path = gModel('g_old.safetensors');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      expect(loadPolicy(testKernels(), path, 2, shippedPath).kind).toBe('g');
    } finally {
      spy.mockRestore();
    }
    expect(writes.join('')).toMatch(/warning: .*g_old\.safetensors records no fingerprint of the Note RNN it was tuned from/);
  });
});
