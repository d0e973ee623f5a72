// Your own music through the command line: `corpus`, `score`, and `generate` writing the primer's key and meter.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readMidiFile } from '../../src/music/midi_file.js';
import { melodyFile, metreAt, midiFile, track, type NoteSpec } from '../music/midi_test_files.js';
import { rltuner as runCli } from '../support/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-own-'));
/** The basic Note RNN: trained on melodies moved onto the white keys by note count, which these tests are about. */
const BASIC = join(root, 'models', 'note_rnn_basic.safetensors');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rltuner = (args: string[], cwd = work) => runCli(args, { cwd });

const E = 240;
const tune = (base: number, channel = 0): NoteSpec[] =>
  [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 12, 7, 4, 0, 0].map((step, i): NoteSpec => [base + step, i * E, (i + 1) * E, channel]);

describe('rltuner corpus', () => {
  const folder = join(work, 'mixed');
  mkdirSync(folder);
  // Two one-track tunes, and two files with a conductor, a melody track and a chord track.
  writeFileSync(join(folder, 'a_one_track.mid'), melodyFile(tune(62)));
  writeFileSync(join(folder, 'b_one_track.mid'), melodyFile(tune(67)));
  const chords = (base: number): NoteSpec[] => tune(base).flatMap(([, s, e]) => [0, 4, 7].map((d): NoteSpec => [base - 24 + d, s, e, 1]));
  writeFileSync(join(folder, 'c_three_tracks.mid'), midiFile([track([], [metreAt(0, 6, 8)]), track(tune(72)), track(chords(72))]));
  writeFileSync(join(folder, 'd_three_tracks.mid'), midiFile([track([]), track(tune(69)), track(chords(69))]));

  it('accounts for every file: the melody track of multi-track files, the most melodic part of the rest', async () => {
    const r = await rltuner(['corpus', folder, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.filesRead).toBe(4);
    expect(report.melodiesKept).toBe(4);
    expect(report.files.map((f: { name: string; track: number }) => [f.name, f.track])).toEqual([
      ['a_one_track.mid', 0], ['b_one_track.mid', 0], ['c_three_tracks.mid', 1], ['d_three_tracks.mid', 1],
    ]);
    expect(report.meters).toEqual({ '4/4 (none in file)': 3, '6/8': 1 });
  });

  it('with --track 1, files without that track are listed as skipped with what to do, none dropped silently', async () => {
    const r = await rltuner(['corpus', folder, '--track', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# Corpus report/);
    expect(r.stdout).toMatch(/\| 4 \| 2 \| 2 \(part-missing 2\) \|/);
    expect(r.stdout).toContain('| a_one_track.mid | track 1 does not exist; the file has 1 tracks (0..0) | part-missing |');
    expect(r.stdout).toContain('2 files lack the requested part (--track 1) and were skipped; leave the option out');
    const json = JSON.parse((await rltuner(['corpus', folder, '--track', '1', '--json'])).stdout);
    expect(json.files.length + json.skippedFiles.length).toBe(json.filesRead);
  });

  it('names a path that holds no MIDI files', async () => {
    const r = await rltuner(['corpus', join(work, 'nothing-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing-here does not exist; pass a folder of \.mid files/);
  });
});

describe('rltuner generate with a primer', () => {
  it('writes the continuation in the primer\'s key, meter and tempo', async () => {
    // An E minor jig (E G B E' D' B A G F# E) with its signature, 6/8 and 100 qpm.
    const pitches = [64, 67, 71, 76, 74, 71, 69, 67, 66, 64, 67, 71];
    const notes = pitches.map((p, i): NoteSpec => [p, i * E, (i + 1) * E]);
    const primer = midiFile([track(notes, [
      metreAt(0, 6, 8), { tick: 0, event: { deltaTime: 0, meta: true, type: 'keySignature', key: 1, scale: 1 } },
      { tick: 0, event: { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: 600_000 } },
    ])]);
    writeFileSync(join(work, 'e_minor.mid'), primer);
    const r = await rltuner(['generate', '--model', BASIC, '--primer', 'e_minor.mid', '--count', '2', '--length', '24', '--out', 'gen_e']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/primer e_minor\.mid: .*key E minor \(key signature\)/);
    // The shipped model was trained on melodies moved by note count: the primer goes down 2 (onto the white
    // keys), the melodies come back up 2.
    expect(r.stderr).toMatch(/moved -2 for the model; meter 6\/8, 100 qpm/);
    expect(r.stderr).toMatch(/writing in E minor \(the notes are in D minor, the key the primer was moved to for the model, moved \+2 back to the primer's key\); meter 6\/8/);
    for (const file of readdirSync(join(work, 'gen_e'))) {
      const midi = readMidiFile(new Uint8Array(readFileSync(join(work, 'gen_e', file))));
      expect(midi.timeSignatures.map((t) => `${t.numerator}/${t.denominator}`)).toEqual(['6/8']);
      expect(midi.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[1, 'minor']]);
      expect(midi.tempos[0].microsecondsPerQuarter).toBe(600_000);
    }
  }, 30_000);

  it('--key/--mode name the key of the notes (checked against the model); --transpose moves them for playback', async () => {
    // The shipped Note RNN's notes are on the white keys: D dorian is a key of them, written with no sharps
    // or flats and a text event naming it.
    const dorian = await rltuner(['generate', '--model', BASIC, '--count', '1', '--length', '16', '--key', 'D', '--mode', 'dorian', '--out', 'gen_dorian']);
    expect(dorian.code).toBe(0);
    expect(dorian.stderr).toMatch(/writing in D dorian \(the notes are in D dorian, --key\/--mode\)/);
    const dorianFile = readMidiFile(new Uint8Array(readFileSync(join(work, 'gen_dorian', 'melody_001.mid'))));
    expect(dorianFile.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[0, 'minor']]);
    expect(dorianFile.texts.map((t) => t.text)).toEqual(['D dorian']);
    // D major is not: the error names the model's key and the fix.
    const dMajor = await rltuner(['generate', '--model', BASIC, '--count', '1', '--key', 'D', '--out', 'gen_d']);
    expect(dMajor.code).not.toBe(0);
    expect(dMajor.stderr).toMatch(/--key\/--mode D major: the notes of .* are on the white keys, C major's notes .* and D major is not; .*--transpose <semitones>/);
    // Moving C major up a whole tone gives D major, signature and all.
    const moved = await rltuner(['generate', '--model', BASIC, '--count', '1', '--length', '16', '--transpose', '2', '--out', 'gen_up']);
    expect(moved.stderr).toMatch(/writing in D major \(the notes are in C major, .*, moved \+2 by --transpose\)/);
    const movedFile = readMidiFile(new Uint8Array(readFileSync(join(work, 'gen_up', 'melody_001.mid'))));
    expect(movedFile.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[2, 'major']]);
    expect(movedFile.texts).toEqual([]);
    expect((await rltuner(['generate', '--key', 'H', '--out', 'gen_h'])).stderr).toMatch(/--key: key "H" is not a tonic name/);
    expect((await rltuner(['generate', '--transpose', '1.5', '--out', 'gen_h'])).stderr).toMatch(/--transpose 1\.5: expected a whole number of semitones from -24 to 24/);
  }, 30_000);
});

describe('one meaning of --key: tune, generate and evaluate', () => {
  it('a model tuned in D dorian: its samples, generate and evaluate all take D dorian; another key is refused', async () => {
    const t = await rltuner(['tune', '--model', BASIC, '--preset', 'g', '--key', 'D', '--mode', 'dorian', '--training-steps', '640', '--eval-every', '0', '--eval-compositions', '8', '--sample-count', '2', '--out', 'tune_dorian', '--quiet']);
    expect(t.code).toBe(0);
    const signatureOf = (path: string) => {
      const midi = readMidiFile(new Uint8Array(readFileSync(join(work, path))));
      return { signatures: midi.keySignatures.map((k) => [k.sharps, k.mode]), texts: midi.texts.map((x) => x.text), meters: midi.timeSignatures.map((m) => `${m.numerator}/${m.denominator}`) };
    };
    expect(signatureOf('tune_dorian/samples/g_1.mid')).toEqual({ signatures: [[0, 'minor']], texts: ['D dorian'], meters: ['4/4'] });
    expect(signatureOf('tune_dorian/samples/note_rnn_1.mid')).toEqual({ signatures: [[0, 'major']], texts: [], meters: ['4/4'] });
    const model = join('tune_dorian', 'g_tuned.safetensors');

    const plain = await rltuner(['generate', '--model', model, '--count', '1', '--length', '16', '--out', 'gen_tuned', '--prior', BASIC]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/writing in D dorian \(the notes are in D dorian, the key the model was tuned in\)/);
    expect(signatureOf('gen_tuned/melody_001.mid')).toEqual({ signatures: [[0, 'minor']], texts: ['D dorian'], meters: ['4/4'] });
    const same = await rltuner(['generate', '--model', model, '--key', 'D', '--mode', 'dorian', '--count', '1', '--length', '16', '--out', 'gen_tuned_same', '--prior', BASIC]);
    expect(same.code).toBe(0);
    expect(readFileSync(join(work, 'gen_tuned_same', 'melody_001.mid'))).toEqual(readFileSync(join(work, 'gen_tuned', 'melody_001.mid')));
    const other = await rltuner(['generate', '--model', model, '--key', 'E', '--mode', 'dorian', '--count', '1', '--out', 'gen_tuned_e', '--prior', BASIC]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/--key\/--mode E dorian: .*g_tuned\.safetensors was tuned in D dorian, so its notes are in D dorian; leave --key\/--mode out .* --transpose <semitones>/);
    const up = await rltuner(['generate', '--model', model, '--transpose', '2', '--count', '1', '--length', '16', '--out', 'gen_tuned_up', '--prior', BASIC]);
    expect(up.stderr).toMatch(/writing in E dorian \(the notes are in D dorian, the key the model was tuned in, moved \+2 by --transpose\)/);
    expect(signatureOf('gen_tuned_up/melody_001.mid')).toEqual({ signatures: [[2, 'minor']], texts: ['E dorian'], meters: ['4/4'] });

    const e = await rltuner(['evaluate', '--tuned', model, '--model', BASIC, '--count', '16', '--length', '16', '--quiet']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/rules in D dorian \(the key the tuned models were tuned in\)/);
    const asked = await rltuner(['evaluate', '--tuned', model, '--model', BASIC, '--count', '16', '--length', '16', '--key', 'C', '--quiet']);
    expect(asked.stdout).toMatch(/rules in C major \(--key\/--mode\)/);
  }, 60_000);
});

describe('rltuner score', () => {
  /** The cells after the label of the first Markdown table row starting with `| label` (bold marks dropped). */
  const rowCells = (text: string, label: string) =>
    text.split('\n').find((l) => l.startsWith(`| ${label}`))!.split('|').slice(2, -1).map((c) => c.trim().replace(/\*/g, ''));
  const readme = () => readFileSync(join(root, 'models', 'README.md'), 'utf8');

  it('reproduces the shipped model\'s test figures of models/README.md on the Nottingham test split', async () => {
    const r = await rltuner(['score', '--model', 'models/note_rnn_basic.safetensors', 'data/nottingham/splits/test.txt'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Melodies: 169 (89819 predicted steps), imported transposed by note count');
    // README rows: model | 4 valid columns | 4 test columns; score prints the test columns.
    const readmeTest = (label: string) => rowCells(readme(), label).slice(4);
    const scored = (label: string) => rowCells(r.stdout, label);
    expect(scored('LSTM [100]')).toEqual(readmeTest('LSTM [100] (this model)'));
    for (const order of [1, 2, 3, 4]) expect(scored(`${order}-gram`)).toEqual(readmeTest(`${order}-gram`));
  }, 60_000);

  it('without --model scores the shipped phrase model as models/README.md says', async () => {
    const r = await rltuner(['score', 'data/nottingham/splits/test.txt'], root);
    expect(r.code).toBe(0);
    const scored = rowCells(r.stdout, 'LSTM [100] phrase');
    const row = rowCells(readme(), 'LSTM [100] phrase');
    expect(scored.slice(0, 2)).toEqual(row.slice(2, 4)); // test nats/step and perplexity
    expect(Number(scored[0])).toBeLessThanOrEqual(0.78);
  }, 60_000);
});
