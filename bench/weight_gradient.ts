/**
 * The weight-gradient kernel alone (outer_accumulate: dW += aᵀ·d, dW panel-packed K × N) at the BPTT
 * shapes, B = 64 rows: dW_h is H × 4H, a the previous step's h (row stride H), d the gate gradients (row
 * stride 4H). At H = 256 and 512 those strides are multiples of 1 KB and 4 KB, so the rows one tile walks
 * fall into a few L1 cache sets; the same shapes with each row padded by 16 floats show what that costs.
 * Its arithmetic each BPTT step (2·B·4H² FLOPs) equals the forward gemm's.
 */
import type { Kernels } from '../src/engine/kernels.js';
import { fixedMemory, instantiateKernels } from '../src/engine/kernels.js';
import { measure, type Mode } from './measure.js';

export interface WeightGradientResult {
  H: number;
  /** Extra floats per row of a and d (0: the model's own strides). */
  rowPadding: number;
  gflops: number;
  ceilingFraction: number;
}

const ROWS = 64;

export function benchWeightGradient(kernels: Kernels, ceiling: number, mode: Mode, sizes: readonly number[]): WeightGradientResult[] {
  const out: WeightGradientResult[] = [];
  for (const H of sizes) {
    for (const pad of [0, 16]) {
      const K = H, N = 4 * H, lda = K + pad, ldd = N + pad;
      const floats = K * N + ROWS * lda + ROWS * ldd;
      const base = kernels.heapBase + 64;
      const memory = fixedMemory(base + floats * 4 + 256);
      const k = instantiateKernels(kernels.module, memory);
      const view = new Float32Array(memory.buffer, base, floats);
      for (let i = 0; i < floats; i++) view[i] = Math.sin(i * 0.37) * 0.1;
      const dw = base, a = dw + K * N * 4, d = a + ROWS * lda * 4;
      const timing = measure(`weight gradient H=${H} pad ${pad}`, () => k.outer_accumulate(dw, a, lda, d, ldd, ROWS, K, N), mode);
      const gflops = (2 * ROWS * K * N) / (timing.meanMs * 1e6);
      out.push({ H, rowPadding: pad, gflops, ceilingFraction: gflops / ceiling });
    }
  }
  return out;
}

export function weightGradientTable(results: WeightGradientResult[]): string {
  return [
    '| H | dW_h (K × N) | row strides (a, d) | GFLOP/s | share of the ceiling |',
    '|---:|---|---|---:|---:|',
    ...results.map((r) => `| ${r.H} | ${r.H} × ${4 * r.H} | ${r.H + r.rowPadding}, ${4 * r.H + r.rowPadding} floats${r.rowPadding ? ' (padded)' : ''} | ${r.gflops.toFixed(1)} | ${(100 * r.ceilingFraction).toFixed(0)} % |`),
  ].join('\n');
}
