/**
 * `rltuner/wasm`: the plain SIMD kernel build, ready for loadKernels. Here (Node, Deno, Bun, browsers and
 * bundlers) it is the wasm bytes, decoded from the generated base64 module; under the `workerd` condition
 * (wasm_workerd.ts) it is the module compiled at deploy time.
 */
import type { WasmModule } from '../engine/kernels.js';
import { decodeBase64 } from '../engine/bundled_assets.js';
import { KERNELS_WASM_BASE64 } from '../generated/kernels_wasm.js';

const kernelsWasm: Uint8Array | WasmModule = decodeBase64(KERNELS_WASM_BASE64);
export default kernelsWasm;
