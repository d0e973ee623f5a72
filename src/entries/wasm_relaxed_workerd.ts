/** `rltuner/wasm-relaxed` under the `workerd` condition: dist/rltuner-relaxed.wasm as a precompiled WebAssembly.Module. */
import type { WasmModule } from '../engine/kernels.js';
import compiledRelaxedKernels from '../rltuner-relaxed.wasm';

const relaxedKernelsWasm: Uint8Array | WasmModule = compiledRelaxedKernels;
export default relaxedKernelsWasm;
