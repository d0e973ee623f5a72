/**
 * A Standard MIDI File reader that cannot hang: every length is checked against the end of its chunk and
 * of the file before anything is read or allocated, so any input is read in one pass, in time and memory
 * linear in its size (no recursion, no copying of event payloads). Pure: bytes in, a MidiFile out; no
 * Node modules, so it runs in browsers and Workers.
 *
 * What it reads (the SMF 1.0 layout):
 * - the header chunk: format (0, 1, 2, or any other number, reported as is), the declared track count,
 *   and the time division (ticks per quarter note, or SMPTE frames per second and ticks per frame);
 * - every MTrk chunk, in file order: delta times, running status, note-on/note-off (a note-on with
 *   velocity 0 is a note-off), the other channel messages (skipped by their length), sysex (F0/F7) and
 *   meta events (skipped by their length, except the ones below);
 * - meta events kept: track name and instrument name (first one of each per track), tempo, time
 *   signature, key signature, and short text and marker events (up to MAX_KEPT_TEXT_BYTES bytes, the
 *   first MAX_KEPT_TEXTS of the file: a writer may name a key or a section there, e.g. "D dorian"); end
 *   of track ends the track (bytes after it are ignored, with a warning).
 * Chunks of other types are skipped, as the SMF spec asks, with a warning.
 *
 * Leniencies, each also seen in files in the wild: running status survives meta and sysex events (the
 * spec says they cancel it; some writers rely on it surviving); a track without an end-of-track event
 * ends at its chunk end; the track count in the header need not match the MTrk chunks (all are read);
 * meta events with the wrong payload length are ignored and counted in a warning.
 *
 * Anything that cannot be read is a MidiFileError naming what is wrong and at which byte offset:
 * a variable-length quantity longer than 4 bytes, a length that runs past the end of its chunk, a chunk
 * that runs past the end of the file, a status byte that is not allowed in a file, a data byte with the
 * high bit set in a note event, a running-status data byte before any status byte.
 *
 * Memory: note events are stored structure-of-arrays (12 bytes each, at least 3 input bytes each);
 * the few meta events kept are small objects (each takes at least 6 input bytes); a track costs one
 * small object (at least 8 input bytes). So what is kept is a few bytes per input byte at most.
 */

/** Why a file cannot be read; `MidiFileError.problem`. */
export type MidiFileProblem =
  | 'not-smf' // no MThd header chunk at the start, or a header too short
  | 'chunk-past-end' // a chunk's declared length runs past the end of the file
  | 'long-vlq' // a variable-length quantity of more than 4 bytes (or cut off by the chunk end)
  | 'length-past-end' // a sysex or meta event's length runs past the end of its track chunk
  | 'event-past-end' // a channel message or meta type cut off by the end of its track chunk
  | 'bad-status' // a status byte that cannot appear in a file (F1..F6, F8..FE)
  | 'no-running-status' // a data byte where a status byte is needed, with no status to repeat
  | 'bad-data-byte' // a note number or velocity of 128 or more
  | 'tick-overflow'; // absolute time beyond 2^53 ticks

/** A file that cannot be read; the message says what is wrong and at which byte offset. */
export class MidiFileError extends Error {
  override readonly name = 'MidiFileError';
  constructor(
    readonly problem: MidiFileProblem,
    /** Offset in the file of the byte where reading failed. */
    readonly byteOffset: number,
    message: string,
  ) {
    super(message);
  }
}

export type TimeDivision =
  | { kind: 'ticks-per-quarter'; ticksPerQuarter: number }
  | { kind: 'smpte'; framesPerSecond: number; ticksPerFrame: number };

/**
 * Every note-on and note-off of the file, structure-of-arrays, in file order: tracks one after another
 * (see MidiTrack.firstNote), ticks non-decreasing within a track. Arrays may be longer than `count`.
 */
export interface NoteEvents {
  count: number;
  /** Absolute time in ticks from the start of the track. */
  tick: Float64Array;
  /** Channel index 0..15 (9 is drums, "channel 10" in MIDI manuals). */
  channel: Uint8Array;
  /** MIDI note number 0..127. */
  pitch: Uint8Array;
  /** Velocity 0..127 as written (a note-off keeps its release velocity). */
  velocity: Uint8Array;
  /** 1 for a note-on with velocity above 0; 0 for a note-off (0x8n, or 0x9n with velocity 0). */
  isOn: Uint8Array;
}

export interface MidiTrack {
  /** Index among the file's MTrk chunks, from 0. */
  index: number;
  /** Byte offset of the MTrk chunk in the file. */
  byteOffset: number;
  /** Text of the track's first track-name meta event (0x03), as UTF-8 or else ISO 8859-1; null when it has none. Raw file text: pass it through printableText before printing it. */
  name: string | null;
  /** Text of the track's first instrument-name meta event (0x04), decoded like `name`; null when it has none. */
  instrument: string | null;
  /** Tick of the track's last event (its end of track). */
  endTick: number;
  /** The track's note events are indices firstNote .. firstNote + noteCount - 1 of MidiFile.notes. */
  firstNote: number;
  noteCount: number;
}

export interface TempoChange {
  track: number;
  tick: number;
  microsecondsPerQuarter: number;
}

export interface TimeSignature {
  track: number;
  tick: number;
  numerator: number;
  /** A power of two (the file stores its exponent). */
  denominator: number;
  /** MIDI clocks per metronome click. */
  clocksPerClick: number;
  /** Notated 32nd notes per MIDI quarter note (normally 8). */
  thirtySecondsPerQuarter: number;
}

export interface KeySignature {
  track: number;
  tick: number;
  /** Sharps (positive) or flats (negative) in the signature, −7..7. */
  sharps: number;
  mode: 'major' | 'minor';
}

/** A short text (0x01) or marker (0x06) meta event. */
export interface TextEvent {
  track: number;
  tick: number;
  kind: 'text' | 'marker';
  /** Raw file text: pass it through printableText before printing it. */
  text: string;
}

export interface MidiFile {
  /** SMF format as stored: 0 (one track), 1 (simultaneous tracks), 2 (independent patterns), or other. */
  format: number;
  /** Track count stated in the header; `tracks` holds the MTrk chunks actually present. */
  declaredTrackCount: number;
  division: TimeDivision;
  tracks: MidiTrack[];
  notes: NoteEvents;
  tempos: TempoChange[];
  timeSignatures: TimeSignature[];
  keySignatures: KeySignature[];
  /** Text and marker events of at most MAX_KEPT_TEXT_BYTES bytes, the first MAX_KEPT_TEXTS of the file. */
  texts: TextEvent[];
  /** Things skipped or tolerated (unknown chunks, trailing bytes, malformed meta events), each kind once with a count. */
  warnings: string[];
}

/** Longest variable-length quantity the SMF spec allows: 4 bytes, values up to 0x0FFFFFFF. */
const MAX_VLQ_BYTES = 4;
const HEADER_LENGTH = 6;
const CHUNK_HEADER_BYTES = 8;
const META = 0xff;
const SYSEX = 0xf0;
const SYSEX_ESCAPE = 0xf7;
const META_TEXT = 0x01;
const META_TRACK_NAME = 0x03;
const META_INSTRUMENT_NAME = 0x04;
const META_MARKER = 0x06;
/** Text and marker events longer than this are not kept (a key or section name is a few words). */
export const MAX_KEPT_TEXT_BYTES = 64;
/** At most this many text and marker events are kept per file (memory stays bounded whatever the file). */
export const MAX_KEPT_TEXTS = 256;
const META_END_OF_TRACK = 0x2f;
const META_TEMPO = 0x51;
const META_TIME_SIGNATURE = 0x58;
const META_KEY_SIGNATURE = 0x59;
const NOTE_OFF_STATUS = 0x8;
const NOTE_ON_STATUS = 0x9;
const META_NAMES: Record<number, string> = { [META_TEMPO]: 'tempo', [META_TIME_SIGNATURE]: 'time signature', [META_KEY_SIGNATURE]: 'key signature' };

/** Reads a Standard MIDI File. Throws MidiFileError when the bytes cannot be read as one. */
export function readMidiFile(bytes: Uint8Array): MidiFile {
  const reader = new MidiFileReader(bytes);
  return reader.read();
}

/**
 * Text from a file or a path made safe to print: control characters (C0, DEL, C1), line and paragraph
 * separators and bidirectional-text controls are written as \xNN or \u{NNNN}. Everything else, including
 * non-Latin letters, is kept.
 */
export function printableText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** One pass over the bytes; `pos` only moves forward. */
class MidiFileReader {
  private readonly view: DataView;
  private readonly notes: NoteEventsBuilder;
  private readonly tracks: MidiTrack[] = [];
  private readonly tempos: TempoChange[] = [];
  private readonly timeSignatures: TimeSignature[] = [];
  private readonly keySignatures: KeySignature[] = [];
  private readonly texts: TextEvent[] = [];
  /** Malformed meta events ignored, by meta type. */
  private readonly malformedMeta = new Map<number, number>();
  private tracksWithBytesAfterEnd = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.notes = new NoteEventsBuilder(bytes.length);
  }

  read(): MidiFile {
    const { bytes, view } = this;
    if (bytes.length < CHUNK_HEADER_BYTES + HEADER_LENGTH || chunkId(bytes, 0) !== 'MThd') {
      throw new MidiFileError('not-smf', 0, `does not start with a MIDI header chunk ('MThd'); is it a Standard MIDI File?`);
    }
    const headerLength = view.getUint32(4);
    if (headerLength < HEADER_LENGTH) {
      throw new MidiFileError('not-smf', 4, `header chunk at byte 0 is ${headerLength} bytes long; a MIDI header has at least ${HEADER_LENGTH}`);
    }
    this.checkChunkFits(0, 'MThd', headerLength);
    const format = view.getUint16(8);
    const declaredTrackCount = view.getUint16(10);
    const division = readDivision(view.getUint16(12));

    const unknownChunks = { count: 0, first: '' };
    let offset = CHUNK_HEADER_BYTES + headerLength;
    while (offset + CHUNK_HEADER_BYTES <= bytes.length) {
      const length = view.getUint32(offset + 4);
      if (length > bytes.length - offset - CHUNK_HEADER_BYTES) this.checkChunkFits(offset, chunkId(bytes, offset), length);
      const dataStart = offset + CHUNK_HEADER_BYTES;
      if (isTrackChunk(bytes, offset)) this.readTrack(offset, dataStart, dataStart + length);
      else if (unknownChunks.count++ === 0) unknownChunks.first = `'${printableText(chunkId(bytes, offset))}' at byte ${offset}`;
      offset = dataStart + length;
    }

    const warnings: string[] = [];
    if (unknownChunks.count > 0) warnings.push(`skipped ${unknownChunks.count} chunks of unknown type (first: ${unknownChunks.first})`);
    if (offset < bytes.length) warnings.push(`ignored ${bytes.length - offset} trailing bytes after the last chunk`);
    if (this.tracks.length !== declaredTrackCount) {
      warnings.push(`header declares ${declaredTrackCount} tracks but the file holds ${this.tracks.length}; read the ${this.tracks.length} present`);
    }
    if (this.tracksWithBytesAfterEnd > 0) warnings.push(`ignored bytes after the end-of-track event in ${this.tracksWithBytesAfterEnd} tracks`);
    for (const [type, count] of this.malformedMeta) {
      warnings.push(`ignored ${count} ${META_NAMES[type]} meta events with a malformed payload`);
    }
    return {
      format,
      declaredTrackCount,
      division,
      tracks: this.tracks,
      notes: this.notes.build(),
      tempos: this.tempos,
      timeSignatures: this.timeSignatures,
      keySignatures: this.keySignatures,
      texts: this.texts,
      warnings,
    };
  }

  private checkChunkFits(offset: number, id: string, length: number): void {
    const remaining = this.bytes.length - offset - CHUNK_HEADER_BYTES;
    if (length > remaining) {
      throw new MidiFileError(
        'chunk-past-end',
        offset + 4,
        `chunk '${printableText(id)}' at byte ${offset} declares ${length} bytes but only ${remaining} remain (file truncated or corrupt)`,
      );
    }
  }

  /** One MTrk chunk: events from `start` up to its end-of-track event or `end`, whichever comes first. */
  private readTrack(chunkOffset: number, start: number, end: number): void {
    const { bytes } = this;
    const trackIndex = this.tracks.length;
    const firstNote = this.notes.count;
    let name: string | null = null;
    let instrument: string | null = null;
    let pos = start;
    let tick = 0;
    let runningStatus = 0;
    let endedByMeta = false;

    while (pos < end) {
      // Delta time (inlined VLQ: this loop runs once per event).
      const deltaStart = pos;
      let delta = 0;
      let byte: number;
      do {
        if (pos >= end || pos - deltaStart >= MAX_VLQ_BYTES) throw this.vlqError(deltaStart, end, `track ${trackIndex}: the delta time starting at byte ${deltaStart}`);
        byte = bytes[pos++];
        delta = delta * 128 + (byte & 0x7f);
      } while (byte & 0x80);
      tick += delta;
      if (tick > Number.MAX_SAFE_INTEGER) {
        throw new MidiFileError('tick-overflow', deltaStart, `track ${trackIndex}: time passes 2^53 ticks at byte ${deltaStart}`);
      }

      if (pos >= end) {
        throw new MidiFileError('event-past-end', pos, `track ${trackIndex}: delta time at byte ${deltaStart} is followed by no event before the chunk ends at byte ${end}`);
      }
      const eventStart = pos;
      let status = bytes[pos];
      if (status >= 0x80) {
        pos++;
      } else if (runningStatus === 0) {
        throw new MidiFileError('no-running-status', pos, `track ${trackIndex}: data byte 0x${hex(status)} at byte ${pos} where a status byte is needed (no earlier status to repeat)`);
      } else {
        status = runningStatus;
      }

      if (status === META) {
        if (pos >= end) throw new MidiFileError('event-past-end', eventStart, `track ${trackIndex}: meta event at byte ${eventStart} is cut off by the chunk end`);
        const type = bytes[pos++];
        const length = this.readLength(pos, end, trackIndex, `meta event 0x${hex(type)} at byte ${eventStart}`);
        pos += length.bytes;
        const payload = pos;
        pos += length.value;
        if (type === META_END_OF_TRACK) {
          endedByMeta = true;
          break;
        }
        if (type === META_TRACK_NAME) {
          if (name === null) name = decodeText(bytes.subarray(payload, payload + length.value));
        } else if (type === META_INSTRUMENT_NAME) {
          if (instrument === null) instrument = decodeText(bytes.subarray(payload, payload + length.value));
        } else if (type === META_TEXT || type === META_MARKER) {
          if (length.value <= MAX_KEPT_TEXT_BYTES && this.texts.length < MAX_KEPT_TEXTS) {
            this.texts.push({ track: trackIndex, tick, kind: type === META_TEXT ? 'text' : 'marker', text: decodeText(bytes.subarray(payload, payload + length.value)) });
          }
        } else if (type === META_TEMPO || type === META_TIME_SIGNATURE || type === META_KEY_SIGNATURE) {
          this.keepMeta(type, trackIndex, tick, payload, length.value);
        }
      } else if (status === SYSEX || status === SYSEX_ESCAPE) {
        const length = this.readLength(pos, end, trackIndex, `sysex event at byte ${eventStart}`);
        pos += length.bytes + length.value;
      } else if (status >= 0xf0) {
        throw new MidiFileError('bad-status', eventStart, `track ${trackIndex}: status byte 0x${hex(status)} at byte ${eventStart} cannot appear in a MIDI file`);
      } else {
        runningStatus = status;
        const kind = status >> 4;
        const dataBytes = kind === 0xc || kind === 0xd ? 1 : 2;
        if (pos + dataBytes > end) {
          throw new MidiFileError('event-past-end', eventStart, `track ${trackIndex}: channel message 0x${hex(status)} at byte ${eventStart} is cut off by the chunk end at byte ${end}`);
        }
        if (kind === NOTE_ON_STATUS || kind === NOTE_OFF_STATUS) {
          const pitch = bytes[pos];
          const velocity = bytes[pos + 1];
          if ((pitch | velocity) >= 0x80) {
            const at = pitch >= 0x80 ? pos : pos + 1;
            throw new MidiFileError('bad-data-byte', at, `track ${trackIndex}: note event at byte ${eventStart} has data byte 0x${hex(bytes[at])} at byte ${at}; note numbers and velocities are 0..127`);
          }
          this.notes.push(tick, status & 0x0f, pitch, velocity, kind === NOTE_ON_STATUS && velocity > 0 ? 1 : 0);
        }
        pos += dataBytes;
      }
    }
    if (endedByMeta && pos < end) this.tracksWithBytesAfterEnd++;
    this.tracks.push({ index: trackIndex, byteOffset: chunkOffset, name, instrument, endTick: tick, firstNote, noteCount: this.notes.count - firstNote });
  }

  /** A sysex or meta length: a VLQ, checked against the chunk end before anything is skipped or read. */
  private readLength(start: number, end: number, track: number, what: string): { value: number; bytes: number } {
    const { bytes } = this;
    let pos = start;
    let value = 0;
    let byte: number;
    do {
      if (pos >= end || pos - start >= MAX_VLQ_BYTES) throw this.vlqError(start, end, `track ${track}: the length of the ${what} (starting at byte ${start})`);
      byte = bytes[pos++];
      value = value * 128 + (byte & 0x7f);
    } while (byte & 0x80);
    if (value > end - pos) {
      throw new MidiFileError('length-past-end', start, `track ${track}: ${what} declares ${value} bytes but its chunk has ${end - pos} left (corrupt length)`);
    }
    return { value, bytes: pos - start };
  }

  private vlqError(start: number, end: number, subject: string): MidiFileError {
    const cutOff = end - start < MAX_VLQ_BYTES && this.allContinue(start, end);
    return new MidiFileError(
      'long-vlq',
      start,
      cutOff
        ? `${subject} is cut off by the chunk end at byte ${end}`
        : `${subject} is a variable-length quantity longer than ${MAX_VLQ_BYTES} bytes (corrupt file)`,
    );
  }

  private allContinue(start: number, end: number): boolean {
    for (let i = start; i < end; i++) if ((this.bytes[i] & 0x80) === 0) return false;
    return true;
  }

  private keepMeta(type: number, track: number, tick: number, payload: number, length: number): void {
    const b = this.bytes;
    if (type === META_TEMPO && length === 3) {
      const microsecondsPerQuarter = (b[payload] << 16) | (b[payload + 1] << 8) | b[payload + 2];
      if (microsecondsPerQuarter > 0) {
        this.tempos.push({ track, tick, microsecondsPerQuarter });
        return;
      }
    } else if (type === META_TIME_SIGNATURE && length === 4) {
      const [numerator, power, clocksPerClick, thirtySecondsPerQuarter] = [b[payload], b[payload + 1], b[payload + 2], b[payload + 3]];
      if (numerator > 0 && power <= 7) {
        this.timeSignatures.push({ track, tick, numerator, denominator: 2 ** power, clocksPerClick, thirtySecondsPerQuarter });
        return;
      }
    } else if (type === META_KEY_SIGNATURE && length === 2) {
      const sharps = (b[payload] << 24) >> 24; // signed byte
      const mode = b[payload + 1];
      if (sharps >= -7 && sharps <= 7 && mode <= 1) {
        this.keySignatures.push({ track, tick, sharps, mode: mode === 0 ? 'major' : 'minor' });
        return;
      }
    }
    this.malformedMeta.set(type, (this.malformedMeta.get(type) ?? 0) + 1);
  }
}

/**
 * Structure-of-arrays storage for note events, sized once for the most a file of this size can hold:
 * a note event takes at least 3 bytes of a track chunk (a 1-byte delta time and 2 data bytes under
 * running status), and the header and a track chunk header take 22 more.
 */
class NoteEventsBuilder {
  count = 0;
  private readonly tick: Float64Array;
  private readonly channel: Uint8Array;
  private readonly pitch: Uint8Array;
  private readonly velocity: Uint8Array;
  private readonly isOn: Uint8Array;

  constructor(fileBytes: number) {
    const capacity = Math.max(0, Math.floor((fileBytes - 22) / 3));
    this.tick = new Float64Array(capacity);
    this.channel = new Uint8Array(capacity);
    this.pitch = new Uint8Array(capacity);
    this.velocity = new Uint8Array(capacity);
    this.isOn = new Uint8Array(capacity);
  }

  push(tick: number, channel: number, pitch: number, velocity: number, isOn: number): void {
    const i = this.count++;
    this.tick[i] = tick;
    this.channel[i] = channel;
    this.pitch[i] = pitch;
    this.velocity[i] = velocity;
    this.isOn[i] = isOn;
  }

  build(): NoteEvents {
    const n = this.count;
    return {
      count: n,
      tick: this.tick.subarray(0, n),
      channel: this.channel.subarray(0, n),
      pitch: this.pitch.subarray(0, n),
      velocity: this.velocity.subarray(0, n),
      isOn: this.isOn.subarray(0, n),
    };
  }
}

function readDivision(word: number): TimeDivision {
  if (word & 0x8000) {
    // High byte: negative frames per second in two's complement (−24, −25, −29, −30); low byte: ticks per frame.
    return { kind: 'smpte', framesPerSecond: 0x100 - (word >> 8), ticksPerFrame: word & 0xff };
  }
  return { kind: 'ticks-per-quarter', ticksPerQuarter: word };
}

/** Whether the chunk at `offset` is 'MTrk' (compared as bytes: no string per chunk). */
function isTrackChunk(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset] === 0x4d && bytes[offset + 1] === 0x54 && bytes[offset + 2] === 0x72 && bytes[offset + 3] === 0x6b;
}

function chunkId(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a meta event: UTF-8 when the bytes are valid UTF-8, else one character per byte (ISO 8859-1, what older files use). */
function decodeText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let text = '';
    for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
    return text;
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0').toUpperCase();
}
