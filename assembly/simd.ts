// Shared SIMD building blocks: multiply-add (fused in the relaxed build), and the table of pre-splatted
// constants. V8 rebuilds a `v128.const` on every use inside a loop, so constants live in linear memory
// (static data placed by the compiler below the arena) and are loaded where they are needed.

/** a * b + c, lane-wise. The relaxed build fuses it (one rounding); the plain build rounds twice. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

// Byte offsets into CONST, each entry one v128 (four equal f32 lanes).
export const C_ONE: usize = 0;
export const C_TWO: usize = 16;
export const C_EXP_HI: usize = 32; // largest input to exp whose result is finite in f32
export const C_EXP_LO: usize = 48; // smallest input to exp whose result is a normal f32
export const C_LOG2E: usize = 64;
export const C_MAGIC: usize = 80; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
export const C_NEG_LN2_HI: usize = 96; // -ln2 split in two (Cody–Waite): hi has few mantissa bits
export const C_NEG_LN2_LO: usize = 112;
export const C_P6: usize = 128; // Taylor coefficients of e^r, 1/720 .. 1/2
export const C_P5: usize = 144;
export const C_P4: usize = 160;
export const C_P3: usize = 176;
export const C_P2: usize = 192;
export const C_NEG_INF: usize = 208;

export const CONST: usize = memory.data<f32>([
  1.0, 1.0, 1.0, 1.0,
  2.0, 2.0, 2.0, 2.0,
  88.72, 88.72, 88.72, 88.72,
  -87.33, -87.33, -87.33, -87.33,
  1.44269504, 1.44269504, 1.44269504, 1.44269504,
  12582912.0, 12582912.0, 12582912.0, 12582912.0,
  -0.693359375, -0.693359375, -0.693359375, -0.693359375,
  2.12194440e-4, 2.12194440e-4, 2.12194440e-4, 2.12194440e-4,
  1.3888889e-3, 1.3888889e-3, 1.3888889e-3, 1.3888889e-3,
  8.3333333e-3, 8.3333333e-3, 8.3333333e-3, 8.3333333e-3,
  4.1666667e-2, 4.1666667e-2, 4.1666667e-2, 4.1666667e-2,
  0.16666667, 0.16666667, 0.16666667, 0.16666667,
  0.5, 0.5, 0.5, 0.5,
  -Infinity, -Infinity, -Infinity, -Infinity,
], 16);

/** i32 lanes 0, 1, 2, 3: compared against a count to mask the lanes of a ragged last vector. */
export const LANE_INDEX: usize = memory.data<i32>([0, 1, 2, 3], 16);

// @ts-ignore: decorator
@inline export function k(offset: usize): v128 {
  return v128.load(CONST + offset);
}

/**
 * e^x lane-wise. Inputs are clamped to [-87.33, 88.72]; the result is then a normal f32.
 * Range reduction x = n ln2 + r with |r| <= ln2/2 (Cody–Waite split of ln2), e^r by its degree-6 Taylor
 * polynomial (truncation error below 1.3e-7 relative), and 2^n built in the exponent bits.
 * Checked through sigmoid4 and tanh4 in test/engine/simd_math.test.ts.
 */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k(C_EXP_LO)), k(C_EXP_HI));
  const t = madd(x, k(C_LOG2E), k(C_MAGIC));
  const n = f32x4.sub(t, k(C_MAGIC));
  let r = madd(n, k(C_NEG_LN2_HI), x);
  r = madd(n, k(C_NEG_LN2_LO), r);
  let p = madd(k(C_P6), r, k(C_P5));
  p = madd(p, r, k(C_P4));
  p = madd(p, r, k(C_P3));
  p = madd(p, r, k(C_P2));
  p = madd(p, r, k(C_ONE));
  p = madd(p, r, k(C_ONE));
  // The integer n sits in t's low mantissa bits, offset by the magic number's own bits.
  const ni = i32x4.sub(t, k(C_MAGIC));
  return i32x4.add(p, i32x4.shl(ni, 23));
}

/** Logistic sigmoid 1 / (1 + e^-x). Maximum absolute error < 2e-7 (checked in the tests). */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(k(C_ONE), f32x4.add(k(C_ONE), exp4(f32x4.neg(x))));
}

/** tanh x = 1 - 2 / (1 + e^2x). Maximum absolute error < 4e-7 (checked in the tests). */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const e = exp4(f32x4.add(x, x));
  return f32x4.sub(k(C_ONE), f32x4.div(k(C_TWO), f32x4.add(k(C_ONE), e)));
}
