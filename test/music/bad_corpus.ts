// A corpus folder with every kind of bad entry beside good files (a folder named .mid, a dangling link, a
// FIFO, a file without read permission (unreadable only when not running as root), a name with a control
// character, a file that once broke the MIDI reader, one over a size limit), for the corpus tests.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportMidi } from '../../src/music/midi_export.js';
import { midiFile, tempoAt, track } from './midi_test_files.js';

const REPRO_DIR = fileURLToPath(new URL('../fixtures/midi_repro/', import.meta.url));

const scale = [14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 23, 1, 25, 1, 26, 1];
export const arpeggio = [14, 1, 1, 1, 18, 1, 1, 1, 21, 1, 1, 1, 26, 1, 1, 1, 1, 1, 1, 1];
const tune = [21, 1, 19, 1, 18, 1, 16, 1, 14, 1, 1, 1];
export const good = [
  { name: 'scale.mid', bytes: exportMidi(scale) },
  { name: 'arpeggio.mid', bytes: exportMidi(arpeggio) },
  { name: 'tune.mid', bytes: exportMidi(tune) },
];
export const corrupt = { name: 'corrupt.mid', bytes: new Uint8Array([0x4d, 0x54, 0x68, 0x64, 9, 9, 9]) };
export const empty = { name: 'empty.mid', bytes: midiFile([track([], [tempoAt(0, 120)])]) };

/** The control character in one file's name (a terminal colour code). */
export const BAD_NAME_ESCAPE = '\u001b[31m';

/** Makes the folder (its `songs/` holds the entries); returns its path. */
export async function makeBadCorpus(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rltuner-corpus-bad-'));
  const songs = join(dir, 'songs');
  await mkdir(join(songs, 'folder.mid'), { recursive: true });
  await writeFile(join(songs, 'folder.mid', 'inside.mid'), good[0].bytes);
  await writeFile(join(songs, 'good.mid'), good[1].bytes);
  await symlink(join(dir, 'nowhere.mid'), join(songs, 'dangling.mid'));
  execFileSync('mkfifo', [join(songs, 'pipe.mid')]);
  await writeFile(join(songs, 'locked.mid'), good[2].bytes);
  await chmod(join(songs, 'locked.mid'), 0o000);
  await writeFile(join(songs, `red${BAD_NAME_ESCAPE}.mid`), corrupt.bytes);
  await copyFile(join(REPRO_DIR, 'sysex_length_overflow.mid'), join(songs, 'sysex_length_overflow.mid'));
  await writeFile(join(songs, 'big.mid'), new Uint8Array(5000));
  return dir;
}

export async function removeBadCorpus(dir: string): Promise<void> {
  await chmod(join(dir, 'songs', 'locked.mid'), 0o644).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
