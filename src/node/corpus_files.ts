/**
 * Reading MIDI sources from disk for buildCorpus (Node only; the corpus logic itself is in
 * src/music/corpus.ts). A source can be a folder (every .mid/.midi below it, sorted by path), one MIDI
 * file, or a text list of MIDI paths (one per line, '#' comments), e.g. the Nottingham split lists.
 *
 * One bad entry never ends a corpus: an entry that cannot be read (a folder or a dangling symbolic link
 * named x.mid, a file without read permission, a file that vanishes between listing and reading, a
 * FIFO or device, a file over `maxFileBytes`) comes back as a source with `unreadable` set to the reason,
 * and buildCorpus lists it among the skipped files. Only a path that leads to no MIDI files at all, or a
 * list naming files that do not exist, is an error (CorpusFilesError).
 *
 * Paths in a list are relative to the list's folder, or to `baseDir`; when no baseDir is given and they
 * are not all found there but are all in a `melody/` folder beside the list's folder (the layout of
 * data/nottingham: splits/test.txt names files of melody/), that folder is used.
 */

import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadSplitList, type MidiSource } from '../music/corpus.js';
import { printableText } from '../music/midi_file.js';
import { MAX_MIDI_FILE_BYTES } from '../music/midi_import.js';

/** A path that does not lead to MIDI files; the message names the path and what to pass instead. */
export class CorpusFilesError extends Error {
  override readonly name = 'CorpusFilesError';
}

export interface ReadSourcesOptions {
  /** Folder that the paths of a list file are relative to. Default: the list file's folder. */
  baseDir?: string;
  /** Files larger than this are skipped unread (a MIDI melody is kilobytes). Default DEFAULT_MAX_MIDI_FILE_BYTES (64 MiB). */
  maxFileBytes?: number;
}

export type NottinghamSplit = 'train' | 'valid' | 'test';

/** Default ReadSourcesOptions.maxFileBytes: MAX_MIDI_FILE_BYTES (64 MiB), a thousand times the largest melody file one meets. */
export const DEFAULT_MAX_MIDI_FILE_BYTES = MAX_MIDI_FILE_BYTES;
/** Files read at the same time (keeps file descriptors well below the usual limit of 1024). */
const CONCURRENT_READS = 32;
const MIDI_EXTENSION = /\.midi?$/i;
const WHAT_TO_PASS = 'pass a folder of .mid files, a .mid file, or a text file listing .mid paths';

/** The MIDI files a folder, a single file or a list file names, with their bytes (or why they could not be read). */
export async function readMidiSources(pathOrList: string, options: ReadSourcesOptions = {}): Promise<MidiSource[]> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_MIDI_FILE_BYTES;
  const shown = printableText(pathOrList);
  const info = await stat(pathOrList).catch(() => null);
  if (info === null) throw new CorpusFilesError(`${shown} does not exist; ${WHAT_TO_PASS}`);
  if (info.isDirectory()) return readMidiFolder(pathOrList, maxFileBytes);
  if (!info.isFile()) throw new CorpusFilesError(`${shown} is not a regular file or folder; ${WHAT_TO_PASS}`);
  const single = await readSource(basename(pathOrList), pathOrList, maxFileBytes);
  if (single.unreadable !== undefined || MIDI_EXTENSION.test(pathOrList) || startsWithMidiHeader(single.bytes)) return [single];
  const listed = loadSplitList(new TextDecoder().decode(single.bytes));
  if (options.baseDir === undefined && listed.length > 0) {
    const beside = join(dirname(pathOrList), '..', 'melody');
    const allPresent = async (base: string) => (await mapWithLimit(listed, CONCURRENT_READS, async (name) => (await lstat(resolve(base, name)).catch(() => null)) !== null)).every(Boolean);
    if (!(await allPresent(dirname(pathOrList))) && (await allPresent(beside))) return readListedFiles(listed, beside, shown, maxFileBytes);
  }
  return readListedFiles(listed, options.baseDir ?? dirname(pathOrList), shown, maxFileBytes);
}

/** The files of `dataDir/melody/` named by `dataDir/splits/<split>.txt`. */
export function readNottinghamSplit(dataDir: string, split: NottinghamSplit): Promise<MidiSource[]> {
  return readMidiSources(join(dataDir, 'splits', `${split}.txt`), { baseDir: join(dataDir, 'melody') });
}

/** An entry found while walking a folder: a MIDI file to read, or a reason it is skipped unread. */
interface FolderEntry {
  name: string;
  path: string;
  unreadable?: string;
}

async function readMidiFolder(folder: string, maxFileBytes: number): Promise<MidiSource[]> {
  const entries: FolderEntry[] = [];
  await walkFolder(folder, '', entries);
  if (entries.length === 0) throw new CorpusFilesError(`${printableText(folder)} holds no .mid or .midi files; ${WHAT_TO_PASS}`);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return mapWithLimit(entries, CONCURRENT_READS, (entry) =>
    entry.unreadable !== undefined ? Promise.resolve(unreadableSource(entry.name, entry.unreadable)) : readSource(entry.name, entry.path, maxFileBytes),
  );
}

/**
 * Collects every .mid/.midi below `folder` (names relative to the top folder, '/'-separated). Folders are
 * walked whatever their name (a folder named x.mid is also listed as skipped); symbolic links to files
 * are followed, links to folders are not (they could loop); a subfolder that cannot be listed is
 * listed as skipped.
 */
async function walkFolder(folder: string, relative: string, out: FolderEntry[]): Promise<void> {
  let dirents;
  try {
    dirents = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if (relative === '') throw new CorpusFilesError(`${printableText(folder)} cannot be listed (${describeFsError(error)}); ${WHAT_TO_PASS}`);
    out.push({ name: `${relative}/`, path: folder, unreadable: `folder cannot be listed (${describeFsError(error)})` });
    return;
  }
  for (const dirent of dirents) {
    const name = relative === '' ? dirent.name : `${relative}/${dirent.name}`;
    const path = join(folder, dirent.name);
    const isMidiName = MIDI_EXTENSION.test(dirent.name);
    if (dirent.isDirectory()) {
      if (isMidiName) out.push({ name, path, unreadable: 'is a folder, not a MIDI file (the MIDI files inside it are read)' });
      await walkFolder(path, name, out);
    } else if (isMidiName) {
      out.push({ name, path });
    }
  }
}

async function readListedFiles(listed: string[], baseDir: string, shownList: string, maxFileBytes: number): Promise<MidiSource[]> {
  if (listed.length === 0) throw new CorpusFilesError(`${shownList} is neither a MIDI file nor a list naming any; ${WHAT_TO_PASS}`);
  const paths = listed.map((name) => ({ name, path: resolve(baseDir, name) }));
  const present = await mapWithLimit(paths, CONCURRENT_READS, async (entry) => (await lstat(entry.path).catch(() => null)) !== null);
  const missing = listed.filter((_, i) => !present[i]);
  if (missing.length > 0) {
    throw new CorpusFilesError(
      `${shownList} names ${missing.length} files not found under ${printableText(baseDir)} (first: ${missing.slice(0, 3).map(printableText).join(', ')}); ` +
        'list paths relative to the list file, or pass baseDir',
    );
  }
  return mapWithLimit(paths, CONCURRENT_READS, (entry) => readSource(entry.name, entry.path, maxFileBytes));
}

/** One file's bytes, or the reason it cannot be read; never throws. Only regular files are opened (a FIFO would block). */
async function readSource(name: string, path: string, maxFileBytes: number): Promise<MidiSource> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const link = await lstat(path).catch(() => null);
    if (link?.isSymbolicLink()) return unreadableSource(name, 'dangling symbolic link (its target does not exist)');
    return unreadableSource(name, describeFsError(error));
  }
  if (info.isDirectory()) return unreadableSource(name, 'is a folder, not a MIDI file');
  if (!info.isFile()) return unreadableSource(name, 'not a regular file (a device, FIFO or socket)');
  if (info.size > maxFileBytes) {
    return unreadableSource(name, `is ${info.size} bytes, above the ${maxFileBytes} bytes a corpus file may have (maxFileBytes)`);
  }
  try {
    return { name, bytes: new Uint8Array(await readFile(path)) };
  } catch (error) {
    return unreadableSource(name, describeFsError(error));
  }
}

function unreadableSource(name: string, reason: string): MidiSource {
  return { name, bytes: new Uint8Array(0), unreadable: `cannot be read: ${reason}` };
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (removed while the corpus was read?)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, not a MIDI file';
    case 'ELOOP':
      return 'symbolic link loop';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** `task` over every item with at most `limit` running at once; results in item order. */
async function mapWithLimit<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function startsWithMidiHeader(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === 'MThd';
}
