// Losses on the output layer's logits. Rows of logits have stride ld >= C, C classes are valid.

import { exp4, k, C_NEG_INF, LANE_INDEX } from './simd';

// @ts-ignore: decorator
@inline function laneMask(remaining: i32): v128 {
  // lanes whose index < remaining are all-ones
  return i32x4.lt_s(v128.load(LANE_INDEX), i32x4.splat(remaining));
}

// @ts-ignore: decorator
@inline function rowMax(row: usize, C: i32): f32 {
  let mx = k(C_NEG_INF);
  let j = 0;
  for (; j + 4 <= C; j += 4) mx = f32x4.pmax(mx, v128.load(row + (<usize>j << 2)));
  if (j < C) mx = f32x4.pmax(mx, v128.bitselect(v128.load(row + (<usize>j << 2)), k(C_NEG_INF), laneMask(C - j)));
  return max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
}

// Sum of exp(row - mx) over the C valid lanes; writes the exponentials to out when out != 0.
// @ts-ignore: decorator
@inline function rowExpSum(row: usize, C: i32, mx: f32, out: usize): f32 {
  const mv = f32x4.splat(mx);
  let s = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= C; j += 4) {
    const e = exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), mv));
    if (out) v128.store(out + (<usize>j << 2), e);
    s = f32x4.add(s, e);
  }
  if (j < C) {
    const e = v128.and(exp4(f32x4.sub(v128.load(row + (<usize>j << 2)), mv)), laneMask(C - j));
    if (out) v128.store(out + (<usize>j << 2), e);
    s = f32x4.add(s, e);
  }
  return (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

/**
 * Softmax cross-entropy, forward: for each row m writes logp[m] = log softmax(logits[m])[labels[m]] and
 * argmax[m] (first maximal class). Rows whose label is negative are skipped (logp 0, argmax -1).
 */
export function softmax_xent_forward(
  logp: usize, argmax: usize, logits: usize, ld: i32, labels: usize, M: i32, C: i32,
): void {
  for (let m = 0; m < M; m++) {
    const row = logits + (<usize>m * <usize>ld << 2);
    const label = load<i32>(labels + (<usize>m << 2));
    const mx = rowMax(row, C);
    let best = 0;
    for (let j = 0; j < C; j++) {
      if (load<f32>(row + (<usize>j << 2)) == mx) { best = j; break; }
    }
    store<i32>(argmax + (<usize>m << 2), label < 0 ? -1 : best);
    if (label < 0) { store<f32>(logp + (<usize>m << 2), 0); continue; }
    const s = rowExpSum(row, C, mx, 0);
    store<f32>(logp + (<usize>m << 2), load<f32>(row + (<usize>label << 2)) - mx - Mathf.log(s));
  }
}

/**
 * Softmax cross-entropy, backward: overwrites dlogits[m][j] = weight[m] * (softmax_j - [j == label]) for
 * j < C, and 0 in the padding columns C..ld-1. weight[m] = 0 masks a row (its label is then ignored).
 */
export function softmax_xent_backward_set(
  dlogits: usize, logits: usize, ld: i32, labels: usize, weight: usize, M: i32, C: i32,
): void {
  for (let m = 0; m < M; m++) {
    const row = logits + (<usize>m * <usize>ld << 2);
    const drow = dlogits + (<usize>m * <usize>ld << 2);
    const w = load<f32>(weight + (<usize>m << 2));
    if (w == 0) {
      memory.fill(drow, 0, <usize>ld << 2);
      continue;
    }
    const mx = rowMax(row, C);
    const s = rowExpSum(row, C, mx, drow);
    const scale = f32x4.splat(w / s);
    let j = 0;
    for (; j < C; j += 4) {
      v128.store(drow + (<usize>j << 2), f32x4.mul(v128.load(drow + (<usize>j << 2)), scale));
    }
    for (; j < ld; j++) store<f32>(drow + (<usize>j << 2), 0);
    const label = load<i32>(labels + (<usize>m << 2));
    const at = drow + (<usize>label << 2);
    store<f32>(at, load<f32>(at) - w);
  }
}

/**
 * Squared TD error on the taken action, forward and backward together: returns the loss sum over m of
 * (q[m][a_m] - y_m)^2 and overwrites dq = d(mean)/dq: 2 (q - y) / M at the taken action, 0 elsewhere in
 * the row (ld columns).
 */
export function td_squared_error_backward_set(
  dq: usize, q: usize, ld: i32, actions: usize, targets: usize, M: i32,
): f64 {
  let total: f64 = 0;
  const scale: f32 = 2.0 / <f32>M;
  memory.fill(dq, 0, <usize>M * <usize>ld << 2);
  for (let m = 0; m < M; m++) {
    const a = <usize>load<i32>(actions + (<usize>m << 2));
    const off = (<usize>m * <usize>ld + a) << 2;
    const diff = load<f32>(q + off) - load<f32>(targets + (<usize>m << 2));
    total += <f64>diff * <f64>diff;
    store<f32>(dq + off, scale * diff);
  }
  return total;
}
