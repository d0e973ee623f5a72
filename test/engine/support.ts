// Test support: the two kernel builds, a raw arena for calling kernels directly, and the per-element
// comparison every numeric test uses.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  acceptsRelaxedBuild, fixedMemory, instantiateKernels, kernelsFromModule, type KernelExports, type Kernels,
} from '../../src/engine/kernels.js';

/** The plain SIMD128 build and the relaxed-SIMD build (fused multiply-add); tests run on both. */
export const BUILDS = ['simd', 'relaxed'] as const;
export type Build = (typeof BUILDS)[number];

const WASM_FILE: Record<Build, string> = { simd: 'rltuner.wasm', relaxed: 'rltuner-relaxed.wasm' };
const cached = new Map<Build, Kernels>();

/**
 * The compiled kernels of one build from dist/. The relaxed build is never skipped: a runtime that cannot
 * run it fails the test, saying how to fix it.
 */
export function testKernels(build: Build = 'simd'): Kernels {
  let kernels = cached.get(build);
  if (kernels) return kernels;
  const path = fileURLToPath(new URL(`../../dist/${WASM_FILE[build]}`, import.meta.url));
  const bytes = readFileSync(path);
  if (build === 'relaxed' && !acceptsRelaxedBuild(bytes)) {
    throw new Error(
      `${path}: this runtime (Node ${process.version}) does not accept relaxed SIMD; Node 20 needs `
      + '--experimental-wasm-relaxed-simd, which vitest.config.ts passes to the test workers: run the tests with `npm test`',
    );
  }
  kernels = kernelsFromModule(new WebAssembly.Module(bytes));
  if (kernels.relaxed !== (build === 'relaxed')) {
    throw new Error(`${path}: relaxed_simd() says ${kernels.relaxed ? 'relaxed' : 'plain'}, expected the ${build} build (rebuild with npm run build)`);
  }
  cached.set(build, kernels);
  return kernels;
}

/** A kernel instance over a fresh memory with a bump allocator handing out typed views. */
export class RawArena {
  readonly k: KernelExports;
  readonly memory: WebAssembly.Memory;
  private next: number;
  constructor(build: Build = 'simd', bytes = 16 << 20) {
    const kernels = testKernels(build);
    this.memory = fixedMemory(kernels.heapBase + bytes);
    this.k = instantiateKernels(kernels.module, this.memory);
    this.next = Math.ceil(kernels.heapBase / 64) * 64;
  }
  f32(n: number, init?: ArrayLike<number>): { ptr: number; view: Float32Array } {
    const ptr = this.take(n * 4);
    const view = new Float32Array(this.memory.buffer, ptr, n);
    if (init) view.set(init);
    return { ptr, view };
  }
  i32(n: number, init?: ArrayLike<number>): { ptr: number; view: Int32Array } {
    const ptr = this.take(n * 4);
    const view = new Int32Array(this.memory.buffer, ptr, n);
    if (init) view.set(init);
    return { ptr, view };
  }
  private take(bytes: number): number {
    const at = this.next;
    this.next += Math.ceil(bytes / 64) * 64 + 64;
    if (this.next > this.memory.buffer.byteLength) throw new Error('RawArena full');
    return at;
  }
}

/** Single-precision unit roundoff 2^-24: the relative error of one correctly rounded f32 operation. */
export const F32_EPS = 2 ** -24;

/** A per-element bound |actual_i − expected_i| ≤ atol + rtol·|expected_i|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The element that uses the largest share of its allowance (ratio > 1 means outside the bound). */
export interface WorstElement {
  index: number;
  actual: number;
  expected: number;
  diff: number;
  allowed: number;
  /** diff / allowed. */
  ratio: number;
  /** Number of elements outside the bound. */
  outside: number;
}

/** Compares element by element; NaN or ±Infinity on either side counts as outside the bound. */
export function worstElement(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): WorstElement {
  if (actual.length !== expected.length) throw new Error(`compared arrays differ in length: ${actual.length} vs ${expected.length}`);
  if (!(tol.atol >= 0 && tol.rtol >= 0) || tol.atol + tol.rtol === 0) throw new Error(`bad tolerance ${JSON.stringify(tol)}`);
  let worst: WorstElement = { index: -1, actual: NaN, expected: NaN, diff: 0, allowed: 0, ratio: 0, outside: 0 };
  let outside = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    const diff = Math.abs(a - b);
    const allowed = tol.atol + tol.rtol * Math.abs(b);
    const ratio = !(Number.isFinite(a) && Number.isFinite(b)) ? Infinity : diff === 0 ? 0 : diff / allowed;
    if (ratio > 1) outside++;
    if (ratio > worst.ratio || worst.index < 0) worst = { index: i, actual: a, expected: b, diff, allowed, ratio, outside: 0 };
  }
  worst.outside = outside;
  return worst;
}

/**
 * Fails, naming the worst element (index and both values), when any element is outside the bound.
 * With RLTUNER_TOLERANCE_LOG=1 in the environment, prints every comparison's worst element (to re-derive
 * the tolerances).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'values'): WorstElement {
  const w = worstElement(actual, expected, tol);
  if (process.env.RLTUNER_TOLERANCE_LOG) {
    console.log(`tolerance ${what}: worst ratio ${w.ratio.toFixed(3)} at ${w.index} (|a − b| ${w.diff.toExponential(2)}, b ${w.expected.toExponential(2)}), atol ${tol.atol.toExponential(2)} rtol ${tol.rtol.toExponential(2)}`);
  }
  if (w.outside > 0) {
    throw new Error(
      `${what}: ${w.outside} of ${actual.length} elements outside |a − b| ≤ ${tol.atol} + ${tol.rtol}·|b|; worst is element `
      + `${w.index}: got ${w.actual}, expected ${w.expected}, |a − b| = ${w.diff.toExponential(3)} > ${w.allowed.toExponential(3)}`,
    );
  }
  return w;
}

/** Largest |x_i|. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Deterministic uniform values in [-s, s). */
export function uniform(n: number, s: number, seed: number): Float64Array {
  let x = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = ((x / 4294967296) * 2 - 1) * s;
  }
  return out;
}
