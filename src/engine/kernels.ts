/**
 * Loading the wasm kernels. The caller says where the module comes from — bytes, a compiled
 * `WebAssembly.Module` (required by edge runtimes that forbid compiling at run time), or a fetch
 * `Response` — and no Node API is used on this path. Instantiation with a planned memory happens in
 * `arena.ts`; this module only compiles and inspects.
 */
import { instantiateSync } from '@assemblyscript/loader';

/**
 * The kernel exports of assembly/index.ts (byte addresses and element counts; must match it). Names ending
 * in `_accumulate` add into their output, names ending in `_set` overwrite it (the rule in assembly/index.ts).
 */
export interface KernelExports {
  heap_base(): number;
  relaxed_simd(): number;
  gemm_packed_set(out: number, ldo: number, a: number, lda: number, w: number, M: number, K: number, N: number): void;
  gemm_packed_accumulate(out: number, ldo: number, a: number, lda: number, w: number, M: number, K: number, N: number): void;
  gemm_packed_bias_set(out: number, ldo: number, a: number, lda: number, w: number, bias: number, M: number, K: number, N: number): void;
  outer_accumulate(dw: number, a: number, lda: number, d: number, ldd: number, M: number, K: number, N: number): void;
  pack_transpose(dst: number, src: number, K: number, N: number): void;
  colsum_accumulate(db: number, d: number, ldd: number, M: number, N: number): void;
  gather_bias_rows(out: number, ldo: number, bias: number, table: number, ldt: number, tokens: number, M: number, N: number): void;
  scatter_rows_accumulate(table: number, ldt: number, tokens: number, d: number, ldd: number, M: number, N: number): void;
  lstm_cell_forward(act: number, c: number, tanhC: number, h: number, pre: number, cPrev: number, B: number, P: number): void;
  lstm_cell_backward_set(dpre: number, dcPrev: number, dh: number, dc: number, act: number, cPrev: number, tanhC: number, B: number, P: number): void;
  sigmoid_array(out: number, x: number, n: number): void;
  tanh_array(out: number, x: number, n: number): void;
  softmax_xent_forward(logp: number, argmax: number, logits: number, ld: number, labels: number, M: number, C: number): void;
  softmax_xent_backward_set(dlogits: number, logits: number, ld: number, labels: number, weight: number, M: number, C: number): void;
  td_squared_error_backward_set(dq: number, q: number, ld: number, actions: number, targets: number, M: number): number;
  adam_update(params: number, grads: number, m: number, v: number, n: number, stepSize: number, beta1: number, beta2: number, eps: number, vScale: number): void;
  sum_squares(x: number, n: number): number;
  scale_array(x: number, n: number, s: number): void;
  soft_update(target: number, source: number, n: number, eta: number): void;
  copy_bytes(dst: number, src: number, n: number): void;
  zero_bytes(dst: number, n: number): void;
  peak_madd(iterations: number, seed: number): number;
}

export type KernelSource = Uint8Array | ArrayBuffer | WebAssembly.Module | Response | PromiseLike<Response> | URL | string;

/** A compiled kernel module, ready to be instantiated over planned memories. */
export interface Kernels {
  module: WebAssembly.Module;
  /** First free byte above the module's static data (arena start). */
  heapBase: number;
  /** True for the relaxed-SIMD build. */
  relaxed: boolean;
}

const PAGE = 65536;

function isResponse(x: unknown): x is Response {
  return typeof Response !== 'undefined' && x instanceof Response;
}

/**
 * Compiles (or accepts) the kernel module and reads its constants from a one-page probe instance.
 * A URL (or URL string) is fetched; use it where `fetch` can reach the .wasm (browsers, workers).
 */
export async function loadKernels(source: KernelSource): Promise<Kernels> {
  // `unknown`: WebAssembly.Module is structurally empty, so TypeScript cannot narrow this union itself.
  const resolved: unknown = typeof source === 'string' || source instanceof URL ? await fetch(source) : await source;
  let module: WebAssembly.Module;
  if (isResponse(resolved)) {
    if (!resolved.ok) throw new Error(`loadKernels: fetching the wasm failed with HTTP ${resolved.status} ${resolved.statusText}`);
    module = typeof WebAssembly.compileStreaming === 'function'
      ? await WebAssembly.compileStreaming(resolved)
      : await WebAssembly.compile(await resolved.arrayBuffer());
  } else if (resolved instanceof WebAssembly.Module) {
    module = resolved;
  } else if (resolved instanceof Uint8Array || resolved instanceof ArrayBuffer) {
    module = await WebAssembly.compile(resolved as BufferSource);
  } else {
    throw new TypeError('loadKernels: expected wasm bytes, a WebAssembly.Module or a fetch Response');
  }
  return inspectKernels(module);
}

/** Synchronous variant for an already compiled module (edge runtimes, workers). */
export function kernelsFromModule(module: WebAssembly.Module): Kernels {
  return inspectKernels(module);
}

function inspectKernels(module: WebAssembly.Module): Kernels {
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const required of ['heap_base', 'gemm_packed_set', 'lstm_cell_forward', 'adam_update']) {
    if (!names.includes(required)) {
      throw new Error(`loadKernels: this wasm module is not the rltuner kernel set (no export "${required}"); pass dist/rltuner.wasm`);
    }
  }
  const probe = instantiateKernels(module, new WebAssembly.Memory({ initial: 1, maximum: 1 }));
  return { module, heapBase: probe.heap_base(), relaxed: probe.relaxed_simd() === 1 };
}

/** Instantiates the module over the given memory. */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const { exports } = instantiateSync<Record<string, unknown>>(module, { env: { memory } });
  return exports as unknown as KernelExports;
}

/** A memory of exactly `bytes` (rounded up to pages) that cannot grow, so views built on it stay valid. */
export function fixedMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > 65536) throw new RangeError(`arena of ${bytes} bytes exceeds the 4 GiB wasm32 limit`);
  return new WebAssembly.Memory({ initial: pages, maximum: pages });
}

/**
 * Whether this runtime accepts the relaxed-SIMD build (validated, not compiled). Node 20 needs
 * --experimental-wasm-relaxed-simd; Chrome >= 114 accepts it by default. The plain SIMD build is the default.
 */
export function acceptsRelaxedBuild(relaxedBytes: Uint8Array): boolean {
  try {
    return WebAssembly.validate(relaxedBytes as BufferSource);
  } catch {
    return false;
  }
}
