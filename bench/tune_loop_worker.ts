/**
 * One copy of the tune loop in a worker thread (bench/concurrent_tune_loops.ts): warms up, says it is ready,
 * waits for 'go', runs `steps` training steps and posts its env steps/s.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { kernelsFromModule } from '../src/engine/kernels.js';
import { decodeModel } from '../src/io/model_file.js';
import { resolveConfig } from '../src/rl/config.js';
import { RlTuner } from '../src/rl/tuner.js';

const { steps, warmUp } = workerData as { steps: number; warmUp: number };
const distDir = new URL('../../dist/', import.meta.url); // dist-bench/bench/ -> dist/
const modelUrl = new URL('../../models/note_rnn.safetensors', import.meta.url);
const kernels = kernelsFromModule(new WebAssembly.Module(readFileSync(new URL('rltuner.wasm', distDir))));
const noteRnn = decodeModel(new Uint8Array(readFileSync(modelUrl)), modelUrl.pathname);
const tuner = new RlTuner(kernels, noteRnn, resolveConfig('default', { trainingSteps: 1e9 }));
for (let i = 0; i < warmUp; i++) tuner.step();
parentPort!.once('message', () => {
  const started = performance.now();
  for (let i = 0; i < steps; i++) tuner.step();
  parentPort!.postMessage({ stepsPerSecond: steps / ((performance.now() - started) / 1000) });
});
parentPort!.postMessage({ ready: true });
