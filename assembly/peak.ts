// The machine's measured ceiling for f32x4 multiply-add throughput in this runtime: 12 independent
// accumulator chains kept in registers, no memory traffic. FLOPs = iterations * 12 * 4 * 2.

import { madd } from './simd';

export function peak_madd(iterations: i32, seed: f32): f32 {
  const x = f32x4.splat(seed);
  const y = f32x4.splat(0.999999);
  let a0 = x, a1 = f32x4.add(x, y), a2 = f32x4.sub(x, y), a3 = f32x4.mul(x, y);
  let a4 = f32x4.add(a1, y), a5 = f32x4.add(a2, y), a6 = f32x4.add(a3, y), a7 = f32x4.sub(a1, y);
  let a8 = f32x4.sub(a4, y), a9 = f32x4.sub(a5, y), a10 = f32x4.sub(a6, y), a11 = f32x4.add(a7, a7);
  for (let i = 0; i < iterations; i++) {
    a0 = madd(a0, y, x); a1 = madd(a1, y, x); a2 = madd(a2, y, x); a3 = madd(a3, y, x);
    a4 = madd(a4, y, x); a5 = madd(a5, y, x); a6 = madd(a6, y, x); a7 = madd(a7, y, x);
    a8 = madd(a8, y, x); a9 = madd(a9, y, x); a10 = madd(a10, y, x); a11 = madd(a11, y, x);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)),
  );
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

// The machine's measured rate for the pair Adam performs for every four parameters, an f32x4 square root
// and an f32x4 division, with nothing else in the loop: 8 independent chains x = y / sqrt(x), enough to
// keep the divider busy rather than waiting on one chain. Pairs = iterations * 8. The chains settle near
// y^(2/3) and stay finite for any positive seed.
export function peak_sqrt_div(iterations: i32, seed: f32): f32 {
  const y = f32x4.splat(1.0001);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  for (let i = 0; i < iterations; i++) {
    a0 = f32x4.div(y, f32x4.sqrt(a0)); a1 = f32x4.div(y, f32x4.sqrt(a1));
    a2 = f32x4.div(y, f32x4.sqrt(a2)); a3 = f32x4.div(y, f32x4.sqrt(a3));
    a4 = f32x4.div(y, f32x4.sqrt(a4)); a5 = f32x4.div(y, f32x4.sqrt(a5));
    a6 = f32x4.div(y, f32x4.sqrt(a6)); a7 = f32x4.div(y, f32x4.sqrt(a7));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}
