/**
 * Run folders (Node only): the folder a `train` or `tune` run writes into, claimed so that runs cannot
 * lie about what they hold.
 *
 * - A new run starts only in a missing or empty folder; a folder holding anything else is refused, naming
 *   it and what it holds.
 * - A run marks its folder at the start (RUN_MARKER_FILE: the kind of run, its id, and a manifest of every
 *   file and sub-folder the run creates). A name enters the manifest before the file is first written, so
 *   nothing the run wrote can be missing from it. --overwrite removes exactly the manifest's entries: a
 *   folder without a marker, with a marker of another kind, or holding anything the manifest does not list
 *   (the user's own files, whatever their names) is refused, naming what was found, and nothing is removed.
 *   Nothing outside the folder is ever touched.
 * - --resume needs the folder's checkpoint and the marker of this kind of run.
 * - A lock file (LOCK_FILE: {pid, hostname, kind, started}, created exclusively) stops a second run in the
 *   same folder; a lock left by a process that is no longer running is taken over with a notice.
 * - Every file is written atomically (a temporary `<name>.tmp-<pid>` in the same folder, fsync, rename);
 *   the temporary file is removed on failure, and leftovers of earlier runs are removed at the next claim.
 *   Every I/O error names its path and says what to do.
 * - metrics.jsonl-style files are appended whole lines at a time, each append written in one write and
 *   fsynced (by the caller, or in the background by the runtime's I/O threads, ahead of any background
 *   write that follows them); a torn last line (from a kill or a full disk) is dropped with a notice when
 *   the file is read back.
 */
import {
  closeSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync,
  rmdirSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats,
} from 'node:fs';
import { open as openFile, rename as renameFile, unlink as unlinkFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The commands that claim run folders (the name is shown as "rltuner <kind>"). */
export const RUN_KINDS = ['tune', 'train', 'distill', 'prefs train', 'prefs pairs'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** The lock file that stops a second run in the same folder. */
export const LOCK_FILE = '.rltuner.lock';
/** The marker that says which run made the folder and what it wrote there (RunMarker, JSON). */
export const RUN_MARKER_FILE = '.rltuner-run.json';
/** The checkpoint a resumable run holds. */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** The marker's format; version 1 markers ({kind} alone) had no manifest. */
export const RUN_MARKER_FORMAT = 'rltuner-run-folder';
export const RUN_MARKER_VERSION = 2;

/**
 * What a run folder's marker holds: which kind of run made it, the run's id, and the manifest of what the
 * run created in it (paths relative to the folder, '/'-separated). --overwrite removes these and nothing else.
 */
export interface RunMarker {
  format: typeof RUN_MARKER_FORMAT;
  version: number;
  kind: RunKind;
  /** A random id, new for each run started in the folder (kept by --resume). */
  runId: string;
  /** When the run started (ISO 8601). */
  started: string;
  /** Files the run has written or is about to write, in the order first written. */
  files: string[];
  /** Sub-folders the run created (they did not exist before), parents first. */
  folders: string[];
}

export interface ClaimOptions {
  /** Whose run this is; recorded in the lock and in the marker file. */
  kind: RunKind;
  /** The folder must hold a resumable run of this kind (a checkpoint). */
  resume: boolean;
  /** A non-empty folder holding only a previous run of this kind is emptied of that run's files first. */
  overwrite: boolean;
  /** Messages such as "took over a lock left by process 123 (no longer running)". */
  notice: (line: string) => void;
  /** Files that must never be written over or removed (e.g. the --config file a run was started with). */
  protect?: readonly string[];
}

/** The folder cannot be used as asked (in use, not empty, no run to resume, ...): a usage problem (exit 2). */
export class RunFolderRefusal extends Error {
  override readonly name = 'RunFolderRefusal';
}

/** Reading or writing a file failed, or a file's content is damaged; the message names the path and the fix. */
export class RunFileError extends Error {
  override readonly name = 'RunFileError';
  constructor(message: string, readonly path: string, readonly code?: string) {
    super(message);
  }
}

/** What to tell the user to do once the cause of a failed write is fixed. */
export interface WriteHint {
  /** E.g. "continue with the same command plus --resume". Default: "run the command again". */
  thenRetry?: string;
}

/** Why an operation on `path` failed, with what to do about it. */
export function fileError(e: unknown, path: string, action: string, hint: WriteHint = {}): RunFileError {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const retry = hint.thenRetry ?? 'run the command again';
  const reasons: Record<string, string> = {
    ENOSPC: `the disk is full; free some space, then ${retry}`,
    EDQUOT: `the disk quota is used up; free some space, then ${retry}`,
    EACCES: `permission denied; make the folder writable or choose another, then ${retry}`,
    EPERM: `operation not permitted; check the folder's permissions, then ${retry}`,
    EROFS: 'the file system is read-only; choose a folder on a writable disk',
    ENOTDIR: 'a part of that path is a file, not a folder; choose another path',
    EISDIR: 'a folder is in the way of that file; move it or choose another path',
    EEXIST: 'a file is in the way of that folder; move it or choose another path',
    ENOENT: 'it does not exist',
    EMFILE: `too many open files; close other programs, then ${retry}`,
  };
  const reason = (code && reasons[code]) ?? `${err?.message ?? String(e)}; ${retry}`;
  return new RunFileError(`cannot ${action} ${path}${code ? ` (${code})` : ''}: ${reason}`, path, code);
}

/** Writes all of `bytes` to `fd` (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** What can be written: text, bytes, or bytes in parts (written one after another, never joined in memory). */
export type FileData = Uint8Array | string | readonly Uint8Array[];

function writeData(fd: number, data: FileData): void {
  if (typeof data === 'string') writeAll(fd, new TextEncoder().encode(data));
  else if (data instanceof Uint8Array) writeAll(fd, data);
  else for (const part of data) writeAll(fd, part);
}

/** The folder of `path` (created as needed) and the temporary file an atomic write of `path` goes through. */
function temporaryBeside(path: string, hint: WriteHint): { folder: string; temporary: string } {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    throw fileError(e, folder, 'create the folder', hint);
  }
  return { folder, temporary: `${path}.tmp-${process.pid}` };
}

/**
 * Writes a file atomically: a temporary `<path>.tmp-<pid>` in the same folder, fsync, rename over `path`
 * (folders are created as needed). On any failure the temporary file is removed and the error names
 * `path` and what to do.
 */
export function writeFileAtomic(path: string, data: FileData, hint: WriteHint = {}): void {
  const { folder, temporary } = temporaryBeside(path, hint);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w');
    writeData(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the write error below is the one to report
      }
    }
    try {
      unlinkSync(temporary);
    } catch {
      // it was never created, or is already gone
    }
    throw fileError(e, path, 'write', hint);
  }
  // So that the rename itself survives a power cut; not every platform can open a folder, hence best effort.
  try {
    const folderFd = openSync(folder, 'r');
    try {
      fsyncSync(folderFd);
    } finally {
      closeSync(folderFd);
    }
  } catch {
    // best effort
  }
}

/**
 * writeFileAtomic done by the runtime's I/O threads while the caller goes on: the same temporary file,
 * fsync, rename and folder fsync. The parts must not change until the returned promise settles.
 */
export async function writeFileAtomicInBackground(path: string, parts: readonly Uint8Array[], hint: WriteHint = {}): Promise<void> {
  const { folder, temporary } = temporaryBeside(path, hint);
  try {
    const file = await openFile(temporary, 'w');
    try {
      // One gathered write for all the parts: each call waits for a turn of the event loop, which a busy
      // caller gives only now and then.
      let rest = parts.filter((part) => part.length > 0);
      while (rest.length > 0) {
        let written = (await file.writev(rest)).bytesWritten;
        if (written === 0) throw new Error(`a write to ${temporary} made no progress`);
        while (rest.length > 0 && written >= rest[0].length) written -= rest.shift()!.length;
        if (written > 0) rest[0] = rest[0].subarray(written);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await renameFile(temporary, path);
  } catch (e) {
    await unlinkFile(temporary).catch(() => {}); // never created, or already gone
    throw fileError(e, path, 'write', hint);
  }
  try {
    const folderFile = await openFile(folder, 'r');
    try {
      await folderFile.sync();
    } finally {
      await folderFile.close();
    }
  } catch {
    // best effort, as in writeFileAtomic
  }
}

/** Appends `text` to `path` in one write and fsyncs it; on failure the file is cut back to its old length. */
export function appendFileDurably(path: string, text: string, hint: WriteHint = {}): void {
  const bytes = new TextEncoder().encode(text);
  let fd: number | undefined;
  let sizeBefore: number | undefined;
  try {
    fd = openSync(path, 'a');
    sizeBefore = fstatSync(fd).size;
    writeAll(fd, bytes);
    fsyncSync(fd);
  } catch (e) {
    if (fd !== undefined && sizeBefore !== undefined) {
      try {
        ftruncateSync(fd, sizeBefore); // no torn line left behind when the disk fills mid-write
      } catch {
        // a torn line, if any, is dropped when the file is read back
      }
    }
    throw fileError(e, path, 'append to', hint);
  } finally {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the data was fsynced (or the error above is reported)
      }
    }
  }
}

/** appendFileDurably done by the runtime's I/O threads while the caller goes on. */
export async function appendFileDurablyInBackground(path: string, text: string, hint: WriteHint = {}): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let file: Awaited<ReturnType<typeof openFile>> | undefined;
  let sizeBefore: number | undefined;
  try {
    file = await openFile(path, 'a');
    sizeBefore = (await file.stat()).size;
    for (let offset = 0; offset < bytes.length;) offset += (await file.write(bytes, offset, bytes.length - offset)).bytesWritten;
    await file.sync();
  } catch (e) {
    // No torn line left behind when the disk fills mid-write (if one is, it is dropped when read back).
    if (file && sizeBefore !== undefined) await file.truncate(sizeBefore).catch(() => {});
    throw fileError(e, path, 'append to', hint);
  } finally {
    await file?.close().catch(() => {}); // the data was fsynced (or the error above is reported)
  }
}

/** Reads a whole file; the error names the path. */
export function readFileNamed(path: string): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fileError(e, path, 'read');
  }
}

const TEMPORARY_SUFFIX = /\.tmp-\d+$/;
const LOCK_CREATION_GRACE_MS = 5000;
/** Run folders whose lock this process holds (released when the process exits). */
const heldLocks = new Set<RunFolder>();
let exitHookInstalled = false;

interface LockHolder {
  pid: number;
  hostname: string;
  kind: string;
  started: string;
}

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(e, path, 'inspect');
  }
}

/** Whether `pid` is a running process on this host (EPERM: it runs, as another user). */
function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** "a, b, c and 4 more" */
function firstNames(names: readonly string[], shown = 5): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} and ${names.length - shown} more` : head;
}

export class RunFolder {
  private locked = false;
  /** The folder's marker with the manifest of what this run wrote (set by the claim). */
  private marker: RunMarker | null = null;
  /** The last background write (see writeAtomicInBackground). */
  private background: Promise<void> = Promise.resolve();
  /** Background appends, one after another (they never reject: a failure is kept in appendFailure). */
  private appends: Promise<void> = Promise.resolve();
  /** Lines waiting for their file's queued append, by path. */
  private readonly linesToAppend = new Map<string, string>();
  /** Why a background append failed (see appendJsonLineInBackground). */
  private appendFailure: unknown = null;
  private readonly protectedPaths: Set<string>;
  private readonly retry: WriteHint = { thenRetry: 'continue with the same command plus --resume' };

  private constructor(readonly dir: string, readonly kind: RunKind, private readonly options: ClaimOptions) {
    this.protectedPaths = new Set((options.protect ?? []).map((p) => resolve(p)));
  }

  /** Claims `dir` for a run (see the file comment for the rules); the caller releases it when done. */
  static claim(dir: string, options: ClaimOptions): RunFolder {
    if (dir.trim() === '') throw new RunFolderRefusal("--out '' would write into the current folder; name a run folder");
    if (options.resume && options.overwrite) {
      throw new RunFolderRefusal('--resume continues the run in the folder and --overwrite replaces it: pass only one of them');
    }
    const path = resolve(dir);
    let info: Stats | null;
    try {
      info = statSync(path); // follows a symbolic link to the folder
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, path, 'inspect');
      info = null;
    }
    if (info && !info.isDirectory()) throw new RunFolderRefusal(`${path} is a file, not a folder; choose another --out`);
    if (!info) {
      if (options.resume) throw new RunFolderRefusal(`--resume: ${path} does not exist, so there is no run to continue; start without --resume`);
      try {
        mkdirSync(path, { recursive: true });
      } catch (e) {
        throw fileError(e, path, 'create the run folder');
      }
    }
    const folder = new RunFolder(path, options.kind, options);
    folder.takeLock();
    try {
      folder.removeLeftoverTemporaries(folder.readMarker().marker);
      folder.checkContents();
    } catch (e) {
      folder.release();
      throw e;
    }
    return folder;
  }

  /** The absolute path of `name` (relative to the folder; it may not lead outside it). */
  path(name: string): string {
    const full = resolve(this.dir, name);
    const rel = relative(this.dir, full);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new RangeError(`RunFolder: "${name}" does not name a file inside ${this.dir}`);
    return full;
  }

  exists(name: string): boolean {
    return statOrNull(this.path(name)) !== null;
  }

  /** A file's bytes; errors name the path. */
  readBytes(name: string): Uint8Array {
    return readFileNamed(this.path(name));
  }

  /** Writes a file atomically (see writeFileAtomic); a protected file is never written over. */
  writeAtomic(name: string, data: FileData): void {
    const path = this.path(name);
    if (this.protectedPaths.has(path)) {
      throw new RunFolderRefusal(`${path} is an input of this run and is never written over; choose another --out, or move the file`);
    }
    this.enterInManifest(name);
    writeFileAtomic(path, data, this.retry);
  }

  /**
   * Writes a file atomically in the background (writeFileAtomicInBackground), after any earlier background
   * write has finished and the lines appended in the background before it are on disk; it is not written
   * (the promise rejects) if a background append has failed by the time it starts. The parts must not
   * change until the returned promise settles. `settle()` waits for every background write.
   */
  writeAtomicInBackground(name: string, parts: readonly Uint8Array[]): Promise<void> {
    const path = this.path(name);
    if (this.protectedPaths.has(path)) {
      return Promise.reject(new RunFolderRefusal(`${path} is an input of this run and is never written over; choose another --out, or move the file`));
    }
    this.enterInManifest(name);
    const appended = this.appends; // the lines appended so far go first
    const written = this.background.catch(() => {}).then(() => appended).then(() => {
      // A line appended before this file failed to reach the disk: the file must not get ahead of it.
      if (this.appendFailure) throw this.appendFailure;
      return writeFileAtomicInBackground(path, parts, this.retry);
    });
    this.background = written;
    written.catch(() => {}); // reported where awaited (the caller, or settle())
    return written;
  }

  /**
   * Waits for the background writes and appends; rethrows the failure of the last write, or of any
   * background append.
   */
  settle(): Promise<void> {
    return this.appends.then(() => this.background).then(() => {
      if (this.appendFailure) throw this.appendFailure;
    });
  }

  /** Appends one JSON line in one write, then fsyncs; errors name the path. */
  appendJsonLine(name: string, record: unknown): void {
    this.enterInManifest(name);
    appendFileDurably(this.path(name), `${JSON.stringify(record)}\n`, this.retry);
  }

  /**
   * appendJsonLine done in the background: a file written in the background after the line (a checkpoint
   * after its records) is written only once the line is on disk; the lines of a file land in order, those
   * that arrive while one append is under way together in the next. A failed append is kept: the next
   * append throws it, and every later background write and `settle()` reject with it.
   */
  appendJsonLineInBackground(name: string, record: unknown): void {
    if (this.appendFailure) throw this.appendFailure;
    const path = this.path(name);
    this.enterInManifest(name);
    const waiting = this.linesToAppend.get(path);
    this.linesToAppend.set(path, `${waiting ?? ''}${JSON.stringify(record)}\n`);
    if (waiting !== undefined) return; // joins the append already queued for this file
    // Each step of an append waits for a turn of the event loop, which a busy caller gives only now and
    // then: one append per line would fall behind.
    this.appends = this.appends.then(async () => {
      const text = this.linesToAppend.get(path) as string;
      this.linesToAppend.delete(path);
      if (this.appendFailure) return; // the lines after a lost one are not written either
      try {
        await appendFileDurablyInBackground(path, text, this.retry);
      } catch (e) {
        this.appendFailure = e;
      }
    });
  }

  /**
   * The records of a JSON-lines file ([] when it does not exist). A torn last line (unparsable or
   * unterminated, left by a kill or a full disk) is dropped with a notice and the file rewritten without
   * it; a bad line elsewhere is an error naming the file and the line number. Blank lines are skipped.
   */
  readJsonLines(name: string): Record<string, unknown>[] {
    return this.readLines(name).map((l) => l.record);
  }

  /** Rewrites a JSON-lines file atomically, keeping the records `keep` accepts (their lines unchanged); returns how many were dropped. */
  truncateJsonLines(name: string, keep: (record: Record<string, unknown>) => boolean): number {
    const lines = this.readLines(name);
    const kept = lines.filter((l) => keep(l.record));
    if (kept.length !== lines.length) this.writeAtomic(name, kept.map((l) => `${l.text}\n`).join(''));
    return lines.length - kept.length;
  }

  /** Removes the lock; idempotent (also done when the process exits). */
  release(): void {
    if (!this.locked) return;
    this.locked = false;
    heldLocks.delete(this);
    const path = join(this.dir, LOCK_FILE);
    try {
      const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
      if (holder.pid === process.pid && holder.hostname === hostname()) unlinkSync(path);
    } catch {
      // gone already, or no longer ours: nothing to release
    }
  }

  private readLines(name: string): { text: string; record: Record<string, unknown> }[] {
    const path = this.path(name);
    if (!this.exists(name)) return [];
    const pieces = new TextDecoder().decode(this.readBytes(name)).split('\n');
    const terminated = pieces[pieces.length - 1] === '';
    if (terminated) pieces.pop();
    const lines: { text: string; record: Record<string, unknown> }[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const text = pieces[i];
      const isLast = i === pieces.length - 1;
      if (text.trim() === '' && !(isLast && !terminated)) continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        record = undefined;
      }
      const isRecord = typeof record === 'object' && record !== null && !Array.isArray(record);
      if (isLast && (!terminated || !isRecord)) {
        const shown = `${JSON.stringify(text.slice(0, 60))}${text.length > 60 ? '...' : ''}`;
        this.options.notice(`${path}: dropped its torn last line (line ${i + 1}: ${shown}), left by an interrupted write`);
        this.writeAtomic(name, lines.map((l) => `${l.text}\n`).join(''));
        break;
      }
      if (!isRecord) {
        throw new RunFileError(`${path}: line ${i + 1} is not a JSON record (${JSON.stringify(text.slice(0, 80))}); repair or delete that line, then run again`, path);
      }
      lines.push({ text, record: record as Record<string, unknown> });
    }
    return lines;
  }

  private takeLock(): void {
    const path = join(this.dir, LOCK_FILE);
    const mine = `${JSON.stringify({ pid: process.pid, hostname: hostname(), kind: this.kind, started: new Date().toISOString() })}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(path, mine, { flag: 'wx' });
        this.locked = true;
        heldLocks.add(this);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.on('exit', () => {
            for (const folder of [...heldLocks]) folder.release();
          });
        }
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(e, path, 'create the lock file');
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw fileError(e, path, 'read the lock file');
      }
      let holder: LockHolder | null = null;
      try {
        const parsed = JSON.parse(text) as LockHolder;
        if (Number.isInteger(parsed.pid) && parsed.pid > 0) holder = parsed;
      } catch {
        holder = null;
      }
      if (holder === null) {
        // Written by `wx` in one call, so an unreadable lock is either being written this instant or damaged.
        const age = Date.now() - statSync(path).mtimeMs;
        if (age < LOCK_CREATION_GRACE_MS) throw new RunFolderRefusal(`${path} is being created by another rltuner; try again in a few seconds`);
        this.options.notice(`took over an unreadable lock file in ${this.dir} (${JSON.stringify(text.slice(0, 40))})`);
      } else if (holder.hostname !== hostname()) {
        throw new RunFolderRefusal(
          `another rltuner ${holder.kind} (pid ${holder.pid} on host ${holder.hostname}, since ${holder.started}) is using ${this.dir}; ` +
            `if it is no longer running, delete ${path}, or choose another --out`,
        );
      } else if (holder.pid === process.pid && ![...heldLocks].some((f) => f.dir === this.dir)) {
        // This process's pid, but not a lock this process took: left by an earlier process that had the same
        // pid (a restarted container numbers its processes alike).
        this.options.notice(`took over a lock left in ${this.dir} by an earlier process with this process's pid ${holder.pid} (since ${holder.started})`);
      } else if (processIsRunning(holder.pid)) {
        throw new RunFolderRefusal(
          `another rltuner ${holder.kind} (pid ${holder.pid}) is using ${this.dir} (since ${holder.started}); wait for it to finish or stop it, or choose another --out`,
        );
      } else {
        this.options.notice(`took over a lock left by process ${holder.pid} (no longer running) in ${this.dir}`);
      }
      // Remove the stale lock only if it is still the one read (another process may have taken it over meanwhile).
      try {
        if (readFileSync(path, 'utf8') === text) unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, path, 'remove the stale lock file');
      }
    }
    throw new RunFolderRefusal(`could not take the lock ${path}: other rltuner processes keep taking it; choose another --out`);
  }

  /** Every entry below the folder ('/'-separated relative paths), files and folders apart, lock excluded. */
  private listEntries(): { files: string[]; folders: string[] } {
    const files: string[] = [], folders: string[] = [];
    const walk = (rel: string) => {
      const full = rel ? join(this.dir, rel) : this.dir;
      let names: string[];
      try {
        names = readdirSync(full).sort();
      } catch (e) {
        throw fileError(e, full, 'list the folder');
      }
      for (const name of names) {
        const child = rel ? `${rel}/${name}` : name;
        if (child === LOCK_FILE) continue;
        if (lstatSync(join(this.dir, child)).isDirectory()) {
          folders.push(child);
          walk(child);
        } else {
          files.push(child);
        }
      }
    };
    walk('');
    return { files, folders };
  }

  /** The marker's files whose leftover temporaries (`<name>.tmp-<pid>`) are this run's to remove. */
  private removeLeftoverTemporaries(marker: RunMarker | null): void {
    const ours = new Set([RUN_MARKER_FILE, ...(marker?.files ?? [])]);
    const leftovers = this.listEntries().files.filter((f) => TEMPORARY_SUFFIX.test(f) && ours.has(f.replace(TEMPORARY_SUFFIX, '')));
    if (leftovers.length === 0) return;
    for (const f of leftovers) {
      try {
        unlinkSync(join(this.dir, f));
      } catch (e) {
        throw fileError(e, join(this.dir, f), 'remove the leftover temporary file');
      }
    }
    this.options.notice(`removed ${leftovers.length} temporary ${leftovers.length === 1 ? 'file' : 'files'} left in ${this.dir} by an interrupted write: ${firstNames(leftovers)}`);
  }

  /**
   * The folder's marker: null when there is none; `{ kind: 'unknown' }`-like damaged markers are reported as
   * they are (a marker that cannot be read proves nothing). Version 1 markers ({kind}) carry no manifest.
   */
  private readMarker(): { marker: RunMarker | null; found: 'none' | 'damaged' | 'v1' | 'v2'; kind?: string } {
    const path = join(this.dir, RUN_MARKER_FILE);
    if (statOrNull(path) === null) return { marker: null, found: 'none' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return { marker: null, found: 'damaged' };
    }
    const m = parsed as Partial<RunMarker> | null;
    if (typeof m !== 'object' || m === null || typeof m.kind !== 'string') return { marker: null, found: 'damaged' };
    if (m.format === undefined && m.version === undefined) return { marker: null, found: 'v1', kind: m.kind };
    const names = (x: unknown) => Array.isArray(x) && x.every((n) => typeof n === 'string' && isInside(n));
    if (m.format !== RUN_MARKER_FORMAT || m.version !== RUN_MARKER_VERSION || typeof m.runId !== 'string' || typeof m.started !== 'string'
      || !names(m.files) || !names(m.folders) || !(RUN_KINDS as readonly string[]).includes(m.kind)) {
      return { marker: null, found: 'damaged', kind: m.kind };
    }
    return { marker: m as RunMarker, found: 'v2', kind: m.kind };
  }

  private checkContents(): void {
    const { files, folders } = this.listEntries();
    const read = this.readMarker();
    const { marker } = read;
    const others = files.filter((f) => f !== RUN_MARKER_FILE);
    const hasCheckpoint = others.includes(CHECKPOINT_FILE);
    const what = `rltuner ${this.kind}`;
    if (this.options.resume) {
      if (!hasCheckpoint) {
        const holds = files.length ? `it holds ${firstNames(files)}` : 'it is empty';
        throw new RunFolderRefusal(`--resume: ${this.dir} holds no ${CHECKPOINT_FILE} to continue from (${holds}); start without --resume`);
      }
      if (read.found === 'none' || read.found === 'damaged' && read.kind === undefined) {
        throw new RunFolderRefusal(
          `--resume: ${this.dir} has a ${CHECKPOINT_FILE} but no readable ${RUN_MARKER_FILE}, so it was not started by this version of ${what}; start a new run with --out <new folder>`,
        );
      }
      if (read.kind !== this.kind) {
        throw new RunFolderRefusal(`--resume: ${this.dir} holds an rltuner ${read.kind} run, not an ${what} run; choose the right --out`);
      }
      // A run started by an earlier version (a marker without a manifest) goes on with a manifest of what it writes from now on.
      this.marker = marker ?? this.newMarker();
      if (!marker) this.writeMarker();
      return;
    }
    if (others.length === 0 && folders.length === 0) {
      // Nothing but (perhaps) the marker of a run that wrote nothing: start afresh.
      this.marker = this.newMarker();
      this.writeMarker();
      return;
    }
    const listed = firstNames([...others, ...folders.map((d) => `${d}/`)]);
    const ours = marker !== null && marker.kind === this.kind;
    const manifest = new Set(ours ? [...marker.files, ...marker.folders] : []);
    const foreign = [...others, ...folders].filter((f) => !manifest.has(f)).map((f) => (folders.includes(f) ? `${f}/` : f));
    if (!this.options.overwrite) {
      if (ours && foreign.length === 0 && hasCheckpoint) {
        throw new RunFolderRefusal(`${this.dir} already holds a run of ${what} (${listed}); pass --resume to continue it, or --overwrite to start over`);
      }
      if (ours && foreign.length === 0) {
        throw new RunFolderRefusal(`${this.dir} already holds files of an ${what} run (${listed}); choose --out <new folder>, or pass --overwrite to replace them`);
      }
      throw new RunFolderRefusal(
        `${this.dir} is not empty: it holds ${listed}; choose --out <new folder> (--overwrite replaces only a folder an ${what} run started, and only the files it wrote)`,
      );
    }
    if (!ours) {
      const found = read.found === 'none' ? `no ${RUN_MARKER_FILE}`
        : read.found === 'v1' ? `a ${RUN_MARKER_FILE} from an older rltuner, without the list of files its run wrote`
          : read.found === 'damaged' ? `a damaged ${RUN_MARKER_FILE}` : `the ${RUN_MARKER_FILE} of an rltuner ${marker?.kind} run`;
      throw new RunFolderRefusal(
        `--overwrite: ${this.dir} was not started by an ${what} run (${found}), so none of what it holds (${listed}) is provably rltuner's; ` +
          'nothing was removed. Choose --out <new folder>, or move the files away yourself',
      );
    }
    if (foreign.length > 0) {
      throw new RunFolderRefusal(
        `--overwrite: ${this.dir} holds things its ${what} run did not write (${firstNames(foreign)}); nothing was removed. Move them away or choose --out <new folder>`,
      );
    }
    const inputs = others.filter((f) => this.protectedPaths.has(join(this.dir, f)));
    if (inputs.length > 0) {
      throw new RunFolderRefusal(`--overwrite: ${firstNames(inputs.map((f) => join(this.dir, f)))} is an input of this run and would be removed; move it or choose --out <new folder>`);
    }
    for (const f of others) {
      try {
        unlinkSync(join(this.dir, f));
      } catch (e) {
        throw fileError(e, join(this.dir, f), 'remove the previous run file');
      }
    }
    for (const d of [...folders].reverse()) {
      try {
        rmdirSync(join(this.dir, d));
      } catch (e) {
        throw fileError(e, join(this.dir, d), 'remove the previous run folder');
      }
    }
    this.options.notice(`--overwrite: removed the previous ${what} run from ${this.dir} (${listed})`);
    this.marker = this.newMarker();
    this.writeMarker();
  }

  private newMarker(): RunMarker {
    return { format: RUN_MARKER_FORMAT, version: RUN_MARKER_VERSION, kind: this.kind, runId: randomUUID(), started: new Date().toISOString(), files: [], folders: [] };
  }

  /**
   * Enters `name` (and any sub-folder it needs that does not exist yet) in the marker's manifest before it is
   * written, so that whatever the run writes is listed even if the process dies during the write.
   */
  private enterInManifest(name: string): void {
    const marker = this.marker;
    if (!marker) throw new Error(`RunFolder: ${this.dir} has no marker (internal error)`);
    const file = relative(this.dir, this.path(name)).split(sep).join('/');
    if (file === RUN_MARKER_FILE || marker.files.includes(file)) return;
    const parts = file.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (!marker.folders.includes(folder) && statOrNull(join(this.dir, folder)) === null) marker.folders.push(folder);
    }
    marker.files.push(file);
    this.writeMarker();
  }

  private writeMarker(): void {
    writeFileAtomic(join(this.dir, RUN_MARKER_FILE), `${JSON.stringify(this.marker, null, 1)}\n`, this.retry);
  }
}

/** Whether a manifest entry names something inside its folder (relative, no '..', no empty part). */
function isInside(name: string): boolean {
  return name !== '' && !isAbsolute(name) && !name.startsWith('/') && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
