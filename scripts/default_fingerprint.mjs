// Records what the default preset computes, beside the sweep that chose it (run with `npm run
// fingerprint:default`, which builds first): a short tune of the `default` preset on the shipped Note RNN,
// through the library, and the SHA-256 of the tuned model's tensors, into sweeps/default.fingerprint.json.
// test/rl/default_fingerprint.test.ts tunes the same and fails when the digest differs: a change to what
// a run computes then fails the suite until the sweep behind the preset, the preset's doc string and
// docs/RESULTS.md are made again with the new build, and this script is run.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel, loadKernels, tune } from '../dist/index.js';
import { tensorsDigest } from '../dist/io/fingerprint.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'sweeps', 'default.fingerprint.json');
const record = JSON.parse(readFileSync(file, 'utf8'));
const wasm = new Uint8Array(readFileSync(join(root, 'dist', 'rltuner.wasm')));
const kernels = await loadKernels(wasm);
record.build = `kernels ${createHash('sha256').update(wasm).digest('hex')}`;
const run = await tune(kernels, new Uint8Array(readFileSync(join(root, 'models', 'note_rnn.safetensors'))), { preset: 'default', config: record.shortRun });
record.tensorsSha256 = tensorsDigest(decodeModel(run.modelBytes).tensors);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
console.log(`default preset, short run ${JSON.stringify(record.shortRun)}: tensors ${record.tensorsSha256}; wrote ${file}`);
