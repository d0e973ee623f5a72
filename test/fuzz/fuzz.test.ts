// Every input family of the fuzzer (test/fuzz/families/index.ts) in the suite but MIDI (20,000 of its
// inputs run in test/music/midi_fuzz.test.ts): 5,000 inputs each from a fixed seed, each held to the contract of test/fuzz/runner.ts: a result within rltuner's limits, or the
// reader's named error starting with the input's name; within 1 s per MB and 64 bytes of memory per byte
// of input (with small floors). A family added to the list is tested here without another line.
// `npm run fuzz -- --count 200000` runs 200,000 of each.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { FUZZ_FAMILIES } from './families/index.js';
import { checkNamedError, FuzzFailure, HEAP_BYTES_PER_INPUT_BYTE, MAX_MESSAGE_CHARACTERS, formatFuzzSummary, runFuzz, type FuzzInput } from './runner.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FUZZ_SEED = 20_251_207;
const INPUTS = 5_000;

const filesOf = (family: (typeof FUZZ_FAMILIES)[number], input: FuzzInput) =>
  Object.entries(family.files(input)).map(([name, bytes]) => `${name}:${Buffer.from(bytes).toString('base64')}`).join('|');

const FAMILIES = FUZZ_FAMILIES.filter((family) => family.name !== 'midi');

describe.each(FAMILIES.map((family) => [family.name, family] as const))('fuzz family %s', (_, family) => {
  it('is seeded: the same seed gives the same inputs, another seed others', () => {
    const take = (seed: number) => {
      const next = family.inputs(new Random(seed), ROOT);
      return Array.from({ length: 100 }, () => next());
    };
    const [a, b, c] = [take(7), take(7), take(8)];
    expect(a.map((input) => filesOf(family, input))).toEqual(b.map((input) => filesOf(family, input)));
    expect(a.map((input) => input.mutations)).toEqual(b.map((input) => input.mutations));
    expect(a.filter((input, i) => filesOf(family, input) === filesOf(family, c[i])).length).toBeLessThan(20);
  });

  it(`${INPUTS} inputs: each gives a result within the limits or a named error naming the input, within the time and memory bounds`, () => {
    const summary = runFuzz(family, ROOT, FUZZ_SEED, INPUTS);
    console.log(formatFuzzSummary(summary));
    expect(summary.inputs).toBe(INPUTS);
    expect(summary.seconds).toBeLessThanOrEqual(30);
    // The inputs reach the reader's every stage: some are accepted, and the refusals are of several kinds.
    expect(summary.outcomes[family.accepted] / INPUTS).toBeGreaterThan(0.02);
    expect(1 - summary.outcomes[family.accepted] / INPUTS).toBeGreaterThan(0.3);
    expect(Object.keys(summary.outcomes).length).toBeGreaterThanOrEqual(5);
    expect(summary.worstHeap.heapBytes).toBeLessThanOrEqual(summary.worstHeap.boundBytes);
    if (summary.largestInputBytes >= 64 * 1024) expect(summary.worstHeapPerByteOfLargeInputs).toBeLessThan(HEAP_BYTES_PER_INPUT_BYTE);
    // Nothing is kept between inputs.
    expect(summary.retainedHeapBytes).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);
});

describe('the contract itself', () => {
  const input: FuzzInput = { index: 3, name: 'x.json', seedName: 'test', mutations: ['none'], value: null, size: 1 };
  class ReaderError extends Error {}

  it('accepts the reader\'s own error naming the input, and refuses any other', () => {
    expect(checkNamedError(input, new ReaderError('x.json: bad value 5'), ReaderError, 'x.json: ')).toBe('bad value 5');
    expect(() => checkNamedError(input, new TypeError('x.json: bad'), ReaderError, 'x.json: ')).toThrow(/threw TypeError: x\.json: bad instead of a ReaderError/);
    expect(() => checkNamedError(input, new ReaderError('bad value 5'), ReaderError, 'x.json: ')).toThrow(/does not start with "x\.json: "/);
    expect(() => checkNamedError(input, new ReaderError('x.json: \u001b[2J'), ReaderError, 'x.json: ')).toThrow(/control character/);
    expect(() => checkNamedError(input, new ReaderError(`x.json: ${'a'.repeat(MAX_MESSAGE_CHARACTERS)}`), ReaderError, 'x.json: ')).toThrow(/message of \d+ characters/);
  });

  it('stops a run at the first broken input, saying which and how to make it again', () => {
    const family = FUZZ_FAMILIES.find((f) => f.name === 'config')!;
    const broken = { ...family, check: (i: FuzzInput) => { throw new FuzzFailure(i, 'broken by design'); } };
    expect(() => runFuzz(broken, ROOT, 1, 10)).toThrow(/^input 0 \(seed .*\): broken by design$/);
  });
});
