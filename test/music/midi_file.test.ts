import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMidi, type MidiEvent } from 'midi-file';
import { describe, expect, it } from 'vitest';
import { MAX_KEPT_TEXTS, MidiFileError, printableText, readMidiFile, type MidiFile, type MidiFileProblem } from '../../src/music/midi_file.js';
import { loadFuzzSeeds } from '../fuzz/families/midi.js';
import { midiFile, track } from './midi_test_files.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MELODY_DIR = `${ROOT}data/nottingham/melody/`;

/** A format-0 file at 96 ticks per quarter with one track holding exactly `trackBytes`. */
function rawFile(trackBytes: number[], header: Partial<{ format: number; tracks: number; division: number }> = {}): Uint8Array {
  const { format = 0, tracks = 1, division = 96 } = header;
  const n = trackBytes.length;
  return new Uint8Array([
    ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, format >> 8, format & 0xff, tracks >> 8, tracks & 0xff, division >> 8, division & 0xff],
    ...[0x4d, 0x54, 0x72, 0x6b, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff],
    ...trackBytes,
  ]);
}
const TRACK_START = 22; // byte offset of the first track's data in rawFile
const END_OF_TRACK = [0x00, 0xff, 0x2f, 0x00];

function readFailure(bytes: Uint8Array): MidiFileError {
  try {
    readMidiFile(bytes);
  } catch (error) {
    if (error instanceof MidiFileError) return error;
    throw error;
  }
  throw new Error('expected a MidiFileError');
}

function expectFailure(bytes: Uint8Array, problem: MidiFileProblem, byteOffset: number, message: RegExp): void {
  const failure = readFailure(bytes);
  expect(failure.message).toMatch(message);
  expect([failure.problem, failure.byteOffset]).toEqual([problem, byteOffset]);
}

describe('readMidiFile: named errors with byte offsets', () => {
  it('a delta time of more than 4 bytes', () => {
    const bytes = rawFile([0x81, 0x80, 0x80, 0x80, 0x00, 0x90, 60, 90, ...END_OF_TRACK]);
    expectFailure(bytes, 'long-vlq', TRACK_START, /^track 0: the delta time starting at byte 22 is a variable-length quantity longer than 4 bytes/);
  });

  it('a 4-byte delta time is read (the largest value, 0x0FFFFFFF)', () => {
    const midi = readMidiFile(rawFile([0xff, 0xff, 0xff, 0x7f, 0x90, 60, 90, ...END_OF_TRACK]));
    expect(midi.notes.tick[0]).toBe(0x0fffffff);
  });

  it('a sysex length of more than 4 bytes (the overflow that used to hang the importer)', () => {
    const bytes = rawFile([0x00, 0xf0, 0x8f, 0xff, 0xff, 0xff, 0x79, 0x00, ...END_OF_TRACK]);
    expectFailure(bytes, 'long-vlq', TRACK_START + 2, /the length of the sysex event at byte 23 \(starting at byte 24\) is a variable-length quantity longer than 4 bytes/);
  });

  it('a sysex or meta length past the end of its track chunk', () => {
    expectFailure(rawFile([0x00, 0xf0, 0x10, 0x01, 0x02, ...END_OF_TRACK]), 'length-past-end', TRACK_START + 2, /sysex event at byte 23 declares 16 bytes but its chunk has 6 left/);
    expectFailure(rawFile([0x00, 0xff, 0x05, 0x81, 0x00, 0x41]), 'length-past-end', TRACK_START + 3, /meta event 0x05 at byte 23 declares 128 bytes but its chunk has 1 left/);
  });

  it('a VLQ cut off by the end of its chunk', () => {
    expectFailure(rawFile([0x00, 0x90, 60, 90, 0x83]), 'long-vlq', TRACK_START + 4, /delta time starting at byte 26 is cut off by the chunk end at byte 27/);
  });

  it('a chunk that runs past the end of the file, with its declared and remaining sizes', () => {
    const whole = rawFile([0x00, 0x90, 60, 90, 0x60, 0x80, 60, 0, ...END_OF_TRACK]);
    expectFailure(whole.subarray(0, whole.length - 3), 'chunk-past-end', 18, /chunk 'MTrk' at byte 14 declares 12 bytes but only 9 remain/);
    const huge = rawFile([...END_OF_TRACK]);
    huge.set([0xff, 0xff, 0xff, 0xff], 18);
    expectFailure(huge, 'chunk-past-end', 18, /declares 4294967295 bytes but only 4 remain/);
  });

  it('not a MIDI file, or a header chunk shorter than 6 bytes', () => {
    expectFailure(new TextEncoder().encode('RIFF....WAVEfmt '), 'not-smf', 0, /does not start with a MIDI header chunk \('MThd'\)/);
    const short = rawFile(END_OF_TRACK);
    short[7] = 4;
    expectFailure(short, 'not-smf', 4, /header chunk at byte 0 is 4 bytes long; a MIDI header has at least 6/);
  });

  it('status bytes that cannot appear in a file, and data bytes with no status to repeat', () => {
    expectFailure(rawFile([0x00, 0xf4, 0x00, ...END_OF_TRACK]), 'bad-status', TRACK_START + 1, /status byte 0xF4 at byte 23 cannot appear in a MIDI file/);
    expectFailure(rawFile([0x00, 0x3c, 0x40, ...END_OF_TRACK]), 'no-running-status', TRACK_START + 1, /data byte 0x3C at byte 23 where a status byte is needed/);
  });

  it('a note number or velocity of 128 or more', () => {
    expectFailure(rawFile([0x00, 0x90, 0xbc, 0x40, ...END_OF_TRACK]), 'bad-data-byte', TRACK_START + 2, /note event at byte 23 has data byte 0xBC at byte 24/);
    expectFailure(rawFile([0x00, 0x90, 0x3c, 0x80, ...END_OF_TRACK]), 'bad-data-byte', TRACK_START + 3, /has data byte 0x80 at byte 25/);
  });

  it('a channel message or meta event cut off by the chunk end, and a delta time with no event', () => {
    expectFailure(rawFile([0x00, 0x90, 60]), 'event-past-end', TRACK_START + 1, /channel message 0x90 at byte 23 is cut off by the chunk end at byte 25/);
    expectFailure(rawFile([0x00, 0xff]), 'event-past-end', TRACK_START + 1, /meta event at byte 23 is cut off/);
    expectFailure(rawFile([0x00, 0x90, 60, 90, 0x10]), 'event-past-end', TRACK_START + 5, /delta time at byte 26 is followed by no event/);
  });

  it('escapes control characters of a chunk id in the message', () => {
    const bytes = rawFile(END_OF_TRACK);
    bytes.set([0x1b, 0x5b, 0x32, 0x4a], 14); // ESC [ 2 J (clear screen) as the chunk id
    bytes.set([0, 0, 1, 0], 18);
    const failure = readFailure(bytes);
    expect(failure.message).toContain(`chunk '\\x1b[2J' at byte 14`);
    expect(failure.message).not.toMatch(/\x1b/);
  });
});

describe('readMidiFile: what it reads', () => {
  it('running status, note-on velocity 0 as note-off, other channel messages skipped by their length', () => {
    const midi = readMidiFile(
      rawFile([
        ...[0x00, 0xc0, 5], // program change: 1 data byte
        ...[0x00, 0xb0, 7, 100, 0x00, 10, 64], // controller, then running status
        ...[0x00, 0xd0, 30, 0x00, 0xe0, 0, 64, 0x00, 0xa0, 60, 10], // channel pressure, pitch bend, poly pressure
        ...[0x00, 0x91, 60, 90, 0x30, 60, 0, 0x00, 64, 80], // note-on ch 1, running status off (velocity 0), on
        ...[0x18, 0x81, 64, 40], // note-off with release velocity
        ...END_OF_TRACK,
      ]),
    );
    const n = midi.notes;
    expect(n.count).toBe(4);
    expect([...n.tick]).toEqual([0, 48, 48, 72]);
    expect([...n.channel]).toEqual([1, 1, 1, 1]);
    expect([...n.pitch]).toEqual([60, 60, 64, 64]);
    expect([...n.velocity]).toEqual([90, 0, 80, 40]);
    expect([...n.isOn]).toEqual([1, 0, 1, 0]);
    expect(midi.tracks).toEqual([{ index: 0, byteOffset: 14, name: null, instrument: null, endTick: 72, firstNote: 0, noteCount: 4 }]);
  });

  it('keeps running status across meta and sysex events (some writers rely on it)', () => {
    const midi = readMidiFile(rawFile([0x00, 0x90, 60, 90, 0x00, 0xff, 0x01, 0x01, 0x41, 0x00, 0xf0, 0x01, 0xf7, 0x10, 62, 90, ...END_OF_TRACK]));
    expect([...midi.notes.pitch]).toEqual([60, 62]);
  });

  it('tempo, time signature, key signature and the first track name, with track and tick', () => {
    const name = [...new TextEncoder().encode('Fiddle \u00e9')];
    const midi = readMidiFile(
      rawFile([
        ...[0x00, 0xff, 0x03, name.length, ...name],
        ...[0x00, 0xff, 0x03, 0x01, 0x58], // a second name: ignored
        ...[0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20], // 500,000 µs per quarter
        ...[0x00, 0xff, 0x58, 0x04, 6, 3, 36, 8], // 6/8
        ...[0x60, 0xff, 0x59, 0x02, 0xfd, 1], // 3 flats, minor, at tick 96
        ...[0x00, 0xff, 0x59, 0x02, 2, 0], // 2 sharps, major
        ...END_OF_TRACK,
      ]),
    );
    expect(midi.tracks[0].name).toBe('Fiddle \u00e9'); // UTF-8; midi-file's writer uses one byte per character (below)
    expect(midi.tempos).toEqual([{ track: 0, tick: 0, microsecondsPerQuarter: 500000 }]);
    expect(midi.timeSignatures).toEqual([{ track: 0, tick: 0, numerator: 6, denominator: 8, clocksPerClick: 36, thirtySecondsPerQuarter: 8 }]);
    expect(midi.keySignatures).toEqual([
      { track: 0, tick: 96, sharps: -3, mode: 'minor' },
      { track: 0, tick: 96, sharps: 2, mode: 'major' },
    ]);
    expect(midi.warnings).toEqual([]);
  });

  it('the first instrument name of each track, and short text and marker events with their tick', () => {
    const text = (type: number, s: string) => [type, s.length, ...[...s].map((c) => c.charCodeAt(0))];
    const long = 'x'.repeat(65);
    const midi = readMidiFile(
      rawFile([
        ...[0x00, 0xff, ...text(0x04, 'Lead Vocal')],
        ...[0x00, 0xff, ...text(0x04, 'Piano')], // a second instrument name: ignored
        ...[0x00, 0xff, ...text(0x01, 'D dorian')],
        ...[0x10, 0xff, ...text(0x06, 'Verse')],
        ...[0x00, 0xff, ...text(0x01, long)], // longer than MAX_KEPT_TEXT_BYTES: not kept
        ...END_OF_TRACK,
      ]),
    );
    expect(midi.tracks[0].instrument).toBe('Lead Vocal');
    expect(midi.tracks[0].name).toBeNull();
    expect(midi.texts).toEqual([
      { track: 0, tick: 0, kind: 'text', text: 'D dorian' },
      { track: 0, tick: 16, kind: 'marker', text: 'Verse' },
    ]);
  });

  it('keeps at most MAX_KEPT_TEXTS text events however many the file holds', () => {
    const events: number[] = [];
    for (let i = 0; i < MAX_KEPT_TEXTS + 10; i++) events.push(0x00, 0xff, 0x01, 0x01, 0x41);
    expect(readMidiFile(rawFile([...events, ...END_OF_TRACK])).texts).toHaveLength(MAX_KEPT_TEXTS);
  });

  it('ignores malformed meta payloads, counting them in one warning per kind', () => {
    const midi = readMidiFile(
      rawFile([
        ...[0x00, 0xff, 0x51, 0x02, 0x07, 0xa1], // tempo of 2 bytes
        ...[0x00, 0xff, 0x51, 0x04, 0, 0, 0, 1], // tempo of 4 bytes
        ...[0x00, 0xff, 0x59, 0x02, 9, 0], // 9 sharps
        ...END_OF_TRACK,
      ]),
    );
    expect(midi.tempos).toEqual([]);
    expect(midi.keySignatures).toEqual([]);
    expect(midi.warnings).toEqual(['ignored 2 tempo meta events with a malformed payload', 'ignored 1 key signature meta events with a malformed payload']);
  });

  it('reads a meta event of 130 KB (the lyric file midi-file rejected) and a track without end of track', () => {
    const lyric = new Array<number>(130_000).fill(0x41);
    const midi = readMidiFile(rawFile([0x00, 0xff, 0x05, 0x87, 0xf7, 0x50, ...lyric, 0x00, 0x90, 60, 90, 0x60, 60, 0]));
    expect(midi.notes.count).toBe(2);
    expect(midi.tracks[0].endTick).toBe(96);
  });

  it('skips unknown chunks and trailing bytes, reads every MTrk, and says so', () => {
    const one = rawFile([0x00, 0x90, 60, 90, 0x60, 0x80, 60, 0, ...END_OF_TRACK]);
    const unknown = [0x58, 0x46, 0x49, 0x48, 0, 0, 0, 2, 0xaa, 0xbb];
    const bytes = new Uint8Array([...one, ...unknown, ...one.subarray(14), 0x00, 0x01]);
    const midi = readMidiFile(bytes);
    expect(midi.tracks.map((t) => [t.index, t.byteOffset, t.firstNote, t.noteCount])).toEqual([
      [0, 14, 0, 2],
      [1, 44, 2, 2],
    ]);
    expect(midi.warnings).toEqual([
      "skipped 1 chunks of unknown type (first: 'XFIH' at byte 34)",
      'ignored 2 trailing bytes after the last chunk',
      'header declares 1 tracks but the file holds 2; read the 2 present',
    ]);
  });

  it('reports bytes after the end-of-track event', () => {
    expect(readMidiFile(rawFile([...END_OF_TRACK, 0x00, 0x90, 60, 90])).warnings).toEqual(['ignored bytes after the end-of-track event in 1 tracks']);
  });

  it('reads the time division: ticks per quarter or SMPTE', () => {
    expect(readMidiFile(rawFile(END_OF_TRACK, { division: 1024 })).division).toEqual({ kind: 'ticks-per-quarter', ticksPerQuarter: 1024 });
    expect(readMidiFile(rawFile(END_OF_TRACK, { division: 0xe728 })).division).toEqual({ kind: 'smpte', framesPerSecond: 25, ticksPerFrame: 40 });
    expect(readMidiFile(rawFile(END_OF_TRACK, { format: 2 })).format).toBe(2);
  });
});

/** Our reading of a file in midi-file's terms, to compare with its parser on files it reads correctly. */
function asMidiFileEvents(midi: MidiFile) {
  return midi.tracks.map((t) => {
    const notes = [];
    for (let i = t.firstNote; i < t.firstNote + t.noteCount; i++) {
      notes.push([midi.notes.tick[i], midi.notes.isOn[i] ? 'noteOn' : 'noteOff', midi.notes.channel[i], midi.notes.pitch[i], midi.notes.velocity[i]]);
    }
    return {
      notes,
      name: t.name,
      endTick: t.endTick,
      tempos: midi.tempos.filter((e) => e.track === t.index).map((e) => [e.tick, e.microsecondsPerQuarter]),
      metres: midi.timeSignatures.filter((e) => e.track === t.index).map((e) => [e.tick, e.numerator, e.denominator]),
      keys: midi.keySignatures.filter((e) => e.track === t.index).map((e) => [e.tick, e.sharps, e.mode === 'minor' ? 1 : 0]),
    };
  });
}

function midiFileParserEvents(bytes: Uint8Array) {
  return parseMidi(bytes).tracks.map((events) => {
    let tick = 0;
    const timed = events.map((event) => ({ tick: (tick += event.deltaTime), event }));
    const of = <T extends MidiEvent['type']>(type: T) => timed.filter((e) => e.event.type === type) as { tick: number; event: Extract<MidiEvent, { type: T }> }[];
    return {
      notes: timed
        .filter((e) => e.event.type === 'noteOn' || e.event.type === 'noteOff')
        .map(({ tick: t, event }) => {
          const note = event as Extract<MidiEvent, { type: 'noteOn' }>;
          return [t, note.type, note.channel, note.noteNumber, note.velocity];
        }),
      name: of('trackName')[0]?.event.text ?? null,
      endTick: tick,
      tempos: of('setTempo').map((e) => [e.tick, e.event.microsecondsPerBeat]),
      metres: of('timeSignature').map((e) => [e.tick, e.event.numerator, e.event.denominator]),
      keys: of('keySignature').map((e) => [e.tick, e.event.key, e.event.scale]),
    };
  });
}

describe('readMidiFile agrees with midi-file on files both read', () => {
  it('all 1,034 Nottingham files: every note event, tempo, metre, key and track name', () => {
    const files = readdirSync(MELODY_DIR).filter((f) => f.endsWith('.mid'));
    expect(files.length).toBe(1034);
    let notes = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(MELODY_DIR + file));
      const ours = asMidiFileEvents(readMidiFile(bytes));
      expect(ours, file).toEqual(midiFileParserEvents(bytes));
      notes += ours.reduce((sum, t) => sum + t.notes.length, 0);
    }
    expect(notes).toBeGreaterThan(390_000); // note-ons and note-offs
  });

  it('the fuzzer seed files written with every kind of event, with and without running status', () => {
    const written = loadFuzzSeeds(ROOT).filter((seed) => seed.name.startsWith('written-'));
    expect(written.length).toBe(4);
    for (const seed of written) expect(asMidiFileEvents(readMidiFile(seed.bytes)), seed.name).toEqual(midiFileParserEvents(seed.bytes));
    const format1 = readMidiFile(written[0].bytes);
    expect(format1.tracks.map((t) => t.name)).toEqual(['Conductor', 'Melodie \u00e9', null, null]);
    expect(format1.keySignatures).toEqual([{ track: 0, tick: 0, sharps: -3, mode: 'minor' }]);
  });

  it('a file written by the test helpers with note-offs as 0x80', () => {
    const bytes = midiFile([track([[60, 0, 480], [64, 480, 960, 3]])]);
    expect(asMidiFileEvents(readMidiFile(bytes))).toEqual(midiFileParserEvents(bytes));
  });
});

describe('printableText', () => {
  it('escapes C0, DEL, C1, line separators and bidirectional controls; keeps letters of any script', () => {
    expect(printableText('a\u001b[31mb\u0007\n\t\u007f\u0085c')).toBe('a\\x1b[31mb\\x07\\x0a\\x09\\x7f\\x85c');
    expect(printableText('evil\u202etxt.mid\u2028')).toBe('evil\\u{202e}txt.mid\\u{2028}');
    expect(printableText('Gr\u00fc\u00dfe \u4e2d\u6587 \u00e9t\u00e9.mid')).toBe('Gr\u00fc\u00dfe \u4e2d\u6587 \u00e9t\u00e9.mid');
  });
});
