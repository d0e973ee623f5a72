// Flat passes over contiguous parameter blocks: Adam, squared norms for clipping, scaling, the soft
// target update. Every pass handles any n (a scalar tail after the SIMD body).

import { madd } from './simd';

/**
 * Adam (Kingma & Ba) over n parameters:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= stepSize * m / (sqrt(v) * vScale + eps)
 * with stepSize = lr / (1 - b1^t) and vScale = 1 / sqrt(1 - b2^t) computed by the caller (bias correction).
 *
 * Two passes are folded in, each giving the bits of its own kernel run before or after:
 * - gradScale != 1 (clipping): g = grads * gradScale (one f32 multiply) is used and written back, as
 *   scale_array(grads, n, gradScale) would before the update;
 * - target != 0 (a trailing network's parameters, same layout): target = (1 - eta) target + eta p with the
 *   new p, as soft_update(target, params, n, eta) would after it.
 * Folded, the gradient and the new parameters are read once instead of two or three times.
 */
export function adam_update(
  params: usize, grads: usize, m: usize, v: usize, n: i32,
  stepSize: f32, beta1: f32, beta2: f32, eps: f32, vScale: f32,
  gradScale: f32, target: usize, eta: f32,
): void {
  if (gradScale != 1) adamPass(params, grads, m, v, n, stepSize, beta1, beta2, eps, vScale, gradScale, true, target, eta);
  else adamPass(params, grads, m, v, n, stepSize, beta1, beta2, eps, vScale, 1, false, target, eta);
}

// @ts-ignore: decorator
@inline function adamPass(
  params: usize, grads: usize, m: usize, v: usize, n: i32,
  stepSize: f32, beta1: f32, beta2: f32, eps: f32, vScale: f32,
  gradScale: f32, scaled: bool, target: usize, eta: f32,
): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(1 - beta2);
  const step = f32x4.splat(stepSize), e = f32x4.splat(eps), vs = f32x4.splat(vScale);
  const gs = f32x4.splat(gradScale);
  const ta = f32x4.splat(1 - eta), tb = f32x4.splat(eta);
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) {
    let g = v128.load(grads + j);
    if (scaled) {
      g = f32x4.mul(g, gs);
      v128.store(grads + j, g);
    }
    const mj = madd(b1, v128.load(m + j), f32x4.mul(c1, g));
    const vj = madd(b2, v128.load(v + j), f32x4.mul(c2, f32x4.mul(g, g)));
    v128.store(m + j, mj);
    v128.store(v + j, vj);
    const denom = madd(f32x4.sqrt(vj), vs, e);
    const pj = f32x4.sub(v128.load(params + j), f32x4.div(f32x4.mul(step, mj), denom));
    v128.store(params + j, pj);
    if (target) v128.store(target + j, madd(ta, v128.load(target + j), f32x4.mul(tb, pj)));
  }
  for (let j = n4; j < (<usize>n << 2); j += 4) {
    let g = load<f32>(grads + j);
    if (scaled) {
      g = g * gradScale;
      store<f32>(grads + j, g);
    }
    const mj = beta1 * load<f32>(m + j) + (1 - beta1) * g;
    const vj = beta2 * load<f32>(v + j) + (1 - beta2) * g * g;
    store<f32>(m + j, mj);
    store<f32>(v + j, vj);
    const pj = load<f32>(params + j) - stepSize * mj / (Mathf.sqrt(vj) * vScale + eps);
    store<f32>(params + j, pj);
    if (target) store<f32>(target + j, (1 - eta) * load<f32>(target + j) + eta * pj);
  }
}

/** Sum of squares of n floats, accumulated in f64. */
export function sum_squares(x: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) {
    const v = v128.load(x + j);
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo, lo));
    s1 = f64x2.add(s1, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(s0, s1);
  let total = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (let j = n4; j < (<usize>n << 2); j += 4) {
    const v = <f64>load<f32>(x + j);
    total += v * v;
  }
  return total;
}

/** x *= s over n floats. */
export function scale_array(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) v128.store(x + j, f32x4.mul(v128.load(x + j), sv));
  for (let j = n4; j < (<usize>n << 2); j += 4) store<f32>(x + j, load<f32>(x + j) * s);
}

/**
 * out[i] = a[i] * b[i] over n floats (out may be a or b). Dropout: a mask (0 or 1/keep, drawn by the
 * caller) applied to activations in the forward pass and to their gradients in the backward pass.
 */
export function multiply_set(out: usize, a: usize, b: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) v128.store(out + j, f32x4.mul(v128.load(a + j), v128.load(b + j)));
  for (let j = n4; j < (<usize>n << 2); j += 4) store<f32>(out + j, load<f32>(a + j) * load<f32>(b + j));
}

/** Soft target update: target = (1 - eta) target + eta source, over n floats. */
export function soft_update(target: usize, source: usize, n: i32, eta: f32): void {
  const a = f32x4.splat(1 - eta), b = f32x4.splat(eta);
  const n4 = <usize>(n & ~3) << 2;
  for (let j: usize = 0; j < n4; j += 16) {
    v128.store(target + j, madd(a, v128.load(target + j), f32x4.mul(b, v128.load(source + j))));
  }
  for (let j = n4; j < (<usize>n << 2); j += 4) {
    store<f32>(target + j, (1 - eta) * load<f32>(target + j) + eta * load<f32>(source + j));
  }
}

/** dst = src over n bytes (regions may overlap). */
export function copy_bytes(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n);
}

/** Zeroes n bytes. */
export function zero_bytes(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n);
}
