// The MIDI mutation fuzzer in the suite: 20,000 inputs from a fixed seed, each held to the contract of
// test/fuzz/runner.ts (tokens or a named MidiImportError naming the file, within 1 s per MB and 64 MB of
// memory per MB of input, with small floors). `npm run fuzz` runs 200,000 of every family.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MidiMutator, loadFuzzSeeds, midiFamily } from '../fuzz/families/midi.js';
import { HEAP_BYTES_PER_INPUT_BYTE, formatFuzzSummary, runFuzz, type FuzzInput } from '../fuzz/runner.js';
import { Random } from '../../src/random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FUZZ_SEED = 20_161_111;
const INPUTS = 20_000;

describe('MIDI mutation fuzzer', () => {
  const seeds = loadFuzzSeeds(ROOT);

  it('is seeded: the same seed gives the same inputs, another seed others', () => {
    const take = (seed: number): FuzzInput<Uint8Array>[] => {
      const mutator = new MidiMutator(seeds, new Random(seed));
      return Array.from({ length: 200 }, () => mutator.next());
    };
    const same = (x: FuzzInput<Uint8Array>, y: FuzzInput<Uint8Array>) => Buffer.from(x.value).equals(Buffer.from(y.value));
    const [a, b, c] = [take(7), take(7), take(8)];
    expect(a.every((input, i) => same(input, b[i]))).toBe(true);
    expect(a.map((input) => input.mutations)).toEqual(b.map((input) => input.mutations));
    expect(a.filter((input, i) => same(input, c[i])).length).toBeLessThan(10);
    expect(new Set(a.map((input) => input.seedName)).size).toBeGreaterThan(10);
  });

  it(`${INPUTS} mutated files: each gives tokens or a named error naming the file, within the time and memory bounds`, () => {
    const summary = runFuzz(midiFamily, ROOT, FUZZ_SEED, INPUTS);
    console.log(formatFuzzSummary(summary));
    expect(summary.inputs).toBe(INPUTS);
    expect(summary.seconds).toBeLessThanOrEqual(30);
    // The inputs reach every stage: some still give melodies, and errors come from reading and later stages.
    expect(summary.outcomes.tokens / INPUTS).toBeGreaterThan(0.05);
    expect(summary.outcomes.unreadable / INPUTS).toBeGreaterThan(0.3);
    expect(Object.keys(summary.outcomes).length).toBeGreaterThanOrEqual(4);
    expect(summary.largestInputBytes).toBeGreaterThan(100_000);
    expect(summary.worstHeapPerByteOfLargeInputs).toBeGreaterThan(0);
    expect(summary.worstHeapPerByteOfLargeInputs).toBeLessThan(HEAP_BYTES_PER_INPUT_BYTE);
    // Nothing is kept between imports.
    expect(summary.retainedHeapBytes).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);
});
