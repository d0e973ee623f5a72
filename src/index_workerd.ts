/**
 * The library entry under the `workerd` export condition (Cloudflare Workers through wrangler's default
 * rules, raw workerd): everything src/index.ts exports, with `loadKernels()` defaulting to dist/rltuner.wasm
 * imported as a real wasm module, which the runtime compiles at deploy time. These runtimes forbid compiling
 * wasm at run time, so the bundled bytes that src/index.ts falls back to could not be used there.
 */
import { loadKernels as loadKernelsFrom, type KernelSource, type Kernels } from './engine/kernels.js';
import compiledKernels from './rltuner.wasm';

export * from './index.js';

/** As loadKernels in src/index.ts; with no argument, the precompiled kernels this entry imports. */
export function loadKernels(source: KernelSource = compiledKernels): Promise<Kernels> {
  return loadKernelsFrom(source);
}
