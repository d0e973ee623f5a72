// rltuner kernels: the whole export surface of the wasm module. Kernels take byte addresses and element
// counts, compute, and return; the TypeScript side plans memory (src/engine/layout.ts) and decides what
// runs when. Built with --runtime stub and imported memory: the module never allocates.

export {
  gemm_packed, outer_accumulate, pack_transpose, colsum_accumulate, gather_bias_rows, scatter_add_rows,
} from './matrix';
export { lstm_cell_forward, lstm_cell_backward, sigmoid_array, tanh_array } from './lstm';
export { softmax_xent_forward, softmax_xent_backward, td_squared_error } from './loss';
export { adam_update, sum_squares, scale_array, soft_update, copy_bytes, zero_bytes } from './optimizer';
export { peak_madd } from './peak';

/** First byte free for the caller's arena (above the module's static data). */
export function heap_base(): usize {
  return (__heap_base + 63) & ~63;
}

/** 1 in the relaxed-SIMD build (fused multiply-add), 0 in the plain SIMD build. */
export function relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
