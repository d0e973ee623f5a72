import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorpusError, buildCorpus, formatCorpusReport, formatCorpusSummary, loadSplitList } from '../../src/music/corpus.js';
import { exportMidi } from '../../src/music/midi_export.js';
import { CorpusFilesError, readMidiSources } from '../../src/node/corpus_files.js';
import { arpeggio, BAD_NAME_ESCAPE, corrupt, empty, good, makeBadCorpus, removeBadCorpus } from './bad_corpus.js';
import { midiFile, tempoAt, track } from './midi_test_files.js';



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

describe('a corpus with entries that cannot be read', () => {
  // Every kind of bad entry next to good files: none of them ends the corpus, each is listed with its path
  // and reason. (A file without read permission is only unreadable when not running as root.)
  const asRoot = process.getuid?.() === 0;
  const escape = BAD_NAME_ESCAPE;
  let dir = '';
  beforeAll(async () => {
    dir = await makeBadCorpus();
  });
  afterAll(() => removeBadCorpus(dir));

  it('readMidiSources returns every entry, the unreadable ones with their reason, without opening a FIFO', async () => {
    const sources = await readMidiSources(join(dir, 'songs'), { maxFileBytes: 4096 });
    const reasons = Object.fromEntries(sources.map((source) => [source.name, source.unreadable ?? null]));
    expect(Object.keys(reasons)).toEqual([
      'big.mid', 'dangling.mid', 'folder.mid', 'folder.mid/inside.mid', 'good.mid', 'locked.mid', 'pipe.mid', `red${escape}.mid`, 'sysex_length_overflow.mid',
    ]);
    expect(reasons).toMatchObject({
      'big.mid': 'cannot be read: is 5000 bytes, above the 4096 bytes a corpus file may have (maxFileBytes)',
      'dangling.mid': 'cannot be read: dangling symbolic link (its target does not exist)',
      'folder.mid': 'cannot be read: is a folder, not a MIDI file (the MIDI files inside it are read)',
      'folder.mid/inside.mid': null,
      'good.mid': null,
      'pipe.mid': 'cannot be read: not a regular file (a device, FIFO or socket)',
      [`red${escape}.mid`]: null,
    });
    expect(reasons['locked.mid']).toBe(asRoot ? null : 'cannot be read: permission denied');
  });

  it('buildCorpus keeps the good files; the report counts the skipped ones by reason and lists each, control characters escaped', async () => {
    const { melodies, report } = buildCorpus(await readMidiSources(join(dir, 'songs'), { maxFileBytes: 4096 }));
    const kept = ['folder.mid/inside.mid', 'good.mid', ...(asRoot ? ['locked.mid'] : [])];
    expect(melodies.map((m) => m.name)).toEqual(kept);
    expect(report.filesRead).toBe(9);
    expect(report.skippedFiles.map((skip) => [skip.name, skip.failure])).toEqual(
      [
        ['big.mid', 'unreadable'],
        ['dangling.mid', 'unreadable'],
        ['folder.mid', 'unreadable'],
        ['locked.mid', 'unreadable'],
        ['pipe.mid', 'unreadable'],
        [`red${escape}.mid`, 'unreadable'],
        ['sysex_length_overflow.mid', 'unreadable'],
      ].filter(([name]) => !(asRoot && name === 'locked.mid')),
    );
    const skipped = 9 - kept.length;
    const text = formatCorpusReport(report);
    expect(text).toContain(`files skipped: ${skipped} (unreadable ${skipped})`);
    for (const skip of report.skippedFiles) expect(text).toContain(`  ${skip.name.replace(escape, '\\x1b[31m')}: ${skip.reason} [unreadable]`);
    expect(text).toContain('red\\x1b[31m.mid: not a readable MIDI file');
    expect(text).not.toMatch(/\u001b/);
    const summary = formatCorpusSummary(report);
    expect(summary.split('\n')[0]).toBe(`9 files read, ${kept.length} melodies kept, ${skipped} files skipped (unreadable ${skipped}):`);
    const summaryLines = summary.split('\n');
    expect(summaryLines.slice(1, -1).map((line) => line.split(':')[0].trim())).toEqual(report.skippedFiles.map((skip) => skip.name.replace(escape, '\\x1b[31m')));
    expect(summaryLines[summaryLines.length - 1]).toMatch(/^ {2}keys: \d+ from signatures, \d+ named by text, \d+ estimated/);
  });

  it('counts skipped files of different reasons separately, and says when none was skipped', () => {
    const { report } = buildCorpus([good[0], corrupt, empty, { name: 'gone.mid', bytes: new Uint8Array(0), unreadable: 'cannot be read: no such file' }]);
    expect(formatCorpusSummary(report).split('\n')[0]).toBe('4 files read, 1 melodies kept, 3 files skipped (unreadable 2, no-notes 1):');
    expect(formatCorpusSummary(buildCorpus(good).report).split('\n')[0]).toBe('3 files read, 3 melodies kept, 0 files skipped');
  });

});
