/**
 * Your own MIDI files: the melody part chosen over a busier chord part, keys from signatures or estimated,
 * transposition to C / A, meter and tempo recorded and written back, notes off the 16th grid counted.
 * Fixtures are built with midi-file's writer (test/music/midi_test_files.ts), 480 ticks per quarter.
 */
import { describe, expect, it } from 'vitest';
import { buildCorpus, formatCorpusMarkdown, splitByNameHash } from '../../src/music/corpus.js';
import { estimateKey, pitchClassDurations } from '../../src/music/key_finding.js';
import { keyName, keyOfSignature, signatureOfKey, transpositionToReference } from '../../src/music/keys.js';
import { exportMidi } from '../../src/music/midi_export.js';
import { readMidiFile } from '../../src/music/midi_file.js';
import { importMidi } from '../../src/music/midi_import.js';
import { melodyFile, metreAt, midiFile, tempoAt, track, type NoteSpec, type TimedEvent } from './midi_test_files.js';

const Q = 480; // ticks per quarter
const E = Q / 2;

function keySignatureAt(tick: number, sharps: number, minor = false): TimedEvent {
  return { tick, event: { deltaTime: 0, meta: true, type: 'keySignature', key: sharps, scale: minor ? 1 : 0 } };
}

/** Notes one after another: [pitch, eighths] pairs. */
function line(notes: [number, number][], channel = 0, start = 0): NoteSpec[] {
  let tick = start;
  return notes.map(([pitch, eighths]) => {
    const note: NoteSpec = [pitch, tick, tick + eighths * E, channel];
    tick += eighths * E;
    return note;
  });
}

// A D major tune: D F# A D' C#' B A G F# E D, the tonic and fifth held longest.
const D_MAJOR_TUNE: [number, number][] = [[62, 2], [66, 1], [69, 1], [74, 2], [73, 1], [71, 1], [69, 2], [67, 1], [66, 1], [64, 1], [62, 3]];

describe('choosing the melody part', () => {
  it('a three-track file: the melody is taken over a chord track with three times its notes, and the report says why', () => {
    const melody = line([[72, 1], [74, 1], [76, 2], [79, 1], [77, 1], [76, 1], [74, 1], [72, 2], [71, 1], [72, 1], [74, 2], [76, 1], [74, 1], [72, 2], [67, 1], [72, 3]], 0);
    // Chords: three notes at each of the melody's onsets, an octave and more below.
    const chords: NoteSpec[] = melody.flatMap(([, start, end]) => [48, 52, 55].map((pitch): NoteSpec => [pitch, start, end, 1]));
    expect(chords.length).toBe(3 * melody.length);
    const file = midiFile([track([], [tempoAt(0, 96), metreAt(0, 4, 4)]), track(melody), track(chords)]);
    const result = importMidi(file, { name: 'three_tracks.mid' });
    expect([result.track, result.channel, result.noteCount]).toEqual([1, 0, melody.length]);
    expect(result.partChoice).toMatch(/^the most melodic of 2 parts \(track 1 channel 0, 16 notes: a line of singable range; 0% of onsets are chords/);
    expect([...result.skippedParts]).toEqual([
      { track: 2, channel: 1, noteCount: 48, reason: expect.stringMatching(/^less melodic than the chosen part: chords of singable range \(48 notes; 100% of onsets are chords/) },
    ]);
    expect(result.qpm).toBe(96);
    expect(result.chordNotesDropped).toBe(0);
    // The old rule (most notes) would have taken the chords; asking for the track still can.
    expect(importMidi(file, { track: 2 }).partChoice).toMatch(/^the requested part \(track 2/);
  });

  it('of two single lines, the higher is the tune and the bass is passed over', () => {
    const tune = line([[76, 2], [74, 2], [72, 4], [74, 2], [76, 2], [76, 4]], 0);
    const bass = line([[48, 1], [55, 1], [48, 1], [55, 1], [53, 1], [57, 1], [48, 1], [55, 1], [48, 1], [55, 1], [43, 1], [47, 1], [48, 4]], 1);
    const result = importMidi(midiFile([track([...tune, ...bass])], 0));
    expect(result.channel).toBe(0);
    expect(result.skippedParts.at(0).reason).toMatch(/^lower than the chosen part/);
  });
});

describe('key and transposition', () => {
  it('a D major tune with a key signature and one without: both D major, transposed down 2 to C', () => {
    const withSignature = importMidi(melodyFile(line(D_MAJOR_TUNE), [keySignatureAt(0, 2)]), { name: 'signed.mid' });
    const without = importMidi(melodyFile(line(D_MAJOR_TUNE)), { name: 'unsigned.mid' });
    for (const result of [withSignature, without]) {
      expect(result.key.name).toBe('D major');
      expect(result.transposition).toBe(-2);
      expect(result.tokensKey).toBe('C major');
      expect(result.tokens[0]).toBe(14); // D4 became C4
      expect(result.key.estimate?.name).toBe('D major');
    }
    expect(withSignature.key.source).toBe('signature');
    expect(withSignature.key.signature).toEqual({ sharps: 2, mode: 'major', name: 'D major' });
    expect(without.key.source).toBe('estimated');
    expect(without.key.reason).toBe('no key signature');
    expect(without.key.signature).toBeNull();
  });

  it('a G major tune without a C: the signature puts G on C (the note-count rule put it on F)', () => {
    const gNoC: [number, number][] = [[67, 2], [71, 1], [74, 1], [79, 2], [78, 1], [76, 1], [74, 2], [71, 1], [69, 1], [67, 3]];
    const file = melodyFile(line(gNoC), [keySignatureAt(0, 1)]);
    const byKey = importMidi(file);
    expect(byKey.key.name).toBe('G major');
    expect(byKey.transposition).toBe(5);
    expect(byKey.tokens[0] % 12).toBe(14 % 12); // a C
    const byCount = importMidi(file, { transposeBy: 'note-count' });
    expect(byCount.transposition).toBe(-2); // −2 and +5 both put every note on a white key; the tie goes to the smaller shift
    expect(byCount.tokens[0] % 12).toBe(19 % 12); // F
    expect(byCount.tokensKey).toBe('F major');
  });

  it('an E minor tune goes to A minor; a minor key signature is read as minor', () => {
    const eMinor: [number, number][] = [[64, 2], [67, 1], [71, 1], [76, 2], [74, 1], [72, 1], [71, 2], [69, 1], [67, 1], [66, 1], [64, 3]];
    const result = importMidi(melodyFile(line(eMinor), [keySignatureAt(0, 1, true)]));
    expect(result.key).toMatchObject({ name: 'E minor', mode: 'minor', source: 'signature' });
    expect(result.transposition).toBe(5);
    expect(result.tokensKey).toBe('A minor');
    expect(importMidi(melodyFile(line(eMinor)), { transpose: false }).tokensKey).toBe(importMidi(melodyFile(line(eMinor)), { transpose: false }).key.name);
  });

  it('a signature the notes contradict is replaced by the estimate, and the report says so (a C major one is named a placeholder)', () => {
    // A D major tune under a C major signature (sequencers write one by default): F# and C# are 30% of it.
    const result = importMidi(melodyFile(line(D_MAJOR_TUNE), [keySignatureAt(0, 0)]));
    expect(result.key.source).toBe('estimated');
    expect(result.key.name).toBe('D major');
    expect(result.key.reason).toMatch(/^the notes contradict the key signature C major, a placeholder \(what sequencers write when no key was chosen\): \d+% of note steps fall outside its scale, 0% outside D major$/);
    expect(result.key.placeholder).toBe(true);
    expect(result.warnings.join('\n')).toMatch(/placeholder key signature C major/);
    expect(result.transposition).toBe(-2);
    // Under a Bb major signature the same tune is contradicted too, but Bb major is no placeholder.
    const underBb = importMidi(melodyFile(line(D_MAJOR_TUNE), [keySignatureAt(0, -2)]));
    expect(underBb.key).toMatchObject({ name: 'D major', source: 'estimated', placeholder: false });
    expect(underBb.key.reason).toMatch(/^the notes contradict the key signature Bb major: \d+% of note steps/);
  });

  it('a C major placeholder over a G major tune with a few F sharps is replaced (from 3% outside; other signatures from 10%)', () => {
    // G major: one F# among long G, B and D notes (about 4% of the note time).
    const gTune: [number, number][] = [[67, 4], [71, 2], [74, 2], [72, 2], [71, 2], [69, 4], [67, 2], [69, 2], [71, 4], [66, 1], [67, 7]];
    const underC = importMidi(melodyFile(line(gTune), [keySignatureAt(0, 0)]));
    expect(underC.key.outsideScale).toBe(0);
    expect(underC.key).toMatchObject({ name: 'G major', source: 'estimated', placeholder: true });
    expect(underC.transposition).toBe(5);
    // The same tune a fifth lower with its one out-of-scale note a C natural, under a D major signature:
    // the signature's tonic stands, the C (and no C#) makes it D mixolydian.
    const dTune = gTune.map(([p, d]): [number, number] => [p === 66 ? 72 : p + 7 - 12, d]);
    const underD = importMidi(melodyFile(line(dTune), [keySignatureAt(0, 2)]));
    expect(underD.key).toMatchObject({ name: 'D mixolydian', source: 'signature', modeFrom: 'notes', placeholder: false });
    expect(underD.transposition).toBe(-2);
  });

  it('keys and signatures: names, sharps and the −6..+5 shift to C or A', () => {
    expect(keyName(keyOfSignature(-3, 'minor'))).toBe('C minor');
    expect(signatureOfKey({ tonic: 9, mode: 'dorian' })).toEqual({ sharps: 1, mode: 'minor' }); // A dorian: G major's notes
    expect(transpositionToReference({ tonic: 6, mode: 'major' })).toBe(-6);
    expect(transpositionToReference({ tonic: 4, mode: 'minor' })).toBe(5);
    const histogram = pitchClassDurations([62, 66, 69, 62], [4, 2, 2, 4]);
    expect(keyName(estimateKey(histogram)!.key)).toBe('D major');
    expect(estimateKey(new Float64Array(12))).toBeNull();
  });
});

describe('meter, tempo and the grid', () => {
  it('a 6/8 tune records 12 steps per bar; export writes 6/8, its key signature and tempo back', () => {
    const jig = line([[67, 1], [71, 1], [74, 1], [72, 1], [71, 1], [69, 1], [67, 3], [74, 3], [71, 1], [69, 1], [67, 1], [62, 3]]);
    const result = importMidi(melodyFile(jig, [metreAt(0, 6, 8), tempoAt(0, 132), keySignatureAt(0, 1)]), { name: 'jig.mid' });
    expect(result.meter).toEqual({ numerator: 6, denominator: 8, stepsPerBar: 12, source: 'signature', changes: 0 });
    expect(result.qpm).toBe(132);
    const key = { tonic: result.key.tonic, mode: result.key.mode };
    const bytes = exportMidi(result.tokens, { timeSignature: { numerator: 6, denominator: 8 }, qpm: result.qpm, key, transpose: -result.transposition });
    const written = readMidiFile(bytes);
    expect(written.timeSignatures.map((t) => `${t.numerator}/${t.denominator}`)).toEqual(['6/8']);
    expect(written.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[1, 'major']]);
    expect(written.tempos[0].microsecondsPerQuarter).toBe(Math.round(60_000_000 / 132));
    const back = importMidi(bytes);
    expect(back.meter.stepsPerBar).toBe(12);
    expect(back.key.name).toBe('G major');
    expect(Array.from(back.tokens)).toEqual(Array.from(result.tokens));
  });

  it('a file without a time signature is 4/4 by default; an unwritable meter is named', () => {
    expect(importMidi(melodyFile(line(D_MAJOR_TUNE))).meter).toEqual({ numerator: 4, denominator: 4, stepsPerBar: 16, source: 'default', changes: 0 });
    expect(() => exportMidi([14, 1], { timeSignature: { numerator: 6, denominator: 6 } })).toThrow(/time signature 6\/6 cannot be written/);
  });

  it('counts triplet onsets more than a quarter step off the 16th grid, and warns', () => {
    // Two beats of eighth triplets (160 ticks = 1.33 steps each), then two straight eighths.
    const triplets: NoteSpec[] = [0, 1, 2, 3, 4, 5].map((i): NoteSpec => [60 + 2 * (i % 3), i * 160, (i + 1) * 160]);
    const straight: NoteSpec[] = [[64, 960, 1200], [62, 1200, 1440]];
    const result = importMidi(melodyFile([...triplets, ...straight]));
    expect(result.offGridNotes).toBe(4); // 1.33, 2.67, 5.33, 6.67 steps; 0, 4, 8 and 10 are on the grid
    expect(result.tripletGroups).toBe(2);
    expect(result.warnings.join()).toMatch(/4 notes more than a quarter step off the 16th grid \(2 triplet groups, triplets or swing\)/);
    // Rounded as closely as the grid allows: each beat of triplets becomes 16th, 8th, 16th.
    expect([...result.tokens].slice(0, 8)).toEqual([14, 16, 1, 18, 14, 16, 1, 18]);
    // Notes one tick late (the collection of the issue) are on the grid.
    expect(importMidi(melodyFile(line(D_MAJOR_TUNE).map(([p, s, e]): NoteSpec => [p, s + 1, e + 1]))).offGridNotes).toBe(0);
  });
});

describe('timing: the grid offset, swing, sixteenth triplets', () => {
  it('swung eighths (every second onset 2/3 of a beat late) are no grid offset: half the onsets are on the grid', () => {
    const swung: NoteSpec[] = Array.from({ length: 16 }, (_, i): NoteSpec => {
      const start = Math.floor(i / 2) * Q + (i % 2 ? 320 : 0);
      return [60 + (i % 5), start, start + (i % 2 ? 160 : 320)];
    });
    const result = importMidi(melodyFile(swung));
    expect(result.gridOffsetTicks).toBe(0);
    expect(result.offGridNotes).toBe(8); // the late ones, at 2.67 steps into each beat
  });

  it('a whole file 40 ticks early is moved back onto the grid (a negative offset)', () => {
    const early = line(D_MAJOR_TUNE).map(([p, s, e]): NoteSpec => [p, s + Q - 40, e + Q - 40]);
    const result = importMidi(melodyFile(early, [metreAt(0, 4, 4)]));
    expect(result.gridOffsetTicks).toBe(-40);
    expect(result.offGridNotes).toBe(0);
    expect(result.barPosition).toBe(4); // one beat into the bar, as written before the offset
  });

  it('three sixteenth triplets in two steps: one is dropped (the grid holds two), the nearer note kept on each step', () => {
    const notes: NoteSpec[] = [[72, 0, 80], [74, 80, 160], [76, 160, 240], [77, 240, 480], [79, 480, 960]];
    const result = importMidi(melodyFile(notes), { transpose: false, minSteps: 1 });
    expect(result.tripletGroups).toBe(1);
    expect(result.notesMergedOnStep).toBe(1);
    expect(result.chordNotesDropped).toBe(0);
    // Onsets 0, 0.67, 1.33 round to 0, 1, 1: both lie a third of a step from step 1, and the later (E) is kept.
    expect([...result.tokens].slice(0, 4)).toEqual([26, 30, 31, 1]);
    // The first importer kept the higher of the two at step 1 (the E too) and counted it as a chord note.
    const nearest = importMidi(melodyFile(notes), { transpose: false, minSteps: 1, timing: 'nearest' });
    expect(nearest.chordNotesDropped).toBe(1);
  });
});

describe('corpus report', () => {
  it('counts keys by source, meters and off-grid notes, and lists every file', () => {
    const sources = [
      { name: 'd_signed.mid', bytes: melodyFile(line(D_MAJOR_TUNE), [keySignatureAt(0, 2)]) },
      { name: 'd_plain.mid', bytes: melodyFile(line(D_MAJOR_TUNE), [metreAt(0, 6, 8)]) },
      { name: 'empty.mid', bytes: midiFile([track([])]) },
    ];
    const { report, melodies } = buildCorpus(sources);
    expect(report).toMatchObject({ filesRead: 3, melodiesKept: 2, keysFromSignatures: 1, keysEstimated: 1, keySignaturesContradicted: 0, keys: { 'D major': 2 }, meters: { '4/4 (none in file)': 1, '6/8': 1 } });
    expect(melodies[1].info).toMatchObject({ name: 'd_plain.mid', key: 'D major', keySource: 'estimated', transposition: -2, tokensKey: 'C major', meter: '6/8', stepsPerBar: 12, qpm: 120 });
    const markdown = formatCorpusMarkdown(report);
    expect(markdown).toMatch(/\| empty\.mid \| has no notes \| no-notes \|/);
    expect(markdown).toMatch(/\| d_plain\.mid \| 0\/0 \| the only part with notes .* \| D major \| estimated: no key signature \| -2 → C major \| 6\/8 \| 12 \| 0 \| 120 \|/);
  });

  it('splits by a hash of the file name: the same file always lands on the same side', () => {
    const names = Array.from({ length: 200 }, (_, i) => ({ name: `tune${i}.mid` }));
    const { kept, heldOut } = splitByNameHash(names);
    expect(kept.length + heldOut.length).toBe(200);
    expect(heldOut.length).toBeGreaterThan(8);
    expect(heldOut.length).toBeLessThan(35);
    const again = splitByNameHash([...names].reverse().slice(0, 150));
    for (const item of again.heldOut) expect(heldOut).toContainEqual(item);
    expect(splitByNameHash([{ name: 'a.mid' }, { name: 'b.mid' }]).heldOut.length).toBe(1);
  });
});
