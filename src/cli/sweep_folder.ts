/**
 * Sweep folders: what `rltuner sweep` writes besides the run folders, and reading it back without trusting
 * it.
 *
 *   <sweep>/sweep.json            {format, planFile, shards, plan}: the plan the folder belongs to (a later
 *                                 run with another plan is refused) and the shard count it was started with
 *   <sweep>/configs/<name>.json   each config as the jobs' --config
 *   <sweep>/<name>/seed-<s>/      each job's run folder (an ordinary `rltuner tune` run folder)
 *   <sweep>/done/<name>.seed-<s>.json   {config, seed, dir, seconds}: written when the job finished; dir is
 *                                 the run folder relative to the sweep folder
 *
 * Paths are always resolved inside the sweep folder from the job's id, never followed from a file: a done
 * file's dir must be the job's own (earlier versions wrote it absolute; such a file is read by its job id,
 * so a moved or copied sweep reads its own runs), and a run folder or file that leads outside the sweep
 * folder (through '..' or a symbolic link) is refused, naming it. Every file read is a regular file of
 * bounded size, checked before it is read.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, constants, fsyncSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { CHECKPOINT_FILE, fileError, LOCK_FILE } from '../node/run_folder.js';
import { UsageError } from './common.js';
import { CONFIG_NAME_MAX_LENGTH, CONFIG_NAME_PATTERN, parseSweepPlan, PLAN_MAX_BYTES, type PlanJob, type SweepPlan } from './sweep_plan.js';

export const SWEEP_FILE = 'sweep.json';
export const DONE_FOLDER = 'done';
export const CONFIGS_FOLDER = 'configs';
export const EVALUATION_FILE = 'evaluation.json';
const DONE_FILE_MAX_BYTES = 64 * 1024;
const LOCK_FILE_MAX_BYTES = 64 * 1024;
/** An evaluation.json holds statistics, not compositions: a few KB. */
const EVALUATION_MAX_BYTES = 16 * 1024 * 1024;
const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** What sweep.json holds. */
export interface SweepRecord {
  format: 1;
  /** The plan file's name when the folder was started (for the status line). */
  planFile: string;
  /** How many shards the folder was started with (status groups jobs by it). */
  shards: number;
  plan: SweepPlan;
}

/** A sweep folder that cannot be read as one: names the path and what to do. */
export class SweepFolderError extends UsageError {
  constructor(message: string, readonly path: string) {
    super(message, 'sweep');
    this.name = 'SweepFolderError';
  }
}

/** Reads a regular file of at most `limit` bytes (checked on the open file before reading); null when absent. */
export function readBoundedFile(path: string, limit: number, what: string): string | null {
  let fd: number;
  try {
    // Non-blocking, so that a named pipe in place of the file cannot hang the read; refused just below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new SweepFolderError(`cannot read ${what} ${path} (${code ?? (e as Error).message})`, path);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new SweepFolderError(`${what} ${path} is not a regular file; remove it`, path);
    if (info.size > limit) throw new SweepFolderError(`${what} ${path} is ${info.size} bytes, more than such a file can hold (${limit}); it is not one rltuner wrote: remove it`, path);
    const bytes = Buffer.alloc(info.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return bytes.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SweepFolderError(`cannot inspect ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
}

/**
 * The absolute path of `rel` ('/'-separated) inside the sweep folder. Refuses an absolute path, a '..'
 * step, and an existing path whose real location (symbolic links followed) is outside the sweep folder's.
 */
export function insideSweep(sweep: string, rel: string, what: string): string {
  const parts = rel.split('/');
  if (isAbsolute(rel) || rel.includes('\\') || rel.includes('\0') || parts.some((p) => p === '..' || p === '.' || p === '')) {
    throw new SweepFolderError(`${what} ${JSON.stringify(rel)} is not a path inside the sweep folder ${sweep}; rltuner never follows it`, sweep);
  }
  const full = join(sweep, ...parts);
  const root = realpathOrNull(sweep) ?? sweep;
  // Every existing step of the path must stay inside: a symbolic link anywhere along it may lead out.
  let step = sweep;
  for (const part of parts) {
    step = join(step, part);
    const real = realpathOrNull(step);
    if (real === null) break;
    const r = relative(root, real);
    if (r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r)) {
      throw new SweepFolderError(`${step} leads outside the sweep folder ${sweep} (to ${real}); rltuner reads only files inside it: replace the link with the files themselves`, step);
    }
  }
  return full;
}

/** sweep.json of `dir`, or null for a folder made before it existed. */
export function readSweepRecord(dir: string): SweepRecord | null {
  const path = join(dir, SWEEP_FILE);
  const text = readBoundedFile(insideSweep(dir, SWEEP_FILE, 'the file'), PLAN_MAX_BYTES + 4096, 'the sweep record');
  if (text === null) return null;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (e) {
    throw new SweepFolderError(`${path} is not valid JSON (${(e as Error).message}); it is rewritten by running the sweep's command again after removing it`, path);
  }
  const r = record as Partial<SweepRecord>;
  if (typeof record !== 'object' || record === null || r.format !== 1 || typeof r.planFile !== 'string' || !Number.isSafeInteger(r.shards) || (r.shards as number) < 1) {
    throw new SweepFolderError(`${path} is not a sweep record of this version (expected {"format": 1, "planFile", "shards", "plan"}); remove it and run the sweep's command again to rewrite it`, path);
  }
  const plan = parseSweepPlan(JSON.stringify(r.plan ?? null), `${path} (its "plan")`);
  return { format: 1, planFile: r.planFile, shards: r.shards as number, plan };
}

/** The text of `<dir>/configs/<name>.json`, or null when absent. */
export function readConfigFile(dir: string, name: string): string | null {
  return readBoundedFile(insideSweep(dir, `${CONFIGS_FOLDER}/${name}.json`, 'the config file'), CONFIG_FILE_MAX_BYTES, 'the config file');
}

/** What a done file says, once checked. */
export interface DoneEntry {
  config: string;
  seed: number;
  /** The run folder, relative ('/'-separated). */
  dir: string;
  /** The done file. */
  file: string;
  /** Written by an earlier version (an absolute dir, read by the job's id). */
  oldFormat: boolean;
}

/** The done files' names in `<dir>/done` (sorted); [] when the folder has none. */
export function doneFileNames(dir: string): string[] {
  const doneDir = insideSweep(dir, DONE_FOLDER, 'the folder');
  let names: string[];
  try {
    names = readdirSync(doneDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SweepFolderError(`cannot list ${doneDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, doneDir);
  }
  return names.filter((n) => n.endsWith('.json')).sort();
}

/**
 * Reads and checks `<dir>/done/<name>`: a small regular file naming a config and seed that match its name,
 * whose dir is the job's own run folder. Null when the file is absent.
 */
export function readDoneFile(dir: string, name: string): DoneEntry | null {
  const path = insideSweep(dir, `${DONE_FOLDER}/${name}`, 'the done file');
  if (statOrNull(path)?.isSymbolicLink()) throw new SweepFolderError(`${path} is a symbolic link; a done file is a file rltuner wrote: remove it (the job is then run again)`, path);
  const text = readBoundedFile(path, DONE_FILE_MAX_BYTES, 'the done file');
  if (text === null) return null;
  const redo = 'remove it and run the sweep\'s command again to redo that job';
  let done: { config?: unknown; seed?: unknown; dir?: unknown };
  try {
    done = JSON.parse(text);
  } catch (e) {
    throw new SweepFolderError(`${path} is not valid JSON (${(e as Error).message}); ${redo}`, path);
  }
  if (typeof done !== 'object' || done === null) throw new SweepFolderError(`${path} does not hold a JSON object; ${redo}`, path);
  const { config, seed } = done;
  if (typeof config !== 'string' || !CONFIG_NAME_PATTERN.test(config) || config.length > CONFIG_NAME_MAX_LENGTH) {
    throw new SweepFolderError(`${path}: "config" = ${JSON.stringify(config) ?? 'missing'} is not a config name; ${redo}`, path);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new SweepFolderError(`${path}: "seed" = ${JSON.stringify(seed) ?? 'missing'} is not a seed; ${redo}`, path);
  }
  if (name !== `${config}.seed-${seed}.json`) {
    throw new SweepFolderError(`${path} holds config ${config} seed ${seed}, which is not the job its name says (${config}.seed-${seed}.json would be); ${redo}`, path);
  }
  const jobDir = `${config}/seed-${seed}`;
  let oldFormat = false;
  if (typeof done.dir !== 'string') {
    throw new SweepFolderError(`${path}: "dir" = ${JSON.stringify(done.dir) ?? 'missing'} is not the run folder ${jobDir}; ${redo}`, path);
  }
  if (isAbsolute(done.dir)) {
    // Earlier versions wrote <sweep folder>/<config>/seed-<s> as an absolute path. Such a file is read by its
    // job's id inside this folder, never by the path it holds.
    const tail = `${sep}${config}${sep}seed-${seed}`;
    if (!done.dir.endsWith(tail) && !done.dir.endsWith(`/${jobDir}`)) {
      throw new SweepFolderError(
        `${path} names the run folder ${done.dir}, which is not this job's (${jobDir}); rltuner reads runs only inside the sweep folder: ` +
          `set "dir" to "${jobDir}" if that is where the run is, or ${redo}`,
        path,
      );
    }
    oldFormat = true;
  } else if (done.dir !== jobDir) {
    throw new SweepFolderError(`${path} names the run folder ${JSON.stringify(done.dir)}, which is not this job's (${jobDir}); rltuner reads runs only at their job's place: set "dir" to "${jobDir}", or ${redo}`, path);
  }
  return { config, seed, dir: jobDir, file: path, oldFormat };
}

function statOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** A finished run's evaluation (the parts collect reads). */
export interface RunEvaluation {
  tuned: unknown;
  noteRnn: unknown;
}

/** `<run>/evaluation.json`, checked to be inside the sweep, a bounded regular file with "tuned" and "noteRnn"; null when absent. */
export function readEvaluation(dir: string, runDir: string): RunEvaluation | null {
  const path = insideSweep(dir, `${runDir}/${EVALUATION_FILE}`, 'the evaluation');
  const text = readBoundedFile(path, EVALUATION_MAX_BYTES, 'the evaluation');
  if (text === null) return null;
  let e: Partial<RunEvaluation>;
  try {
    e = JSON.parse(text);
  } catch (err) {
    throw new SweepFolderError(`${path} is not valid JSON (${(err as Error).message}); remove it and its done file, then run the sweep's command again to redo the job`, path);
  }
  const isRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { statistics?: unknown }).statistics === 'object';
  if (typeof e !== 'object' || e === null || !isRecord(e.tuned) || !isRecord(e.noteRnn)) {
    throw new SweepFolderError(`${path} is not an evaluation written by rltuner tune (no "tuned" and "noteRnn" statistics); remove it and its done file, then run the sweep's command again`, path);
  }
  return e as RunEvaluation;
}

/** Who holds a run folder's lock. */
export interface LockHolder {
  pid: number;
  hostname: string;
  kind: string;
  started: string;
}

/** The holder of `<run>/.rltuner.lock` when the lock is held (its process runs, or runs on another host); null otherwise. */
function lockHolder(runPath: string): { holder: LockHolder; live: boolean } | null {
  const text = readBoundedFile(join(runPath, LOCK_FILE), LOCK_FILE_MAX_BYTES, 'the lock file');
  if (text === null) return null;
  let holder: Partial<LockHolder>;
  try {
    holder = JSON.parse(text);
  } catch {
    return { holder: { pid: 0, hostname: '?', kind: '?', started: '?' }, live: false };
  }
  const h: LockHolder = {
    pid: Number.isSafeInteger(holder?.pid) ? (holder.pid as number) : 0,
    hostname: typeof holder?.hostname === 'string' ? holder.hostname : '?',
    kind: typeof holder?.kind === 'string' ? holder.kind : '?',
    started: typeof holder?.started === 'string' ? holder.started : '?',
  };
  if (h.hostname !== hostname()) return { holder: h, live: true }; // cannot be checked from here
  let live = h.pid > 0;
  if (live) {
    try {
      process.kill(h.pid, 0);
    } catch (e) {
      live = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return { holder: h, live };
}

export type JobStateName = 'finished' | 'running' | 'stopped' | 'missing' | 'damaged';

/** Where a job of a plan stands in one sweep folder. */
export interface JobState {
  state: JobStateName;
  /** Why, when it is not plainly so (e.g. "done file says finished but evaluation.json is missing"). */
  note?: string;
  evaluation?: RunEvaluation;
  done?: DoneEntry;
}

/**
 * A job's state in sweep folder `dir`: finished (a valid done file and the run's evaluation.json), running
 * (its run folder's lock is held: by a live process on this host, or by any process on another host,
 * which cannot be checked from here), stopped (a checkpoint to resume from), damaged (a file refused, with
 * the reason) or missing.
 */
export function jobState(dir: string, job: PlanJob): JobState {
  let done: DoneEntry | null;
  let note: string | undefined;
  try {
    done = readDoneFile(dir, `${job.id}.json`);
    if (done) {
      const evaluation = readEvaluation(dir, job.dir);
      if (evaluation) return { state: 'finished', evaluation, done };
      note = `done/${job.id}.json says it finished, but ${job.dir}/${EVALUATION_FILE} is missing`;
    }
    const runPath = insideSweep(dir, job.dir, 'the run folder');
    if (!statOrNull(runPath)) return { state: 'missing', note };
    const lock = lockHolder(runPath);
    if (lock?.live) {
      const { holder } = lock;
      const where = holder.hostname === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.hostname}`;
      return { state: 'running', note: `lock held by ${where} since ${holder.started}` };
    }
    const stale = lock ? `a stale lock of pid ${lock.holder.pid}; ` : '';
    if (statOrNull(join(runPath, CHECKPOINT_FILE))?.isFile()) return { state: 'stopped', note: note ?? (stale ? `${stale}resumes from its checkpoint` : undefined) };
    let entries: string[] = [];
    try {
      entries = readdirSync(runPath);
    } catch {
      // listed as missing below
    }
    return { state: 'missing', note: note ?? (entries.length ? `${stale}its run folder holds no checkpoint yet; the job starts over` : undefined) };
  } catch (e) {
    if (e instanceof SweepFolderError) return { state: 'damaged', note: e.message };
    throw e;
  }
}

/** Whether `dir` looks like a sweep folder (sweep.json or done/ inside). */
export function isSweepFolder(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
  } catch {
    return false;
  }
  return statOrNull(join(dir, SWEEP_FILE)) !== null || statOrNull(join(dir, DONE_FOLDER)) !== null;
}

/**
 * Writes a file of the sweep folder atomically under a temporary name no other process can share: shards on
 * other machines (or in containers, where every process may be pid 1) write the same sweep.json and
 * configs/ into a folder on a shared file system at the same moment. The name's nonce only keeps the
 * temporary files apart; it decides nothing.
 */
export function writeSweepFile(path: string, text: string): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    throw fileError(e, folder, 'create the folder');
  }
  const temporary = `${path}.tmp-${hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 40)}-${process.pid}-${randomUUID().slice(0, 8)}`;
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx');
    const bytes = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw fileError(e, path, 'write');
  }
  try {
    const folderFd = openSync(folder, 'r');
    try {
      fsyncSync(folderFd);
    } finally {
      closeSync(folderFd);
    }
  } catch {
    // best effort, as writeFileAtomic
  }
}
