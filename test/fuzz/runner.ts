/**
 * One fuzz runner for every kind of input rltuner reads. A family (test/fuzz/families/) says how to make
 * inputs of its kind from a seeded Random and how to check what the reader did with one; the runner feeds
 * it inputs, times each call, measures the memory it kept, and sums up. The suite
 * (test/fuzz/fuzz.test.ts, test/music/midi_fuzz.test.ts) and `npm run fuzz` (test/fuzz/run_fuzz.ts) both
 * run families through here; a new kind of input is one more entry in test/fuzz/families/index.ts.
 *
 * The contract every input is held to: the reader returns a result or throws its named error, whose
 * message starts with the input's name, holds no control character and is at most MAX_MESSAGE_CHARACTERS
 * long; within 1 s per MB of input (at least TIME_FLOOR_MS) and with heap growth of at most 64 bytes per
 * input byte (plus HEAP_FLOOR_BYTES). Inputs are at most 512 KB, so every bound is under 1 s and 48 MB.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Random } from '../../src/random.js';

/** One input: what the reader is given, and how it was made (with the seed, it reproduces the input). */
export interface FuzzInput<T = unknown> {
  /** Position in the stream of inputs (0-based). */
  index: number;
  /** The name the reader is given for it (a file name; some hold control characters on purpose). */
  name: string;
  seedName: string;
  mutations: string[];
  /** What the reader reads: file bytes, JSON text, or a checkpoint's files. */
  value: T;
  /** Bytes of input (all files together), for the bounds. */
  size: number;
}

/** A kind of input: how to make them and how to hold the reader to the contract on one. */
export interface FuzzFamily<T = unknown> {
  /** Short name, for --family and the reports: 'midi', 'model', 'magenta', 'noteseq', 'config'. */
  name: string;
  /** What the inputs are and which reader they go through, one line. */
  description: string;
  /** The outcome label of an input the reader accepted ('tokens', 'model', 'config'). */
  accepted: string;
  /** A generator of inputs from `random` (seed files found under `repositoryRoot`). */
  inputs(random: Random, repositoryRoot: string): () => FuzzInput<T>;
  /**
   * Runs the reader on `input` and returns the outcome's label ('tokens', 'model', or the kind of error);
   * throws FuzzFailure when the contract is broken (a result out of bounds, an error of another type, a
   * message that does not start with the name).
   */
  check(input: FuzzInput<T>): string;
  /** The input as files to write when it breaks the contract: file name → bytes. */
  files(input: FuzzInput<T>): Record<string, Uint8Array>;
  /**
   * The family's own time bound for an input, in ms, where the input's size is not what its work grows with
   * (a sweep plan's work grows with its configs: the issue's bound, 1 s, holds). Default: timeBoundMs(size).
   */
  timeBoundMs?(input: FuzzInput<T>): number;
}

/** The bounds of the contract (SPEC: 1 s and 64 MB of memory per MB of input). */
export const MS_PER_MB = 1000;
export const HEAP_BYTES_PER_INPUT_BYTE = 64;
/** Floors under the per-input bounds for tiny inputs: timer and scheduling noise, and fixed costs (result objects, a token array of up to maxSteps bytes). */
export const TIME_FLOOR_MS = 5;
export const HEAP_FLOOR_BYTES = 16 * 1024 * 1024;
/** The longest error message allowed: a file cannot make rltuner print a megabyte of its contents. */
export const MAX_MESSAGE_CHARACTERS = 2000;
/** Inputs grow by duplications and inserts; past this size no mutation adds bytes. */
export const MAX_INPUT_BYTES = 512 * 1024;
/**
 * An input over its time bound is run again up to this many times and the fastest run counts: a slow
 * input is slow every time, while a garbage collection of the fuzzer's own garbage or a pause from other
 * processes on a shared machine hits one run.
 */
const TIME_RETRIES = 8;
/** Inputs at least this large are timed twice and have their time per MB and heap growth per byte tracked. */
export const LARGE_INPUT_BYTES = 64 * 1024;

export function timeBoundMs(byteLength: number): number {
  return Math.max(TIME_FLOOR_MS, (MS_PER_MB * byteLength) / 1e6);
}

export function heapBoundBytes(byteLength: number): number {
  return HEAP_FLOOR_BYTES + HEAP_BYTES_PER_INPUT_BYTE * byteLength;
}

/** An input that broke the contract; the message says how, with everything needed to reproduce it. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
  constructor(
    readonly input: FuzzInput,
    problem: string,
  ) {
    super(`input ${input.index} (seed ${input.seedName}; ${input.mutations.join('; ') || 'unchanged'}; ${input.size} bytes): ${problem}`);
  }
}

// C0, DEL and C1 control characters: no message may carry one.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks a reader's error: of the expected class, its message starting with `prefix` (the input's name,
 * as the reader prints it), without control characters, and not too long. Returns the message after the prefix.
 */
export function checkNamedError(input: FuzzInput, error: unknown, expected: abstract new (...args: never[]) => Error, prefix: string): string {
  if (error instanceof FuzzFailure) throw error;
  if (!(error instanceof expected)) {
    throw new FuzzFailure(input, `threw ${error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}` : String(error)} instead of a ${expected.name}`);
  }
  const message = error.message;
  if (!message.startsWith(prefix)) throw new FuzzFailure(input, `message does not start with ${JSON.stringify(prefix)}: ${JSON.stringify(message.slice(0, 300))}`);
  if (CONTROL_CHARACTER.test(message.replace(/\n {2}/g, ' '))) throw new FuzzFailure(input, `message holds a control character: ${JSON.stringify(message.slice(0, 300))}`);
  if (message.length > MAX_MESSAGE_CHARACTERS) throw new FuzzFailure(input, `message of ${message.length} characters, over ${MAX_MESSAGE_CHARACTERS}: ${JSON.stringify(message.slice(0, 300))}…`);
  return message.slice(prefix.length);
}

/** The first label of `kinds` whose pattern the message matches, else 'other' (outcome counts by kind of error). */
export function errorKind(detail: string, kinds: readonly (readonly [string, RegExp])[]): string {
  for (const [label, pattern] of kinds) if (pattern.test(detail)) return label;
  return 'other';
}

// ---- measuring ----

/** A full garbage collection (V8's gc function, reached without a command-line flag). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * V8 heap in use plus memory held by ArrayBuffers. The growth across a call counts what it allocated and
 * still held when it returned, less anything a garbage collection freed during the call.
 */
export function heapInUse(): number {
  const stats = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return stats.used_heap_size + (stats.external_memory ?? 0);
}

interface Verdict {
  outcome: string;
  /** Fastest of the runs made. */
  ms: number;
  heapBytes: number;
  runs: number;
  slowestRunMs: number;
}

function runOnce<T>(family: FuzzFamily<T>, input: FuzzInput<T>): Verdict {
  const heapBefore = heapInUse();
  const started = performance.now();
  const outcome = family.check(input);
  const ms = performance.now() - started;
  return { outcome, ms, heapBytes: heapInUse() - heapBefore, runs: 1, slowestRunMs: ms };
}

/** Runs one input through its family's check and holds it to the time and memory bounds; throws FuzzFailure when broken. */
export function checkInput<T>(family: FuzzFamily<T>, input: FuzzInput<T>): Verdict {
  let verdict = runOnce(family, input);
  const bound = family.timeBoundMs?.(input) ?? timeBoundMs(input.size);
  // Large inputs always get a second run, so their time per MB is not set by one collection of the fuzzer's garbage.
  const minimumRuns = input.size >= LARGE_INPUT_BYTES ? 2 : 1;
  for (let retry = 0; retry < TIME_RETRIES && (verdict.ms > bound || verdict.runs < minimumRuns); retry++) {
    const again = runOnce(family, input);
    if (again.outcome !== verdict.outcome) throw new FuzzFailure(input, `gave ${verdict.outcome} once and ${again.outcome} the next time`);
    again.runs = verdict.runs + 1;
    again.slowestRunMs = Math.max(verdict.slowestRunMs, again.ms);
    if (again.ms < verdict.ms) verdict = again;
    else Object.assign(verdict, { runs: again.runs, slowestRunMs: again.slowestRunMs });
  }
  if (verdict.ms > bound) throw new FuzzFailure(input, `took at least ${verdict.ms.toFixed(1)} ms on each of ${TIME_RETRIES + 1} runs, over the bound of ${bound.toFixed(1)} ms`);
  const heapBound = heapBoundBytes(input.size);
  if (verdict.heapBytes > heapBound) throw new FuzzFailure(input, `heap grew by ${verdict.heapBytes} bytes, over the bound of ${heapBound}`);
  return verdict;
}

// ---- a run ----

/** Inputs run before the heap is first measured for FuzzRunSummary.retainedHeapBytes. */
const WARM_UP_INPUTS = 2_000;

export interface FuzzRunSummary {
  family: string;
  seed: number;
  inputs: number;
  seconds: number;
  outcomes: Record<string, number>;
  /** The slowest input relative to its bound. */
  worstTime: { ms: number; boundMs: number; bytes: number; index: number };
  /** Inputs timed again (first run over the bound; see TIME_RETRIES), and the slowest single run seen. */
  retimedInputs: number;
  slowestSingleRunMs: number;
  /** The largest heap growth across one call. */
  worstHeap: { heapBytes: number; boundBytes: number; bytes: number; index: number };
  /** Among inputs of LARGE_INPUT_BYTES or more (where the floors do not dominate): the largest heap growth per input byte, and the slowest time per MB. */
  worstHeapPerByteOfLargeInputs: number;
  worstMsPerMbOfLargeInputs: number;
  largestInputBytes: number;
  /**
   * V8 heap in use after the run minus after its first WARM_UP_INPUTS inputs (each after a full garbage
   * collection): what the reader kept. ArrayBuffer memory is left out here: V8 frees it on a background
   * thread, so right after a collection it still counts buffers already dead.
   */
  retainedHeapBytes: number;
}

/** Runs `count` inputs of `family` from `seed`; throws FuzzFailure at the first broken contract. `onProgress` is called every `progressEvery` inputs. */
export function runFuzz<T>(
  family: FuzzFamily<T>,
  repositoryRoot: string,
  seed: number,
  count: number,
  onProgress?: (summary: FuzzRunSummary) => void,
  progressEvery = 100_000,
): FuzzRunSummary {
  const next = family.inputs(new Random(seed), repositoryRoot);
  let heapAfterWarmUp = 0;
  const started = performance.now();
  const summary: FuzzRunSummary = {
    family: family.name,
    seed,
    inputs: 0,
    seconds: 0,
    outcomes: {},
    worstTime: { ms: 0, boundMs: 1, bytes: 0, index: -1 },
    retimedInputs: 0,
    slowestSingleRunMs: 0,
    worstHeap: { heapBytes: 0, boundBytes: 1, bytes: 0, index: -1 },
    worstHeapPerByteOfLargeInputs: 0,
    worstMsPerMbOfLargeInputs: 0,
    largestInputBytes: 0,
    retainedHeapBytes: 0,
  };
  for (let i = 0; i < count; i++) {
    if (i === Math.min(WARM_UP_INPUTS, count - 1)) {
      collectGarbage();
      heapAfterWarmUp = getHeapStatistics().used_heap_size;
    }
    const input = next();
    const verdict = checkInput(family, input);
    const bytes = input.size;
    summary.inputs++;
    summary.outcomes[verdict.outcome] = (summary.outcomes[verdict.outcome] ?? 0) + 1;
    summary.largestInputBytes = Math.max(summary.largestInputBytes, bytes);
    if (verdict.runs > (bytes >= LARGE_INPUT_BYTES ? 2 : 1)) summary.retimedInputs++;
    summary.slowestSingleRunMs = Math.max(summary.slowestSingleRunMs, verdict.slowestRunMs);
    const boundMs = timeBoundMs(bytes);
    if (verdict.ms / boundMs > summary.worstTime.ms / summary.worstTime.boundMs) summary.worstTime = { ms: verdict.ms, boundMs, bytes, index: input.index };
    if (verdict.heapBytes > summary.worstHeap.heapBytes) summary.worstHeap = { heapBytes: verdict.heapBytes, boundBytes: heapBoundBytes(bytes), bytes, index: input.index };
    if (bytes >= LARGE_INPUT_BYTES) {
      summary.worstHeapPerByteOfLargeInputs = Math.max(summary.worstHeapPerByteOfLargeInputs, verdict.heapBytes / bytes);
      summary.worstMsPerMbOfLargeInputs = Math.max(summary.worstMsPerMbOfLargeInputs, verdict.ms / (bytes / 1e6));
    }
    if (onProgress && summary.inputs % progressEvery === 0) {
      summary.seconds = (performance.now() - started) / 1000;
      onProgress(summary);
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  collectGarbage();
  summary.retainedHeapBytes = getHeapStatistics().used_heap_size - heapAfterWarmUp;
  return summary;
}

export function formatFuzzSummary(s: FuzzRunSummary): string {
  const outcomes = Object.entries(s.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  return [
    `${s.family}, seed ${s.seed}: ${s.inputs} inputs in ${s.seconds.toFixed(1)} s (${Math.round(s.inputs / Math.max(s.seconds, 1e-9))} inputs/s), largest input ${s.largestInputBytes} bytes`,
    `  outcomes: ${outcomes}`,
    `  slowest relative to its bound: input ${s.worstTime.index}, ${s.worstTime.ms.toFixed(2)} ms for ${s.worstTime.bytes} bytes (bound ${s.worstTime.boundMs.toFixed(1)} ms)`,
    `  timed again after a run over the bound: ${s.retimedInputs} inputs (each then within it); slowest single run ${s.slowestSingleRunMs.toFixed(1)} ms`,
    `  largest heap growth: input ${s.worstHeap.index}, ${(s.worstHeap.heapBytes / 1e6).toFixed(2)} MB for ${s.worstHeap.bytes} bytes (bound ${(s.worstHeap.boundBytes / 1e6).toFixed(1)} MB)`,
    `  inputs of ${LARGE_INPUT_BYTES} bytes or more: at most ${s.worstMsPerMbOfLargeInputs.toFixed(0)} ms per MB (bound ${MS_PER_MB}), at most ${s.worstHeapPerByteOfLargeInputs.toFixed(1)} bytes of heap growth per input byte (bound ${HEAP_BYTES_PER_INPUT_BYTE} plus the floor)`,
    `  heap retained after the run: ${(s.retainedHeapBytes / 1e6).toFixed(2)} MB`,
  ].join('\n');
}

// ---- mutation helpers shared by the families ----

export function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + remove)));
}

export function concat(...pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/** Whether `value` is a plain JSON object (not null, not an array): a mutation may have made any field anything. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One of `choices`, uniformly. */
export function pick<T>(random: Random, choices: readonly T[]): T {
  return choices[random.int(choices.length)];
}

/** Numbers that matter to readers of sizes and counts: zero, one, negative, fractions, int32 and 2^53 edges, huge, tiny. */
export const INTERESTING_NUMBERS: readonly number[] = [
  0, 1, -1, 2, 3, 4, 7, 8, 16, 32, 38, 100, 255, 256, 1000, 1024, 1025, 4096, 4097, 65_535, 65_536, 1e6, 1e6 + 1,
  2 ** 31 - 1, 2 ** 31, 2 ** 32, 2e9, 4.5e9, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 1e20, 1e308, -1e308, 0.5, 1.5, 1e-7, -0.0, 3e38, -3e38,
];

/** JSON values of every type, for a field that should hold something else. */
export function interestingJsonValue(random: Random): unknown {
  const r = random.int(10);
  if (r < 5) return pick(random, INTERESTING_NUMBERS);
  if (r === 5) return pick(random, ['', 'x', '12', '1e5', 'NaN', 'Infinity', 'constructor', '__proto__', 'toString', '\u001b[2J', 'a'.repeat(1000)]);
  if (r === 6) return pick(random, [null, true, false]);
  if (r === 7) return pick(random, [[], [1], [[[[]]]], Array.from({ length: 50 }, (_, i) => i)]);
  if (r === 8) return pick(random, [{}, { a: 1 }, JSON.parse('{"__proto__": 1}'), { constructor: 1 }]);
  return random.int(2) === 0 ? random.int(1000) : random.float() * 200 - 100;
}
