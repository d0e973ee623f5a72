import { parseMidi } from 'midi-file';
import { describe, expect, it } from 'vitest';
import { NO_EVENT, NOTE_OFF } from '../../src/music/encoding.js';
import { MidiExportError, exportMidi } from '../../src/music/midi_export.js';
import { keyOfText } from '../../src/music/keys.js';
import { readMidiFile } from '../../src/music/midi_file.js';
import { importMidi } from '../../src/music/midi_import.js';
import { Random } from '../../src/random.js';
import { randomMelody, repeat } from './midi_test_files.js';

/** Import that keeps pitches and length exactly as exported. */
const AS_WRITTEN = { transpose: false, centre: false, minSteps: 1, maxTrailingRestSteps: Infinity } as const;

describe('exportMidi', () => {
  it('writes a format-1 file: conductor with tempo and 4/4, melody with program, pitch = token + 46', () => {
    const midi = parseMidi(exportMidi([14, 1, 0, 1, 37, 1], { qpm: 90 }));
    expect(midi.header).toMatchObject({ format: 1, numTracks: 2, ticksPerBeat: 480 });
    expect(midi.tracks[0]).toContainEqual(expect.objectContaining({ type: 'setTempo', microsecondsPerBeat: 666667 }));
    expect(midi.tracks[0]).toContainEqual(expect.objectContaining({ type: 'timeSignature', numerator: 4, denominator: 4 }));
    const events = midi.tracks[1].map((e) => ({ ...e }));
    expect(events[0]).toMatchObject({ type: 'programChange', programNumber: 0, channel: 0 });
    // C4 (token 14 = MIDI 60) for two steps of 120 ticks, a rest of two steps, B5 (token 37 = MIDI 83) for two.
    expect(events.slice(1)).toMatchObject([
      { deltaTime: 0, type: 'noteOn', noteNumber: 60, velocity: 100 },
      { deltaTime: 240, type: 'noteOff', noteNumber: 60 },
      { deltaTime: 240, type: 'noteOn', noteNumber: 83, velocity: 100 },
      { deltaTime: 240, type: 'noteOff', noteNumber: 83 },
      { deltaTime: 0, type: 'endOfTrack' },
    ]);
  });

  it('defaults to 120 qpm (500000 µs per quarter)', () => {
    const midi = parseMidi(exportMidi([14]));
    expect(midi.tracks[0][0]).toMatchObject({ type: 'setTempo', microsecondsPerBeat: 500000 });
  });

  it('rejects bad tokens and options with the offending value', () => {
    expect(() => exportMidi([14, 38])).toThrow(MidiExportError);
    expect(() => exportMidi([14, 38])).toThrow('melody[1] = 38');
    expect(() => exportMidi([14], { qpm: 0 })).toThrow(/qpm 0/);
    expect(() => exportMidi([14], { ticksPerQuarter: 482 })).toThrow(/ticksPerQuarter 482/);
    expect(() => exportMidi([14], { velocity: 128 })).toThrow(/velocity 128/);
    expect(() => exportMidi([14], { program: -1 })).toThrow(/program -1/);
  });
});

describe('export → import round trip', () => {
  const cases: Record<string, number[]> = {
    'rests and holds': [14, 1, 1, 1, 16, 1, 18, 1, 0, 1, 1, 1, 21, 1, 1, 1],
    'long hold, extreme pitches, repeated notes': [2, ...repeat(1, 40), 37, 0, 1, 14, 14, 14],
    'ends in a rest': [20, 0, 1, 1, 25, 1, 0],
    'single note': [30],
    'note-off right before the end': [9, 1, 1, 0],
  };
  for (const [label, tokens] of Object.entries(cases)) {
    it(`returns the tokens unchanged: ${label}`, () => {
      expect([...importMidi(exportMidi(tokens), AS_WRITTEN).tokens]).toEqual(tokens);
    });
  }

  it('holds for 200 random canonical melodies at several resolutions', () => {
    const random = new Random(7);
    for (let trial = 0; trial < 200; trial++) {
      const tokens = randomMelody(random, 1 + random.int(80));
      const ticksPerQuarter = [4, 96, 480, 1024][trial % 4];
      const imported = importMidi(exportMidi(tokens, { ticksPerQuarter }), AS_WRITTEN);
      expect([...imported.tokens]).toEqual(tokens);
    }
  });

  it('reads a NOTE_OFF during a rest back as NO_EVENT (the two mean the same)', () => {
    expect([...importMidi(exportMidi([14, 0, 0, 1]), AS_WRITTEN).tokens]).toEqual([14, 0, 1, 1]);
  });

  it('returns a C major melody unchanged with default options', () => {
    // Twinkle twinkle in C4..A4: already "most in C major" and centred (range centre 64.5, octave shift 0).
    const twinkle = [14, 1, 14, 1, 21, 1, 21, 1, 23, 1, 23, 1, 21, 1, 1, 1, 19, 1, 19, 1, 18, 1, 18, 1, 16, 1, 16, 1, 14, 1, 1, 1];
    const imported = importMidi(exportMidi(twinkle));
    expect([...imported.tokens]).toEqual(twinkle);
    expect(imported.transposition).toBe(0);
    expect(imported.octaveShift).toBe(0);
  });
});

describe('keys, modes and bars survive export → import', () => {
  const tune = [16, 1, 19, 1, 23, 1, 19, 1, 21, 1, 25, 1, 23, 1, 21, 1, 19, 1, 16, 1, 18, 1, 19, 1, 16, 1, 1, 1];

  it('D dorian is written with no sharps or flats (minor by its third) and a text event naming it, and read back as D dorian', () => {
    const bytes = exportMidi(tune, { key: { tonic: 2, mode: 'dorian' } });
    const file = readMidiFile(bytes);
    expect(file.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[0, 'minor']]);
    expect(file.texts.map((t) => [t.tick, t.text])).toEqual([[0, 'D dorian']]);
    const back = importMidi(bytes);
    expect(back.key).toMatchObject({ name: 'D dorian', source: 'text', modeFrom: 'text' });
    expect(back.transposition).toBe(-5);
    expect(back.tokensKey).toBe('A dorian');
    expect([...importMidi(bytes, AS_WRITTEN).tokens]).toEqual(tune);
  });

  it('major and minor keys get a signature only; G mixolydian the signature of C major and its name', () => {
    expect(readMidiFile(exportMidi(tune, { key: { tonic: 9, mode: 'minor' } })).texts).toEqual([]);
    expect(readMidiFile(exportMidi(tune, { key: { tonic: 2, mode: 'ionian' } })).texts).toEqual([]);
    const mixolydian = readMidiFile(exportMidi(tune, { key: { tonic: 7, mode: 'mixolydian' } }));
    expect(mixolydian.keySignatures.map((k) => [k.sharps, k.mode])).toEqual([[0, 'major']]);
    expect(mixolydian.texts.map((t) => t.text)).toEqual(['G mixolydian']);
  });

  it('a melody written 10 steps into a 6/8 bar comes back with bar position 10 and its tokens', () => {
    const bytes = exportMidi(tune, { timeSignature: { numerator: 6, denominator: 8 }, barPosition: 10 });
    const back = importMidi(bytes, AS_WRITTEN);
    expect(back.barPosition).toBe(10);
    expect(back.meter.stepsPerBar).toBe(12);
    expect([...back.tokens]).toEqual(tune);
    expect(importMidi(exportMidi(tune), AS_WRITTEN).barPosition).toBe(0);
    expect(() => exportMidi(tune, { timeSignature: { numerator: 6, denominator: 8 }, barPosition: 12 })).toThrow(/barPosition 12 must be a whole number of steps from 0 to 11 \(a 6\/8 bar has 12 steps\)/);
  });

  it('reads keys named in text: a mode word is needed, abc forms and flats accepted', () => {
    expect(keyOfText('D dorian')).toEqual({ tonic: 2, mode: 'dorian' });
    expect(keyOfText('Key: F# Minor')).toEqual({ tonic: 6, mode: 'minor' });
    expect(keyOfText('Bb mixolydian')).toEqual({ tonic: 10, mode: 'mixolydian' });
    expect(keyOfText('Ador')).toEqual({ tonic: 9, mode: 'dorian' });
    expect(keyOfText('Emin')).toEqual({ tonic: 4, mode: 'minor' });
    for (const notAKey of ['A', 'B', 'Verse', 'Ab', 'Dorian', 'D dorian mode of the tune']) expect(keyOfText(notAKey), notAKey).toBeNull();
  });
});
