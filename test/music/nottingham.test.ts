import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildCorpus, formatCorpusReport } from '../../src/music/corpus.js';
import { NO_EVENT, NOTE_OFF } from '../../src/music/encoding.js';
import { importMidi } from '../../src/music/midi_import.js';
import { readMidiSources, readNottinghamSplit } from '../../src/node/corpus_files.js';

const DATA_DIR = fileURLToPath(new URL('../../data/nottingham', import.meta.url));
const MEASURED_STEPS = 556_803; // data README, counting from tick 0 (leading silence included)

describe('Nottingham data', () => {
  it('imports ashover1.mid as a plausible melody', async () => {
    // Starts with E5 (76) two beats into a 3/4 bar; its notes use only white keys and it ends on G: the
    // one-sharp signature's tonic with F natural throughout, G mixolydian, moved up 5 to C mixolydian
    // (the first importer called it contradicted and kept it on the white keys).
    const result = importMidi(new Uint8Array(await readFile(`${DATA_DIR}/melody/ashover1.mid`)), { name: 'ashover1.mid' });
    const tokens = [...result.tokens];
    expect(tokens.every((t) => Number.isInteger(t) && t >= 0 && t <= 37)).toBe(true);
    expect(tokens[0]).toBeGreaterThanOrEqual(2);
    expect(tokens.length).toBeGreaterThan(100);
    expect(tokens.length).toBeLessThan(2000);
    expect(tokens.filter((t) => t === NO_EVENT).length / tokens.length).toBeGreaterThan(0.5);
    expect(result.ticksPerQuarter).toBe(1024);
    expect(result.key).toMatchObject({ name: 'G mixolydian', source: 'signature', modeFrom: 'notes' });
    expect(result.transposition).toBe(5);
    expect(result.tokensKey).toBe('C mixolydian');
    expect(result.meter.stepsPerBar).toBe(12);
    expect(result.barPosition).toBe(8); // a pickup of one beat
    expect(result.chordNotesDropped).toBe(0);
    expect(result.warnings).toEqual([]);
  });

  it('reads the standard splits (692 / 173 / 169 files)', async () => {
    const sizes = await Promise.all((['train', 'valid', 'test'] as const).map(async (split) => (await readNottinghamSplit(DATA_DIR, split)).length));
    expect(sizes).toEqual([692, 173, 169]);
  });

  it('imports all 1,034 files', async () => {
    const sources = await readMidiSources(`${DATA_DIR}/melody`);
    const started = performance.now();
    const { melodies, report } = buildCorpus(sources);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${formatCorpusReport(report).split('\n').slice(0, 5).join('\n')}\n(${seconds.toFixed(1)} s)`);
    expect(report.filesRead).toBe(1034);
    expect(report.melodiesKept).toBeGreaterThanOrEqual(1000);
    expect(Math.abs(report.totalSteps - MEASURED_STEPS) / MEASURED_STEPS).toBeLessThan(0.05);
    // 196,961 note-ons in the files. Every one is accounted for: kept (a note-on token), dropped as a chord
    // note, as a grace note or for a nearer note on its step.
    expect(report.totalNotes).toBe(196_961);
    const noteOns = melodies.reduce((sum, m) => sum + m.tokens.filter((t) => t >= 2).length, 0);
    expect(noteOns).toBe(report.totalNotes - report.chordNotesDropped - report.graceNotesDropped - report.notesMergedOnStep);
    // The files are exactly on the grid (no offset), with triplets and grace-note groups (abc's {gfe}).
    expect(report.filesWithGridOffset).toBe(0);
    expect(report.tripletGroups).toBeGreaterThan(500);
    expect(report.graceNotesDropped).toBeGreaterThan(200);
    // Most tunes start with a pickup, written as leading silence in the files.
    expect(report.pickups / report.melodiesKept).toBeGreaterThan(0.7);
    // The first importer's timing: the README's 196,124 counts distinct onset steps, what is left after
    // keeping the highest note of each step (two-note chords, grace notes and 16th triplets that round together).
    const nearest = buildCorpus(sources, { timing: 'nearest' }).report;
    expect(nearest.totalNotes - nearest.chordNotesDropped).toBe(196_124);
    expect(nearest.graceNotesDropped + nearest.notesMergedOnStep).toBe(0);
    expect(report.notesFolded).toBe(0); // README: all notes fit 48..83 after transposition to C
    const allTokens = melodies.flatMap((m) => [...m.tokens]);
    const share = (token: number) => allTokens.filter((t) => t === token).length / allTokens.length;
    expect(share(NOTE_OFF)).toBeLessThan(0.005); // SPEC: about 0.05%
    expect(share(NO_EVENT)).toBeGreaterThan(0.55); // SPEC: about 63%
    expect(share(NO_EVENT)).toBeLessThan(0.7);
  });
});
