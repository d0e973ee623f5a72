/**
 * Running the real command line in tests: `node dist/cli.js <args>` (built by `npm test`'s pretest) in a
 * child process, as a user runs it. One helper for every test that spawns it:
 *
 * - `rltuner(args, options)`: runs to the end and resolves with the exit code, stdout, stderr and the
 *   wall time; never rejects on a non-zero exit code.
 * - `rltunerSync(args, options)`: the same, blocking (for tests that run many short commands in a row).
 * - `spawnRltuner(args, options)`: the child process itself, for tests that signal it mid-run.
 * - `interrupted(args, when, signal, options)`: runs it, sends `signal` once a stream shows `when`, and
 *   resolves with the exit code and what it wrote.
 */
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** dist/cli.js, the command as the package installs it. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliOptions {
  /** The folder it runs in. */
  cwd?: string;
  /** The environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself, before the script (e.g. --experimental-wasm-relaxed-simd). */
  nodeFlags?: readonly string[];
  /** The most output kept per stream [64 MiB]. */
  maxBuffer?: number;
}

export interface CliResult {
  /** The exit code (-1 when the process was killed by a signal). */
  code: number;
  stdout: string;
  /** Standard output as written (a MIDI or model file written to `-`). */
  stdoutBytes: Uint8Array;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
}

const MAX_BUFFER = 1 << 26;

const argv = (args: readonly string[], options: CliOptions) => [...(options.nodeFlags ?? []), CLI, ...args];

/** Runs `rltuner <args>` to its end. */
export function rltuner(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((done) => {
    const settings = { cwd: options.cwd, env: options.env, maxBuffer: options.maxBuffer ?? MAX_BUFFER, encoding: 'buffer' as const };
    execFile(process.execPath, argv(args, options), settings, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout: stdout.toString('utf8'), stdoutBytes: new Uint8Array(stdout), stderr: stderr.toString('utf8'), ms: performance.now() - started });
    });
  });
}

/** Runs `rltuner <args>` to its end, blocking. */
export function rltunerSync(args: readonly string[], options: CliOptions = {}): CliResult {
  const started = performance.now();
  const r = spawnSync(process.execPath, argv(args, options), { cwd: options.cwd, env: options.env, maxBuffer: options.maxBuffer ?? MAX_BUFFER });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), stdoutBytes: new Uint8Array(r.stdout), stderr: r.stderr.toString('utf8'), ms: performance.now() - started };
}

/** Starts `rltuner <args>` and returns the child process (its stdout and stderr are pipes). */
export function spawnRltuner(args: readonly string[], options: CliOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, argv(args, options), { cwd: options.cwd, env: options.env });
}

/**
 * Runs `rltuner <args>`, sends `signal` once `stream` (stderr by default) matches `when`, and resolves with
 * the exit code (null when killed), whether the signal was sent, and the output.
 */
export function interrupted(
  args: readonly string[], when: RegExp, signal: NodeJS.Signals, options: CliOptions & { stream?: 'stdout' | 'stderr' } = {},
): Promise<{ code: number | null; signalled: boolean; stdout: string; stderr: string }> {
  const child = spawnRltuner(args, options);
  const out = { stdout: '', stderr: '' };
  let sent = false;
  for (const name of ['stdout', 'stderr'] as const) {
    child[name].on('data', (d) => {
      out[name] += d;
      if (!sent && name === (options.stream ?? 'stderr') && when.test(out[name])) {
        sent = true;
        child.kill(signal);
      }
    });
  }
  return new Promise((done) => child.on('close', (code) => done({ code, signalled: sent, ...out })));
}
