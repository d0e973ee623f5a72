// LSTM cell, elementwise part, forward and backward for B rows.
//
// Layout (must match src/engine/layout.ts): P = padded hidden size (H rounded up to a multiple of 4);
// a row of gate pre-activations or activations holds four blocks of P, in the order i, f, g, o.
// States c and h are rows of P. Padded units have zero weights and stay exactly zero.
//
//   i = sigmoid(pre_i)  f = sigmoid(pre_f)  g = tanh(pre_g)  o = sigmoid(pre_o)
//   c = f * c_prev + i * g          h = o * tanh(c)
// (The forget bias is stored in the bias vector, so pre_f already includes it.)

import { madd, sigmoid4, tanh4, k, C_ONE } from './simd';

/**
 * Forward: reads pre [B][4P], c_prev [B][P]; writes act [B][4P] (i, f, g, o after their nonlinearity,
 * saved for backward), c [B][P], tanh_c [B][P] (saved for backward), h [B][P].
 * `act` may alias `pre` (in-place activation).
 */
export function lstm_cell_forward(
  act: usize, c: usize, tanhC: usize, h: usize, pre: usize, cPrev: usize, B: i32, P: i32,
): void {
  const gateRow = <usize>P << 4; // 4P floats, in bytes
  const block = <usize>P << 2;
  const stateRow = <usize>P << 2;
  for (let b = 0; b < B; b++) {
    const pr = pre + <usize>b * gateRow;
    const ar = act + <usize>b * gateRow;
    const so = <usize>b * stateRow;
    for (let j: usize = 0; j < block; j += 16) {
      const i = sigmoid4(v128.load(pr + j));
      const f = sigmoid4(v128.load(pr + block + j));
      const g = tanh4(v128.load(pr + block * 2 + j));
      const o = sigmoid4(v128.load(pr + block * 3 + j));
      const cNew = madd(f, v128.load(cPrev + so + j), f32x4.mul(i, g));
      const tc = tanh4(cNew);
      v128.store(ar + j, i);
      v128.store(ar + block + j, f);
      v128.store(ar + block * 2 + j, g);
      v128.store(ar + block * 3 + j, o);
      v128.store(c + so + j, cNew);
      v128.store(tanhC + so + j, tc);
      v128.store(h + so + j, f32x4.mul(o, tc));
    }
  }
}

/**
 * Backward through the cell: reads dh [B][P] (gradient of the loss w.r.t. h), dc [B][P] (gradient w.r.t.
 * c arriving from the next step; zeros for the last step), act, c_prev, tanh_c saved by forward.
 * Overwrites dpre [B][4P] (rows `ldd` floats apart, ldd >= 4P) and dc_prev [B][P] = dc_total * f (dc_prev may
 * alias dc).
 *   dc_total = dc + dh * o * (1 - tanh_c^2)
 *   dpre_i = dc_total * g * i (1 - i)      dpre_f = dc_total * c_prev * f (1 - f)
 *   dpre_g = dc_total * i * (1 - g^2)      dpre_o = dh * tanh_c * o (1 - o)
 */
export function lstm_cell_backward_set(
  dpre: usize, dcPrev: usize, dh: usize, dc: usize, act: usize, cPrev: usize, tanhC: usize, B: i32, P: i32, ldd: i32,
): void {
  const gateRow = <usize>P << 4;
  const dpreRow = <usize>ldd << 2;
  const block = <usize>P << 2;
  const stateRow = <usize>P << 2;
  for (let b = 0; b < B; b++) {
    const ar = act + <usize>b * gateRow;
    const dr = dpre + <usize>b * dpreRow;
    const so = <usize>b * stateRow;
    for (let j: usize = 0; j < block; j += 16) {
      const one = k(C_ONE);
      const i = v128.load(ar + j);
      const f = v128.load(ar + block + j);
      const g = v128.load(ar + block * 2 + j);
      const o = v128.load(ar + block * 3 + j);
      const tc = v128.load(tanhC + so + j);
      const dhv = v128.load(dh + so + j);
      const dct = madd(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(tc, tc)), v128.load(dc + so + j));
      const di = f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i)));
      const df = f32x4.mul(f32x4.mul(dct, v128.load(cPrev + so + j)), f32x4.mul(f, f32x4.sub(one, f)));
      const dg = f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g)));
      const dO = f32x4.mul(f32x4.mul(dhv, tc), f32x4.mul(o, f32x4.sub(one, o)));
      v128.store(dr + j, di);
      v128.store(dr + block + j, df);
      v128.store(dr + block * 2 + j, dg);
      v128.store(dr + block * 3 + j, dO);
      v128.store(dcPrev + so + j, f32x4.mul(dct, f));
    }
  }
}

/** Lane-wise sigmoid over n floats (n % 4 == 0): exposes the cell's SIMD math to its accuracy test. */
export function sigmoid_array(out: usize, x: usize, n: i32): void {
  for (let j: usize = 0; j < (<usize>n << 2); j += 16) v128.store(out + j, sigmoid4(v128.load(x + j)));
}

/** Lane-wise tanh over n floats (n % 4 == 0): exposes the cell's SIMD math to its accuracy test. */
export function tanh_array(out: usize, x: usize, n: i32): void {
  for (let j: usize = 0; j < (<usize>n << 2); j += 16) v128.store(out + j, tanh4(v128.load(x + j)));
}
