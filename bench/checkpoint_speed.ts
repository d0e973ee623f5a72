/**
 * What the training loop waits for when `tune` takes a checkpoint: encoding it detached
 * (encodeTunerCheckpointDetached, before the background write), for a default G run whose replay is full
 * (100,000 transitions: the 98 MB file), with the CRC-32 `tune` uses (zlib.crc32) and the portable one, and
 * with the copies in fresh memory each time or in one CheckpointCopies shared by the run's checkpoints
 * (as `tune` does). Rounds alternate the cases; medians.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node --expose-gc dist-bench/bench/checkpoint_speed.js
 */
import { readFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { kernelsFromModule } from '../src/engine/kernels.js';
import { decodeModel } from '../src/io/model_file.js';
import { crc32 } from '../src/io/safetensors.js';
import { CheckpointCopies, encodeTunerCheckpointDetached } from '../src/rl/checkpoint.js';
import { resolveConfig } from '../src/rl/config.js';
import { RlTuner } from '../src/rl/tuner.js';

const modelUrl = new URL('../../models/note_rnn.safetensors', import.meta.url);
const noteRnn = decodeModel(new Uint8Array(readFileSync(modelUrl)), modelUrl.pathname);
const kernels = kernelsFromModule(new WebAssembly.Module(readFileSync(new URL('../../dist/rltuner.wasm', import.meta.url))));
const tuner = new RlTuner(kernels, noteRnn, resolveConfig('default', {}));
const fill = tuner.config.replayCapacity + 1000;
while (tuner.counters.step < fill) tuner.trainComposition();

const shared = new CheckpointCopies();
const cases: [string, () => Uint8Array[]][] = [
  ['portable CRC-32, fresh copies', () => encodeTunerCheckpointDetached(tuner, 16_384, {}, null, crc32)],
  ['zlib.crc32, fresh copies', () => encodeTunerCheckpointDetached(tuner, 16_384, {}, null, zlibCrc32)],
  ['zlib.crc32, shared copies (tune)', () => encodeTunerCheckpointDetached(tuner, 16_384, {}, null, zlibCrc32, shared)],
];
const times = cases.map(() => [] as number[]);
let bytes = 0;
for (let round = 0; round < 7; round++) {
  cases.forEach(([, encode], i) => {
    const t = performance.now();
    const parts = encode();
    times[i].push(performance.now() - t);
    bytes = parts.reduce((n, p) => n + p.byteLength, 0);
    for (let s = 0; s < 320; s++) tuner.step(); // the next checkpoint comes after more training
    (globalThis as { gc?: () => void }).gc?.();
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`| encoding a ${(bytes / 1e6).toFixed(1)} MB default checkpoint, detached | median of 7 | range |`);
console.log('|---|---:|---:|');
cases.forEach(([name], i) => console.log(`| ${name} | ${median(times[i]).toFixed(0)} ms | ${Math.min(...times[i]).toFixed(0)}–${Math.max(...times[i]).toFixed(0)} ms |`));
