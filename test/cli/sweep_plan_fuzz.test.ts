// The sweep-plan fuzz family in the suite: 6,000 structure-aware inputs from a fixed seed, each ending in a
// plan or a named SweepPlanError within 1 s (test/fuzz/sweep_plan_family.ts states the contract).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { loadSweepPlanSeeds, sweepPlanFamily } from '../fuzz/sweep_plan_family.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INPUTS = 6000;
const BOUND_MS = 1000;
/** A check over the bound is run again, up to this many times, and the fastest counts: a pause of a shared machine hits one run, a slow input every run. */
const RETRIES = 4;

describe('sweep-plan fuzz family', () => {
  const seeds = loadSweepPlanSeeds(ROOT);

  it('is seeded: the same seed gives the same inputs, another seed others', () => {
    const take = (seed: number) => {
      const family = sweepPlanFamily(new Random(seed), seeds);
      return Array.from({ length: 100 }, () => family.next());
    };
    const [a, b, c] = [take(5), take(5), take(6)];
    const text = (x: { bytes: Uint8Array }) => Buffer.from(x.bytes).toString('utf8');
    expect(a.map(text)).toEqual(b.map(text));
    expect(a.map((x) => x.mutations)).toEqual(b.map((x) => x.mutations));
    expect(a.filter((x, i) => text(x) === text(c[i])).length).toBeLessThan(10);
    expect(seeds.length).toBeGreaterThanOrEqual(10);
  }, 30_000);

  it(`${INPUTS} inputs: each gives a plan or a named error naming the file, field and value, within ${BOUND_MS} ms`, () => {
    const family = sweepPlanFamily(new Random(20_261_207), seeds);
    const outcomes: Record<string, number> = {};
    let worstMs = 0, largest = 0;
    for (let i = 0; i < INPUTS; i++) {
      const input = family.next();
      largest = Math.max(largest, input.bytes.length);
      let outcome = '', ms = Infinity;
      for (let attempt = 0; attempt <= RETRIES && ms > BOUND_MS; attempt++) {
        const t0 = performance.now();
        outcome = family.check(input); // throws when the contract is broken
        ms = Math.min(ms, performance.now() - t0);
      }
      expect(ms, `input ${input.index} (${input.mutations.join('; ')})`).toBeLessThanOrEqual(BOUND_MS);
      worstMs = Math.max(worstMs, ms);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    console.log(`sweep-plan fuzz: ${INPUTS} inputs, worst ${worstMs.toFixed(1)} ms, largest ${largest} bytes, outcomes ${JSON.stringify(outcomes)}`);
    // The inputs reach every stage: valid plans, JSON errors, and errors in each part of a plan.
    expect(outcomes.plan / INPUTS).toBeGreaterThan(0.05);
    for (const reached of ['error:file', 'error:configs', 'error:seeds', 'error:base']) expect(outcomes[reached], reached).toBeGreaterThan(20);
    expect(largest).toBeGreaterThan(50_000);
  }, 120_000);
});
