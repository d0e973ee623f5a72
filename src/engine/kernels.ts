/**
 * Loading the wasm kernels. With no argument `loadKernels()` compiles the kernels bundled into the
 * package (inlined as base64, so no bundler or runtime needs a rule for .wasm files); otherwise the caller
 * says where the module comes from — bytes, a compiled `WebAssembly.Module` (what edge runtimes need: they
 * forbid compiling at run time), a fetch `Response`, or a URL. No Node API is imported on this path; a
 * file: URL is read through the runtime's own `node:fs` only when one is given. Instantiation with a
 * planned memory happens in `arena.ts`; this module only compiles and inspects.
 */
import { instantiateSync } from '@assemblyscript/loader';
import { bundledKernelBytes } from './bundled_assets.js';

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
  gather_weighted_rows_bias_set(out: number, ldo: number, bias: number, table: number, ldt: number, indices: number, values: number, K: number, M: number, N: number): void;
  scatter_weighted_rows_accumulate(table: number, ldt: number, indices: number, values: number, K: number, d: number, ldd: number, M: number, N: number): void;
  lstm_cell_forward(act: number, c: number, tanhC: number, h: number, pre: number, cPrev: number, B: number, P: number): void;
  lstm_cell_backward_set(dpre: number, dcPrev: number, dh: number, dc: number, act: number, cPrev: number, tanhC: number, B: number, P: number, ldd: number): void;
  sigmoid_array(out: number, x: number, n: number): void;
  tanh_array(out: number, x: number, n: number): void;
  softmax_xent_forward(logp: number, argmax: number, logits: number, ld: number, labels: number, M: number, C: number): void;
  softmax_xent_backward_set(dlogits: number, logits: number, ld: number, labels: number, weight: number, M: number, C: number): void;
  td_squared_error_backward_set(dq: number, q: number, ld: number, actions: number, targets: number, M: number): number;
  adam_update(
    params: number, grads: number, m: number, v: number, n: number, stepSize: number, beta1: number, beta2: number, eps: number, vScale: number,
    gradScale: number, target: number, eta: number,
  ): void;
  sum_squares(x: number, n: number): number;
  scale_array(x: number, n: number, s: number): void;
  multiply_set(out: number, a: number, b: number, n: number): void;
  soft_update(target: number, source: number, n: number, eta: number): void;
  copy_bytes(dst: number, src: number, n: number): void;
  zero_bytes(dst: number, n: number): void;
  peak_madd(iterations: number, seed: number): number;
  peak_sqrt_div(iterations: number, seed: number): number;
}

/*
 * The WebAssembly and fetch types this module's API names, declared structurally: TypeScript declares the
 * WebAssembly namespace, Response and URL in lib.dom only, and the package's declarations must compile with
 * a Node-only (or bare ES) lib. The real objects satisfy them.
 */

/** A compiled `WebAssembly.Module` (lib.dom's own interface for it is empty as well). */
export type WasmModule = object;

/** A `WebAssembly.Memory`: its buffer, and `grow`, which this library never calls on a live arena. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** What loadKernels reads of a fetch `Response`. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** What loadKernels reads of a `URL`. */
export interface UrlLike {
  readonly href: string;
  readonly protocol: string;
}

/**
 * Where the kernels come from: wasm bytes (any ArrayBuffer view, or an ArrayBuffer), a compiled
 * WebAssembly.Module, a fetch Response (or a promise of one), or a URL (a URL object or an absolute URL
 * string; file: URLs are read from disk in Node, Deno and Bun, other URLs are fetched).
 */
export type KernelSource = ArrayBufferView | ArrayBuffer | WasmModule | ResponseLike | PromiseLike<ResponseLike> | UrlLike | string;

/** A compiled kernel module, ready to be instantiated over planned memories. */
export interface Kernels {
  module: WasmModule;
  /** First free byte above the module's static data (arena start). */
  heapBase: number;
  /** True for the relaxed-SIMD build. */
  relaxed: boolean;
  /** True for the shared-memory build (dist/rltuner-shared.wasm), which kernel threads need. */
  shared: boolean;
  /** The bytes the module was compiled from, when they passed through here (not for a precompiled or streamed module). */
  wasmBytes?: Uint8Array;
  /** Helper threads whose split calls arenas made from these kernels use (see kernel_threads.ts). */
  threads?: KernelThreadPool;
}

/** What an arena needs of running threads: their shared memory (grown as arenas are planned) and the split calls. */
export interface KernelThreadPool {
  readonly memory: WasmMemory;
  readonly exports: KernelExports;
  /** Threads in all, the calling one included. */
  readonly threads: number;
  /** Claims `bytes` more of the shared memory (64-byte aligned), growing it; returns the first address. */
  claim(bytes: number): number;
  /** Records kernel calls for postDeferred (see kernel_threads.ts). */
  readonly deferred: KernelExports;
  /** Runs the recorded calls on a helper thread while the caller goes on. */
  postDeferred(): void;
  /** Waits for the deferred calls. */
  joinDeferred(): void;
}

const PAGE = 65536;

/** The built-in tag of a value (`[object WebAssembly.Module]`), which holds across realms, unlike instanceof. */
function tagOf(x: unknown): string {
  return Object.prototype.toString.call(x);
}

/** Names what a caller passed, for error messages: "a number (42)", "a Blob", "null". */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (typeof x === 'string') return `a string (${JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x)})`;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `a ${typeof x} (${String(x)})`;
  if (typeof x === 'function') return `a function${x.name ? ` (${x.name})` : ''}`;
  if (typeof x !== 'object') return `a ${typeof x}`;
  const name = (Object.getPrototypeOf(x) as { constructor?: { name?: string } } | null)?.constructor?.name;
  if (name && name !== 'Object') return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
  return `a plain object with keys ${JSON.stringify(Object.keys(x).slice(0, 6))}`;
}

function isResponseLike(x: unknown): x is ResponseLike {
  const r = x as Partial<ResponseLike> | null;
  return typeof r === 'object' && r !== null && typeof r.ok === 'boolean' && typeof r.arrayBuffer === 'function';
}

function isUrlLike(x: unknown): x is UrlLike {
  return tagOf(x) === '[object URL]' || (typeof x === 'object' && x !== null && typeof (x as UrlLike).href === 'string'
    && typeof (x as UrlLike).protocol === 'string');
}

function isWasmModule(x: unknown): boolean {
  return x instanceof WebAssembly.Module || tagOf(x) === '[object WebAssembly.Module]';
}

const EXPECTED = 'wasm bytes (a Uint8Array or ArrayBuffer), a WebAssembly.Module, a fetch Response, a URL, or no argument for the bundled kernels';

/** Reads a file: URL with the runtime's own fs (Node, Deno, Bun); the specifier is built so bundlers leave it alone. */
async function readFileUrl(url: UrlLike): Promise<Uint8Array> {
  const specifier = ['node', 'fs/promises'].join(':');
  let fs: { readFile(path: URL): Promise<Uint8Array> };
  try {
    fs = (await import(/* @vite-ignore */ specifier)) as typeof fs;
  } catch {
    throw new Error(`loadKernels: cannot read ${url.href}: this runtime has no file system; pass an http(s) URL, the bytes, or no argument for the bundled kernels`);
  }
  try {
    return await fs.readFile(new URL(url.href));
  } catch (e) {
    throw new Error(`loadKernels: cannot read ${url.href} (${(e as Error).message}); pass the URL of the kernels' .wasm file, or no argument for the bundled kernels`);
  }
}

async function compileResponse(response: ResponseLike): Promise<{ module: WebAssembly.Module; bytes?: Uint8Array }> {
  if (!response.ok) {
    throw new Error(`loadKernels: fetching the wasm${response.url ? ` from ${response.url}` : ''} failed with HTTP ${response.status} ${response.statusText}; check the URL, or call loadKernels() with no argument for the bundled kernels`);
  }
  // Streaming compilation insists on exactly `application/wasm` (no parameters); anything else is compiled from its bytes.
  const streaming = typeof WebAssembly.compileStreaming === 'function' && tagOf(response) === '[object Response]'
    && response.headers.get('content-type') === 'application/wasm';
  if (streaming) return { module: await WebAssembly.compileStreaming(response as unknown as Response) };
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { module: await compileBytes(bytes as BufferSource, `the body of the response${response.url ? ` from ${response.url}` : ''}`), bytes };
}

/**
 * Compiles (or accepts) the kernel module and reads its constants from a one-page probe instance. With no
 * argument, compiles the kernels bundled with the package (the plain SIMD build). Where compiling at run
 * time is forbidden (Cloudflare Workers, workerd), pass a precompiled WebAssembly.Module — the package's
 * `workerd` entry does that for you when called with no argument.
 */
export async function loadKernels(source?: KernelSource): Promise<Kernels> {
  const resolved: unknown = source === undefined ? await bundledKernelBytes() : await source;
  let compiled: { module: WebAssembly.Module; bytes?: Uint8Array };
  if (isWasmModule(resolved)) {
    compiled = { module: resolved as WebAssembly.Module };
  } else if (ArrayBuffer.isView(resolved) || tagOf(resolved) === '[object ArrayBuffer]') {
    // As a Uint8Array of this realm: compile rejects some views (DataView) and buffers made in another realm.
    const bytes = ArrayBuffer.isView(resolved)
      ? new Uint8Array(resolved.buffer, resolved.byteOffset, resolved.byteLength).slice()
      : new Uint8Array(resolved as ArrayBuffer).slice();
    compiled = { module: await compileBytes(bytes as BufferSource, source === undefined ? 'the bundled kernels' : describeValue(resolved)), bytes };
  } else if (isResponseLike(resolved)) {
    compiled = await compileResponse(resolved);
  } else if (typeof resolved === 'string' || isUrlLike(resolved)) {
    const url = absoluteUrl(typeof resolved === 'string' ? resolved : resolved.href);
    if (url.protocol === 'file:') {
      const bytes = new Uint8Array(await readFileUrl(url));
      compiled = { module: await compileBytes(bytes as BufferSource, url.href), bytes };
    } else {
      compiled = await compileResponse(await fetch(url));
    }
  } else {
    throw new TypeError(`loadKernels: expected ${EXPECTED}; got ${describeValue(resolved)}`);
  }
  return inspectKernels(compiled.module, compiled.bytes);
}

async function compileBytes(bytes: BufferSource, what: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new Error(`loadKernels: cannot compile ${what} as WebAssembly: ${(e as Error).message}`, { cause: e });
  }
}

/** An absolute URL; relative strings resolve against the page or worker location where there is one. */
function absoluteUrl(href: string): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(href, base);
  } catch {
    throw new TypeError(`loadKernels: ${JSON.stringify(href)} is not an absolute URL; pass new URL(path, import.meta.url), the bytes, or no argument for the bundled kernels`);
  }
}

/**
 * Synchronous variant for an already compiled module (edge runtimes, workers); pass the bytes it was compiled
 * from, when at hand, so that what it computes can be fingerprinted (Kernels.wasmBytes).
 */
export function kernelsFromModule(module: WasmModule, bytes?: Uint8Array): Kernels {
  if (!isWasmModule(module)) {
    throw new TypeError(`kernelsFromModule: expected a compiled WebAssembly.Module; got ${describeValue(module)} (for bytes, a Response or a URL use await loadKernels(source))`);
  }
  return inspectKernels(module as WebAssembly.Module, bytes);
}

function inspectKernels(module: WebAssembly.Module, wasmBytes?: Uint8Array): Kernels {
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const required of ['heap_base', 'gemm_packed_set', 'lstm_cell_forward', 'adam_update']) {
    if (!names.includes(required)) {
      throw new Error(`loadKernels: this wasm module is not the rltuner kernel set (no export "${required}"); call loadKernels() with no argument for the bundled kernels, or pass dist/rltuner.wasm`);
    }
  }
  const { probe, shared } = probeInstance(module);
  return { module, heapBase: probe.heap_base(), relaxed: probe.relaxed_simd() === 1, shared, ...(wasmBytes ? { wasmBytes } : {}) };
}

/**
 * An instance over a one-page memory, and whether that memory had to be shared: the shared-memory build
 * accepts only a shared memory, the plain builds only an unshared one (tried, since runtimes do not all
 * reflect import types).
 */
function probeInstance(module: WebAssembly.Module): { probe: KernelExports; shared: boolean } {
  try {
    return { probe: instantiateKernels(module, new WebAssembly.Memory({ initial: 1, maximum: 1 })), shared: false };
  } catch (unshared) {
    if (typeof SharedArrayBuffer === 'undefined') throw unshared;
    try {
      return { probe: instantiateKernels(module, new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })), shared: true };
    } catch {
      throw unshared;
    }
  }
}

/** Instantiates the module over the given memory. */
export function instantiateKernels(module: WasmModule, memory: WasmMemory): KernelExports {
  const { exports } = instantiateSync<Record<string, unknown>>(module as WebAssembly.Module, { env: { memory } });
  return exports as unknown as KernelExports;
}

/** A memory of exactly `bytes` (rounded up to pages) that cannot grow, so views built on it stay valid. */
export function fixedMemory(bytes: number): WasmMemory {
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
