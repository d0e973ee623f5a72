// Each matrix, loss and optimizer kernel against a plain float64 computation, on shapes with ragged
// tails and several SIMD iterations.
import { describe, expect, it } from 'vitest';
import { storageIndex, type TensorSpec } from '../../src/engine/layout.js';
import { refAdam } from '../../src/engine/reference.js';
import { RawArena, relativeError, uniform } from './support.js';

const panelSpec = (K: number, N: number): TensorSpec => ({ name: 'm', layout: 'panel', shape: [K, N], storage: [K, N], offset: 0, size: K * N });
const at = (K: number, N: number, r: number, c: number) => storageIndex(panelSpec(K, N), 1, 1, r, c);

function packed(arena: RawArena, K: number, N: number, dense: Float64Array) {
  const w = arena.f32(K * N);
  for (let r = 0; r < K; r++) for (let c = 0; c < N; c++) w.view[at(K, N, r, c)] = dense[r * N + c];
  return w;
}

describe('gemm_packed', () => {
  const shapes = [
    [1, 4, 8], [1, 100, 400], [3, 12, 40], [5, 37 + 3, 44], [32, 100, 400], [33, 8, 20], [7, 40, 4], [2, 9, 16],
  ];
  for (const [M, K, N] of shapes) {
    for (const mode of [0, 1, 2]) {
      it(`M=${M} K=${K} N=${N} mode=${mode}`, () => {
        const arena = new RawArena();
        const lda = K + 3, ldo = N + 4; // strides wider than the rows
        const A = uniform(M * lda, 1, M * 31 + K);
        const W = uniform(K * N, 1, N * 7 + 1);
        const bias = uniform(N, 1, 99);
        const prior = uniform(M * ldo, 1, 5);
        const a = arena.f32(M * lda, A);
        const w = packed(arena, K, N, W);
        const b = arena.f32(N, bias);
        const out = arena.f32(M * ldo, prior);
        arena.k.gemm_packed(out.ptr, ldo, a.ptr, lda, w.ptr, b.ptr, M, K, N, mode);
        const got: number[] = [], want: number[] = [];
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let s = mode === 1 ? prior[m * ldo + n] : mode === 2 ? bias[n] : 0;
            for (let k = 0; k < K; k++) s += Math.fround(A[m * lda + k]) * Math.fround(W[k * N + n]);
            want.push(s);
            got.push(out.view[m * ldo + n]);
          }
          // columns beyond N are untouched
          for (let n = N; n < ldo; n++) expect(out.view[m * ldo + n]).toBe(Math.fround(prior[m * ldo + n]));
        }
        expect(relativeError(got, want)).toBeLessThan(1e-5);
      });
    }
  }
});

describe('outer_accumulate, pack_transpose, colsum, gather and scatter', () => {
  it('outer_accumulate adds a^T d into the panel layout', () => {
    for (const [M, K, N] of [[1, 4, 8], [3, 12, 16], [32, 100, 400], [7, 40, 40]]) {
      const arena = new RawArena();
      const lda = K + 4, ldd = N + 8;
      const A = uniform(M * lda, 1, 3), D = uniform(M * ldd, 1, 4), prior = uniform(K * N, 1, 6);
      const a = arena.f32(M * lda, A), d = arena.f32(M * ldd, D);
      const dw = packed(arena, K, N, prior);
      arena.k.outer_accumulate(dw.ptr, a.ptr, lda, d.ptr, ldd, M, K, N);
      const got: number[] = [], want: number[] = [];
      for (let k = 0; k < K; k++) {
        for (let n = 0; n < N; n++) {
          let s = prior[k * N + n];
          for (let m = 0; m < M; m++) s += Math.fround(A[m * lda + k]) * Math.fround(D[m * ldd + n]);
          want.push(s);
          got.push(dw.view[at(K, N, k, n)]);
        }
      }
      expect(relativeError(got, want)).toBeLessThan(1e-5);
    }
  });

  it('pack_transpose gives W^T in the panel layout, half panels included', () => {
    for (const [K, N] of [[4, 8], [12, 16], [100, 400], [37 + 3, 40], [8, 8]]) {
      const arena = new RawArena();
      const W = uniform(K * N, 1, K + N);
      const src = packed(arena, K, N, W);
      const dst = arena.f32(K * N);
      arena.k.pack_transpose(dst.ptr, src.ptr, K, N);
      for (let r = 0; r < N; r++) {
        for (let c = 0; c < K; c++) expect(dst.view[at(N, K, r, c)]).toBe(Math.fround(W[c * N + r]));
      }
    }
  });

  it('colsum_accumulate sums rows into the bias gradient', () => {
    const arena = new RawArena();
    const M = 5, N = 44, ld = 48;
    const D = uniform(M * ld, 1, 8), prior = uniform(N, 1, 9);
    const d = arena.f32(M * ld, D), db = arena.f32(N, prior);
    arena.k.colsum_accumulate(db.ptr, d.ptr, ld, M, N);
    const want = Array.from({ length: N }, (_, n) => prior[n] + [0, 1, 2, 3, 4].reduce((s, m) => s + Math.fround(D[m * ld + n]), 0));
    expect(relativeError(db.view, want)).toBeLessThan(1e-6);
  });

  it('gather_bias_rows and scatter_add_rows are a row lookup and its gradient', () => {
    const arena = new RawArena();
    const rows = 38, N = 20, M = 6;
    const T = uniform(rows * N, 1, 10), bias = uniform(N, 1, 11);
    const table = arena.f32(rows * N, T), b = arena.f32(N, bias);
    const tokens = arena.i32(M, [0, 37, 5, 5, 12, 1]);
    const out = arena.f32(M * N);
    arena.k.gather_bias_rows(out.ptr, N, b.ptr, table.ptr, N, tokens.ptr, M, N);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) expect(out.view[m * N + n]).toBeCloseTo(bias[n] + T[tokens.view[m] * N + n], 6);
    }
    const before = Float64Array.from(table.view);
    arena.k.scatter_add_rows(table.ptr, N, tokens.ptr, out.ptr, N, M, N);
    // row 5 was hit twice
    for (let n = 0; n < N; n++) {
      expect(table.view[5 * N + n]).toBeCloseTo(before[5 * N + n] + out.view[2 * N + n] + out.view[3 * N + n], 5);
      expect(table.view[2 * N + n]).toBe(before[2 * N + n]);
    }
  });
});

describe('losses', () => {
  const O = 38, ld = 40, M = 9;
  const L = uniform(M * ld, 6, 12);
  const labels = [0, 1, 37, 5, 36, 2, 14, 1, 0];
  const weights = [0.1, 0, 0.2, 0.05, 0.3, 0.1, 0.05, 0.1, 0.1];
  const softmaxRow = (m: number) => {
    const row = Array.from({ length: O }, (_, j) => Math.fround(L[m * ld + j]));
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    return { row, lse };
  };

  it('softmax_xent_forward gives log p(label) and the argmax', () => {
    const arena = new RawArena();
    const logits = arena.f32(M * ld, L), lab = arena.i32(M, labels);
    const logp = arena.f32(M), arg = arena.i32(M);
    arena.k.softmax_xent_forward(logp.ptr, arg.ptr, logits.ptr, ld, lab.ptr, M, O);
    for (let m = 0; m < M; m++) {
      const { row, lse } = softmaxRow(m);
      expect(logp.view[m]).toBeCloseTo(row[labels[m]] - lse, 5);
      expect(arg.view[m]).toBe(row.indexOf(Math.max(...row)));
    }
  });

  it('softmax_xent_backward gives weight * (softmax - onehot), zero padding, zero masked rows', () => {
    const arena = new RawArena();
    const logits = arena.f32(M * ld, L), lab = arena.i32(M, labels), w = arena.f32(M, weights);
    const d = arena.f32(M * ld, uniform(M * ld, 1, 77));
    arena.k.softmax_xent_backward(d.ptr, logits.ptr, ld, lab.ptr, w.ptr, M, O);
    for (let m = 0; m < M; m++) {
      const { row, lse } = softmaxRow(m);
      for (let j = 0; j < ld; j++) {
        const want = j >= O || weights[m] === 0 ? 0 : weights[m] * (Math.exp(row[j] - lse) - (j === labels[m] ? 1 : 0));
        expect(Math.abs(d.view[m * ld + j] - want)).toBeLessThan(2e-7);
      }
    }
  });

  it('td_squared_error: loss sum and 2 (q - y) / M at the taken action only', () => {
    const arena = new RawArena();
    const q = arena.f32(M * ld, L), actions = arena.i32(M, labels), targets = arena.f32(M, weights.map((x) => 10 * x - 1));
    const dq = arena.f32(M * ld, uniform(M * ld, 1, 3));
    const sum = arena.k.td_squared_error(dq.ptr, q.ptr, ld, actions.ptr, targets.ptr, M);
    let want = 0;
    for (let m = 0; m < M; m++) {
      const diff = q.view[m * ld + labels[m]] - targets.view[m];
      want += diff * diff;
      for (let j = 0; j < ld; j++) {
        expect(dq.view[m * ld + j]).toBeCloseTo(j === labels[m] ? (2 * diff) / M : 0, 6);
      }
    }
    expect(sum).toBeCloseTo(want, 5);
  });
});

describe('optimizer kernels', () => {
  it('adam_update tracks the float64 reference over 50 steps at a high learning rate', () => {
    const n = 1003; // ragged tail
    const arena = new RawArena();
    const p0 = uniform(n, 1, 21);
    const p = arena.f32(n, p0), g = arena.f32(n), m = arena.f32(n), v = arena.f32(n);
    const rp = Float64Array.from(p.view), rm = new Float64Array(n), rv = new Float64Array(n);
    const lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (let t = 1; t <= 50; t++) {
      // gradient of sum (p - target)^2 with a target per element, evaluated at each copy's own params
      const target = (i: number) => Math.sin(i + t * 0.1);
      for (let i = 0; i < n; i++) g.view[i] = 2 * (p.view[i] - target(i));
      const rg = rp.map((x, i) => 2 * (x - target(i)));
      arena.k.adam_update(p.ptr, g.ptr, m.ptr, v.ptr, n, lr / (1 - b1 ** t), b1, b2, eps, 1 / Math.sqrt(1 - b2 ** t));
      refAdam(rp, rg, rm, rv, t, lr, b1, b2, eps);
    }
    expect(relativeError(p.view, rp)).toBeLessThan(1e-4);
    // and it moved a lot: this is not a near-no-op comparison
    expect(relativeError(p.view, p0)).toBeGreaterThan(0.1);
  });

  it('sum_squares, scale_array and soft_update over a ragged length', () => {
    const n = 4099;
    const arena = new RawArena();
    const X = uniform(n, 2, 31), Y = uniform(n, 2, 32);
    const x = arena.f32(n, X), y = arena.f32(n, Y);
    const ss = X.reduce((s, v) => s + Math.fround(v) ** 2, 0);
    expect(arena.k.sum_squares(x.ptr, n) / ss).toBeCloseTo(1, 10);
    arena.k.scale_array(x.ptr, n, 0.5);
    expect(x.view[n - 1]).toBeCloseTo(X[n - 1] * 0.5, 6);
    arena.k.soft_update(x.ptr, y.ptr, n, 0.01);
    for (const i of [0, 1, 2, 3, n - 3, n - 2, n - 1]) expect(x.view[i]).toBeCloseTo(0.99 * X[i] * 0.5 + 0.01 * Y[i], 6);
  });
});
