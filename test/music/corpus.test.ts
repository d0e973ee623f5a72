import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorpusError, buildCorpus, formatCorpusReport, loadSplitList } from '../../src/music/corpus.js';
import { exportMidi } from '../../src/music/midi_export.js';
import { CorpusFilesError, readMidiSources } from '../../src/node/corpus_files.js';
import { midiFile, tempoAt, track } from './midi_test_files.js';

const scale = [14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 23, 1, 25, 1, 26, 1];
const arpeggio = [14, 1, 1, 1, 18, 1, 1, 1, 21, 1, 1, 1, 26, 1, 1, 1, 1, 1, 1, 1];
const tune = [21, 1, 19, 1, 18, 1, 16, 1, 14, 1, 1, 1];
const good = [
  { name: 'scale.mid', bytes: exportMidi(scale) },
  { name: 'arpeggio.mid', bytes: exportMidi(arpeggio) },
  { name: 'tune.mid', bytes: exportMidi(tune) },
];
const corrupt = { name: 'corrupt.mid', bytes: new Uint8Array([0x4d, 0x54, 0x68, 0x64, 9, 9, 9]) };
const empty = { name: 'empty.mid', bytes: midiFile([track([], [tempoAt(0, 120)])]) };

describe('buildCorpus', () => {
  it('keeps the good files and reports every skipped one with its reason', () => {
    const { melodies, report } = buildCorpus([good[0], corrupt, good[1], empty, good[2]]);
    expect(melodies.map((m) => m.name)).toEqual(['scale.mid', 'arpeggio.mid', 'tune.mid']);
    expect([...melodies[1].tokens]).toEqual(arpeggio);
    expect(report.filesRead).toBe(5);
    expect(report.melodiesKept).toBe(3);
    expect(report.totalSteps).toBe(16 + 20 + 12);
    expect(report.totalNotes).toBe(8 + 4 + 5);
    expect(report.skippedFiles.map((s) => [s.name, s.failure])).toEqual([
      ['corrupt.mid', 'unreadable'],
      ['empty.mid', 'no-notes'],
    ]);
    const text = formatCorpusReport(report);
    expect(text).toContain('melodies kept: 3');
    expect(text).toContain('files skipped: 2');
    expect(text).toMatch(/empty\.mid: has no notes/);
  });

  it('passes import options to every file', () => {
    const { report } = buildCorpus(good, { minSteps: 14 });
    expect(report.skippedFiles).toEqual([{ name: 'tune.mid', failure: 'too-short', reason: expect.stringMatching(/12 steps/) }]);
  });

  it('throws a clear error when no file gives a melody', () => {
    expect(() => buildCorpus([corrupt, empty])).toThrow(CorpusError);
    expect(() => buildCorpus([corrupt, empty])).toThrow(/no usable melody in 2 MIDI files.*corrupt\.mid.*empty\.mid: has no notes/);
    expect(() => buildCorpus([])).toThrow(/no usable melody in 0 MIDI files/);
  });
});

describe('loadSplitList', () => {
  it('reads one name per line, skipping blank lines and # comments', () => {
    expect(loadSplitList('# train split\r\njigs1.mid\n\n  reels2.mid  \n#reels3.mid\n')).toEqual(['jigs1.mid', 'reels2.mid']);
  });
});

describe('readMidiSources', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rltuner-corpus-'));
    await mkdir(join(dir, 'songs', 'more'), { recursive: true });
    await writeFile(join(dir, 'songs', 'b.mid'), good[0].bytes);
    await writeFile(join(dir, 'songs', 'a.MIDI'), good[1].bytes);
    await writeFile(join(dir, 'songs', 'more', 'c.mid'), good[2].bytes);
    await writeFile(join(dir, 'songs', 'notes.txt'), 'not midi');
    await writeFile(join(dir, 'list.txt'), '# two songs\nsongs/b.mid\nsongs/more/c.mid\n');
    await writeFile(join(dir, 'bare.txt'), 'b.mid\n');
    await writeFile(join(dir, 'broken.txt'), 'songs/b.mid\nsongs/missing.mid\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads every .mid/.midi below a folder, sorted by path', async () => {
    const sources = await readMidiSources(join(dir, 'songs'));
    expect(sources.map((s) => s.name)).toEqual(['a.MIDI', 'b.mid', 'more/c.mid']);
    expect([...sources[1].bytes]).toEqual([...good[0].bytes]);
  });

  it('reads a single MIDI file', async () => {
    const sources = await readMidiSources(join(dir, 'songs', 'more', 'c.mid'));
    expect(sources.map((s) => s.name)).toEqual(['c.mid']);
  });

  it('reads a list file, paths relative to its folder or to baseDir', async () => {
    expect((await readMidiSources(join(dir, 'list.txt'))).map((s) => s.name)).toEqual(['songs/b.mid', 'songs/more/c.mid']);
    const based = await readMidiSources(join(dir, 'bare.txt'), { baseDir: join(dir, 'songs') });
    expect([...based[0].bytes]).toEqual([...good[0].bytes]);
  });

  it('names a missing path, or missing listed files, and what to pass instead', async () => {
    await expect(readMidiSources(join(dir, 'nope'))).rejects.toThrow(CorpusFilesError);
    await expect(readMidiSources(join(dir, 'nope'))).rejects.toThrow(/nope does not exist; pass a folder of \.mid files/);
    await expect(readMidiSources(join(dir, 'broken.txt'))).rejects.toThrow(/names 1 files not found .*songs\/missing\.mid/);
  });
});
