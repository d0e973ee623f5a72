/** Base64 of the plain SIMD kernel build, dist/rltuner.wasm (written at build time by generate_inline_assets.mjs). */
export declare const KERNELS_WASM_BASE64: string;
