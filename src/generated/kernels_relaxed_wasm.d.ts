/** Base64 of the relaxed-SIMD kernel build, dist/rltuner-relaxed.wasm (written at build time by generate_inline_assets.mjs). */
export declare const KERNELS_RELAXED_WASM_BASE64: string;
