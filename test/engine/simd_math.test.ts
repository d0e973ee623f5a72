import { describe, expect, it } from 'vitest';
import { BUILDS, RawArena } from './support.js';

// The stated bounds (assembly/simd.ts): sigmoid < 2e-7 and tanh < 4e-7 absolute error, in both builds.
describe.each(BUILDS)('SIMD sigmoid and tanh, %s build', (build) => {
  const n = 200_004; // not a multiple of 8: several SIMD iterations and a tail of one vector
  const arena = new RawArena(build);
  const x = arena.f32(n);
  const out = arena.f32(n);
  for (let i = 0; i < n; i++) x.view[i] = -30 + (60 * i) / (n - 1);
  x.view.set([0, -0, 1e-8, -1e-8, 88, -88, 200, -200, 1e30, -1e30], 0);

  it('sigmoid is within 2e-7 of the exact value', () => {
    arena.k.sigmoid_array(out.ptr, x.ptr, n);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const exact = 1 / (1 + Math.exp(-x.view[i]));
      worst = Math.max(worst, Math.abs(out.view[i] - exact));
    }
    expect(worst).toBeLessThan(2e-7);
    expect(out.view[0]).toBeCloseTo(0.5, 7);
    expect(out.view[8]).toBe(1);
    expect(out.view[9]).toBeLessThan(1e-37);
  });

  it('tanh is within 4e-7 of the exact value and saturates to ±1', () => {
    arena.k.tanh_array(out.ptr, x.view.byteOffset, n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out.view[i] - Math.tanh(x.view[i])));
    expect(worst).toBeLessThan(4e-7);
    expect(out.view[6]).toBe(1);
    expect(out.view[7]).toBe(-1);
    expect(Math.abs(out.view[0])).toBeLessThan(1e-7);
  });
});
