/**
 * What every command shares: where the package's files are, loading the kernels and models from disk,
 * usage errors, strict flags (plain decimal numbers, true|false booleans, no empty values), atomic
 * writes, stopping on a signal with the conventional exit code, and progress on a terminal. The only place
 * (with src/node/) that touches the file system and the process.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { acceptsRelaxedBuild, kernelsFromModule, type Kernels } from '../engine/kernels.js';
import { KernelThreads } from '../engine/kernel_threads.js';
import { startNodeKernelThread } from '../node/kernel_thread.js';
import { decimalProblem, parseDecimal } from '../io/decimal.js';
import { kernelDigest } from '../io/fingerprint.js';
import { readFileNamed, writeFileAtomic as writeFileAtomicNamed } from '../node/run_folder.js';
import { InputFileError, readRegularFile } from '../node/input_files.js';
import { MAX_MODEL_FILE_BYTES } from '../io/model_file.js';
import { MAX_MIDI_FILE_BYTES } from '../music/midi_import.js';

/** A command: parses its arguments and runs; a returned number is the process exit code (default 0). */
export type Command = (args: string[]) => Promise<number | void>;

/** dist/ (this file is dist/cli/common.js once built). */
export const DIST_DIR = fileURLToPath(new URL('..', import.meta.url));
export const PACKAGE_ROOT = resolve(DIST_DIR, '..');
export const DEFAULT_MODEL_PATH = resolve(PACKAGE_ROOT, 'models', 'note_rnn.safetensors');

/** A mistake in how the command was called: printed with a hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses flags strictly: an unknown flag, a missing value or an empty value ('' or blanks) is a
 * UsageError naming it. Boolean flags take `--flag`, `--flag=true|false` or `--flag true|false`.
 * With `allowPositionals`, the arguments that are not flags are returned in `_`.
 */
export function parseFlags(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>, allowPositionals = false): FlagValues {
  const booleans = new Set(Object.entries(options).filter(([, o]) => o.type === 'boolean').map(([name]) => name));
  const explicit: Record<string, boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    const flag = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!flag || !booleans.has(flag[1])) {
      rest.push(arg);
      continue;
    }
    let value = flag[2];
    if (value === undefined && (args[i + 1] === 'true' || args[i + 1] === 'false')) value = args[++i];
    if (value === undefined) {
      rest.push(arg);
    } else if (value === 'true' || value === 'false') {
      explicit[flag[1]] = value === 'true';
    } else {
      throw new UsageError(`--${flag[1]}=${value}: expected true or false (--${flag[1]} alone means true)`, command);
    }
  }
  let values: FlagValues;
  try {
    const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals });
    values = parsed.values as FlagValues;
    if (allowPositionals) values._ = parsed.positionals;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), command);
  }
  Object.assign(values, explicit);
  for (const [name, value] of Object.entries(values)) {
    if (name === '_') continue;
    const given = Array.isArray(value) ? value : [value];
    if (given.some((v) => typeof v === 'string' && v.trim() === '')) {
      throw new UsageError(name === 'out'
        ? "--out '' would write into the current folder; name a folder"
        : `--${name} '': the value is empty; give one, or leave --${name} out`, command);
    }
  }
  return values;
}

/**
 * A number flag within [lo, hi], written as a plain decimal (see src/io/decimal.ts: no 0x/0b/0o, no
 * Infinity, nothing that overflows or underflows); names the flag, the value and the range when it is not.
 */
export function numberFlag(command: string, name: string, value: string | undefined, fallback: number, lo: number, hi: number, integer = false): number {
  if (value === undefined) return fallback;
  const v = parseDecimal(value);
  if (v === undefined || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    const problem = v === undefined ? ` (${decimalProblem(value)})` : '';
    throw new UsageError(`--${name} ${value}: expected ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}${problem}`, command);
  }
  return v;
}

/**
 * Steps per composition from --length or its other name --num-notes (the config field `numNotes`, as
 * `tune` takes it): either may be given, not both with different values.
 */
export function lengthFlag(command: string, values: FlagValues, fallback: number, lo: number, hi: number): number {
  const length = typeof values.length === 'string' ? values.length : undefined;
  const numNotes = typeof values['num-notes'] === 'string' ? values['num-notes'] : undefined;
  if (length !== undefined && numNotes !== undefined && length !== numNotes) {
    throw new UsageError(`--length ${length} and --num-notes ${numNotes} name the same setting; give one`, command);
  }
  return numberFlag(command, length !== undefined ? 'length' : 'num-notes', length ?? numNotes, fallback, lo, hi, true);
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

/**
 * Help text of --threads, its description starting at `column`. `byDefault` is the command's default: 2 for
 * train and evaluate, 1 for tune (README, Results: at H = 100 a second thread does not speed tuning up).
 */
export function threadsHelp(byDefault: 1 | 2, column = 23, hasRelaxed = true): string {
  const flag = '  --threads <n>';
  return `${flag.padEnd(column)}threads the kernels run on; every count gives the same results to the bit
${' '.repeat(column)}[${byDefault === 2 ? `2, or 1 on a one-core machine${hasRelaxed ? ' or with --relaxed-simd' : ''}`
    : '1: at H = 100 a second thread does not speed tuning up (README, Results); larger networks gain'}]`;
}

/** --threads: an integer in 1..availableParallelism() (at most 16); by default `byDefault` (at most the cores; 1 with --relaxed-simd). */
export function threadsFlag(value: string | boolean | undefined, command: string, relaxed: boolean, byDefault: 1 | 2): number {
  const cores = Math.max(1, Math.min(16, availableParallelism()));
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

/**
 * Progress on stderr: a live, rewritten line on a terminal and nothing when stderr is not one (logs stay
 * clean); `log` lines (one per epoch, evaluation or notice) are written either way unless quiet.
 */
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private open = false;
  constructor(private readonly quiet = false) {}
  update(text: string): void {
    if (this.quiet || !this.tty) return;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.open = true;
  }
  /** A line that stays. */
  log(text: string): void {
    if (this.quiet) return;
    if (this.open) process.stderr.write('\r\x1b[2K');
    this.open = false;
    process.stderr.write(`${text}\n`);
  }
  done(): void {
    if (this.open) process.stderr.write('\n');
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
export function partFlags(command: string, values: FlagValues): { track?: number; channel?: number } {
  const out: { track?: number; channel?: number } = {};
  if (typeof values.track === 'string') out.track = numberFlag(command, 'track', values.track, 0, 0, 65535, true);
  if (typeof values.channel === 'string') out.channel = numberFlag(command, 'channel', values.channel, 0, 0, 15, true);
  return out;
}

/** Help lines for --track / --channel. */
export const PART_FLAGS_HELP = `  --track <n>          take the melody from this track of each MIDI file (0-based); a file without it is
                       skipped and listed [each file's most melodic part: a line, singable, highest]
  --channel <n>        take the melody from this channel (0-15; 9 is drums) [as for --track]`;

