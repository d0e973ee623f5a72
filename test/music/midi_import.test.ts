import type { MidiEvent } from 'midi-file';
import { describe, expect, it } from 'vitest';
import { exportMidi } from '../../src/music/midi_export.js';
import { buildCorpus } from '../../src/music/corpus.js';
import { MidiImportError, importMidi } from '../../src/music/midi_import.js';
import { melodyFile, metreAt, midiFile, repeat, tempoAt, track, type NoteSpec } from './midi_test_files.js';

// All hand-made files use 480 ticks per quarter, so one 16th step is 120 ticks.
const SHORT_OK = { minSteps: 1 } as const;

/** C4 for 4 steps, E4 for 4, G4 for 8: in C major and centred already (range centre 63.5). */
const C_E_G: NoteSpec[] = [
  [60, 0, 480],
  [64, 480, 960],
  [67, 960, 1920],
];
const C_E_G_TOKENS = [14, ...repeat(1, 3), 18, ...repeat(1, 3), 21, ...repeat(1, 7)];

function tokensOf(bytes: Uint8Array, options = {}): number[] {
  return [...importMidi(bytes, options).tokens];
}

function importFailure(bytes: Uint8Array, options = {}): MidiImportError {
  try {
    importMidi(bytes, { name: 'bad.mid', ...options });
  } catch (error) {
    if (error instanceof MidiImportError) return error;
    throw error;
  }
  throw new Error('expected a MidiImportError');
}

describe('importMidi: choosing the melody', () => {
  // Format 0: melody on channel 0 (3 notes), bass on channel 1 (2 notes), drums on channel 9 (16 notes).
  const drums: NoteSpec[] = Array.from({ length: 16 }, (_, i) => [36, i * 120, i * 120 + 60, 9]);
  const bass: NoteSpec[] = [
    [48, 0, 960, 1],
    [43, 960, 1920, 1],
  ];
  const format0 = midiFile([track([...C_E_G, ...bass, ...drums])], 0);

  it('format 0: takes the most melodic channel (a line above the bass), skipping drums on channel index 9', () => {
    const result = importMidi(format0);
    expect(result.tokens.length).toBe(16);
    expect([...result.tokens]).toEqual(C_E_G_TOKENS);
    expect(result.format).toBe(0);
    expect([result.track, result.channel, result.noteCount]).toEqual([0, 0, 3]);
    expect([...result.skippedParts]).toEqual([
      { track: 0, channel: 1, noteCount: 2, reason: expect.stringMatching(/^lower than the chosen part .*mean pitch 45\.5/) },
      { track: 0, channel: 9, noteCount: 16, reason: expect.stringMatching(/drum/) },
    ]);
  });

  it('format 0: the channel option overrides, and the chosen part is centred by octaves', () => {
    // Bass C3 (48) and G2 (43): range centre 45.5 is 20 below 65.5, so up two octaves to C5 (72) and G4 (67).
    const result = importMidi(format0, { channel: 1 });
    expect([...result.tokens]).toEqual([26, ...repeat(1, 7), 21, ...repeat(1, 7)]);
    expect(result.octaveShift).toBe(2);
    expect(result.channel).toBe(1);
  });

  it('format 0: drums are used only when asked for by channel', () => {
    expect(importMidi(format0, { channel: 9 }).noteCount).toBe(16);
  });

  it('format 1: of two lines, the higher wins (not the one with most notes); the track option overrides', () => {
    const conductor = track([], [tempoAt(0, 100)]);
    const fewer = track([
      [72, 0, 960],
      [74, 960, 1920],
    ]);
    const file = midiFile([conductor, fewer, track(C_E_G.concat([[72, 1920, 2400]]))]);
    const byDefault = importMidi(file);
    expect(byDefault.track).toBe(1); // C5 and D5, above the C4 E4 G4 C5 of track 2
    expect(byDefault.partChoice).toMatch(/^the most melodic of 2 parts \(track 1 channel 0, 2 notes: a line of singable range/);
    expect(importMidi(file, { track: 2 }).tokens.length).toBe(20);
    const chosen = importMidi(file, { track: 1 });
    expect(chosen.track).toBe(1);
    expect(chosen.noteCount).toBe(2);
    expect([...chosen.skippedParts].map((part) => part.reason)).toEqual(['not the requested track 1']);
  });

  it('a file of 131,072 one-note parts beside its melody: every skipped part is listed, compactly, and a corpus takes them all', () => {
    // 8,192 tracks of 16 one-note channels after the melody's track: more parts than a call takes arguments.
    const melody = midiFile([track(C_E_G)]);
    const extraTracks = 8192;
    const trackBytes = 8 + 4 * 16;
    const bytes = new Uint8Array(melody.length + trackBytes * extraTracks);
    bytes.set(melody);
    const tracks = 1 + extraTracks;
    bytes.set([(tracks >>> 8) & 0xff, tracks & 0xff], 10);
    for (let t = 0; t < extraTracks; t++) {
      const at = melody.length + trackBytes * t;
      bytes.set([0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 4 * 16], at);
      for (let channel = 0; channel < 16; channel++) bytes.set([0x00, 0x90 | channel, 40 + (t % 40), 90], at + 8 + 4 * channel);
    }
    const result = importMidi(bytes, { name: 'parts.mid' });
    expect([...result.tokens]).toEqual(C_E_G_TOKENS);
    expect(result.skippedParts.length).toBe(extraTracks * 16);
    expect(result.skippedParts.at(0)).toEqual({ track: 1, channel: 0, noteCount: 1, reason: expect.stringMatching(/^plays one pitch only/) });
    expect(result.skippedParts.at(extraTracks * 16 - 1)).toMatchObject({ track: extraTracks, channel: 15, noteCount: 1 });
    expect(() => result.skippedParts.at(extraTracks * 16)).toThrow(RangeError);
    const listed = JSON.parse(JSON.stringify(result)).skippedParts as { channel: number }[];
    expect(listed.length).toBe(extraTracks * 16);
    expect(listed[17].channel).toBe(1);
    const { report } = buildCorpus([{ name: 'parts.mid', bytes }], { minSteps: 8 });
    expect(report.skippedParts.length).toBe(extraTracks * 16);
    expect(report.skippedParts[0]).toMatchObject({ name: 'parts.mid', track: 1, channel: 0 });
  });

  it('rejects a track or channel option that does not exist, naming the range', () => {
    const file = melodyFile(C_E_G);
    expect(importFailure(file, { track: 3 }).message).toBe('bad.mid: track 3 does not exist; the file has 1 tracks (0..0)');
    expect(importFailure(file, { track: 3 }).reason).toBe('part-missing');
    expect(importFailure(file, { channel: 16 }).reason).toBe('bad-option');
    expect(importFailure(file, { channel: 5 }).reason).toBe('part-missing');
    expect(importFailure(file, { channel: 5 }).message).toMatch(/has no notes in the requested channel 5 \(found track 0 channel 0: 3 notes\); choose another part, or leave/);
  });
});

describe('importMidi: MIDI details', () => {
  it('reads running status and treats note-on with velocity 0 as note-off (raw bytes)', () => {
    // Format 0, one track, 96 ticks per quarter (24 per step). 0x90 once, then running status throughout:
    // C4 on, C4 "on" velocity 0 after 48 ticks, E4 on, E4 velocity 0 after 72 ticks.
    const trackBytes = [0x00, 0x90, 60, 64, 48, 60, 0, 0, 64, 64, 72, 64, 0, 0x00, 0xff, 0x2f, 0x00];
    const bytes = new Uint8Array([
      ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 96],
      ...[0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, trackBytes.length],
      ...trackBytes,
    ]);
    expect(tokensOf(bytes, SHORT_OK)).toEqual([14, 1, 18, 1, 1]);
  });

  it('reads a repeated pitch written "next note-on before note-off" at the same tick as two notes', () => {
    const events: MidiEvent[] = [
      { deltaTime: 0, channel: 0, type: 'noteOn', noteNumber: 60, velocity: 90 },
      { deltaTime: 480, channel: 0, type: 'noteOn', noteNumber: 60, velocity: 90 },
      { deltaTime: 0, channel: 0, type: 'noteOff', noteNumber: 60, velocity: 0 },
      { deltaTime: 480, channel: 0, type: 'noteOff', noteNumber: 60, velocity: 0 },
      { deltaTime: 0, meta: true, type: 'endOfTrack' },
    ];
    expect(tokensOf(midiFile([events]))).toEqual([14, 1, 1, 1, 14, 1, 1, 1]);
  });

  it('ignores tempo and metre changes mid-file', () => {
    const plain = tokensOf(melodyFile(C_E_G));
    const changing = tokensOf(melodyFile(C_E_G, [tempoAt(0, 120), metreAt(0, 4, 4), tempoAt(600, 45), metreAt(960, 6, 8), tempoAt(1000, 200)]));
    expect(plain).toEqual(C_E_G_TOKENS);
    expect(changing).toEqual(C_E_G_TOKENS);
  });

  it('uses ticks per quarter: the same notes at 1024 ticks per quarter give the same steps', () => {
    const scaled = C_E_G.map(([pitch, start, end]): NoteSpec => [pitch, (start * 1024) / 480, (end * 1024) / 480]);
    expect(tokensOf(midiFile([track(scaled)], 1, 1024))).toEqual(C_E_G_TOKENS);
  });

  it('rejects SMPTE time division with a message saying what to do', () => {
    const bytes = melodyFile(C_E_G);
    bytes[12] = 0xe7; // -25 frames per second
    bytes[13] = 40; // 40 ticks per frame
    const failure = importFailure(bytes);
    expect(failure.reason).toBe('unsupported');
    expect(failure.message).toMatch(/bad\.mid: .*SMPTE \(25 frames per second\).*re-save/);
  });
});

describe('importMidi: timing', () => {
  it('keeps the highest note of a chord, also when onsets differ by a few ticks', () => {
    const result = importMidi(
      melodyFile([
        [60, 0, 480],
        [64, 0, 480],
        [67, 5, 480], // same step as the others after rounding
        [62, 480, 960],
        [65, 484, 960],
      ]),
      SHORT_OK,
    );
    expect([...result.tokens]).toEqual([21, 1, 1, 1, 19, 1, 1, 1]);
    expect(result.chordNotesDropped).toBe(3);
    expect(result.noteCount).toBe(5);
  });

  it('snaps onsets and offsets a few ticks off the grid to the nearest step', () => {
    const sloppy: NoteSpec[] = [
      [60, 3, 475],
      [64, 478, 955],
      [67, 962, 1925],
    ];
    expect(tokensOf(melodyFile(sloppy))).toEqual(C_E_G_TOKENS);
  });

  it('gives a note shorter than a step one step', () => {
    // C4 for 30 ticks (a quarter step), D4 at step 4, E4 from step 8 for 40 ticks (rounds to zero steps).
    const tokens = tokensOf(
      melodyFile([
        [60, 0, 30],
        [62, 480, 960],
        [64, 960, 1000],
      ]),
      { transpose: false },
    );
    expect(tokens).toEqual([14, 0, 1, 1, 16, 1, 1, 1, 18]);
  });

  it('cuts a note at the next onset when they overlap', () => {
    const result = importMidi(
      melodyFile([
        [60, 0, 960],
        [64, 480, 1440],
      ]),
    );
    expect([...result.tokens]).toEqual([14, 1, 1, 1, 18, ...repeat(1, 7)]);
    expect(result.notesCut).toBe(1);
  });

  it('drops leading silence before the first note', () => {
    const late = C_E_G.map(([pitch, start, end]): NoteSpec => [pitch, start + 1920, end + 1920]);
    expect(tokensOf(melodyFile(late))).toEqual(C_E_G_TOKENS);
  });

  it('keeps a short trailing rest up to the end of track, drops a long one', () => {
    const endAt = (tick: number) => [{ tick, event: { deltaTime: 0, type: 'text' as const, meta: true as const, text: 'end' } }];
    const shortRest = melodyFile(C_E_G, endAt(1920 + 4 * 120));
    expect(tokensOf(shortRest)).toEqual([...C_E_G_TOKENS, 0, 1, 1, 1]);
    expect(tokensOf(shortRest, { maxTrailingRestSteps: 0 })).toEqual(C_E_G_TOKENS);
    expect(tokensOf(melodyFile(C_E_G, endAt(1920 + 40 * 120)))).toEqual(C_E_G_TOKENS);
  });
});

describe('importMidi: pitch', () => {
  it('transposes a D major scale down two semitones to C major', () => {
    const dMajor = [62, 64, 66, 67, 69, 71, 73, 74].map((pitch, i): NoteSpec => [pitch, i * 240, (i + 1) * 240]);
    const result = importMidi(melodyFile(dMajor));
    expect(result.transposition).toBe(-2);
    expect(result.octaveShift).toBe(0);
    expect([...result.tokens]).toEqual([14, 1, 16, 1, 18, 1, 19, 1, 21, 1, 23, 1, 25, 1, 26, 1]);
  });

  it('note-count rule: breaks a transposition tie toward the downward shift (F# → F, not G)', () => {
    const result = importMidi(melodyFile([[66, 0, 960]]), { transposeBy: 'note-count' });
    expect(result.transposition).toBe(-1);
    expect([...result.tokens]).toEqual([19, ...repeat(1, 7)]);
  });

  it('note-count rule: weights notes by their length in steps when choosing the transposition', () => {
    // C4 and D4 for one step each, then C#4 for 8. Shift 0 puts C and D in key (2 steps); shift −1 puts
    // B and C in key (1 + 8 = 9 steps). Counting notes would tie at 2 and keep 0; weighting by steps picks −1.
    const result = importMidi(
      melodyFile([
        [60, 0, 120],
        [62, 120, 240],
        [61, 240, 1200],
      ]),
      { transposeBy: 'note-count' },
    );
    expect(result.transposition).toBe(-1);
    expect([...result.tokens]).toEqual([13, 15, 14, ...repeat(1, 7)]);
  });

  it('shifts a melody that is too high down by whole octaves to centre it', () => {
    // C7, E7, G7: range centre 99.5; three octaves down gives 63.5, the nearest to 65.5.
    const high: NoteSpec[] = C_E_G.map(([pitch, start, end]) => [pitch + 36, start, end]);
    const result = importMidi(melodyFile(high));
    expect(result.octaveShift).toBe(-3);
    expect([...result.tokens]).toEqual(C_E_G_TOKENS);
  });

  it('folds notes still outside 48..83 after centring by octaves', () => {
    // C2 (36) and C6 (84): range centre 60, best left where it is; then 36 → 48 and 84 → 72.
    const result = importMidi(
      melodyFile([
        [36, 0, 480],
        [84, 480, 960],
      ]),
    );
    expect(result.octaveShift).toBe(0);
    expect(result.notesFolded).toBe(2);
    expect([...result.tokens]).toEqual([2, 1, 1, 1, 26, 1, 1, 1]);
    expect(result.warnings.join()).toMatch(/2 notes outside MIDI 48\.\.83 folded/);
  });

  it('skips transposition and centring when asked', () => {
    const result = importMidi(melodyFile([[66, 0, 960]]), { transpose: false, centre: false });
    expect([...result.tokens]).toEqual([20, ...repeat(1, 7)]);
  });
});

describe('importMidi: files with no melody', () => {
  it('rejects bytes that are not MIDI', () => {
    const failure = importFailure(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]));
    expect(failure.reason).toBe('unreadable');
    expect(failure.message).toMatch(/^bad\.mid: .*'MThd'/);
  });

  it('rejects a truncated file', () => {
    const bytes = melodyFile(C_E_G);
    const failure = importFailure(bytes.subarray(0, bytes.length - 5));
    expect(failure.reason).toBe('unreadable');
    expect(failure.message).toMatch(/truncated/);
  });

  it('rejects a file with no notes', () => {
    expect(importFailure(midiFile([track([], [tempoAt(0, 120)])])).reason).toBe('no-notes');
  });

  it('rejects a melody shorter than minSteps (default 8)', () => {
    const failure = importFailure(melodyFile([[60, 0, 480]]));
    expect(failure.reason).toBe('too-short');
    expect(failure.message).toBe('bad.mid: melody is 4 steps long, below the minimum of 8 (lower minSteps to keep it)');
    expect(importMidi(melodyFile([[60, 0, 480]]), { minSteps: 4 }).tokens.length).toBe(4);
  });
});

describe('import details found in review', () => {
  it('a zero-length note (on and off at the same tick) lasts one step, then a rest', () => {
    const bytes = melodyFile([[60, 0, 120], [62, 480, 480], [64, 1440, 1560]]);
    expect(Array.from(importMidi(bytes).tokens)).toEqual([14, 0, 1, 1, 16, 0, 1, 1, 1, 1, 1, 1, 18]);
  });

  it('a repeated pitch written on-then-off at one tick is still two notes', () => {
    // the first note's off and the second note's on share tick 240; the file writes the on first
    const bytes = melodyFile([[62, 0, 240], [62, 240, 480], [64, 960, 1080]]);
    expect(Array.from(importMidi(bytes, { transpose: false }).tokens)).toEqual([16, 1, 16, 1, 0, 1, 1, 1, 18]);
  });

  it('a melody already inside MIDI 48..83 keeps its octave with default options (export → import round trip)', () => {
    const low = [2, 1, 4, 1, 6, 1, 7, 1, 9, 1, 1, 1, 7, 1, 4, 1, 2];
    expect(Array.from(importMidi(exportMidi(low)).tokens)).toEqual(low);
    const high = [26, 1, 28, 1, 30, 31, 33, 1, 35, 1, 37, 1, 35, 33, 31, 1];
    expect(Array.from(importMidi(exportMidi(high)).tokens)).toEqual(high);
  });

  it('a melody partly outside the range is still centred, then folded', () => {
    const bytes = melodyFile([[36, 0, 240], [40, 240, 480], [43, 480, 720], [48, 720, 960], [43, 960, 1200]]);
    const result = importMidi(bytes);
    expect(result.octaveShift).toBe(2);
    expect(Math.min(...result.tokens.filter((t) => t >= 2))).toBeGreaterThanOrEqual(2);
  });
});

describe('importMidi: messages print no control bytes', () => {
  it('escapes control characters of the file name in the message, keeping the name as given in fileName', () => {
    const name = 'tune\u001b]0;owned\u0007\n.mid';
    const failure = importFailure(new Uint8Array(20), { name });
    expect(failure.fileName).toBe(name);
    expect(failure.message).toBe("tune\\x1b]0;owned\\x07\\x0a.mid: not a readable MIDI file: does not start with a MIDI header chunk ('MThd'); is it a Standard MIDI File?");
    expect(failure.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('lists at most five parts when none is usable, then how many more', () => {
    const drumsOnly = midiFile([track(Array.from({ length: 8 }, (_, i): NoteSpec => [36, i * 120, i * 120 + 60, 9])), ...Array.from({ length: 7 }, () => track([[38, 0, 60, 9]]))]);
    const failure = importFailure(drumsOnly);
    expect(failure.reason).toBe('no-notes');
    expect(failure.detail).toMatch(/^has no notes in a usable part \(found track 0 channel 9: 8 notes; .*track 4 channel 9: 1 notes; 3 more parts\); choose one/);
  });
});
