/**
 * The MIDI family: a seeded MIDI mutation fuzzer for importMidi (test/fuzz/runner.ts runs it, in the suite
 * through test/music/midi_fuzz.test.ts and in `npm run fuzz`).
 *
 * Inputs are seed files (Nottingham tunes, files written with midi-file's writer that use every kind of
 * event, and the regression files in test/fixtures/midi_repro) changed by 1..4 mutations drawn from
 * src/random.ts's Random: structural ones aimed at the seed's chunk lengths and variable-length
 * quantities (found by walking the valid seed), then byte flips, byte sets to values that matter in
 * MIDI, inserts, deletes, truncations, duplicated slices, repeated slices and splices with another seed.
 *
 * The check: importMidi returns tokens (each 0..37, length within minSteps..maxSteps, starting with a
 * note-on) or throws a MidiImportError whose message starts with the file name (with control characters
 * escaped) and holds no control characters.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MidiEvent } from 'midi-file';
import { NUM_CLASSES } from '../../../src/music/encoding.js';
import { exportMidi } from '../../../src/music/midi_export.js';
import { printableText } from '../../../src/music/midi_file.js';
import { DEFAULT_MAX_STEPS, MidiImportError, importMidi } from '../../../src/music/midi_import.js';
import { Random } from '../../../src/random.js';
import { midiFile, track, type NoteSpec } from '../../music/midi_test_files.js';
import { checkNamedError, concat, FuzzFailure, MAX_INPUT_BYTES, splice, type FuzzFamily, type FuzzInput } from '../runner.js';

export interface FuzzSeed {
  name: string;
  bytes: Uint8Array;
}

// ---- seeds ----

/**
 * The seed files: a few Nottingham tunes from different collections, the files in test/fixtures/midi_repro,
 * and files written here that use the events the Nottingham files lack.
 */
export function loadFuzzSeeds(repositoryRoot: string): FuzzSeed[] {
  const melodyDir = join(repositoryRoot, 'data', 'nottingham', 'melody');
  const nottingham = ['ashover1.mid', 'hpps10.mid', 'jigs100.mid', 'morris5.mid', 'reelsa-c12.mid', 'slip3.mid', 'waltzes20.mid', 'xmas4.mid'];
  const reproDir = join(repositoryRoot, 'test', 'fixtures', 'midi_repro');
  const repro = readdirSync(reproDir).filter((name) => name.endsWith('.mid')).sort();
  return [
    ...nottingham.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(melodyDir, name))) })),
    ...repro.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(reproDir, name))) })),
    ...writtenSeeds(),
  ];
}

/** Files written with midi-file's writer: every meta kind, sysex, all channel messages, running status, format 0 and 1. */
function writtenSeeds(): FuzzSeed[] {
  const melody: NoteSpec[] = [60, 62, 64, 65, 67, 69, 71, 72].map((pitch, i) => [pitch, i * 240, i * 240 + 200]);
  const bass: NoteSpec[] = [48, 43, 45, 41].map((pitch, i) => [pitch, i * 480, i * 480 + 470, 1]);
  const drums: NoteSpec[] = Array.from({ length: 8 }, (_, i) => [36 + (i % 3), i * 240, i * 240 + 60, 9]);
  const at = (tick: number, event: MidiEvent) => ({ tick, event });
  const conductorEvents = [
    at(0, { deltaTime: 0, meta: true, type: 'trackName', text: 'Conductor' }),
    at(0, { deltaTime: 0, meta: true, type: 'copyrightNotice', text: '(c) nobody' }),
    at(0, { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: 500000 }),
    at(0, { deltaTime: 0, meta: true, type: 'timeSignature', numerator: 6, denominator: 8, metronome: 24, thirtyseconds: 8 }),
    at(0, { deltaTime: 0, meta: true, type: 'keySignature', key: -3, scale: 1 }),
    at(0, { deltaTime: 0, meta: true, type: 'smpteOffset', frameRate: 25, hour: 0, min: 0, sec: 1, frame: 2, subFrame: 0 }),
    at(480, { deltaTime: 0, meta: true, type: 'marker', text: 'B part' }),
    at(960, { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: 400000 }),
  ];
  const melodyExtras = [
    at(0, { deltaTime: 0, meta: true, type: 'trackName', text: 'Melodie \u00e9' }),
    at(0, { deltaTime: 0, channel: 0, type: 'programChange', programNumber: 73 }),
    at(0, { deltaTime: 0, channel: 0, type: 'controller', controllerType: 7, value: 100 }),
    at(0, { deltaTime: 0, type: 'sysEx', data: [0x7e, 0x7f, 0x09, 0x01, 0xf7] }),
    at(120, { deltaTime: 0, meta: true, type: 'lyrics', text: 'la '.repeat(40) }),
    at(200, { deltaTime: 0, channel: 0, type: 'pitchBend', value: 300 }),
    at(300, { deltaTime: 0, channel: 0, type: 'channelAftertouch', amount: 20 }),
    at(400, { deltaTime: 0, channel: 0, type: 'noteAftertouch', noteNumber: 64, amount: 30 }),
    at(500, { deltaTime: 0, meta: true, type: 'sequencerSpecific', data: [0x00, 0x00, 0x41, 0x01] }),
    at(600, { deltaTime: 0, type: 'endSysEx', data: [0x43, 0x12] }),
  ];
  const format1 = midiFile([track([], conductorEvents), track(melody, melodyExtras), track(bass), track(drums)]);
  const format0Events = track([...melody, ...bass, ...drums], melodyExtras);
  return [
    { name: 'written-format1.mid', bytes: format1 },
    { name: 'written-format0.mid', bytes: midiFile([format0Events], 0, 96) },
    { name: 'written-running-status.mid', bytes: writeWithRunningStatus(format0Events) },
    { name: 'written-export.mid', bytes: exportMidi([14, 1, 16, 1, 18, 0, 21, 1, 1, 1, 23, 1, 26, 1, 1, 0, 2, 1, 37, 1]) },
  ];
}

function writeWithRunningStatus(events: MidiEvent[]): Uint8Array {
  // midiFile writes without running status; the same events with `running` set use it wherever possible.
  return midiFile([events.map((event) => ({ ...event, running: true }) as MidiEvent)], 0, 96);
}

// ---- the mutator ----

/** Where a valid seed keeps the values worth corrupting. */
interface Landmarks {
  /** Offsets of chunk length fields (4 bytes, big-endian). */
  chunkLengths: number[];
  /** Variable-length quantities: delta times and sysex/meta lengths. */
  vlqs: { offset: number; length: number }[];
}

/** Byte values that mean something in a MIDI file. */
const MEANINGFUL_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xb0, 0xc0, 0xe0, 0xf0, 0xf7, 0xf4, 0xff, 0x2f, 0x51, 0x58, 0x59, 0x03, 0x05];

export class MidiMutator {
  private readonly landmarks: Landmarks[];
  private index = 0;

  constructor(
    private readonly seeds: readonly FuzzSeed[],
    private readonly random: Random,
  ) {
    if (seeds.length === 0) throw new Error('MidiMutator: needs at least one seed file');
    this.landmarks = seeds.map((seed) => findLandmarks(seed.bytes));
  }

  next(): FuzzInput<Uint8Array> {
    const r = this.random;
    const seedIndex = r.int(this.seeds.length);
    const seed = this.seeds[seedIndex];
    let bytes: Uint8Array = Uint8Array.from(seed.bytes);
    const mutations: string[] = [];
    // A structural mutation first, while the seed's landmarks still point at what they name.
    if (r.float() < 0.5) {
      const landmarks = this.landmarks[seedIndex];
      bytes = r.float() < 0.4 || landmarks.vlqs.length === 0 ? this.corruptChunkLength(bytes, landmarks, mutations) : this.corruptVlq(bytes, landmarks, mutations);
    }
    // Mostly one byte mutation (deep into the parser), sometimes up to four (far from any valid file).
    const byteMutations = (mutations.length === 0 ? 1 : 0) + (r.float() < 0.3 ? r.int(4) : 0);
    for (let m = 0; m < byteMutations; m++) bytes = this.mutateBytes(bytes, mutations);
    const index = this.index++;
    const name = index % 8 === 7 ? `fuzz\u001b[2J\u0007-${index}.mid` : `fuzz-${index}.mid`;
    return { index, name, seedName: seed.name, mutations, value: bytes, size: bytes.length };
  }

  private corruptChunkLength(bytes: Uint8Array, landmarks: Landmarks, log: string[]): Uint8Array {
    const r = this.random;
    if (landmarks.chunkLengths.length === 0) return bytes;
    const at = landmarks.chunkLengths[r.int(landmarks.chunkLengths.length)];
    const view = new DataView(bytes.buffer);
    const old = view.getUint32(at);
    const choices = [0, 1, old - 1, old + 1, old + 1 + r.int(64), Math.max(0, old - 1 - r.int(64)), bytes.length, 0x7fffffff, 0x80000000, 0xffffffff, r.nextU32()];
    const value = choices[r.int(choices.length)] >>> 0;
    view.setUint32(at, value);
    log.push(`chunk length at ${at}: ${old} -> ${value}`);
    return bytes;
  }

  private corruptVlq(bytes: Uint8Array, landmarks: Landmarks, log: string[]): Uint8Array {
    const r = this.random;
    const { offset, length } = landmarks.vlqs[r.int(landmarks.vlqs.length)];
    const values = [0, 0x7f, 0x80, 0x3fff, 0x4000, 0x0fffffff, r.int(0x10000000), r.int(256)];
    let replacement = encodeVlq(values[r.int(values.length)]);
    const kind = r.int(3);
    if (kind === 1) {
      // Too long: 5 or 6 bytes with the continuation bit set on all but the last.
      const length = 5 + r.int(2);
      replacement = Array.from({ length }, (_, i) => (i + 1 < length ? 0x80 | r.int(128) : r.int(128)));
    } else if (kind === 2) {
      // Unterminated: every byte continues, into the next event.
      replacement = Array.from({ length: 1 + r.int(4) }, () => 0x80 | r.int(128));
    }
    log.push(`vlq at ${offset} (${length} bytes) -> [${replacement.map((b) => b.toString(16)).join(' ')}]`);
    return splice(bytes, offset, length, Uint8Array.from(replacement));
  }

  /**
   * One byte-level mutation. Those that change the size mostly also fix the enclosing chunk's length, so
   * the change reaches the event parser instead of stopping at the chunk check.
   */
  private mutateBytes(bytes: Uint8Array, log: string[]): Uint8Array {
    const before = bytes.length;
    const at = this.random.int(before + 1);
    const mutated = this.mutateBytesAt(bytes, at, log);
    if (mutated.length !== before && this.random.float() < 0.7 && adjustChunkLength(mutated, at, mutated.length - before)) {
      log.push('chunk length adjusted');
    }
    return mutated;
  }

  private mutateBytesAt(bytes: Uint8Array, at: number, log: string[]): Uint8Array {
    const r = this.random;
    const n = bytes.length;
    const growAllowed = n < MAX_INPUT_BYTES;
    const kind = n === 0 ? 2 : r.int(growAllowed ? 9 : 5);
    switch (kind) {
      case 0: {
        const p = Math.min(at, n - 1);
        const bit = r.int(8);
        bytes[p] ^= 1 << bit;
        log.push(`flip bit ${bit} at ${p}`);
        return bytes;
      }
      case 1: {
        const p = Math.min(at, n - 1);
        const value = MEANINGFUL_BYTES[r.int(MEANINGFUL_BYTES.length)];
        bytes[p] = value;
        log.push(`set ${p} = ${value.toString(16)}`);
        return bytes;
      }
      case 3: {
        const count = 1 + r.int(16);
        log.push(`delete ${count} at ${at}`);
        return splice(bytes, at, count, new Uint8Array(0));
      }
      case 4: {
        log.push(`truncate to ${at}`);
        return bytes.slice(0, at);
      }
      case 2:
      case 5: {
        const count = 1 + r.int(8);
        const inserted = Uint8Array.from({ length: count }, () => (r.float() < 0.5 ? MEANINGFUL_BYTES[r.int(MEANINGFUL_BYTES.length)] : r.int(256)));
        log.push(`insert ${count} at ${at}`);
        return splice(bytes, at, 0, inserted);
      }
      case 6: {
        const start = r.int(n);
        const slice = bytes.slice(start, start + 1 + r.int(64));
        log.push(`duplicate ${slice.length} from ${start} at ${at}`);
        return splice(bytes, at, 0, slice);
      }
      case 7: {
        // A slice repeated many times: long runs of events, large files.
        const start = r.int(n);
        const slice = bytes.slice(start, start + 1 + r.int(16));
        const times = Math.min(1 + r.int(2000), Math.floor((MAX_INPUT_BYTES - n) / slice.length));
        const repeated = new Uint8Array(slice.length * times);
        for (let t = 0; t < times; t++) repeated.set(slice, t * slice.length);
        log.push(`repeat ${slice.length} from ${start} ${times} times at ${at}`);
        return splice(bytes, at, 0, repeated);
      }
      default: {
        const other = this.seeds[r.int(this.seeds.length)];
        const from = r.int(other.bytes.length);
        log.push(`splice ${other.name} from ${from} at ${at}`);
        return concat(bytes.subarray(0, at), other.bytes.subarray(from, from + MAX_INPUT_BYTES - at));
      }
    }
  }
}

/**
 * Adds `delta` to the length of the chunk whose data holds byte `at` (after a mutation there), when the
 * chunk headers up to it are intact; returns whether it did.
 */
function adjustChunkLength(bytes: Uint8Array, at: number, delta: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset + 4);
    const end = offset + 8 + length;
    if (at < offset + 8) return false; // the mutation hit a chunk header
    if (at + Math.max(-delta, 0) <= end) {
      if (length + delta < 0) return false;
      view.setUint32(offset + 4, length + delta);
      return true;
    }
    offset = end;
  }
  return false;
}

/** Chunk length fields and variable-length quantities of a valid file; stops quietly at anything odd. */
function findLandmarks(bytes: Uint8Array): Landmarks {
  const landmarks: Landmarks = { chunkLengths: [], vlqs: [] };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const readVlq = (pos: number, end: number): { value: number; next: number } | null => {
    let value = 0;
    for (let i = pos; i < end && i < pos + 4; i++) {
      value = value * 128 + (bytes[i] & 0x7f);
      if ((bytes[i] & 0x80) === 0) {
        landmarks.vlqs.push({ offset: pos, length: i + 1 - pos });
        return { value, next: i + 1 };
      }
    }
    return null;
  };
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    landmarks.chunkLengths.push(offset + 4);
    const end = Math.min(bytes.length, offset + 8 + view.getUint32(offset + 4));
    if (String.fromCharCode(...bytes.subarray(offset, offset + 4)) === 'MTrk') {
      let pos = offset + 8;
      let running = 0;
      while (pos < end) {
        const delta = readVlq(pos, end);
        if (delta === null) break;
        pos = delta.next;
        let status = bytes[pos];
        if (status >= 0x80) pos++;
        else status = running;
        if (status === 0xff) {
          const length = readVlq(pos + 1, end);
          if (length === null) break;
          pos = length.next + length.value;
        } else if (status === 0xf0 || status === 0xf7) {
          const length = readVlq(pos, end);
          if (length === null) break;
          pos = length.next + length.value;
        } else if (status >= 0x80 && status < 0xf0) {
          running = status;
          pos += (status >> 4) === 0xc || (status >> 4) === 0xd ? 1 : 2;
        } else {
          break;
        }
      }
    }
    offset += 8 + view.getUint32(offset + 4);
  }
  return landmarks;
}

function encodeVlq(value: number): number[] {
  const out = [value & 0x7f];
  for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) out.unshift(0x80 | (v & 0x7f));
  return out;
}


// ---- the family ----

export const midiFamily: FuzzFamily<Uint8Array> = {
  name: 'midi',
  description: 'Standard MIDI Files (mutated Nottingham tunes and written files) through importMidi',
  accepted: 'tokens',
  inputs(random, repositoryRoot) {
    const mutator = new MidiMutator(loadFuzzSeeds(repositoryRoot), random);
    return () => mutator.next();
  },
  check(input) {
    try {
      const { tokens } = importMidi(input.value, { name: input.name });
      if (tokens.length < 8 || tokens.length > DEFAULT_MAX_STEPS) throw new FuzzFailure(input, `melody of ${tokens.length} steps, outside 8..${DEFAULT_MAX_STEPS}`);
      for (let i = 0; i < tokens.length; i++) {
        if (tokens[i] >= NUM_CLASSES) throw new FuzzFailure(input, `token ${tokens[i]} at step ${i} is not a class 0..${NUM_CLASSES - 1}`);
      }
      if (tokens[0] < 2) throw new FuzzFailure(input, `melody starts with token ${tokens[0]}, not a note-on`);
      return 'tokens';
    } catch (error) {
      checkNamedError(input, error, MidiImportError, `${printableText(input.name)}: `);
      return (error as MidiImportError).reason;
    }
  },
  files: (input) => ({ 'input.mid': input.value }),
};
