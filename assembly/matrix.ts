// Matrix kernels over the panel-packed weight layout.
//
// Panel layout of a K x N matrix W (N % 4 == 0): columns are cut into panels of 8; panel p holds columns
// 8p .. 8p+7 for every k, stored [k][8], so walking k reads 32 contiguous bytes per step and no large
// power-of-two row stride makes successive loads collide in the L1 cache. When N % 8 == 4, the last 4
// columns form a half panel stored [k][4]. Element (k, n) of a full panel lives at
// (n & ~7) * K + k * 8 + (n & 7).
//
// All pointers are byte addresses of 16-byte aligned f32 (or i32) buffers owned by the caller; sizes are
// element counts; ld* are row strides in elements (multiples of 4). Nothing here allocates.

import { madd } from './simd';

// How gemm starts each output tile (a compile-time constant after inlining into each export below).
const START_ZERO: i32 = 0; // out = a . W
const START_OUT: i32 = 1; // out += a . W
const START_BIAS: i32 = 2; // out = bias + a . W

// @ts-ignore: decorator
@inline function initAcc(start: i32, out: usize, bias: usize): v128 {
  if (start == START_OUT) return v128.load(out);
  if (start == START_BIAS) return v128.load(bias);
  return f32x4.splat(0);
}

/** out[M][N] = a[M][K] . W (overwrites out), W panel-packed K x N; M any, K any, N % 4 == 0. */
export function gemm_packed_set(out: usize, ldo: i32, a: usize, lda: i32, w: usize, M: i32, K: i32, N: i32): void {
  gemmPacked(out, ldo, a, lda, w, 0, M, K, N, START_ZERO);
}

/** out[M][N] += a[M][K] . W, W panel-packed K x N; M any, K any, N % 4 == 0. */
export function gemm_packed_accumulate(out: usize, ldo: i32, a: usize, lda: i32, w: usize, M: i32, K: i32, N: i32): void {
  gemmPacked(out, ldo, a, lda, w, 0, M, K, N, START_OUT);
}

/** out[M][N] = bias[N] + a[M][K] . W (overwrites out; every row starts as the bias), W panel-packed K x N. */
export function gemm_packed_bias_set(
  out: usize, ldo: i32, a: usize, lda: i32, w: usize, bias: usize, M: i32, K: i32, N: i32,
): void {
  gemmPacked(out, ldo, a, lda, w, bias, M, K, N, START_BIAS);
}

/**
 * The one gemm body behind the three exports: out[M][N] (=, +=, or bias +) a[M][K] . W.
 * Four rows at a time against one 8-column panel (a 4 x 8 register tile: 8 accumulators, 2 weight
 * vectors, 1 broadcast); leftover rows one at a time against four panels at once so the accumulator
 * chains stay independent.
 */
// @ts-ignore: decorator
@inline function gemmPacked(
  out: usize, ldo: i32, a: usize, lda: i32, w: usize, bias: usize,
  M: i32, K: i32, N: i32, start: i32,
): void {
  const N8 = N & ~7;
  const M4 = M & ~3;
  const aRow = <usize>lda << 2;
  const oRow = <usize>ldo << 2;
  for (let n0 = 0; n0 < N8; n0 += 8) {
    const wp = w + (<usize>n0 * <usize>K << 2);
    const bp = bias + (<usize>n0 << 2);
    for (let m = 0; m < M4; m += 4) {
      const o0 = out + <usize>m * oRow + (<usize>n0 << 2);
      const o1 = o0 + oRow;
      const o2 = o1 + oRow;
      const o3 = o2 + oRow;
      let c00 = initAcc(start, o0, bp), c01 = initAcc(start, o0 + 16, bp + 16);
      let c10 = initAcc(start, o1, bp), c11 = initAcc(start, o1 + 16, bp + 16);
      let c20 = initAcc(start, o2, bp), c21 = initAcc(start, o2 + 16, bp + 16);
      let c30 = initAcc(start, o3, bp), c31 = initAcc(start, o3 + 16, bp + 16);
      let a0 = a + <usize>m * aRow;
      const a1 = aRow, a2 = aRow * 2, a3 = aRow * 3;
      let wk = wp;
      const aEnd = a0 + (<usize>K << 2);
      while (a0 < aEnd) {
        const w0 = v128.load(wk);
        const w1 = v128.load(wk, 16);
        const x0 = v128.load32_splat(a0);
        c00 = madd(x0, w0, c00); c01 = madd(x0, w1, c01);
        const x1 = v128.load32_splat(a0 + a1);
        c10 = madd(x1, w0, c10); c11 = madd(x1, w1, c11);
        const x2 = v128.load32_splat(a0 + a2);
        c20 = madd(x2, w0, c20); c21 = madd(x2, w1, c21);
        const x3 = v128.load32_splat(a0 + a3);
        c30 = madd(x3, w0, c30); c31 = madd(x3, w1, c31);
        a0 += 4;
        wk += 32;
      }
      v128.store(o0, c00); v128.store(o0, c01, 16);
      v128.store(o1, c10); v128.store(o1, c11, 16);
      v128.store(o2, c20); v128.store(o2, c21, 16);
      v128.store(o3, c30); v128.store(o3, c31, 16);
    }
  }
  // Leftover rows (all rows when M < 4; a batch-1 step is all leftover). Over the columns in whole groups
  // of 32, each output vector is one chain over k in order, two panels (4 chains) at a time with k
  // unrolled by 2 (four panels at once, 8 chains, ran the batch-1 step slower: the bench's step rows). The
  // grouping is part of the bits: a column split (kernel_threads.ts) cuts at multiples of 32 so every
  // column meets the same path as in one call.
  for (let m = M4; m < M; m++) {
    const ar = a + <usize>m * aRow;
    const orow = out + <usize>m * oRow;
    const N32 = N8 & ~31;
    const panel = <usize>K << 5; // bytes per panel
    const aPairs = ar + (<usize>(K & ~1) << 2);
    for (let n0 = 0; n0 < N32; n0 += 16) {
      const o = orow + (<usize>n0 << 2);
      const bp = bias + (<usize>n0 << 2);
      let p0 = w + (<usize>n0 * <usize>K << 2);
      let p1 = p0 + panel;
      let c0 = initAcc(start, o, bp), c1 = initAcc(start, o + 16, bp + 16);
      let c2 = initAcc(start, o + 32, bp + 32), c3 = initAcc(start, o + 48, bp + 48);
      let ak = ar;
      while (ak < aPairs) {
        let x = v128.load32_splat(ak);
        c0 = madd(x, v128.load(p0), c0); c1 = madd(x, v128.load(p0, 16), c1);
        c2 = madd(x, v128.load(p1), c2); c3 = madd(x, v128.load(p1, 16), c3);
        x = v128.load32_splat(ak, 4);
        c0 = madd(x, v128.load(p0, 32), c0); c1 = madd(x, v128.load(p0, 48), c1);
        c2 = madd(x, v128.load(p1, 32), c2); c3 = madd(x, v128.load(p1, 48), c3);
        ak += 8;
        p0 += 64;
        p1 += 64;
      }
      if (K & 1) {
        const x = v128.load32_splat(ak);
        c0 = madd(x, v128.load(p0), c0); c1 = madd(x, v128.load(p0, 16), c1);
        c2 = madd(x, v128.load(p1), c2); c3 = madd(x, v128.load(p1, 16), c3);
      }
      v128.store(o, c0); v128.store(o, c1, 16); v128.store(o, c2, 32); v128.store(o, c3, 48);
    }
    let n0 = N32;
    for (; n0 < N8; n0 += 8) {
      const o = orow + (<usize>n0 << 2);
      const bp = bias + (<usize>n0 << 2);
      let c0 = initAcc(start, o, bp), c1 = initAcc(start, o + 16, bp + 16);
      let e0 = f32x4.splat(0), e1 = f32x4.splat(0);
      let wk = w + (<usize>n0 * <usize>K << 2);
      let kk = 0;
      for (; kk + 2 <= K; kk += 2) {
        const x = v128.load32_splat(ar + (<usize>kk << 2));
        const y = v128.load32_splat(ar + (<usize>kk << 2), 4);
        c0 = madd(x, v128.load(wk), c0);
        c1 = madd(x, v128.load(wk, 16), c1);
        e0 = madd(y, v128.load(wk, 32), e0);
        e1 = madd(y, v128.load(wk, 48), e1);
        wk += 64;
      }
      if (kk < K) {
        const x = v128.load32_splat(ar + (<usize>kk << 2));
        c0 = madd(x, v128.load(wk), c0);
        c1 = madd(x, v128.load(wk, 16), c1);
      }
      v128.store(o, f32x4.add(c0, e0));
      v128.store(o, f32x4.add(c1, e1), 16);
    }
  }
  if (N8 < N) {
    // Half panel: the last 4 columns, stored [k][4].
    const wp = w + (<usize>N8 * <usize>K << 2);
    const bp = bias + (<usize>N8 << 2);
    for (let m = 0; m < M; m++) {
      const ar = a + <usize>m * aRow;
      const o = out + <usize>m * oRow + (<usize>N8 << 2);
      let c0 = initAcc(start, o, bp);
      let c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let wk = wp;
      let kk = 0;
      for (; kk + 4 <= K; kk += 4) {
        const ak = ar + (<usize>kk << 2);
        c0 = madd(v128.load32_splat(ak), v128.load(wk), c0);
        c1 = madd(v128.load32_splat(ak, 4), v128.load(wk, 16), c1);
        c2 = madd(v128.load32_splat(ak, 8), v128.load(wk, 32), c2);
        c3 = madd(v128.load32_splat(ak, 12), v128.load(wk, 48), c3);
        wk += 64;
      }
      for (; kk < K; kk++) {
        c0 = madd(v128.load32_splat(ar + (<usize>kk << 2)), v128.load(wk), c0);
        wk += 16;
      }
      v128.store(o, f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)));
    }
  }
}

/**
 * dW += a^T . d: dW(k, n) += sum over m of a[m][k] * d[m][n], dW panel-packed K x N.
 * K % 4 == 0, N % 8 == 0 (parameter matrices always have full panels). A 4 x 8 tile of dW is reduced
 * over all M rows in registers, then added to memory once.
 */
export function outer_accumulate(
  dw: usize, a: usize, lda: i32, d: usize, ldd: i32, M: i32, K: i32, N: i32,
): void {
  const aRow = <usize>lda << 2;
  const dRow = <usize>ldd << 2;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const panel = dw + (<usize>n0 * <usize>K << 2);
    for (let k0 = 0; k0 < K; k0 += 4) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ap = a + (<usize>k0 << 2);
      let dp = d + (<usize>n0 << 2);
      for (let m = 0; m < M; m++) {
        const d0 = v128.load(dp);
        const d1 = v128.load(dp, 16);
        const x0 = v128.load32_splat(ap);
        c00 = madd(x0, d0, c00); c01 = madd(x0, d1, c01);
        const x1 = v128.load32_splat(ap, 4);
        c10 = madd(x1, d0, c10); c11 = madd(x1, d1, c11);
        const x2 = v128.load32_splat(ap, 8);
        c20 = madd(x2, d0, c20); c21 = madd(x2, d1, c21);
        const x3 = v128.load32_splat(ap, 12);
        c30 = madd(x3, d0, c30); c31 = madd(x3, d1, c31);
        ap += aRow;
        dp += dRow;
      }
      const t = panel + (<usize>k0 << 5);
      v128.store(t, f32x4.add(v128.load(t), c00)); v128.store(t, f32x4.add(v128.load(t, 16), c01), 16);
      v128.store(t, f32x4.add(v128.load(t, 32), c10), 32); v128.store(t, f32x4.add(v128.load(t, 48), c11), 48);
      v128.store(t, f32x4.add(v128.load(t, 64), c20), 64); v128.store(t, f32x4.add(v128.load(t, 80), c21), 80);
      v128.store(t, f32x4.add(v128.load(t, 96), c30), 96); v128.store(t, f32x4.add(v128.load(t, 112), c31), 112);
    }
  }
}

/**
 * dst = src^T, both panel-packed: src is K x N (N % 8 == 0), dst is N x K (K % 4 == 0; a half panel
 * when K % 8 == 4). Used to multiply by W^T in backward passes with the same fast kernel.
 */
export function pack_transpose(dst: usize, src: usize, K: i32, N: i32): void {
  const K8 = K & ~7;
  for (let n = 0; n < N; n++) {
    const srcCol = src + ((<usize>(n & ~7) * <usize>K + <usize>(n & 7)) << 2);
    // dst row n: full panels of 8 source rows k, then the half panel.
    for (let k0 = 0; k0 < K8; k0 += 8) {
      const o = dst + ((<usize>k0 * <usize>N + <usize>n * 8) << 2);
      for (let j = 0; j < 8; j++) {
        store<f32>(o + (<usize>j << 2), load<f32>(srcCol + (<usize>(k0 + j) << 5)));
      }
    }
    if (K8 < K) {
      const o = dst + ((<usize>K8 * <usize>N + <usize>n * 4) << 2);
      for (let j = 0; j < 4; j++) {
        store<f32>(o + (<usize>j << 2), load<f32>(srcCol + (<usize>(K8 + j) << 5)));
      }
    }
  }
}

/** db[n] += sum over m of d[m][n]; N % 4 == 0. */
export function colsum_accumulate(db: usize, d: usize, ldd: i32, M: i32, N: i32): void {
  const dRow = <usize>ldd << 2;
  for (let n = 0; n < N; n += 4) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
    let dp = d + (<usize>n << 2);
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      s0 = f32x4.add(s0, v128.load(dp));
      s1 = f32x4.add(s1, v128.load(dp + dRow));
      dp += dRow * 2;
    }
    if (m < M) s0 = f32x4.add(s0, v128.load(dp));
    const t = db + (<usize>n << 2);
    v128.store(t, f32x4.add(v128.load(t), f32x4.add(s0, s1)));
  }
}

/** out[m][:] = bias + table[tokens[m]][:] for m < M; N % 4 == 0 (the one-hot input's W_x row lookup). */
export function gather_bias_rows(
  out: usize, ldo: i32, bias: usize, table: usize, ldt: i32, tokens: usize, M: i32, N: i32,
): void {
  for (let m = 0; m < M; m++) {
    const row = table + (<usize>load<i32>(tokens + (<usize>m << 2)) * <usize>ldt << 2);
    const o = out + (<usize>m * <usize>ldo << 2);
    for (let n = 0; n < N; n += 4) {
      const off = <usize>n << 2;
      v128.store(o + off, f32x4.add(v128.load(bias + off), v128.load(row + off)));
    }
  }
}

/** table[tokens[m]][:] += d[m][:] for m < M; N % 4 == 0 (the gradient of a row lookup). */
export function scatter_rows_accumulate(
  table: usize, ldt: i32, tokens: usize, d: usize, ldd: i32, M: i32, N: i32,
): void {
  for (let m = 0; m < M; m++) {
    const row = table + (<usize>load<i32>(tokens + (<usize>m << 2)) * <usize>ldt << 2);
    const dp = d + (<usize>m * <usize>ldd << 2);
    for (let n = 0; n < N; n += 4) {
      const off = <usize>n << 2;
      v128.store(row + off, f32x4.add(v128.load(row + off), v128.load(dp + off)));
    }
  }
}

/**
 * out[m][:] = bias + Σ_k values[m][k] · table[indices[m][k]][:] for m < M, the K entries of a row added in
 * order k = 0..K−1 (an entry whose value is 0 adds nothing and is skipped); N % 4 == 0. A sparse input row
 * times W_x: the lookback encoding's few one-hot blocks and counter bits, or a one-hot row under input
 * dropout (its value the mask's). indices and values are [M][K] (i32 and f32).
 */
export function gather_weighted_rows_bias_set(
  out: usize, ldo: i32, bias: usize, table: usize, ldt: i32, indices: usize, values: usize, K: i32, M: i32, N: i32,
): void {
  const entryRow = <usize>K << 2;
  for (let m = 0; m < M; m++) {
    const o = out + (<usize>m * <usize>ldo << 2);
    const ip = indices + <usize>m * entryRow;
    const vp = values + <usize>m * entryRow;
    for (let n = 0; n < N; n += 4) {
      const off = <usize>n << 2;
      let acc = v128.load(bias + off);
      for (let k = 0; k < K; k++) {
        const v = load<f32>(vp + (<usize>k << 2));
        if (v == 0) continue;
        const row = table + (<usize>load<i32>(ip + (<usize>k << 2)) * <usize>ldt << 2);
        acc = madd(f32x4.splat(v), v128.load(row + off), acc);
      }
      v128.store(o + off, acc);
    }
  }
}

/**
 * table[indices[m][k]][:] += values[m][k] · d[m][:] for m < M, k < K in that order (entries whose value is
 * 0 are skipped); N % 4 == 0. The gradient of gather_weighted_rows_bias_set with respect to its table.
 */
export function scatter_weighted_rows_accumulate(
  table: usize, ldt: i32, indices: usize, values: usize, K: i32, d: usize, ldd: i32, M: i32, N: i32,
): void {
  const entryRow = <usize>K << 2;
  for (let m = 0; m < M; m++) {
    const dp = d + (<usize>m * <usize>ldd << 2);
    const ip = indices + <usize>m * entryRow;
    const vp = values + <usize>m * entryRow;
    for (let k = 0; k < K; k++) {
      const v = load<f32>(vp + (<usize>k << 2));
      if (v == 0) continue;
      const row = table + (<usize>load<i32>(ip + (<usize>k << 2)) * <usize>ldt << 2);
      const vv = f32x4.splat(v);
      for (let n = 0; n < N; n += 4) {
        const off = <usize>n << 2;
        v128.store(row + off, madd(vv, v128.load(dp + off), v128.load(row + off)));
      }
    }
  }
}
