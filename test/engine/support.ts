// Test support: the built kernels, a raw arena for calling kernels directly, and comparison helpers.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixedMemory, instantiateKernels, kernelsFromModule, type KernelExports, type Kernels } from '../../src/engine/kernels.js';

const wasmPath = fileURLToPath(new URL('../../dist/rltuner.wasm', import.meta.url));

let cached: Kernels | null = null;
export function testKernels(): Kernels {
  if (!cached) cached = kernelsFromModule(new WebAssembly.Module(readFileSync(wasmPath)));
  return cached;
}

/** A kernel instance over a fresh memory with a bump allocator handing out typed views. */
export class RawArena {
  readonly k: KernelExports;
  readonly memory: WebAssembly.Memory;
  private next: number;
  constructor(bytes = 16 << 20) {
    const kernels = testKernels();
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

/** max |a - b| / max(max |b|, floor): a relative error that tolerates entries near zero. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0, scale = floor;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
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
