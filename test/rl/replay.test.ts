/** The replay ring: wrap-around, each state stored once, distinct uniform sampling, exact snapshot/restore. */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { Minibatch, ReplayRing } from '../../src/rl/replay.js';
import { float16ToNumber } from '../../src/io/safetensors.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';

/** The next-state log-probabilities pushed with step k: values that name them, −(k + a/100). */
const logProbsOf = (k: number) => Array.from({ length: NUM_CLASSES }, (_, a) => -(k + a / 100));

/**
 * Pushes step k of compositions of `length` steps, as the tuner does: the before-state of step k is the
 * after-state of step k − 1 within a composition. States are rows whose values name them: 100·k + j for the
 * Q-net state before step k. A composition's first before-state is 90000 + 100·k + j (a freshly primed
 * state, not the previous after-state).
 */
function pushStep(ring: ReplayRing, k: number, length = 4): void {
  const S = ring.stateSize;
  const first = k % length === 0;
  const before = Array.from({ length: S }, (_, j) => (first ? 90000 : 0) + 100 * k + j);
  const after = Array.from({ length: S }, (_, j) => 100 * (k + 1) + j);
  ring.push(k % 38, before, (k + 1) % 38, k / 2, after, logProbsOf(k), k % length === length - 1);
}

const row = (ring: ReplayRing, which: 'qBefore' | 'qAfter', slot: number) => {
  const out = new Float32Array(ring.stateSize);
  ring.gatherStates(which, [slot], 1, out);
  return Array.from(out);
};

const logProbRow = (ring: ReplayRing, slot: number) => {
  const out = new Float32Array(NUM_CLASSES);
  ring.gatherNextLogProbs([slot], 1, out);
  return Array.from(out);
};

describe('ReplayRing', () => {
  it('finds each transition, before- and after-state, by the order it was stored, also after wrapping', () => {
    const ring = new ReplayRing(6, 2);
    for (let k = 0; k < 15; k++) pushStep(ring, k);
    expect(ring.size).toBe(6);
    // The oldest held is step 9 (steps 9..14).
    for (let i = 0; i < 6; i++) {
      const k = 9 + i;
      const slot = ring.slotOf(i);
      expect(ring.tokenIn[slot]).toBe(k % 38);
      expect(ring.action[slot]).toBe((k + 1) % 38);
      expect(ring.reward[slot]).toBe(k / 2);
      expect(ring.terminal[slot]).toBe(k % 4 === 3 ? 1 : 0);
      expect(row(ring, 'qBefore', slot)).toEqual([0, 1].map((j) => (k % 4 === 0 ? 90000 : 0) + 100 * k + j));
      if (k % 4 !== 3) expect(row(ring, 'qAfter', slot)).toEqual([0, 1].map((j) => 100 * (k + 1) + j));
      if (k % 4 !== 3) expect(logProbRow(ring, slot)).toEqual(Array.from(Float32Array.from(logProbsOf(k))));
    }
    expect(() => ring.slotOf(6)).toThrow(/not in 0..5/);
  });

  it('keeps every before- and after-state at any capacity and composition length, across starts and wrap-around', () => {
    for (const capacity of [1, 2, 3, 5]) {
      for (const length of [1, 2, 3, 4]) {
        const ring = new ReplayRing(capacity, 2);
        for (let k = 0; k < 23; k++) {
          pushStep(ring, k, length);
          for (let i = 0; i < ring.size; i++) {
            const held = k - ring.size + 1 + i;
            const slot = ring.slotOf(i);
            const where = `capacity ${capacity}, length ${length}, after step ${k}, step ${held}`;
            expect(row(ring, 'qBefore', slot), where).toEqual([0, 1].map((j) => (held % length === 0 ? 90000 : 0) + 100 * held + j));
            if (held % length !== length - 1) expect(row(ring, 'qAfter', slot), where).toEqual([0, 1].map((j) => 100 * (held + 1) + j));
          }
        }
      }
    }
  });

  it('within a composition takes the before-state from the previous after-state, not the argument', () => {
    const ring = new ReplayRing(4, 2);
    ring.push(1, [7, 7], 2, 0, [8, 8], logProbsOf(0), false);
    ring.push(2, [-1, -1], 3, 0, [9, 9], logProbsOf(1), true); // the caller broke the contract: ignored
    ring.push(3, [5, 5], 4, 0, [6, 6], logProbsOf(2), false); // a new composition: its before-state is written
    expect(row(ring, 'qBefore', ring.slotOf(1))).toEqual([8, 8]);
    expect(row(ring, 'qBefore', ring.slotOf(2))).toEqual([5, 5]);
    // After a restore the next push writes its before-state.
    const copy = new ReplayRing(4, 2);
    copy.restore(structuredClone(ring.snapshot()));
    copy.push(4, [3, 3], 5, 0, [2, 2], logProbsOf(3), false);
    expect(row(copy, 'qBefore', copy.slotOf(3))).toEqual([3, 3]);
  });

  it('stores one Q-net state per transition, and for G the 38 next-state log-probabilities', () => {
    expect(new ReplayRing(100_000, 200, { storeNextLogProbs: false }).bytesPerTransition).toBeCloseTo(7 + 4 * 200, 1);
    expect(new ReplayRing(100_000, 200).bytesPerTransition).toBeCloseTo(7 + 4 * 200 + 4 * NUM_CLASSES, 1);
    expect(new ReplayRing(100_000, 200, { storeNextLogProbs: false }).bytesPerTransition).toBeLessThanOrEqual(1024);
    expect(new ReplayRing(100_000, 200).bytesPerTransition).toBeLessThanOrEqual(1024);
  });

  it('samples distinct stored transitions only, uniformly over what is held', () => {
    const ring = new ReplayRing(40, 2);
    for (let k = 0; k < 70; k++) pushStep(ring, k);
    const rng = new Random(7);
    const indices = new Int32Array(32);
    const seen = new Map<number, number>();
    const held = new Set(Array.from({ length: 40 }, (_, i) => ring.slotOf(i)));
    for (let draw = 0; draw < 200; draw++) {
      ring.draw(rng, 32, indices);
      expect(new Set(indices).size).toBe(32);
      for (const slot of indices) {
        expect(held.has(slot)).toBe(true);
        seen.set(slot, (seen.get(slot) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(40); // every held transition is drawn
    for (const count of seen.values()) expect(count).toBeGreaterThan(110); // 200·32/40 = 160 each on average
  });

  it('a sampled minibatch holds the drawn transitions whole: fields, both states and log p(·|s′) at the given row stride', () => {
    for (const precision of ['f32', 'f16'] as const) {
      const ring = new ReplayRing(30, 3, { nextLogProbPrecision: precision });
      for (let k = 0; k < 45; k++) pushStep(ring, k);
      const batch = new Minibatch(7, 3, true, 40);
      const rng = new Random(11), same = new Random(11);
      ring.sample(rng, batch);
      const slots = ring.draw(same, 7, new Int32Array(7));
      expect(Array.from(batch.slots)).toEqual(Array.from(slots));
      expect(rng.getState()).toEqual(same.getState()); // one draw, nothing else random
      const logProbs = new Float32Array(38);
      slots.forEach((j, i) => {
        expect([batch.tokenIn[i], batch.action[i], batch.reward[i], batch.terminal[i]]).toEqual([ring.tokenIn[j], ring.action[j], ring.reward[j], ring.terminal[j]]);
        expect(Array.from(batch.stateBefore.subarray(3 * i, 3 * i + 3))).toEqual(row(ring, 'qBefore', j));
        if (ring.terminal[j]) return;
        expect(Array.from(batch.stateAfter.subarray(3 * i, 3 * i + 3))).toEqual(row(ring, 'qAfter', j));
        ring.gatherNextLogProbs([j], 1, logProbs);
        expect(Array.from(batch.logPriorNext!.subarray(40 * i, 40 * i + 38))).toEqual(Array.from(logProbs));
      });
    }
    expect(() => new Minibatch(4, 3, true, 30)).toThrow(/logPriorStride = 30 is smaller than NUM_CLASSES = 38/);
  });

  it('refuses to sample more than it holds, and to gather a slot it does not hold', () => {
    const ring = new ReplayRing(100, 2);
    for (let k = 0; k < 31; k++) pushStep(ring, k);
    expect(() => ring.draw(new Random(1), 32, new Int32Array(32))).toThrow(/32 transitions asked for, but only 31 are stored/);
    expect(() => row(ring, 'qBefore', 31)).toThrow(/indices\[0\] = 31 is not a stored transition's slot/);
  });

  it('prefetch takes every held slot, the last one (its after-state wraps to slot 0) included, and changes nothing', () => {
    for (const options of [{}, { nextLogProbPrecision: 'f16' as const }, { storeNextLogProbs: false }]) {
      const ring = new ReplayRing(6, 200, options);
      for (let k = 0; k < 9; k++) pushStep(ring, k);
      const before = structuredClone(ring.snapshot());
      const slots = Int32Array.from({ length: 6 }, (_, i) => ring.slotOf(i));
      expect(Array.from(slots)).toContain(ring.slots - 1);
      ring.prefetch(slots, 6);
      expect(ring.snapshot()).toEqual(before);
      expect(row(ring, 'qAfter', ring.slotOf(1))[0]).toBe(100 * (4 + 1)); // still gathers as before
    }
  });

  it('gathers the chosen rows into a strided destination', () => {
    const ring = new ReplayRing(8, 3);
    for (let k = 0; k < 5; k++) pushStep(ring, k);
    const out = new Float32Array(2 * 4).fill(-1);
    ring.gatherStates('qAfter', Int32Array.from([ring.slotOf(2), ring.slotOf(1)]), 2, out, 4);
    expect(Array.from(out)).toEqual([300, 301, 302, -1, 200, 201, 202, -1]);
    const logProbs = new Float32Array(2 * 40).fill(1);
    ring.gatherNextLogProbs(Int32Array.from([ring.slotOf(2), ring.slotOf(0)]), 2, logProbs, 40);
    expect(Array.from(logProbs.subarray(0, NUM_CLASSES))).toEqual(Array.from(Float32Array.from(logProbsOf(2))));
    expect(Array.from(logProbs.subarray(NUM_CLASSES, 40))).toEqual([1, 1]);
    expect(Array.from(logProbs.subarray(40, 40 + NUM_CLASSES))).toEqual(Array.from(Float32Array.from(logProbsOf(0))));
    expect(() => new ReplayRing(8, 3, { storeNextLogProbs: false }).gatherNextLogProbs([0], 1, logProbs)).toThrow(/built without them/);
  });

  it('restores a snapshot exactly, so sampling and pushes continue identically', () => {
    const ring = new ReplayRing(6, 2);
    for (let k = 0; k < 10; k++) pushStep(ring, k);
    const snapshot = ring.snapshot();
    expect(snapshot.size).toBe(6);
    expect(snapshot.qStates.length).toBe(7 * 2);
    const copy = new ReplayRing(6, 2);
    copy.restore(structuredClone(snapshot));
    for (let k = 10; k < 13; k++) {
      pushStep(ring, k);
      pushStep(copy, k);
    }
    const a = new Int32Array(5);
    const b = new Int32Array(5);
    ring.draw(new Random(3), 5, a);
    copy.draw(new Random(3), 5, b);
    for (let i = 0; i < 5; i++) {
      expect(copy.tokenIn[b[i]]).toBe(ring.tokenIn[a[i]]);
      expect(copy.reward[b[i]]).toBe(ring.reward[a[i]]);
      expect(row(copy, 'qBefore', b[i])).toEqual(row(ring, 'qBefore', a[i]));
      if (ring.terminal[a[i]]) continue;
      expect(row(copy, 'qAfter', b[i])).toEqual(row(ring, 'qAfter', a[i]));
      expect(logProbRow(copy, b[i])).toEqual(logProbRow(ring, a[i]));
    }
  });

  it('restores an empty or partly filled ring and rejects mismatched sizes', () => {
    const empty = new ReplayRing(6, 2);
    const copy = new ReplayRing(6, 2);
    copy.restore(empty.snapshot());
    expect(copy.size).toBe(0);
    const ring = new ReplayRing(6, 2);
    pushStep(ring, 0);
    pushStep(ring, 1);
    copy.restore(ring.snapshot());
    expect(copy.size).toBe(2);
    pushStep(copy, 2);
    expect([0, 1, 2].map((i) => copy.tokenIn[copy.slotOf(i)])).toEqual([0, 1, 2]);
    expect(row(copy, 'qBefore', copy.slotOf(2))).toEqual([200, 201]); // the after-state of step 1, kept
    expect(() => new ReplayRing(5, 2).restore(ring.snapshot())).toThrow(/capacity 6/);
  });
});

describe('ReplayRing with f16 next-state log-probabilities', () => {
  it('keeps each log-probability to f16 precision, in 883 bytes a transition at H = 100, and restores it exactly', () => {
    const ring = new ReplayRing(6, 3, { nextLogProbPrecision: 'f16' });
    const values = Array.from({ length: NUM_CLASSES }, (_, a) => -0.1234567 * (a + 1) ** 2);
    values[NUM_CLASSES - 1] = -65519;
    ring.push(5, [1, 2, 3], 6, 0.5, [4, 5, 6], values, false);
    const out = new Float32Array(NUM_CLASSES);
    ring.gatherNextLogProbs([ring.slotOf(0)], 1, out);
    for (let a = 0; a < NUM_CLASSES; a++) expect(Math.abs(out[a] - values[a])).toBeLessThanOrEqual(Math.abs(values[a]) * 2 ** -11);
    expect(out[NUM_CLASSES - 1]).toBe(-65504); // the most negative finite f16, nearest to −65519
    const copy = new ReplayRing(6, 3, { nextLogProbPrecision: 'f16' });
    // Through a checkpoint the values come back as f32.
    const snapshot = ring.snapshot();
    copy.restore({ ...snapshot, nextLogProbs: Float32Array.from(snapshot.nextLogProbs, (bits) => float16ToNumber(bits)) });
    expect(Array.from(copy.nextLogProbs)).toEqual(Array.from(ring.nextLogProbs));
    expect(new ReplayRing(100_000, 200, { nextLogProbPrecision: 'f16' }).bytesPerTransition).toBeCloseTo(7 + 4 * 200 + 2 * NUM_CLASSES, 1);
  });
});
