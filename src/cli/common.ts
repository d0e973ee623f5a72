/**
 * What every command shares: where the package's files are, loading the kernels and models from disk,
 * usage errors, number flags (plain decimals), the flags several commands take (--quiet, --threads,
 * --relaxed-simd, --track, --channel), atomic writes and `-` for standard output, stopping on a signal with
 * the conventional exit code, and progress bars. The only place (with src/node/) that touches the file
 * system and the process. Flags are parsed by each command's table (flags.ts).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acceptsRelaxedBuild, kernelsFromModule, type Kernels } from '../engine/kernels.js';
import { KernelThreads } from '../engine/kernel_threads.js';
import { startNodeKernelThread } from '../node/kernel_thread.js';
import { decimalProblem, parseDecimal } from '../io/decimal.js';
import { kernelDigest } from '../io/fingerprint.js';
import { readFileNamed, writeFileAtomic as writeFileAtomicNamed } from '../node/run_folder.js';
import { InputFileError, readRegularFile } from '../node/input_files.js';
import { MAX_MODEL_FILE_BYTES } from '../io/model_file.js';
import { MAX_MIDI_FILE_BYTES } from '../music/midi_import.js';
import { CONFIG_FIELDS } from '../rl/config.js';
import type { BooleanFlag, NumberFlag, StringFlag } from './flags.js';

/** A command: parses its arguments and runs; a returned number is the process exit code (default 0). */
export type Command = (args: string[]) => Promise<number | void>;

/** dist/ (this file is dist/cli/common.js once built). */
export const DIST_DIR = fileURLToPath(new URL('..', import.meta.url));
export const PACKAGE_ROOT = resolve(DIST_DIR, '..');
export const DEFAULT_MODEL_PATH = resolve(PACKAGE_ROOT, 'models', 'note_rnn.safetensors');
/** The shipped Note RNN of the basic encoding (the default before the phrase one): Magenta export, reward models. */
export const BASIC_MODEL_PATH = resolve(PACKAGE_ROOT, 'models', 'note_rnn_basic.safetensors');

/** A mistake in how the command was called: printed with a hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A number flag within [lo, hi], written as a plain decimal (see src/io/decimal.ts: no 0x/0b/0o, no
 * Infinity, nothing that overflows or underflows); names the flag, the value and the range when it is not.
 */
export function numberFlag(
  command: string, name: string, value: string | undefined, fallback: number, lo: number, hi: number, integer = false, expected?: string,
): number {
  if (value === undefined) return fallback;
  const v = parseDecimal(value);
  if (v === undefined || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    const problem = v === undefined ? ` (${decimalProblem(value)})` : '';
    throw new UsageError(`--${name} ${value}: expected ${expected ?? `${integer ? 'an integer' : 'a number'} in ${lo}..${hi}`}${problem}`, command);
  }
  return v;
}

/** Which kernel build computed a run's numbers (recorded in fingerprints). */
export type KernelBuild = 'plain' | 'relaxed';

/** Which kernels computed a run's numbers: the build's label and kernelDigest of its wasm (recorded in fingerprints). */
export interface LoadedKernels {
  kernels: Kernels;
  build: KernelBuild;
  /** kernelDigest of the wasm: the same for the plain and the shared-memory build, which compute the same bits. */
  digest: string;
}

/** The kernels compiled from `bytes`, with their digest. */
function compiledKernels(bytes: Uint8Array, build: KernelBuild): LoadedKernels {
  return { kernels: kernelsFromModule(new WebAssembly.Module(bytes as BufferSource), bytes), build, digest: kernelDigest(bytes) };
}

/** Loads the kernels from dist/: the relaxed-SIMD build when asked for and accepted by this runtime, else the plain one; says which. */
export function loadKernelBuildFromDist(relaxed = false): LoadedKernels {
  const plain = resolve(DIST_DIR, 'rltuner.wasm');
  const fast = resolve(DIST_DIR, 'rltuner-relaxed.wasm');
  if (!existsSync(plain)) throw new Error(`kernels not found at ${plain}: run \`npm run build\` first`);
  if (relaxed) {
    const bytes = readFileNamed(fast);
    if (acceptsRelaxedBuild(bytes)) return compiledKernels(bytes, 'relaxed');
    process.stderr.write('note: this runtime does not accept relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd); using the plain SIMD build\n');
  }
  return compiledKernels(readFileNamed(plain), 'plain');
}

/** The most threads --threads takes on any machine (fewer where there are fewer cores). */
const MAX_THREADS = 16;

/**
 * --threads. `byDefault` is the command's default: 1 for tune, train and evaluate, the count that is no slower
 * when another process keeps the machine busy (bench/busy_machine.ts; bench/results/2026-12-07-busy.md).
 */
export function threadsRow(byDefault: 1 | 2, relaxed = true) {
  return {
    name: 'threads', kind: 'string', arg: '<n>',
    doc: `threads the kernels run on (1 to the number of cores, at most ${MAX_THREADS}); every count gives the same results to the bit`,
    defaultText: byDefault === 2 ? `2, or 1 on a one-core machine${relaxed ? ' or with --relaxed-simd' : ''}`
      : '1: with another busy process on the machine a second thread made tune, train and evaluate no faster or slower (bench/results/2026-12-07-busy.md in the source repository); on an idle machine --threads 2 trains faster',
  } as const satisfies StringFlag;
}

/** The seeds every command takes: those of the tuning config's seed field (one random source, 32 bits). */
export const SEED_RANGE = { min: CONFIG_FIELDS.seed.min, max: CONFIG_FIELDS.seed.max } as const;

export const QUIET = { name: 'quiet', kind: 'boolean', doc: 'no progress output' } as const satisfies BooleanFlag;
export const RELAXED_SIMD = { name: 'relaxed-simd', kind: 'boolean', doc: 'use the relaxed-SIMD kernels where the runtime accepts them' } as const satisfies BooleanFlag;

/** --threads: an integer in 1..availableParallelism() (at most 16); by default `byDefault` (at most the cores; 1 with --relaxed-simd). */
export function threadsFlag(value: string | boolean | undefined, command: string, relaxed: boolean, byDefault: 1 | 2): number {
  const cores = Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
  if (value === undefined) return relaxed ? 1 : Math.min(byDefault, cores);
  if (typeof value !== 'string') throw new UsageError('--threads needs a value: the number of threads (1 is the reference)', command);
  const threads = numberFlag(command, 'threads', value, 1, 1, cores, true);
  if (threads > 1 && relaxed) {
    throw new UsageError(`--threads ${threads} with --relaxed-simd: the relaxed-SIMD build runs on one thread; pass --threads 1 or drop --relaxed-simd`, command);
  }
  return threads;
}

/**
 * Loads the kernels for `threads` threads: one, the plain (or relaxed) build as loadKernelBuildFromDist does;
 * more, the shared-memory build of the same kernels with helper threads, which computes the same bits (so
 * the recorded build stays 'plain'). Call close() when done.
 */
export async function loadKernelsOnThreads(threads: number, relaxed = false): Promise<LoadedKernels & { close(): void }> {
  if (threads <= 1) return { ...loadKernelBuildFromDist(relaxed), close: () => {} };
  const shared = compiledKernels(readFileNamed(resolve(DIST_DIR, 'rltuner-shared.wasm')), 'plain');
  const pool = await KernelThreads.start(shared.kernels, threads, startNodeKernelThread);
  return { kernels: pool.kernels, build: 'plain', digest: shared.digest, close: () => pool.close() };
}

/** Loads the kernels from dist/ (the relaxed-SIMD build when asked for and accepted by this runtime). */
export function loadKernelsFromDist(relaxed = false): Kernels {
  return loadKernelBuildFromDist(relaxed).kernels;
}

/** A limit on the size of an input file: its value in bytes and its name (for the message). */
export interface SizeLimit {
  bytes: number;
  name: string;
}

/** The most Node reads into one buffer (2 GiB − 1): the limit of an input without one of its own. */
export const NODE_READ_LIMIT: SizeLimit = { bytes: 2 ** 31 - 1, name: 'the most Node reads into one buffer' };
/** Model files: MAX_MODEL_FILE_BYTES (src/io/model_file.ts). */
export const MODEL_FILE_LIMIT: SizeLimit = { bytes: MAX_MODEL_FILE_BYTES, name: 'MAX_MODEL_FILE_BYTES' };
/** MIDI files (a primer): MAX_MIDI_FILE_BYTES (src/music/midi_import.ts). */
export const MIDI_FILE_LIMIT: SizeLimit = { bytes: MAX_MIDI_FILE_BYTES, name: 'MAX_MIDI_FILE_BYTES' };

/**
 * Reads a regular file of at most `limit` bytes (src/node/input_files.ts), or fails with a message naming
 * it, what was found (missing, a FIFO or device, too large) and what to pass instead.
 */
export function readInput(path: string, what: string, hint: string, limit: SizeLimit = NODE_READ_LIMIT): Uint8Array {
  try {
    return readRegularFile(path, what, limit.bytes, limit.name);
  } catch (e) {
    if (!(e instanceof InputFileError)) throw e;
    throw new UsageError(e.problem === 'missing' ? `${what} not found: ${path}\n  ${hint}` : `${e.message}\n  ${hint}`);
  }
}

/** The model file to use: the given path, or the shipped default ('' is an error, not the default). */
export function modelPath(given: string | undefined): string {
  if (given !== undefined && given.trim() === '') throw new UsageError("--model '': the path is empty; name a model file, or leave --model out for the shipped default");
  return given !== undefined ? resolve(given) : DEFAULT_MODEL_PATH;
}

export function readModelBytes(given: string | undefined): { path: string; bytes: Uint8Array } {
  const path = modelPath(given);
  const hint = given
    ? 'Pass a model written by `rltuner train` (or `rltuner tune`), or omit --model to use the shipped default.'
    : 'The shipped default model is missing from this install; train one with `rltuner train --nottingham <dir>` and pass it with --model.';
  return { path, bytes: readInput(path, 'model file', hint, MODEL_FILE_LIMIT) };
}

/**
 * Writes a file atomically (a temporary file in the same folder, fsynced and renamed into place), creating
 * folders as needed; on failure the temporary file is removed and the error names the path and the fix.
 * The same implementation as RunFolder.writeAtomic (src/node/run_folder.ts), for files outside run folders.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  writeFileAtomicNamed(path, data);
}

/** `-` names standard output wherever a command writes one file (--json -, --markdown -, ...). */
export const STDOUT = '-';

/**
 * Writes one output file: atomically to `path`, or to standard output when it is `-`. Returns where it went,
 * for messages.
 */
export function writeOutput(path: string, data: Uint8Array | string): string {
  if (path === STDOUT) {
    process.stdout.write(data);
    return 'standard output';
  }
  writeFileAtomic(resolve(path), data);
  return resolve(path);
}

/**
 * At most one of several output flags may be `-` (standard output carries one file); returns the stream the
 * command's own report goes to: stderr when a file takes stdout, else stdout.
 */
export function reportStream(command: string, outputs: Record<string, string | undefined>): NodeJS.WriteStream {
  const toStdout = Object.entries(outputs).filter(([, path]) => path === STDOUT).map(([flag]) => `--${flag} -`);
  if (toStdout.length > 1) throw new UsageError(`${toStdout.join(' and ')}: standard output holds one file; write the others to files`, command);
  return toStdout.length === 1 ? process.stderr : process.stdout;
}

/** Time left in words, rounded to what a reader needs: "8 s", "3 min 20 s", "2 h 5 min". */
export function formatTimeLeft(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Width of the bar in characters. */
const BAR_WIDTH = 24;

/**
 * Progress on stderr, never with --quiet. On a terminal: a live line, rewritten in place (cut to the
 * terminal's width, so it never wraps) — `update` for free text, `bar` for a bar with the share done and
 * the time left. Elsewhere (a log, a pipe): `bar` writes a plain line at each tenth of the work and
 * `update` nothing. `log` lines (one per epoch, evaluation or notice) are written either way.
 */
export class Progress {
  private readonly tty: boolean;
  private open = false;
  /** Where the current piece of work started (for the rate), and the next tenth a plain line marks. */
  private start: { seconds: number; done: number } | null = null;
  private nextTenth = 1;
  private lastDrawn = 0;
  constructor(private readonly quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(text: string): void {
    if (this.quiet || !this.tty) return;
    const width = Math.max(20, (this.stream.columns ?? 120) - 1);
    this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.open = true;
  }

  /** A new piece of work begins: the time left is measured from the next `bar` call on. */
  restart(): void {
    this.start = null;
    this.nextTenth = 1;
  }

  /**
   * `done` of `total` units: a bar and the time left at the rate since the piece began, then `text`.
   * `plainLines` false: nothing off a terminal (the command logs its own lines there).
   */
  bar(done: number, total: number, text: string, plainLines = true): void {
    if (this.quiet) return;
    const now = performance.now() / 1000;
    if (this.start === null || done < this.start.done) this.start = { seconds: now, done };
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const rate = (done - this.start.done) / Math.max(1e-9, now - this.start.seconds);
    const left = rate > 0 && done < total ? `, ${formatTimeLeft((total - done) / rate)} left` : '';
    const percent = `${Math.floor(100 * share)}%`;
    if (this.tty) {
      if (now - this.lastDrawn < 0.1 && done < total) return;
      this.lastDrawn = now;
      const filled = Math.round(BAR_WIDTH * share);
      this.update(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${percent}${left}  ${text}`);
      return;
    }
    if (plainLines && share * 10 >= this.nextTenth && share < 1) {
      this.nextTenth = Math.floor(share * 10) + 1;
      this.log(`${text}  (${percent}${left})`);
    }
  }

  /** A line that stays. */
  log(text: string): void {
    if (!this.quiet) this.note(text);
  }

  /** A line that stays, even with --quiet (a result, a failure). */
  note(text: string): void {
    if (this.open) this.stream.write('\r\x1b[2K');
    this.open = false;
    this.stream.write(`${text}\n`);
  }

  done(): void {
    if (this.open) this.stream.write('\r\x1b[2K');
    this.open = false;
  }
}

/** Resolves when the event loop has had a chance to run signal handlers. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** The conventional exit codes of a process stopped by a signal: 128 + the signal's number. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignalName = keyof typeof SIGNAL_EXIT_CODES;

export interface StopRequest {
  /** Whether SIGINT or SIGTERM came. */
  readonly requested: boolean;
  /** The first signal that came, or null. */
  readonly signal: StopSignalName | null;
  /** The exit code for that signal (130 for SIGINT, 143 for SIGTERM); 0 while none came. */
  readonly exitCode: number;
  dispose(): void;
}

/**
 * A stop flag set by SIGINT / SIGTERM: the command finishes its current unit of work, writes its
 * checkpoint, and returns `exitCode`. A second signal exits at once with its own code.
 */
export function stopOnSignal(onFirst: (signal: StopSignalName) => void): StopRequest {
  const state: { signal: StopSignalName | null } = { signal: null };
  const handler = (signal: StopSignalName) => {
    if (state.signal !== null) process.exit(SIGNAL_EXIT_CODES[signal]);
    state.signal = signal;
    onFirst(signal);
  };
  const onInterrupt = () => handler('SIGINT');
  const onTerminate = () => handler('SIGTERM');
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  return {
    get requested() {
      return state.signal !== null;
    },
    get signal() {
      return state.signal;
    },
    get exitCode() {
      return state.signal === null ? 0 : SIGNAL_EXIT_CODES[state.signal];
    },
    dispose() {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
    },
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

/** The --track / --channel choice of which part of a MIDI file is the melody (SPEC §2: the user may choose). */
export const PART_FLAGS = [
  {
    name: 'track', kind: 'integer', min: 0, max: 65535, arg: '<n>',
    doc: 'take the melody from this track of each MIDI file (0-based); a file without it is skipped and listed',
    defaultText: "each file's most melodic part: a line, singable, highest",
  },
  { name: 'channel', kind: 'integer', min: 0, max: 15, arg: '<n>', doc: 'take the melody from this channel (9 is drums)', defaultText: 'as for --track' },
] as const satisfies readonly NumberFlag[];

/** The part chosen by --track / --channel, as the importers take it. */
export function partFlags(values: { track?: number; channel?: number }): { track?: number; channel?: number } {
  const out: { track?: number; channel?: number } = {};
  if (values.track !== undefined) out.track = values.track;
  if (values.channel !== undefined) out.channel = values.channel;
  return out;
}
