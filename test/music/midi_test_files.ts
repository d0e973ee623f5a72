/**
 * Builders for the hand-made MIDI files the music tests import: notes and meta events given in absolute
 * ticks, turned into midi-file event lists and written with midi-file's writeMidi.
 */

import { writeMidi, type MidiEvent } from 'midi-file';
import { NO_EVENT, NOTE_OFF, pitchToToken } from '../../src/music/encoding.js';
import type { Random } from '../../src/random.js';

/** [MIDI pitch, start tick, end tick, channel (default 0)]. */
export type NoteSpec = [pitch: number, start: number, end: number, channel?: number];

/** An event placed at an absolute tick; its deltaTime is filled in by `track`. */
export interface TimedEvent {
  tick: number;
  event: MidiEvent;
}

/** A track of the given notes (note-offs as 0x80) plus extra events, ending at the last event. */
export function track(notes: NoteSpec[], extra: TimedEvent[] = []): MidiEvent[] {
  const timed: TimedEvent[] = [...extra];
  for (const [pitch, start, end, channel = 0] of notes) {
    timed.push({ tick: start, event: { deltaTime: 0, channel, type: 'noteOn', noteNumber: pitch, velocity: 90 } });
    timed.push({ tick: end, event: { deltaTime: 0, channel, type: 'noteOff', noteNumber: pitch, velocity: 0 } });
  }
  timed.sort((a, b) => a.tick - b.tick);
  const last = timed.length > 0 ? timed[timed.length - 1].tick : 0;
  timed.push({ tick: last, event: { deltaTime: 0, meta: true, type: 'endOfTrack' } });
  let previous = 0;
  return timed.map(({ tick, event }) => {
    const withDelta = { ...event, deltaTime: tick - previous };
    previous = tick;
    return withDelta;
  });
}

/** A whole file from tracks. */
export function midiFile(tracks: MidiEvent[][], format: 0 | 1 = 1, ticksPerBeat = 480): Uint8Array {
  return Uint8Array.from(writeMidi({ header: { format, numTracks: tracks.length, ticksPerBeat }, tracks }));
}

/** A format-1 file with one melody track at 480 ticks per quarter (120 ticks per 16th step). */
export function melodyFile(notes: NoteSpec[], extra: TimedEvent[] = []): Uint8Array {
  return midiFile([track(notes, extra)]);
}

export function tempoAt(tick: number, qpm: number): TimedEvent {
  return { tick, event: { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: Math.round(60_000_000 / qpm) } };
}

export function metreAt(tick: number, numerator: number, denominator: number): TimedEvent {
  return { tick, event: { deltaTime: 0, meta: true, type: 'timeSignature', numerator, denominator, metronome: 24, thirtyseconds: 8 } };
}

/** `count` copies of `token`, for writing expected token sequences. */
export function repeat(token: number, count: number): number[] {
  return new Array<number>(count).fill(token);
}

/**
 * A format-0 file of about `byteCount` bytes at 120 ticks per quarter (30 per step), as dense as MIDI
 * gets: one note-on after another under running status (3 bytes each), none ended by a note-off, pitches
 * cycling through 40..89. Each group of `notesPerStep` notes shares a step (they are chords), the next
 * group starts one step later.
 */
export function denseNoteFile(byteCount: number, notesPerStep: number): Uint8Array {
  const notes = Math.floor((byteCount - 30) / 3);
  const trackLength = 4 + 3 * (notes - 1) + 4;
  const bytes = new Uint8Array(22 + trackLength);
  bytes.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 120]);
  bytes.set([0x4d, 0x54, 0x72, 0x6b, (trackLength >>> 24) & 0xff, (trackLength >>> 16) & 0xff, (trackLength >>> 8) & 0xff, trackLength & 0xff], 14);
  let p = 22;
  bytes.set([0x00, 0x90, 40, 90], p);
  p += 4;
  for (let i = 1; i < notes; i++) {
    bytes[p++] = i % notesPerStep === 0 ? 30 : 0;
    bytes[p++] = 40 + ((i * 7) % 50);
    bytes[p++] = 90;
  }
  bytes.set([0x00, 0xff, 0x2f, 0x00], p);
  return bytes;
}

/** A format-1 file of about `byteCount` bytes made of one-note tracks (12 bytes each: chunk header, delta, note-on), channels cycling. */
export function manyTinyTracksFile(byteCount: number): Uint8Array {
  const tracks = Math.floor((byteCount - 14) / 12);
  const bytes = new Uint8Array(14 + 12 * tracks);
  bytes.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, (tracks >>> 8) & 0xff, tracks & 0xff, 0, 120]);
  for (let t = 0; t < tracks; t++) bytes.set([0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 4, 0x00, 0x90 | t % 16, 40 + (t % 40), 90], 14 + 12 * t);
  return bytes;
}

/** A format-1 file of `tracks` tracks (at most 65,535), each with one note-on on every channel: 16 parts per track, 4.5 bytes each. */
export function manyPartsFile(tracks: number): Uint8Array {
  const trackBytes = 8 + 4 * 16;
  const bytes = new Uint8Array(14 + trackBytes * tracks);
  bytes.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, (tracks >>> 8) & 0xff, tracks & 0xff, 0, 120]);
  for (let t = 0; t < tracks; t++) {
    const at = 14 + trackBytes * t;
    bytes.set([0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 4 * 16], at);
    for (let channel = 0; channel < 16; channel++) bytes.set([0x00, 0x90 | channel, 40 + (t % 40), 90], at + 8 + 4 * channel);
  }
  return bytes;
}

/** A format-0 file of about `byteCount` bytes: one key-signature meta event after another (6 bytes each), then one note. */
export function manyKeySignaturesFile(byteCount: number): Uint8Array {
  const events = Math.floor((byteCount - 30) / 6);
  const trackLength = 6 * events + 8;
  const bytes = new Uint8Array(22 + trackLength);
  bytes.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 120]);
  bytes.set([0x4d, 0x54, 0x72, 0x6b, (trackLength >>> 24) & 0xff, (trackLength >>> 16) & 0xff, (trackLength >>> 8) & 0xff, trackLength & 0xff], 14);
  for (let i = 0; i < events; i++) bytes.set([0x01, 0xff, 0x59, 0x02, (i % 15) - 7, i % 2], 22 + 6 * i);
  bytes.set([0x00, 0x90, 60, 90, 0x00, 0xff, 0x2f, 0x00], 22 + 6 * events);
  return bytes;
}

/**
 * A random melody in the canonical form: it starts with a note and writes NOTE_OFF only while a note
 * sounds. Notes are any class 2..37, or drawn from `pitches` (MIDI numbers) when given.
 */
export function randomMelody(random: Random, length: number, pitches?: readonly number[]): number[] {
  const note = () => (pitches ? pitchToToken(pitches[random.int(pitches.length)]) : 2 + random.int(36));
  const tokens = [note()];
  let sounding = true;
  while (tokens.length < length) {
    const r = random.float();
    if (r < 0.3) {
      tokens.push(note());
      sounding = true;
    } else if (r < 0.4 && sounding) {
      tokens.push(NOTE_OFF);
      sounding = false;
    } else {
      tokens.push(NO_EVENT);
    }
  }
  return tokens;
}
