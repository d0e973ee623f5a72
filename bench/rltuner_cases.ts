/**
 * The rltuner workloads: the public LstmModel API over the wasm kernels (plain SIMD128 or relaxed build),
 * and the ceiling measured by the peak kernel of the same build.
 */
import { readFileSync } from 'node:fs';
import { Random } from '../src/random.js';
import { createModel } from '../src/engine/arena.js';
import {
  acceptsRelaxedBuild, fixedMemory, instantiateKernels, kernelsFromModule, type Kernels,
} from '../src/engine/kernels.js';
import { DEFAULT_ADAM, type LstmModel } from '../src/engine/lstm_model.js';
import {
  I, O, SEQ_BATCH, SEQ_STEPS, TD_BATCH, type LogicalTensor, type WorkloadCases, type WorkloadData,
} from './workloads.js';

export interface KernelBuild {
  /** 'simd' (dist/rltuner.wasm, always benched) or 'relaxed' (dist/rltuner-relaxed.wasm). */
  name: 'simd' | 'relaxed';
  kernels: Kernels;
}

/**
 * Loads the plain build, and the relaxed build when this runtime accepts it (Node 20 needs
 * --experimental-wasm-relaxed-simd). Returns the reason when the relaxed build is left out.
 */
export function loadBuilds(distDir: URL): { builds: KernelBuild[]; relaxedNote: string } {
  const plainBytes = new Uint8Array(readFileSync(new URL('rltuner.wasm', distDir)));
  const builds: KernelBuild[] = [{ name: 'simd', kernels: kernelsFromModule(new WebAssembly.Module(plainBytes)) }];
  let relaxedBytes: Uint8Array<ArrayBuffer>;
  try {
    relaxedBytes = new Uint8Array(readFileSync(new URL('rltuner-relaxed.wasm', distDir)));
  } catch {
    return { builds, relaxedNote: 'dist/rltuner-relaxed.wasm not found (run npm run build:wasm)' };
  }
  if (!acceptsRelaxedBuild(relaxedBytes)) {
    return { builds, relaxedNote: 'this runtime rejects relaxed SIMD (Node 20: run node with --experimental-wasm-relaxed-simd)' };
  }
  builds.push({ name: 'relaxed', kernels: kernelsFromModule(new WebAssembly.Module(relaxedBytes)) });
  return { builds, relaxedNote: '' };
}

/**
 * Times a probe kernel's loop: calibrated from `firstIterations` to about 100 ms a call (at most
 * `maxIterations`), then the fastest of `repeats` calls. Returns the iterations and that call's ms.
 */
function timeProbe(run: (iterations: number) => void, firstIterations: number, maxIterations: number, repeats: number): { iterations: number; ms: number } {
  let t = performance.now();
  run(firstIterations);
  const calibrationMs = performance.now() - t;
  const iterations = Math.min(maxIterations, Math.max(firstIterations, Math.round(firstIterations * 100 / Math.max(calibrationMs, 0.1))));
  let ms = Infinity;
  for (let r = 0; r < repeats; r++) {
    t = performance.now();
    run(iterations);
    ms = Math.min(ms, performance.now() - t);
  }
  return { iterations, ms };
}

/**
 * The f32x4 multiply-add ceiling of a build in GFLOP/s: `peak_madd` keeps 12 chains in registers,
 * FLOPs = iterations × 12 × 4 × 2. Calibrated to ~100 ms a call; best of `repeats`.
 */
export function measurePeak(kernels: Kernels, repeats: number): number {
  const k = instantiateKernels(kernels.module, fixedMemory(1 << 20));
  const { iterations, ms } = timeProbe((n) => k.peak_madd(n, 1.0001), 1e6, 2e9, repeats);
  return (iterations * 12 * 4 * 2) / (ms * 1e6);
}

/**
 * The f32x4 square root and division rate of a build, in ns per pair (the pair Adam performs for every
 * four parameters): `peak_sqrt_div` runs 8 chains, pairs = iterations × 8. Calibrated to ~100 ms a call;
 * best of `repeats`. Adam's pass over n parameters cannot take less than n / 4 pairs at this rate.
 */
export function measureSqrtDivRate(kernels: Kernels, repeats: number): number {
  const k = instantiateKernels(kernels.module, fixedMemory(1 << 20));
  const { iterations, ms } = timeProbe((n) => k.peak_sqrt_div(n, 2), 1e5, 1e9, repeats);
  return (ms * 1e6) / (iterations * 8);
}

/** A one-layer model of H units with the given weights, planned for every workload (B ≤ 64, T ≤ 32). */
export function makeRltunerModel(kernels: Kernels, H: number, seed: number): LstmModel {
  const model = createModel(kernels, { inputSize: I, outputSize: O, hiddenSizes: [H] },
    { maxBatch: SEQ_BATCH, maxSteps: SEQ_STEPS, trainable: true });
  model.initialize(new Random(seed));
  return model;
}

export function initialTensors(model: LstmModel): LogicalTensor[] {
  return model.exportTensors();
}

/** Logits of one batch-1 step from the zero state (for the cross-check between implementations). */
export function rltunerFirstLogits(model: LstmModel, token: number): Float32Array {
  model.resetState(1);
  return model.step([token], 1).slice(0, O);
}

export function rltunerCases(model: LstmModel, d: WorkloadData): WorkloadCases {
  const stepTokens = [d.stepToken];
  model.resetState(1);
  return {
    step: () => { model.step(stepTokens, 1); },
    tdUpdate: () => { model.tdUpdate(d.tdStates, d.tdTokens, d.tdActions, d.tdTargets, TD_BATCH); },
    bptt: () => { model.trainSequence(d.seqInputs, d.seqLabels, d.seqWeights, SEQ_BATCH, SEQ_STEPS); },
    adam: () => { model.adamUpdate(DEFAULT_ADAM); },
  };
}
