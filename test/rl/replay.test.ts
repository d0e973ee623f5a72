/** The replay ring: wrap-around, distinct uniform sampling, state gathering, exact snapshot/restore. */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { ReplayRing } from '../../src/rl/replay.js';

/** Pushes transition number k: every field derived from k so rows can be recognised. */
function pushNumbered(ring: ReplayRing, k: number): void {
  const row = (offset: number) => Array.from({ length: ring.stateSize }, (_, j) => offset + k * 10 + j);
  ring.push(k % 38, row(0), (k + 1) % 38, k / 2, row(1000), row(2000), k % 4 === 3);
}

describe('ReplayRing', () => {
  it('stores in slot order and overwrites the oldest when full', () => {
    const ring = new ReplayRing(4, 3);
    for (let k = 0; k < 3; k++) pushNumbered(ring, k);
    expect(ring.size).toBe(3);
    expect(Array.from(ring.tokenIn.subarray(0, 3))).toEqual([0, 1, 2]);
    for (let k = 3; k < 6; k++) pushNumbered(ring, k);
    expect(ring.size).toBe(4);
    // transitions 4 and 5 replaced 0 and 1
    expect(Array.from(ring.tokenIn)).toEqual([4, 5, 2, 3]);
    expect(Array.from(ring.action)).toEqual([5, 6, 3, 4]);
    expect(Array.from(ring.reward)).toEqual([2, 2.5, 1, 1.5]);
    expect(Array.from(ring.terminal)).toEqual([0, 0, 0, 1]);
    expect(Array.from(ring.qStateBefore.subarray(0, 3))).toEqual([40, 41, 42]);
    expect(Array.from(ring.rewardStateAfter.subarray(3, 6))).toEqual([2050, 2051, 2052]);
  });

  it('reports its footprint', () => {
    expect(new ReplayRing(2, 200).bytesPerTransition).toBe(7 + 3 * 4 * 200);
  });

  it('samples distinct stored slots only', () => {
    const ring = new ReplayRing(100, 2);
    for (let k = 0; k < 40; k++) pushNumbered(ring, k);
    const rng = new Random(7);
    const indices = new Int32Array(32);
    const seen = new Set<number>();
    for (let draw = 0; draw < 50; draw++) {
      ring.sample(rng, 32, indices);
      expect(new Set(indices).size).toBe(32);
      for (const i of indices) {
        expect(i).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThan(40);
        seen.add(i);
      }
    }
    expect(seen.size).toBe(40); // every stored slot gets drawn eventually
  });

  it('refuses to sample more than it holds', () => {
    const ring = new ReplayRing(100, 2);
    for (let k = 0; k < 31; k++) pushNumbered(ring, k);
    expect(() => ring.sample(new Random(1), 32, new Int32Array(32))).toThrow(/batchSize = 32 but only 31/);
  });

  it('gathers the chosen rows into a strided destination', () => {
    const ring = new ReplayRing(8, 3);
    for (let k = 0; k < 5; k++) pushNumbered(ring, k);
    const out = new Float32Array(2 * 4).fill(-1);
    ring.gatherStates('qAfter', Int32Array.from([4, 1]), 2, out, 4);
    expect(Array.from(out)).toEqual([1040, 1041, 1042, -1, 1010, 1011, 1012, -1]);
    const dense = new Float32Array(3);
    ring.gatherStates('qBefore', [2], 1, dense);
    expect(Array.from(dense)).toEqual([20, 21, 22]);
    expect(() => ring.gatherStates('qBefore', [5], 1, dense)).toThrow(/indices\[0\] = 5/);
  });

  it('restores a snapshot exactly, so sampling and pushes continue identically', () => {
    const ring = new ReplayRing(6, 2);
    for (let k = 0; k < 9; k++) pushNumbered(ring, k);
    const copy = new ReplayRing(6, 2);
    const snapshot = ring.snapshot();
    expect(snapshot.size).toBe(6);
    expect(snapshot.next).toBe(3);
    copy.restore(structuredClone(snapshot));
    pushNumbered(ring, 9);
    pushNumbered(copy, 9);
    const a = new Int32Array(4);
    const b = new Int32Array(4);
    ring.sample(new Random(3), 4, a);
    copy.sample(new Random(3), 4, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(copy.tokenIn)).toEqual(Array.from(ring.tokenIn));
    expect(Array.from(copy.qStateAfter)).toEqual(Array.from(ring.qStateAfter));
    expect(Array.from(copy.reward)).toEqual(Array.from(ring.reward));
  });

  it('restores a partly filled ring and rejects mismatched sizes', () => {
    const ring = new ReplayRing(6, 2);
    pushNumbered(ring, 0);
    pushNumbered(ring, 1);
    const copy = new ReplayRing(6, 2);
    copy.restore(ring.snapshot());
    expect(copy.size).toBe(2);
    pushNumbered(copy, 2);
    expect(Array.from(copy.tokenIn.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(() => new ReplayRing(5, 2).restore(ring.snapshot())).toThrow(/capacity 6/);
  });
});
