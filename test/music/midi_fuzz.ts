/**
 * A seeded MIDI mutation fuzzer for importMidi, shared by the test suite (test/music/midi_fuzz.test.ts,
 * 20,000 inputs) and `npm run fuzz` (test/music/run_midi_fuzz.ts, a million by default).
 *
 * Inputs are seed files (Nottingham tunes, files written with midi-file's writer that use every kind of
 * event, and the regression files in test/fixtures/midi_repro) changed by 1..4 mutations drawn from
 * src/random.ts's Random: structural ones aimed at the seed's chunk lengths and variable-length
 * quantities (found by walking the valid seed), then byte flips, byte sets to values that matter in
 * MIDI, inserts, deletes, truncations, duplicated slices, repeated slices and splices with another seed.
 *
 * checkInput states the contract every input must meet: importMidi returns tokens (each 0..37, length
 * within minSteps..maxSteps) or throws a MidiImportError whose message starts with the file name (with
 * control characters escaped) and holds no control characters; within the time and memory bounds.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MidiEvent } from 'midi-file';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { exportMidi } from '../../src/music/midi_export.js';
import { printableText } from '../../src/music/midi_file.js';
import { DEFAULT_MAX_STEPS, MidiImportError, importMidi, type MidiImportFailure } from '../../src/music/midi_import.js';
import { Random } from '../../src/random.js';
import { midiFile, track, type NoteSpec } from './midi_test_files.js';

export interface FuzzSeed {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzInput {
  /** Position in the stream of inputs (0-based); with the seed it reproduces the input. */
  index: number;
  /** The file name importMidi is given (some contain control characters on purpose). */
  name: string;
  seedName: string;
  mutations: string[];
  bytes: Uint8Array;
}

/** The bounds the contract allows (SPEC: 1 s and 64 MB of memory per MB of input). */
export const MS_PER_MB = 1000;
export const HEAP_BYTES_PER_INPUT_BYTE = 64;
/** Floors under the per-input bounds for tiny inputs: timer and scheduling noise, and fixed costs (result objects, a token array of up to maxSteps bytes). */
export const TIME_FLOOR_MS = 5;
export const HEAP_FLOOR_BYTES = 16 * 1024 * 1024;
/**
 * An input over its time bound is run again up to this many times and the fastest run counts: a slow
 * input is slow every time, while a garbage collection of the fuzzer's own garbage or a pause from other
 * processes on a shared machine hits one run.
 */
const TIME_RETRIES = 8;
/** Inputs at least this large are timed twice and have their time per MB and heap growth per byte tracked. */
export const LARGE_INPUT_BYTES = 64 * 1024;
/** Inputs grow by duplications and inserts; past this size no mutation adds bytes. */
const MAX_INPUT_BYTES = 512 * 1024;

export function timeBoundMs(byteLength: number): number {
  return Math.max(TIME_FLOOR_MS, (MS_PER_MB * byteLength) / 1e6);
}

export function heapBoundBytes(byteLength: number): number {
  return HEAP_FLOOR_BYTES + HEAP_BYTES_PER_INPUT_BYTE * byteLength;
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

  next(): FuzzInput {
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
    return { index, name, seedName: seed.name, mutations, bytes };
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

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + remove)));
}

function concat(...pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

// ---- the contract ----

/** What one input gave: tokens, or the reason importMidi named. */
export type FuzzOutcome = 'tokens' | MidiImportFailure;

export interface FuzzVerdict {
  outcome: FuzzOutcome;
  /** Fastest of the runs made (one, or more when the first was over the bound). */
  ms: number;
  /** Heap plus external (ArrayBuffer) memory growth across the call (see heapInUse). */
  heapBytes: number;
  /** Runs made: 1 (2 for a large input), more when a run was over the time bound. */
  runs: number;
  /** Slowest of the runs made. */
  slowestRunMs: number;
}

/** An input that broke the contract; the message says how, with everything needed to reproduce it. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
  constructor(
    readonly input: FuzzInput,
    problem: string,
  ) {
    super(`input ${input.index} (seed file ${input.seedName}; ${input.mutations.join('; ')}; ${input.bytes.length} bytes): ${problem}`);
  }
}

/** A full garbage collection (V8's gc function, reached without a command-line flag). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * V8 heap in use plus memory held by ArrayBuffers. The growth across a call counts what it allocated and
 * still held when it returned, less anything a garbage collection freed during the call.
 */
export function heapInUse(): number {
  const stats = getHeapStatistics() as ReturnType<typeof getHeapStatistics> & { external_memory?: number };
  return stats.used_heap_size + (stats.external_memory ?? 0);
}

/** Imports one input and checks the contract; throws FuzzFailure when it is broken. */
export function checkInput(input: FuzzInput): FuzzVerdict {
  let verdict = importOnce(input);
  const bound = timeBoundMs(input.bytes.length);
  // Large inputs always get a second run, so their time per MB is not set by one collection of the fuzzer's garbage.
  const minimumRuns = input.bytes.length >= LARGE_INPUT_BYTES ? 2 : 1;
  for (let retry = 0; retry < TIME_RETRIES && (verdict.ms > bound || verdict.runs < minimumRuns); retry++) {
    const again = importOnce(input);
    again.runs = verdict.runs + 1;
    again.slowestRunMs = Math.max(verdict.slowestRunMs, again.ms);
    if (again.ms < verdict.ms) verdict = again;
    else Object.assign(verdict, { runs: again.runs, slowestRunMs: again.slowestRunMs });
  }
  if (verdict.ms > bound) throw new FuzzFailure(input, `took at least ${verdict.ms.toFixed(1)} ms on each of ${TIME_RETRIES + 1} runs, over the bound of ${bound.toFixed(1)} ms`);
  const heapBound = heapBoundBytes(input.bytes.length);
  if (verdict.heapBytes > heapBound) throw new FuzzFailure(input, `heap grew by ${verdict.heapBytes} bytes, over the bound of ${heapBound}`);
  return verdict;
}

// C0, DEL and C1 control characters: no message may carry one.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

function importOnce(input: FuzzInput): FuzzVerdict {
  const heapBefore = heapInUse();
  const started = performance.now();
  let outcome: FuzzOutcome;
  try {
    const result = importMidi(input.bytes, { name: input.name });
    const ms = performance.now() - started;
    const heapBytes = heapInUse() - heapBefore;
    const { tokens } = result;
    if (tokens.length < 8 || tokens.length > DEFAULT_MAX_STEPS) throw new FuzzFailure(input, `melody of ${tokens.length} steps, outside 8..${DEFAULT_MAX_STEPS}`);
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i] >= NUM_CLASSES) throw new FuzzFailure(input, `token ${tokens[i]} at step ${i} is not a class 0..${NUM_CLASSES - 1}`);
    }
    if (tokens[0] < 2) throw new FuzzFailure(input, `melody starts with token ${tokens[0]}, not a note-on`);
    outcome = 'tokens';
    return { outcome, ms, heapBytes, runs: 1, slowestRunMs: ms };
  } catch (error) {
    const ms = performance.now() - started;
    const heapBytes = heapInUse() - heapBefore;
    if (error instanceof FuzzFailure) throw error;
    if (!(error instanceof MidiImportError)) {
      throw new FuzzFailure(input, `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} instead of a MidiImportError`);
    }
    if (!error.message.startsWith(`${printableText(input.name)}: `)) throw new FuzzFailure(input, `message does not start with the file name: ${printableText(error.message)}`);
    if (CONTROL_CHARACTER.test(error.message)) throw new FuzzFailure(input, `message holds a control character: ${printableText(error.message)}`);
    outcome = error.reason;
    return { outcome, ms, heapBytes, runs: 1, slowestRunMs: ms };
  }
}

// ---- a run ----

/** Inputs run before the heap is first measured for FuzzRunSummary.retainedHeapBytes. */
const WARM_UP_INPUTS = 2_000;

export interface FuzzRunSummary {
  seed: number;
  inputs: number;
  seconds: number;
  outcomes: Record<string, number>;
  /** The slowest input relative to its bound, and the largest heap growth. */
  worstTime: { ms: number; boundMs: number; bytes: number; index: number };
  /** Inputs timed again (first run over the bound, or a large input; see TIME_RETRIES), and the slowest single run seen. */
  retimedInputs: number;
  slowestSingleRunMs: number;
  worstHeap: { heapBytes: number; boundBytes: number; bytes: number; index: number };
  /** Among inputs of LARGE_INPUT_BYTES or more (where the floors do not dominate): the largest heap growth per input byte, and the slowest time per MB. */
  worstHeapPerByteOfLargeInputs: number;
  worstMsPerMbOfLargeInputs: number;
  largestInputBytes: number;
  /**
   * V8 heap in use after the run minus after its first WARM_UP_INPUTS inputs (each after a full garbage
   * collection): what the imports kept. The warm-up holds the compiled code and caches a first run builds.
   * ArrayBuffer memory is left out here: V8 frees it on a background thread, so right after a collection
   * it still counts buffers already dead.
   */
  retainedHeapBytes: number;
}

/** Runs `count` inputs from `seed`; throws FuzzFailure at the first broken contract. `onProgress` is called every `progressEvery` inputs. */
export function runFuzz(
  seeds: readonly FuzzSeed[],
  seed: number,
  count: number,
  onProgress?: (summary: FuzzRunSummary) => void,
  progressEvery = 100_000,
): FuzzRunSummary {
  const mutator = new MidiMutator(seeds, new Random(seed));
  let heapAfterWarmUp = 0;
  const started = performance.now();
  const summary: FuzzRunSummary = {
    seed,
    inputs: 0,
    seconds: 0,
    outcomes: {},
    worstTime: { ms: 0, boundMs: 1, bytes: 0, index: -1 },
    retimedInputs: 0,
    slowestSingleRunMs: 0,
    worstHeap: { heapBytes: 0, boundBytes: 1, bytes: 0, index: -1 },
    worstHeapPerByteOfLargeInputs: 0,
    worstMsPerMbOfLargeInputs: 0,
    largestInputBytes: 0,
    retainedHeapBytes: 0,
  };
  for (let i = 0; i < count; i++) {
    if (i === Math.min(WARM_UP_INPUTS, count - 1)) {
      collectGarbage();
      heapAfterWarmUp = getHeapStatistics().used_heap_size;
    }
    const input = mutator.next();
    const verdict = checkInput(input);
    const bytes = input.bytes.length;
    summary.inputs++;
    summary.outcomes[verdict.outcome] = (summary.outcomes[verdict.outcome] ?? 0) + 1;
    summary.largestInputBytes = Math.max(summary.largestInputBytes, bytes);
    if (verdict.runs > (bytes >= LARGE_INPUT_BYTES ? 2 : 1)) summary.retimedInputs++;
    summary.slowestSingleRunMs = Math.max(summary.slowestSingleRunMs, verdict.slowestRunMs);
    const boundMs = timeBoundMs(bytes);
    if (verdict.ms / boundMs > summary.worstTime.ms / summary.worstTime.boundMs) summary.worstTime = { ms: verdict.ms, boundMs, bytes, index: input.index };
    const boundBytes = heapBoundBytes(bytes);
    if (verdict.heapBytes > summary.worstHeap.heapBytes) summary.worstHeap = { heapBytes: verdict.heapBytes, boundBytes, bytes, index: input.index };
    if (bytes >= LARGE_INPUT_BYTES) {
      summary.worstHeapPerByteOfLargeInputs = Math.max(summary.worstHeapPerByteOfLargeInputs, verdict.heapBytes / bytes);
      summary.worstMsPerMbOfLargeInputs = Math.max(summary.worstMsPerMbOfLargeInputs, verdict.ms / (bytes / 1e6));
    }
    if (onProgress && summary.inputs % progressEvery === 0) {
      summary.seconds = (performance.now() - started) / 1000;
      onProgress(summary);
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  collectGarbage();
  summary.retainedHeapBytes = getHeapStatistics().used_heap_size - heapAfterWarmUp;
  return summary;
}

export function formatFuzzSummary(s: FuzzRunSummary): string {
  const outcomes = Object.entries(s.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  return [
    `seed ${s.seed}: ${s.inputs} inputs in ${s.seconds.toFixed(1)} s (${Math.round(s.inputs / Math.max(s.seconds, 1e-9))} inputs/s), largest input ${s.largestInputBytes} bytes`,
    `  outcomes: ${outcomes}`,
    `  slowest relative to its bound: input ${s.worstTime.index}, ${s.worstTime.ms.toFixed(2)} ms for ${s.worstTime.bytes} bytes (bound ${s.worstTime.boundMs.toFixed(1)} ms)`,
    `  timed again after a run over the bound: ${s.retimedInputs} inputs (each then within it); slowest single run ${s.slowestSingleRunMs.toFixed(1)} ms`,
    `  largest heap growth: input ${s.worstHeap.index}, ${(s.worstHeap.heapBytes / 1e6).toFixed(2)} MB for ${s.worstHeap.bytes} bytes (bound ${(s.worstHeap.boundBytes / 1e6).toFixed(1)} MB)`,
    `  inputs of ${LARGE_INPUT_BYTES} bytes or more: at most ${s.worstMsPerMbOfLargeInputs.toFixed(0)} ms per MB (bound ${MS_PER_MB}), at most ${s.worstHeapPerByteOfLargeInputs.toFixed(1)} bytes of heap growth per input byte (bound ${HEAP_BYTES_PER_INPUT_BYTE} plus the floor)`,
    `  heap retained after the run: ${(s.retainedHeapBytes / 1e6).toFixed(2)} MB`,
  ].join('\n');
}
