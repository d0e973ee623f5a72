// The least change that pleases a scripted listener (src/prefs/least_change.ts): the KL-regularised optimum
// π* ∝ p·exp(x·u) drawn from a pool, checked against the level shares worked out by hand.
import { describe, expect, it } from 'vitest';
import { leastChangeDraw, type CompositionPool } from '../../src/prefs/least_change.js';
import { Random } from '../../src/random.js';

/** A pool whose utility is the first token: `counts[v]` compositions of level v, each with its own log p. */
function poolOf(counts: number[]): CompositionPool {
  const compositions: Uint8Array[] = [];
  counts.forEach((n, v) => {
    for (let i = 0; i < n; i++) compositions.push(Uint8Array.of(v, i % 7, 3));
  });
  return { compositions, primers: compositions.map((_, i) => [i % 5]), logProbReference: Float64Array.from(compositions, (_, i) => -10 - i / 97) };
}
const levelOf = (c: ArrayLike<number>) => c[0];
const ends = (v: number) => (v > 0 ? 1 : 0);

describe('leastChangeDraw', () => {
  const counts = [600, 300, 100];
  const pool = poolOf(counts);
  const p = counts.map((n) => n / 1000);

  it('finds the tilt whose level shares reach the target, and the KL of those shares to the pool\'s', () => {
    const draw = leastChangeDraw(pool, levelOf, ends, 0.7, 200, new Random(3));
    const x = draw.tilt;
    const w = p.map((pv, v) => pv * Math.exp(x * v));
    const z = w.reduce((s, y) => s + y, 0);
    const q = w.map((y) => y / z);
    expect(q[1] + q[2]).toBeCloseTo(0.7, 9);
    expect(draw.statistic).toBeCloseTo(0.7, 9);
    const kl = q.reduce((s, qv, v) => s + qv * Math.log(qv / p[v]), 0);
    expect(draw.klPerComposition).toBeCloseTo(kl, 9);
    expect(draw.klPerComposition).toBeGreaterThan(0);
    // Counts per level: the shares of 200 rounded by largest remainders; the drawn statistic within one composition of the target.
    const drawnLevels = [0, 1, 2].map((v) => draw.compositions.filter((c) => c[0] === v).length);
    drawnLevels.forEach((n, v) => expect(Math.abs(n - 200 * q[v])).toBeLessThan(1));
    expect(Math.abs(draw.drawnStatistic - 0.7)).toBeLessThanOrEqual(1 / 200);
    // log π* − log p of each composition is the log of its level's share over the pool's.
    draw.compositions.forEach((c, i) => expect(draw.logProbPolicy[i] - draw.logProbReference[i]).toBeCloseTo(Math.log(q[c[0]] / p[c[0]]), 9));
    // Each drawn composition is one of the pool's, with its own primer and log p; none twice; k3 not estimated.
    const index = draw.compositions.map((c) => pool.compositions.indexOf(c));
    expect(new Set(index).size).toBe(200);
    index.forEach((j, i) => {
      expect(draw.primers[i]).toBe(pool.primers[j]);
      expect(draw.logProbReference[i]).toBe(pool.logProbReference[j]);
    });
    expect(draw.repeated).toBe(0);
    expect(Array.from(draw.klK3).every(Number.isNaN)).toBe(true);
  });

  it('draws in a random order, the same for the same seed', () => {
    const a = leastChangeDraw(pool, levelOf, ends, 0.7, 200, new Random(3));
    const b = leastChangeDraw(pool, levelOf, ends, 0.7, 200, new Random(3));
    const c = leastChangeDraw(pool, levelOf, ends, 0.7, 200, new Random(4));
    expect(a.compositions.map((x) => pool.compositions.indexOf(x))).toEqual(b.compositions.map((x) => pool.compositions.indexOf(x)));
    expect(a.compositions.map((x) => pool.compositions.indexOf(x))).not.toEqual(c.compositions.map((x) => pool.compositions.indexOf(x)));
    const levels = a.compositions.map((x) => x[0]);
    expect(levels.some((v, i) => i > 0 && v < levels[i - 1])).toBe(true); // not sorted by level
  });

  it('is the pool itself when the target is already met, and stops at the largest tilt when it cannot be reached', () => {
    const none = leastChangeDraw(pool, levelOf, ends, 0.2, 100, new Random(1));
    expect(none.tilt).toBe(0);
    expect(none.klPerComposition).toBeCloseTo(0, 12);
    expect(none.statistic).toBeCloseTo(0.4, 12);
    const onlyTop = leastChangeDraw(poolOf([500, 0, 500]), levelOf, ends, 1.01, 100, new Random(1), 5);
    expect(onlyTop.tilt).toBe(5);
    expect(onlyTop.statistic).toBeCloseTo(Math.exp(10) / (1 + Math.exp(10)), 12);
  });

  it('follows a statistic that falls as the utility rises (fewer notes), and says when a level ran short', () => {
    // Utility −(notes): levels −3, −2, −1; the statistic (notes) must fall from 2.5 toward 1.5.
    const notes = poolOf([0, 50, 400, 550]);
    const fewNotes = (c: ArrayLike<number>) => -c[0];
    const draw = leastChangeDraw(notes, fewNotes, (v) => -v, 1.5, 400, new Random(9));
    expect(draw.statistic).toBeCloseTo(1.5, 9);
    expect(draw.compositions.filter((c) => c[0] === 1).length).toBeGreaterThan(50); // the one-note level has only 50
    expect(draw.repeated).toBe(draw.compositions.filter((c) => c[0] === 1).length - 50);
    expect(() => leastChangeDraw({ compositions: [], primers: [], logProbReference: [] }, levelOf, ends, 0.5, 10, new Random(1))).toThrow(/pool is empty/);
    expect(() => leastChangeDraw(pool, levelOf, ends, 0.5, 0, new Random(1))).toThrow(/count 0 is not a positive integer/);
    expect(() => leastChangeDraw(pool, () => NaN, ends, 0.5, 10, new Random(1))).toThrow(/utility of pool composition 0 is NaN/);
  });
});
