/** Base64 of the shared-memory build of the plain SIMD kernels, dist/rltuner-shared.wasm (written at build time by generate_inline_assets.mjs). */
export declare const KERNELS_SHARED_WASM_BASE64: string;
