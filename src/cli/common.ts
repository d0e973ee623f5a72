/**
 * What every command shares: where the package's files are, loading the kernels and models from disk,
 * usage errors, atomic writes, and progress on a terminal. The only place (with src/node/) that touches
 * the file system and the process.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { acceptsRelaxedBuild, kernelsFromModule, type Kernels } from '../engine/kernels.js';

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

/** Parses flags strictly; an unknown flag or a missing value is a UsageError naming it. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export function parseFlags(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>): FlagValues {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), command);
  }
}

/** A number flag within [lo, hi]; names the flag and the range when it is not. */
export function numberFlag(command: string, name: string, value: string | undefined, fallback: number, lo: number, hi: number, integer = false): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} ${value}: expected ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}`, command);
  }
  return v;
}

/** Loads the kernels from dist/ (the relaxed-SIMD build when asked for and accepted by this runtime). */
export function loadKernelsFromDist(relaxed = false): Kernels {
  const plain = resolve(DIST_DIR, 'rltuner.wasm');
  const fast = resolve(DIST_DIR, 'rltuner-relaxed.wasm');
  if (!existsSync(plain)) throw new Error(`kernels not found at ${plain}: run \`npm run build\` first`);
  if (relaxed) {
    const bytes = readFileSync(fast);
    if (acceptsRelaxedBuild(bytes)) return kernelsFromModule(new WebAssembly.Module(bytes));
    process.stderr.write('note: this runtime does not accept relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd); using the plain SIMD build\n');
  }
  return kernelsFromModule(new WebAssembly.Module(readFileSync(plain)));
}

/** Reads a file, or fails with a message naming it and what to pass instead. */
export function readInput(path: string, what: string, hint: string): Uint8Array {
  if (!existsSync(path)) throw new UsageError(`${what} not found: ${path}\n  ${hint}`);
  return new Uint8Array(readFileSync(path));
}

/** The model file to use: the given path, or the shipped default. */
export function modelPath(given: string | undefined): string {
  return given ? resolve(given) : DEFAULT_MODEL_PATH;
}

export function readModelBytes(given: string | undefined): { path: string; bytes: Uint8Array } {
  const path = modelPath(given);
  const hint = given
    ? 'Pass a model written by `rltuner train` (or `rltuner tune`), or omit --model to use the shipped default.'
    : 'The shipped default model is missing from this install; train one with `rltuner train --nottingham <dir>` and pass it with --model.';
  return { path, bytes: readInput(path, 'model file', hint) };
}

/** Writes a file atomically (a temporary file renamed into place), creating folders as needed. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
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

/** A stop flag set by SIGINT / SIGTERM; a second signal exits at once. */
export function stopOnSignal(onFirst: () => void): { readonly requested: boolean; dispose(): void } {
  const state = { requested: false };
  const handler = () => {
    if (state.requested) process.exit(130);
    state.requested = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get requested() {
      return state.requested;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
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
export const PART_FLAGS_HELP = `  --track <n>          take the melody from this track of each MIDI file (0-based) [the track with most notes]
  --channel <n>        take the melody from this channel (0-15; 9 is drums) [the channel with most notes]`;
