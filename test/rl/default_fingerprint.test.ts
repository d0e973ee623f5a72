// The default preset computes what the sweep behind it measured: a short tune of it, compared with the
// digest recorded beside the sweep (sweeps/default.fingerprint.json; see scripts/default_fingerprint.mjs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel, loadKernels, tune } from '../../src/index.js';
import { tensorsDigest } from '../../src/io/fingerprint.js';

const record = JSON.parse(readFileSync(new URL('../../sweeps/default.fingerprint.json', import.meta.url), 'utf8'));

describe('the default preset', () => {
  it('computes what the sweep that chose it measured (else: re-run the sweep, update the preset and docs/RESULTS.md, then npm run fingerprint:default)', async () => {
    const kernels = await loadKernels(new Uint8Array(readFileSync(new URL('../../dist/rltuner.wasm', import.meta.url))));
    const run = await tune(kernels, new Uint8Array(readFileSync(new URL('../../models/note_rnn.safetensors', import.meta.url))), { preset: 'default', config: record.shortRun });
    expect(tensorsDigest(decodeModel(run.modelBytes).tensors), `the default preset against ${record.sweep} (build ${record.build})`).toBe(record.tensorsSha256);
  }, 60_000);
});
