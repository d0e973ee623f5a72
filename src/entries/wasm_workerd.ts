/** `rltuner/wasm` under the `workerd` condition: dist/rltuner.wasm as a precompiled WebAssembly.Module. */
import type { WasmModule } from '../engine/kernels.js';
import compiledKernels from '../rltuner.wasm';

const kernelsWasm: Uint8Array | WasmModule = compiledKernels;
export default kernelsWasm;
