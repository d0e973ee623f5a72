// Each matrix, loss and optimizer kernel of both builds against a float64 computation, element by element,
// on shapes with several SIMD iterations and ragged tails. Expected values are computed from the
// f32-rounded inputs, so the tolerances measure the kernel's own arithmetic (F32_EPS = 2^-24 per rounding).
import { describe, expect, it } from 'vitest';
import { storageIndex, type TensorSpec } from '../../src/engine/layout.js';
import { refAdam } from '../../src/engine/reference.js';
import { BUILDS, F32_EPS, RawArena, expectClose, uniform } from './support.js';

const f = Math.fround;
const panelSpec = (K: number, N: number): TensorSpec => ({ name: 'm', layout: 'panel', shape: [K, N], storage: [K, N], offset: 0, size: K * N });
const at = (K: number, N: number, r: number, c: number) => storageIndex(panelSpec(K, N), 1, 1, r, c);

function packed(arena: RawArena, K: number, N: number, dense: Float64Array) {
  const w = arena.f32(K * N);
  for (let r = 0; r < K; r++) for (let c = 0; c < N; c++) w.view[at(K, N, r, c)] = dense[r * N + c];
  return w;
}

/** Lengths for the flat passes: one element, a lone ragged tail, one and two full vectors, longer runs. */
const FLAT_LENGTHS = [1, 3, 4, 7, 8, 9, 17, 33, 100, 1003, 4099];
/** Elements after the end of a flat pass's buffer that must stay untouched. */
const GUARD = 8;

/** Float32 values of the guard elements after n, to check nothing was written past the end. */
const guardOf = (view: Float32Array, n: number) => Array.from(view.subarray(n, n + GUARD));

/**
 * A sum of K terms of size <= 1 accumulated in f32 (a dot product, a column sum): each addition rounds
 * with a relative error <= F32_EPS of a partial sum of size <= K, so the error is at most ~K·F32_EPS per
 * addition in the worst case and far less for random signs. The bound used, 4K·F32_EPS absolute plus
 * 4 roundings relative, leaves the worst case seen (gemm 32x100x400) at about a quarter of its allowance.
 */
const dotTolerance = (K: number) => ({ atol: 4 * K * F32_EPS, rtol: 4 * F32_EPS });

describe.each(BUILDS)('%s build', (build) => {
  describe('gemm_packed_set, gemm_packed_accumulate, gemm_packed_bias_set', () => {
    const shapes = [
      [1, 4, 8], [1, 100, 400], [3, 12, 40], [5, 37 + 3, 44], [32, 100, 400], [33, 8, 20], [7, 40, 4], [2, 9, 16],
      // leftover rows with odd K over whole 32-column groups, a trailing panel and a half panel
      [3, 33, 72], [1, 7, 36],
    ];
    for (const [M, K, N] of shapes) {
      for (const variant of ['set', 'accumulate', 'bias_set'] as const) {
        it(`${variant} M=${M} K=${K} N=${N}`, () => {
          const arena = new RawArena(build);
          const lda = K + 3, ldo = N + 4; // strides wider than the rows
          const A = uniform(M * lda, 1, M * 31 + K);
          const W = uniform(K * N, 1, N * 7 + 1);
          const bias = uniform(N, 1, 99);
          const prior = uniform(M * ldo, 1, 5);
          const a = arena.f32(M * lda, A);
          const w = packed(arena, K, N, W);
          const b = arena.f32(N, bias);
          const out = arena.f32(M * ldo, prior);
          if (variant === 'set') arena.k.gemm_packed_set(out.ptr, ldo, a.ptr, lda, w.ptr, M, K, N);
          else if (variant === 'accumulate') arena.k.gemm_packed_accumulate(out.ptr, ldo, a.ptr, lda, w.ptr, M, K, N);
          else arena.k.gemm_packed_bias_set(out.ptr, ldo, a.ptr, lda, w.ptr, b.ptr, M, K, N);
          const got: number[] = [], want: number[] = [];
          for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
              let s = variant === 'accumulate' ? f(prior[m * ldo + n]) : variant === 'bias_set' ? f(bias[n]) : 0;
              for (let k = 0; k < K; k++) s += f(A[m * lda + k]) * f(W[k * N + n]);
              want.push(s);
              got.push(out.view[m * ldo + n]);
            }
            // columns beyond N are untouched
            for (let n = N; n < ldo; n++) expect(out.view[m * ldo + n]).toBe(f(prior[m * ldo + n]));
          }
          expectClose(got, want, dotTolerance(K + 1), `gemm ${variant} ${M}x${K}x${N}`);
        });
      }
    }
  });

  describe('outer_accumulate, pack_transpose, colsum, gather and scatter', () => {
    it('outer_accumulate adds a^T d into the panel layout', () => {
      for (const [M, K, N] of [[1, 4, 8], [3, 12, 16], [32, 100, 400], [7, 40, 40]]) {
        const arena = new RawArena(build);
        const lda = K + 4, ldd = N + 8;
        const A = uniform(M * lda, 1, 3), D = uniform(M * ldd, 1, 4), prior = uniform(K * N, 1, 6);
        const a = arena.f32(M * lda, A), d = arena.f32(M * ldd, D);
        const dw = packed(arena, K, N, prior);
        arena.k.outer_accumulate(dw.ptr, a.ptr, lda, d.ptr, ldd, M, K, N);
        const got: number[] = [], want: number[] = [];
        for (let k = 0; k < K; k++) {
          for (let n = 0; n < N; n++) {
            let s = f(prior[k * N + n]);
            for (let m = 0; m < M; m++) s += f(A[m * lda + k]) * f(D[m * ldd + n]);
            want.push(s);
            got.push(dw.view[at(K, N, k, n)]);
          }
        }
        expectClose(got, want, dotTolerance(M + 1), `outer_accumulate ${M}x${K}x${N}`);
      }
    });

    it('pack_transpose gives W^T in the panel layout, half panels included', () => {
      for (const [K, N] of [[4, 8], [12, 16], [100, 400], [37 + 3, 40], [8, 8]]) {
        const arena = new RawArena(build);
        const W = uniform(K * N, 1, K + N);
        const src = packed(arena, K, N, W);
        const dst = arena.f32(K * N);
        arena.k.pack_transpose(dst.ptr, src.ptr, K, N);
        for (let r = 0; r < N; r++) {
          for (let c = 0; c < K; c++) expect(dst.view[at(N, K, r, c)]).toBe(f(W[c * N + r]));
        }
      }
    });

    it('colsum_accumulate sums rows into the bias gradient', () => {
      for (const [M, N] of [[1, 4], [2, 8], [3, 12], [5, 44], [9, 40], [64, 400]]) {
        const arena = new RawArena(build);
        const ld = N + 4;
        const D = uniform(M * ld, 1, 8 + M), prior = uniform(N, 1, 9);
        const d = arena.f32(M * ld, D), db = arena.f32(N + GUARD, prior);
        const guard = guardOf(db.view, N);
        arena.k.colsum_accumulate(db.ptr, d.ptr, ld, M, N);
        const want = Array.from({ length: N }, (_, n) => {
          let s = f(prior[n]);
          for (let m = 0; m < M; m++) s += f(D[m * ld + n]);
          return s;
        });
        expectClose(db.view.subarray(0, N), want, dotTolerance(M + 1), `colsum ${M}x${N}`);
        expect(guardOf(db.view, N)).toEqual(guard);
      }
    });

    it('gather_bias_rows and scatter_rows_accumulate are a row lookup and its gradient, exact in f32', () => {
      for (const N of [4, 8, 20, 44]) {
        const arena = new RawArena(build);
        const rows = 38, M = 6;
        const T = uniform(rows * N, 1, 10 + N), bias = uniform(N, 1, 11);
        const table = arena.f32(rows * N, T), b = arena.f32(N, bias);
        const tokens = arena.i32(M, [0, 37, 5, 5, 12, 1]);
        const out = arena.f32(M * N);
        arena.k.gather_bias_rows(out.ptr, N, b.ptr, table.ptr, N, tokens.ptr, M, N);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) expect(out.view[m * N + n]).toBe(f(f(bias[n]) + f(T[tokens.view[m] * N + n])));
        }
        const before = Float32Array.from(table.view);
        arena.k.scatter_rows_accumulate(table.ptr, N, tokens.ptr, out.ptr, N, M, N);
        const want = Float32Array.from(before);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) want[tokens.view[m] * N + n] = f(want[tokens.view[m] * N + n] + out.view[m * N + n]);
        }
        // every row: hit once, hit twice (row 5, in order), or untouched
        expect(Array.from(table.view)).toEqual(Array.from(want));
      }
    });
  });

  describe('losses', () => {
    for (const [C, ld] of [[38, 40], [1, 4], [3, 8], [4, 4], [7, 8], [9, 16]]) {
      const M = 9;
      const L = uniform(M * ld, 6, 12 + C);
      const labels = Array.from({ length: M }, (_, m) => (m * 7 + 3) % C);
      const weights = [0.1, 0, 0.2, 0.05, 0.3, 0.1, 0.05, 0.1, 0.1];
      const softmaxRow = (m: number) => {
        const row = Array.from({ length: C }, (_, j) => f(L[m * ld + j]));
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
        return { row, lse };
      };

      it(`softmax_xent_forward gives log p(label) and the argmax (C=${C})`, () => {
        const arena = new RawArena(build);
        const logits = arena.f32(M * ld, L), lab = arena.i32(M, labels);
        const logp = arena.f32(M), arg = arena.i32(M);
        arena.k.softmax_xent_forward(logp.ptr, arg.ptr, logits.ptr, ld, lab.ptr, M, C);
        const want: number[] = [];
        for (let m = 0; m < M; m++) {
          const { row, lse } = softmaxRow(m);
          want.push(row[labels[m]] - lse);
          expect(arg.view[m]).toBe(row.indexOf(Math.max(...row)));
        }
        // log-sum-exp of logits in [-6, 6]: exp4's error (< 3e-7 relative) and a few f32 roundings of values
        // up to 12 in size.
        expectClose(logp.view, want, { atol: 8 * 12 * F32_EPS, rtol: 8 * F32_EPS }, `log p (C=${C})`);
      });

      it(`softmax_xent_backward_set gives weight * (softmax - onehot), zero padding, zero masked rows (C=${C})`, () => {
        const arena = new RawArena(build);
        const logits = arena.f32(M * ld, L), lab = arena.i32(M, labels), w = arena.f32(M, weights);
        const d = arena.f32(M * ld, uniform(M * ld, 1, 77));
        arena.k.softmax_xent_backward_set(d.ptr, logits.ptr, ld, lab.ptr, w.ptr, M, C);
        const want: number[] = [];
        for (let m = 0; m < M; m++) {
          const { row, lse } = softmaxRow(m);
          for (let j = 0; j < ld; j++) {
            want.push(j >= C || weights[m] === 0 ? 0 : f(weights[m]) * (Math.exp(row[j] - lse) - (j === labels[m] ? 1 : 0)));
          }
        }
        // weight · probability: exp4's relative error and the division by the sum, a few roundings each;
        // the label's entry p - 1 loses the relative accuracy of p near 1, hence the absolute floor.
        expectClose(d.view, want, { atol: 4 * 0.3 * F32_EPS, rtol: 16 * F32_EPS }, `dlogits (C=${C})`);
      });
    }

    it('td_squared_error_backward_set: loss sum and 2 (q - y) / M at the taken action only, exact in f32', () => {
      const O = 38, ld = 40, M = 9;
      const arena = new RawArena(build);
      const labels = [0, 1, 37, 5, 36, 2, 14, 1, 0];
      const q = arena.f32(M * ld, uniform(M * ld, 6, 12)), actions = arena.i32(M, labels);
      const targets = arena.f32(M, uniform(M, 3, 13));
      const dq = arena.f32(M * ld, uniform(M * ld, 1, 3));
      const sum = arena.k.td_squared_error_backward_set(dq.ptr, q.ptr, ld, actions.ptr, targets.ptr, M);
      let want = 0;
      const wantDq = new Float32Array(M * ld);
      for (let m = 0; m < M; m++) {
        const diff = f(q.view[m * ld + labels[m]] - targets.view[m]);
        want += diff * diff;
        wantDq[m * ld + labels[m]] = f(f(2 / M) * diff);
      }
      expect(O).toBeLessThanOrEqual(ld);
      expect(Array.from(dq.view)).toEqual(Array.from(wantDq));
      expectClose([sum], [want], { atol: 0, rtol: 1e-14 }, 'TD loss sum (f64)');
    });
  });

  describe('optimizer kernels', () => {
    it('adam_update tracks the float64 reference over 50 steps at a high learning rate, at every length', () => {
      for (const n of FLAT_LENGTHS) {
        const arena = new RawArena(build);
        const p0 = uniform(n, 1, 21 + n);
        const p = arena.f32(n + GUARD, p0), g = arena.f32(n + GUARD), m = arena.f32(n + GUARD), v = arena.f32(n + GUARD);
        const guard = [p, m, v].map((x) => guardOf(x.view, n));
        const rp = Float64Array.from(p.view.subarray(0, n)), rm = new Float64Array(n), rv = new Float64Array(n);
        const lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        const farthest = new Float64Array(n); // how far each parameter got from its start
        for (let t = 1; t <= 50; t++) {
          // gradient of sum (p - target)^2 with a target per element, evaluated at each copy's own params
          const target = (i: number) => Math.sin(i + t * 0.1);
          for (let i = 0; i < n; i++) g.view[i] = 2 * (p.view[i] - target(i));
          const rg = rp.map((x, i) => 2 * (x - target(i)));
          arena.k.adam_update(p.ptr, g.ptr, m.ptr, v.ptr, n, lr / (1 - b1 ** t), b1, b2, eps, 1 / Math.sqrt(1 - b2 ** t), 1, 0, 0);
          refAdam(rp, rg, rm, rv, t, lr, b1, b2, eps);
          for (let i = 0; i < n; i++) farthest[i] = Math.max(farthest[i], Math.abs(p.view[i] - f(p0[i])));
        }
        // Each step moves a parameter by at most lr (Adam's step is bounded), with f32 roundings of m, v and
        // the step of a few F32_EPS relative; 50 steps add them up on parameters of size ~1.
        const tol = { atol: 50 * 8 * F32_EPS, rtol: 50 * 4 * F32_EPS };
        expectClose(p.view.subarray(0, n), rp, tol, `adam params n=${n}`);
        // the gradients are 2 (p - target), so their errors, and the first moment's, are twice the parameters'
        expectClose(m.view.subarray(0, n), rm, { atol: 2 * tol.atol, rtol: tol.rtol }, `adam m n=${n}`);
        // and every element travelled 100 times its allowance at least: not a near-no-op comparison
        for (let i = 0; i < n; i++) {
          expect(farthest[i], `p[${i}] moved`).toBeGreaterThan(100 * (tol.atol + tol.rtol * Math.abs(rp[i])));
        }
        expect([p, m, v].map((x) => guardOf(x.view, n))).toEqual(guard);
      }
    });

    it('adam_update with clipping and a trailing network folded in gives the bits of scale_array, Adam and soft_update in turn', () => {
      for (const n of FLAT_LENGTHS) {
        for (const gradScale of [1, 0.37]) {
          const arena = new RawArena(build);
          const init = [uniform(n + GUARD, 1, 61 + n), uniform(n + GUARD, 3, 62 + n), uniform(n + GUARD, 0.1, 63 + n), uniform(n + GUARD, 0.1, 64 + n).map(Math.abs), uniform(n + GUARD, 1, 65 + n)];
          // [params, grads, m, v, target] twice: folded, and pass by pass
          const folded = init.map((x) => arena.f32(n + GUARD, x));
          const passes = init.map((x) => arena.f32(n + GUARD, x));
          const [lr, b1, b2, eps, eta] = [0.05, 0.9, 0.999, 1e-8, 0.01];
          for (let t = 1; t <= 3; t++) {
            const stepSize = lr / (1 - b1 ** t), vScale = 1 / Math.sqrt(1 - b2 ** t);
            const [p, g, m, v, target] = folded.map((x) => x.ptr);
            arena.k.adam_update(p, g, m, v, n, stepSize, b1, b2, eps, vScale, gradScale, target, eta);
            const [q, h, mq, vq, targetQ] = passes.map((x) => x.ptr);
            if (gradScale !== 1) arena.k.scale_array(h, n, gradScale);
            arena.k.adam_update(q, h, mq, vq, n, stepSize, b1, b2, eps, vScale, 1, 0, 0);
            arena.k.soft_update(targetQ, q, n, eta);
          }
          folded.forEach((x, i) => {
            // every array equal element for element, the guard past n included (nothing written there)
            expect(Array.from(x.view), `array ${i}, n=${n}, gradScale ${gradScale}`).toEqual(Array.from(passes[i].view));
            expect(guardOf(x.view, n)).toEqual(Array.from(init[i].subarray(n, n + GUARD), f));
          });
          // and the passes did change every array that they write
          expect(folded[0].view[0]).not.toBe(f(init[0][0]));
          expect(folded[4].view[n - 1]).not.toBe(f(init[4][n - 1]));
          // the gradient is written back scaled (three steps: three times), as scale_array leaves it
          let g0 = f(init[1][0]);
          for (let t = 1; t <= 3; t++) g0 = f(g0 * f(gradScale));
          expect(folded[1].view[0]).toBe(g0);
        }
      }
    });

    it('sum_squares over every length equals the float64 sum of the f32 squares', () => {
      for (const n of FLAT_LENGTHS) {
        const arena = new RawArena(build);
        const X = uniform(n, 2, 31 + n);
        const x = arena.f32(n + GUARD, X);
        x.view.fill(1e3, n); // a guard that would dominate the sum if read
        let want = 0;
        for (let i = 0; i < n; i++) want += f(X[i]) ** 2;
        // squares of f32 values are exact in f64; only the f64 summation order differs
        expectClose([arena.k.sum_squares(x.ptr, n)], [want], { atol: 0, rtol: n * 2 ** -52 }, `sum_squares n=${n}`);
      }
    });

    it('scale_array scales every element exactly (one f32 multiply), nothing past the end', () => {
      for (const n of FLAT_LENGTHS) {
        const arena = new RawArena(build);
        const X = uniform(n + GUARD, 2, 41 + n);
        const x = arena.f32(n + GUARD, X);
        const s = 0.37;
        arena.k.scale_array(x.ptr, n, s);
        const want = Array.from({ length: n }, (_, i) => f(f(X[i]) * f(s)));
        expect(Array.from(x.view.subarray(0, n))).toEqual(want);
        expect(guardOf(x.view, n)).toEqual(Array.from(X.subarray(n, n + GUARD), f));
      }
    });

    it('soft_update blends every element, nothing past the end', () => {
      for (const n of FLAT_LENGTHS) {
        const arena = new RawArena(build);
        const X = uniform(n + GUARD, 2, 51 + n), Y = uniform(n + GUARD, 2, 52 + n);
        const x = arena.f32(n + GUARD, X), y = arena.f32(n + GUARD, Y);
        const eta = 0.01;
        arena.k.soft_update(x.ptr, y.ptr, n, eta);
        const want = Array.from({ length: n }, (_, i) => (1 - f(eta)) * f(X[i]) + f(eta) * f(Y[i]));
        // three roundings (1 - eta, and the fused or unfused multiply-add) on terms of size <= 2
        expectClose(x.view.subarray(0, n), want, { atol: 3 * 2 * F32_EPS, rtol: 3 * F32_EPS }, `soft_update n=${n}`);
        expect(guardOf(x.view, n)).toEqual(Array.from(X.subarray(n, n + GUARD), f));
      }
    });
  });
  describe('ceiling probes (the bench divides measured times by them)', () => {
    it('peak_sqrt_div runs 8 chains x = y / sqrt(x), every step rounded to f32 as its reference', () => {
      const arena = new RawArena(build);
      for (const [iterations, seed] of [[0, 2], [1, 2], [5, 0.5], [37, 3]]) {
        const chains = Array.from({ length: 8 }, (_, k) => {
          let x = f(f(seed) + k);
          for (let i = 0; i < iterations; i++) x = f(f(1.0001) / f(Math.sqrt(x)));
          return x;
        });
        const [a0, a1, a2, a3, a4, a5, a6, a7] = chains;
        const want = f(f(f(f(a0 + a1) + f(a2 + a3))) + f(f(f(a4 + a5) + f(a6 + a7))));
        expect(arena.k.peak_sqrt_div(iterations, seed)).toBe(want);
      }
    });

    it('peak_madd returns a finite value that changes with its iterations (the loop is not optimised away)', () => {
      const arena = new RawArena(build);
      const once = arena.k.peak_madd(1, 1.0001), many = arena.k.peak_madd(1000, 1.0001);
      expect(Number.isFinite(once) && Number.isFinite(many)).toBe(true);
      expect(many).not.toBe(once);
    });
  });
});
