/**
 * `rltuner/wasm-relaxed`: the relaxed-SIMD kernel build (fused multiply-add), as bytes; check
 * acceptsRelaxedBuild(bytes) first (Node 20 needs --experimental-wasm-relaxed-simd). Under the `workerd`
 * condition (wasm_relaxed_workerd.ts) it is the module compiled at deploy time.
 */
import type { WasmModule } from '../engine/kernels.js';
import { decodeBase64 } from '../engine/bundled_assets.js';
import { KERNELS_RELAXED_WASM_BASE64 } from '../generated/kernels_relaxed_wasm.js';

const relaxedKernelsWasm: Uint8Array | WasmModule = decodeBase64(KERNELS_RELAXED_WASM_BASE64);
export default relaxedKernelsWasm;
