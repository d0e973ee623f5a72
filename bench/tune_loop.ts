/**
 * The tune loop at H = 100 (the shipped Note RNN): environment steps per second of RlTuner.step() with
 * everything it does (two batch-1 LSTM steps, the nine rules, the replay push, and every 5th step a
 * B = 32 TD update with the target forward, Adam and the soft update), and the replay's bytes per stored
 * transition. Measured after the replay holds enough transitions for updates to run.
 */
import { readFileSync } from 'node:fs';
import type { Kernels } from '../src/engine/kernels.js';
import { decodeModel } from '../src/io/model_file.js';
import { resolveConfig } from '../src/rl/config.js';
import { RlTuner } from '../src/rl/tuner.js';
import { measure, type Mode } from './measure.js';

export interface TuneLoopResult {
  algorithm: string;
  /** Threads the kernels ran on. */
  threads: number;
  stepsPerSecond: number;
  microsecondsPerStep: number;
  rme: number;
  bytesPerTransition: number;
  replayMegabytesAtCapacity: number;
}

const STEPS_PER_CALL = 1000;

/**
 * A tuner of the default preset over the model file at `modelUrl`, past its first 5,000 steps, so that the
 * replay holds enough transitions for updates to run (the tune-loop benches start from here).
 */
export function warmTuner(kernels: Kernels, modelUrl: URL, algorithm: 'q' | 'psi' | 'g'): RlTuner {
  const noteRnn = decodeModel(new Uint8Array(readFileSync(modelUrl)), modelUrl.pathname);
  const tuner = new RlTuner(kernels, noteRnn, resolveConfig('default', { algorithm, trainingSteps: 1e9, explorationSteps: 100_000 }));
  for (let i = 0; i < 5000; i++) tuner.step();
  return tuner;
}

export function benchTuneLoop(kernels: Kernels, modelUrl: URL, mode: Mode): TuneLoopResult[] {
  const threads = kernels.threads?.threads ?? 1;
  return (['q', 'g'] as const).map((algorithm) => {
    const tuner = warmTuner(kernels, modelUrl, algorithm);
    const config = tuner.config;
    const timing = measure(`tune loop ${algorithm}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      for (let i = 0; i < STEPS_PER_CALL; i++) tuner.step();
    }, mode);
    const us = (timing.meanMs * 1000) / STEPS_PER_CALL;
    return {
      algorithm,
      threads,
      stepsPerSecond: 1e6 / us,
      microsecondsPerStep: us,
      rme: timing.rme,
      bytesPerTransition: tuner.replay.bytesPerTransition,
      replayMegabytesAtCapacity: (tuner.replay.bytesPerTransition * config.replayCapacity) / 1e6,
    };
  });
}

export function tuneLoopTable(results: TuneLoopResult[]): string {
  const rows = results.map((r) =>
    `| ${r.algorithm} | ${r.threads} | ${Math.round(r.stepsPerSecond).toLocaleString('en')} ±${r.rme.toFixed(1)}% | ${r.microsecondsPerStep.toFixed(1)} µs | ${r.bytesPerTransition.toFixed(0)} | ${r.replayMegabytesAtCapacity.toFixed(0)} MB |`);
  return ['| algorithm | threads | env steps/s | per step | replay bytes / transition | replay at 100,000 |', '|---|---:|---:|---:|---:|---:|', ...rows].join('\n');
}
