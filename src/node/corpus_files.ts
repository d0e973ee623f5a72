/**
 * Reading MIDI sources from disk for buildCorpus (Node only; the corpus logic itself is in
 * src/music/corpus.ts). A source can be a folder (every .mid/.midi below it, sorted by path), one MIDI
 * file, or a text list of MIDI paths (one per line, '#' comments), e.g. the Nottingham split lists.
 */

import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { loadSplitList, type MidiSource } from '../music/corpus.js';

/** A path that does not lead to MIDI files; the message names the path and what to pass instead. */
export class CorpusFilesError extends Error {
  override readonly name = 'CorpusFilesError';
}

export interface ReadSourcesOptions {
  /** Folder that the paths of a list file are relative to. Default: the list file's folder. */
  baseDir?: string;
}

export type NottinghamSplit = 'train' | 'valid' | 'test';

const MIDI_EXTENSION = /\.midi?$/i;
const WHAT_TO_PASS = 'pass a folder of .mid files, a .mid file, or a text file listing .mid paths';

/** The MIDI files a folder, a single file or a list file names, with their bytes. */
export async function readMidiSources(pathOrList: string, options: ReadSourcesOptions = {}): Promise<MidiSource[]> {
  const info = await stat(pathOrList).catch(() => null);
  if (info === null) throw new CorpusFilesError(`${pathOrList} does not exist; ${WHAT_TO_PASS}`);
  if (info.isDirectory()) return readMidiFolder(pathOrList);
  const bytes = new Uint8Array(await readFile(pathOrList));
  if (MIDI_EXTENSION.test(pathOrList) || startsWithMidiHeader(bytes)) return [{ name: basename(pathOrList), bytes }];
  const listed = loadSplitList(new TextDecoder().decode(bytes));
  return readListedFiles(listed, options.baseDir ?? dirname(pathOrList), pathOrList);
}

/** The files of `dataDir/melody/` named by `dataDir/splits/<split>.txt`. */
export function readNottinghamSplit(dataDir: string, split: NottinghamSplit): Promise<MidiSource[]> {
  return readMidiSources(join(dataDir, 'splits', `${split}.txt`), { baseDir: join(dataDir, 'melody') });
}

async function readMidiFolder(folder: string): Promise<MidiSource[]> {
  const relativePaths = (await readdir(folder, { recursive: true }))
    .filter((path) => MIDI_EXTENSION.test(path))
    .map((path) => path.split(sep).join('/'))
    .sort();
  if (relativePaths.length === 0) throw new CorpusFilesError(`${folder} holds no .mid or .midi files; ${WHAT_TO_PASS}`);
  return Promise.all(relativePaths.map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(folder, name))) })));
}

async function readListedFiles(listed: string[], baseDir: string, listPath: string): Promise<MidiSource[]> {
  if (listed.length === 0) throw new CorpusFilesError(`${listPath} is neither a MIDI file nor a list naming any; ${WHAT_TO_PASS}`);
  const read = await Promise.all(
    listed.map(async (name) => {
      const bytes = await readFile(resolve(baseDir, name)).catch(() => null);
      return { name, bytes };
    }),
  );
  const missing = read.filter((entry) => entry.bytes === null).map((entry) => entry.name);
  if (missing.length > 0) {
    throw new CorpusFilesError(
      `${listPath} names ${missing.length} files not found under ${baseDir} (first: ${missing.slice(0, 3).join(', ')}); ` +
        'list paths relative to the list file, or pass baseDir',
    );
  }
  return read.map((entry) => ({ name: entry.name, bytes: new Uint8Array(entry.bytes as Buffer) }));
}

function startsWithMidiHeader(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === 'MThd';
}
