// rltuner kernels: the whole export surface of the wasm module. Kernels take byte addresses and element
// counts, compute, and return; the TypeScript side plans memory (src/engine/layout.ts) and decides what
// runs when. Built with --runtime stub and imported memory: the module never allocates.
//
// The accumulate rule, one for every kernel: a kernel whose name ends in `_accumulate` adds into its
// output (+=); a kernel whose name ends in `_set` overwrites it. Every kernel that writes a gradient says
// which in its name. Forward kernels (`*_forward`, gather_bias_rows, pack_transpose, sigmoid_array,
// tanh_array) write outputs that are never gradients and overwrite them; the flat passes adam_update,
// scale_array and soft_update update their first argument in place; multiply_set (dropout's mask)
// overwrites its output, which may be one of its inputs.

export {
  gemm_packed_set, gemm_packed_accumulate, gemm_packed_bias_set, outer_accumulate, pack_transpose,
  colsum_accumulate, gather_bias_rows, scatter_rows_accumulate, gather_weighted_rows_bias_set, scatter_weighted_rows_accumulate,
} from './matrix';
export { lstm_cell_forward, lstm_cell_backward_set, sigmoid_array, tanh_array } from './lstm';
export { softmax_xent_forward, softmax_xent_backward_set, td_squared_error_backward_set } from './loss';
export { adam_update, sum_squares, scale_array, multiply_set, soft_update, copy_bytes, zero_bytes } from './optimizer';
export { peak_madd, peak_sqrt_div } from './peak';

/** First byte free for the caller's arena (above the module's static data). */
export function heap_base(): usize {
  return (__heap_base + 63) & ~63;
}

/** 1 in the relaxed-SIMD build (fused multiply-add), 0 in the plain SIMD build. */
export function relaxed_simd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
