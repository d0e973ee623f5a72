/**
 * `rltuner/wasm-shared`: the shared-memory build of the plain SIMD kernels, as bytes: what helper threads
 * need (`KernelThreads.start(await loadKernels(sharedKernelsWasm), threads, startThread)`). It computes the
 * plain build's bits; it needs SharedArrayBuffer (a browser page must be cross-origin isolated).
 */
import { decodeBase64 } from '../engine/bundled_assets.js';
import { KERNELS_SHARED_WASM_BASE64 } from '../generated/kernels_shared_wasm.js';

const sharedKernelsWasm: Uint8Array = decodeBase64(KERNELS_SHARED_WASM_BASE64);
export default sharedKernelsWasm;
