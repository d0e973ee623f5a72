/**
 * Standard MIDI File → melody tokens (SPEC §2, "Import"). Pure: bytes in, tokens and a record of every
 * decision out; no file system, so it runs in browsers and Workers.
 *
 * The pipeline, one small function per stage:
 *   read bytes → notes per (track, channel) part → pick the melody part → quantise to 16th steps →
 *   keep the highest note of each onset → cut overlaps → transpose to C major / A minor →
 *   centre by octaves in MIDI 48..83 → fold stragglers by octaves → encode as tokens.
 * The stages after reading (they work on notes in steps) are exported for other note sources (NoteSequence).
 *
 * Decisions where the SPEC leaves room (each one is also stated where it is made):
 * - Tracks and channels are numbered from 0, as stored in the file (drums are channel index 9,
 *   "channel 10" in MIDI manuals). A "part" is the notes of one channel within one track; by default the
 *   part with the most notes wins (ties: lower track, then lower channel), drum parts skipped.
 * - Transposition: among shifts −6..+5 the one with the most note steps in the C major pitch classes
 *   wins; ties go to the smaller |shift|, then to the negative (downward) shift.
 * - Octave centring: the octave shift that brings the centre of the min..max pitch range nearest to the
 *   centre of 48..83 (65.5); ties go to the smaller |shift|, then downward.
 * - The melody ends where its last note ends. No NOTE_OFF is appended after it, unless the file itself
 *   has silence after the last note up to the part's end of track and that silence is at most
 *   `maxTrailingRestSteps` (default one 4/4 bar); then the melody keeps it as NOTE_OFF + NO_EVENTs.
 *   This is what makes export → import return a composition that ends in a rest unchanged; longer
 *   trailing silence is padding (another track playing on) and is dropped.
 * - A melody shorter than `minSteps` (default 8 steps, half a bar) is "too short".
 */

import { parseMidi, type MidiData, type MidiEvent } from 'midi-file';
import { MAX_PITCH, MIN_PITCH, NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, pitchToToken } from './encoding.js';

/** Why a file yields no melody. */
export type MidiImportFailure = 'unreadable' | 'unsupported' | 'no-notes' | 'too-short' | 'too-long' | 'bad-option';

/** A file (or the options given for it) that cannot yield a melody; `reason` is machine-readable. */
export class MidiImportError extends Error {
  override readonly name = 'MidiImportError';
  constructor(
    readonly fileName: string,
    readonly reason: MidiImportFailure,
    /** The message without the file name. */
    readonly detail: string,
  ) {
    super(`${fileName}: ${detail}`);
  }
}

export interface ImportOptions {
  /** Name used in messages and results (usually the file name). Default "<midi>". */
  name?: string;
  /** Take the melody from this track index (0-based) only. Default: any track. */
  track?: number;
  /** Take the melody from this channel index (0..15; 9 = drums) only. Default: any channel but 9. */
  channel?: number;
  /** Transpose to C major / A minor (SPEC §2.3). Default true. */
  transpose?: boolean;
  /** Shift by octaves so the melody is centred in MIDI 48..83. Default true. Folding always happens. */
  centre?: boolean;
  /** Melodies shorter than this many steps are rejected as too short. Default 8. */
  minSteps?: number;
  /** Melodies longer than this many steps are rejected (guards against corrupt delta times). Default 65536. */
  maxSteps?: number;
  /** Silence after the last note, up to the end of track, is kept when at most this many steps. Default 16. */
  maxTrailingRestSteps?: number;
}

/** A track/channel part that was not used, and why. */
export interface SkippedPart {
  track: number;
  channel: number;
  noteCount: number;
  reason: string;
}

export interface ImportResult {
  name: string;
  /** The melody: classes 0..37, starting with a note-on. */
  tokens: Uint8Array;
  /** SMF format (0 or 1). */
  format: number;
  ticksPerQuarter: number;
  /** The part the melody came from. */
  track: number;
  channel: number;
  /** Notes read from the chosen part. */
  noteCount: number;
  /** Notes dropped because a higher note starts on the same step. */
  chordNotesDropped: number;
  /** Notes shortened because the next note starts before they end. */
  notesCut: number;
  /** Semitones applied to put the melody in C major / A minor (−6..+5). */
  transposition: number;
  /** Whole octaves applied after the transposition to centre the melody. */
  octaveShift: number;
  /** Notes still outside 48..83 after centring, moved by octaves into range. */
  notesFolded: number;
  skippedParts: SkippedPart[];
  warnings: string[];
}

/** A note in ticks or in steps, depending on the stage; `end` is exclusive. */
export interface TimedNote {
  pitch: number;
  start: number;
  end: number;
}

/** The notes of one channel in one track, in ticks. */
interface Part {
  track: number;
  channel: number;
  notes: TimedNote[];
  /** Tick of the track's last event (its end of track). */
  endTick: number;
}

const DRUM_CHANNEL = 9;
const C_MAJOR_PITCH_CLASSES: ReadonlySet<number> = new Set([0, 2, 4, 5, 7, 9, 11]);
/** Shifts in tie-break order: smaller |shift| first, negative before positive. */
const TRANSPOSITIONS_IN_PREFERENCE_ORDER = [0, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6];
const RANGE_CENTRE = (MIN_PITCH + MAX_PITCH) / 2;

/** Reads a Standard MIDI File and returns its melody as tokens, with every decision made on the way. */
export function importMidi(bytes: Uint8Array, options: ImportOptions = {}): ImportResult {
  const name = options.name ?? '<midi>';
  const warnings: string[] = [];
  const midi = readMidiData(bytes, name, warnings);
  const ticksPerQuarter = midi.header.ticksPerBeat as number;

  const parts = midi.tracks.flatMap((events, track) => extractParts(events, track, name));
  const { chosen, skippedParts } = choosePart(parts, midi.tracks.length, options, name);

  const ticksPerStep = ticksPerQuarter / STEPS_PER_QUARTER;
  const quantised = chosen.notes.map((note) => quantiseNote(note, ticksPerStep));
  const highest = keepHighestAtEachOnset(quantised);
  const cut = cutOverlaps(highest);
  const melodyEnd = chooseMelodyEnd(cut, Math.round(chosen.endTick / ticksPerStep), options.maxTrailingRestSteps ?? 16);

  const length = melodyEnd - cut[0].start;
  const minSteps = options.minSteps ?? 8;
  const maxSteps = options.maxSteps ?? 65536;
  if (length < minSteps) {
    throw new MidiImportError(name, 'too-short', `melody is ${length} steps long, below the minimum of ${minSteps} (lower minSteps to keep it)`);
  }
  if (length > maxSteps) {
    throw new MidiImportError(name, 'too-long', `melody is ${length} steps long, above the maximum of ${maxSteps} (corrupt delta times? raise maxSteps if the file is right)`);
  }

  const transposition = options.transpose === false ? 0 : chooseTransposition(cut);
  const transposed = cut.map((note) => ({ ...note, pitch: note.pitch + transposition }));
  const octaveShift = options.centre === false ? 0 : chooseOctaveShift(transposed);
  const centred = transposed.map((note) => ({ ...note, pitch: note.pitch + 12 * octaveShift }));
  const folded = centred.map((note) => ({ ...note, pitch: foldIntoRange(note.pitch) }));
  const notesFolded = folded.filter((note, i) => note.pitch !== centred[i].pitch).length;

  const chordNotesDropped = quantised.length - highest.length;
  const notesCut = cut.filter((note, i) => note.end !== highest[i].end).length;
  if (chordNotesDropped > 0) warnings.push(`${chordNotesDropped} notes dropped: a higher note starts on the same step`);
  if (notesFolded > 0) warnings.push(`${notesFolded} notes outside MIDI ${MIN_PITCH}..${MAX_PITCH} folded by octaves`);

  return {
    name,
    tokens: encodeNotes(folded, melodyEnd),
    format: midi.header.format,
    ticksPerQuarter,
    track: chosen.track,
    channel: chosen.channel,
    noteCount: chosen.notes.length,
    chordNotesDropped,
    notesCut,
    transposition,
    octaveShift,
    notesFolded,
    skippedParts,
    warnings,
  };
}

// ---- reading ----

/**
 * Checks the chunk structure, drops chunks other than MThd/MTrk (the SMF spec says to skip them),
 * parses with midi-file and checks the header. Every failure becomes a MidiImportError.
 */
function readMidiData(bytes: Uint8Array, name: string, warnings: string[]): MidiData {
  const keptChunks = listKnownChunks(bytes, name, warnings);
  let midi: MidiData;
  try {
    midi = parseMidi(keptChunks);
  } catch (error) {
    throw new MidiImportError(name, 'unreadable', `not a readable MIDI file (${String(error)})`);
  }
  const { format, ticksPerBeat, framesPerSecond } = midi.header;
  if (framesPerSecond !== undefined) {
    throw new MidiImportError(name, 'unsupported', `time division is SMPTE (${framesPerSecond} frames per second), not ticks per quarter note; re-save the file with metrical timing (ticks per quarter)`);
  }
  if (!Number.isInteger(ticksPerBeat) || (ticksPerBeat as number) <= 0) {
    throw new MidiImportError(name, 'unreadable', `ticks per quarter note is ${ticksPerBeat}; expected a positive integer`);
  }
  if (format !== 0 && format !== 1) {
    throw new MidiImportError(name, 'unsupported', `SMF format ${format} is not supported; save the file as format 0 or 1`);
  }
  return midi;
}

/** The file's bytes keeping only the header and track chunks, after checking every chunk fits. */
function listKnownChunks(bytes: Uint8Array, name: string, warnings: string[]): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 14 || chunkId(bytes, 0) !== 'MThd') {
    throw new MidiImportError(name, 'unreadable', `does not start with a MIDI header ('MThd'); is it a Standard MIDI File?`);
  }
  const kept: Uint8Array[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const id = chunkId(bytes, offset);
    const length = view.getUint32(offset + 4);
    const end = offset + 8 + length;
    if (end > bytes.length) {
      throw new MidiImportError(name, 'unreadable', `file is truncated: chunk '${id}' at byte ${offset} declares ${length} bytes but only ${bytes.length - offset - 8} remain`);
    }
    if (id === 'MThd' || id === 'MTrk') kept.push(bytes.subarray(offset, end));
    else warnings.push(`skipped unknown chunk '${id}' at byte ${offset}`);
    offset = end;
  }
  if (offset < bytes.length) warnings.push(`ignored ${bytes.length - offset} trailing bytes after the last chunk`);
  return concatBytes(kept);
}

function chunkId(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}

function concatBytes(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/**
 * The notes of one track, one part per channel that has notes. Note-on with velocity 0 is a note-off
 * (midi-file already reports it as 'noteOff'). At equal ticks note-offs are taken before note-ons, so a
 * repeated pitch written "on, then off" at the same tick is still two notes; an off that ends no earlier
 * note but follows a same-tick on of its pitch in the file ends that note (zero length). A note-on for a pitch already
 * sounding ends the sounding one; a note still sounding at the end of the track ends there.
 */
function extractParts(events: MidiEvent[], track: number, name: string): Part[] {
  const timed = absoluteTimes(events);
  const endTick = timed.length > 0 ? timed[timed.length - 1].tick : 0;
  const ordered = timed
    .map((entry, order) => ({ ...entry, order }))
    .sort((a, b) => a.tick - b.tick || noteEventRank(a.event) - noteEventRank(b.event) || a.order - b.order);

  const notesByChannel = new Map<number, TimedNote[]>();
  const sounding = new Map<number, TimedNote>(); // key: channel * 128 + pitch
  // Offs at this tick that found no earlier note to end, by key, with their place in the file: one that
  // the file wrote after a note-on of the same tick ends that note there (a zero-length note, which
  // quantises to one step) instead of leaving it to sound until the next onset.
  const unmatchedOffs = new Map<number, { tick: number; order: number }>();
  for (const { tick, event, order } of ordered) {
    if (event.type !== 'noteOn' && event.type !== 'noteOff') continue;
    const { channel, noteNumber } = event;
    if (!Number.isInteger(noteNumber) || noteNumber < 0 || noteNumber > 127) {
      throw new MidiImportError(name, 'unreadable', `track ${track} has note number ${noteNumber}; expected 0..127 (corrupt file?)`);
    }
    const key = channel * 128 + noteNumber;
    const open = sounding.get(key);
    if (open !== undefined) {
      open.end = tick;
      sounding.delete(key);
    } else if (event.type === 'noteOff') {
      unmatchedOffs.set(key, { tick, order });
    }
    if (event.type === 'noteOn') {
      const note: TimedNote = { pitch: noteNumber, start: tick, end: endTick };
      const off = unmatchedOffs.get(key);
      if (off !== undefined && off.tick === tick && off.order > order) {
        note.end = tick;
        unmatchedOffs.delete(key);
      } else {
        sounding.set(key, note);
      }
      const channelNotes = notesByChannel.get(channel) ?? [];
      channelNotes.push(note);
      notesByChannel.set(channel, channelNotes);
    }
  }
  return [...notesByChannel.entries()]
    .sort(([a], [b]) => a - b)
    .map(([channel, notes]) => ({ track, channel, notes, endTick }));
}

function absoluteTimes(events: MidiEvent[]): { tick: number; event: MidiEvent }[] {
  let tick = 0;
  return events.map((event) => {
    tick += event.deltaTime;
    return { tick, event };
  });
}

function noteEventRank(event: MidiEvent): number {
  return event.type === 'noteOff' ? 0 : 1;
}

// ---- choosing the melody part ----

/**
 * The part with the most notes among those the options allow (drums only when asked for by channel).
 * Ties: lower track, then lower channel. Every other part is listed with the reason it was skipped.
 */
function choosePart(
  parts: Part[],
  trackCount: number,
  options: ImportOptions,
  name: string,
): { chosen: Part; skippedParts: SkippedPart[] } {
  if (options.track !== undefined && !(Number.isInteger(options.track) && options.track >= 0 && options.track < trackCount)) {
    throw new MidiImportError(name, 'bad-option', `track ${options.track} does not exist; the file has ${trackCount} tracks (0..${trackCount - 1})`);
  }
  if (options.channel !== undefined && !(Number.isInteger(options.channel) && options.channel >= 0 && options.channel <= 15)) {
    throw new MidiImportError(name, 'bad-option', `channel ${options.channel} is not a channel index; expected 0..15 (drums are 9)`);
  }
  const exclusionReason = (part: Part): string | null => {
    if (options.track !== undefined && part.track !== options.track) return `not the requested track ${options.track}`;
    if (options.channel !== undefined && part.channel !== options.channel) return `not the requested channel ${options.channel}`;
    if (options.channel === undefined && part.channel === DRUM_CHANNEL) return 'drum channel (index 9, MIDI channel 10)';
    return null;
  };
  const eligible = parts.filter((part) => exclusionReason(part) === null);
  if (eligible.length === 0) {
    const found = parts.map((p) => `track ${p.track} channel ${p.channel}: ${p.notes.length} notes`).join('; ');
    const detail = parts.length === 0 ? 'has no notes' : `has no notes in a usable part (found ${found}); choose one with the track/channel options`;
    throw new MidiImportError(name, 'no-notes', detail);
  }
  const chosen = eligible.reduce((best, part) => (part.notes.length > best.notes.length ? part : best));
  const skippedParts = parts
    .filter((part) => part !== chosen)
    .map((part) => ({
      track: part.track,
      channel: part.channel,
      noteCount: part.notes.length,
      reason: exclusionReason(part) ?? `fewer notes than the chosen part (track ${chosen.track} channel ${chosen.channel}, ${chosen.notes.length} notes)`,
    }));
  return { chosen, skippedParts };
}

// ---- timing ----

/** Rounds onset and offset to the nearest step; the note lasts at least one step. */
function quantiseNote(note: TimedNote, ticksPerStep: number): TimedNote {
  const start = Math.round(note.start / ticksPerStep);
  const end = Math.max(start + 1, Math.round(note.end / ticksPerStep));
  return { pitch: note.pitch, start, end };
}

/** Notes sorted by onset, only the highest of those sharing an onset step kept. */
export function keepHighestAtEachOnset(notes: TimedNote[]): TimedNote[] {
  const sorted = [...notes].sort((a, b) => a.start - b.start || b.pitch - a.pitch);
  return sorted.filter((note, i) => i === 0 || note.start !== sorted[i - 1].start);
}

/** Each note ends no later than the next onset (onsets are distinct and sorted). */
export function cutOverlaps(notes: TimedNote[]): TimedNote[] {
  return notes.map((note, i) => (i + 1 < notes.length && note.end > notes[i + 1].start ? { ...note, end: notes[i + 1].start } : note));
}

/** End of the last note, or the end of track when the silence up to it is short enough to be music. */
export function chooseMelodyEnd(notes: TimedNote[], endOfTrackStep: number, maxTrailingRestSteps: number): number {
  const lastNoteEnd = notes[notes.length - 1].end;
  const trailingRest = endOfTrackStep - lastNoteEnd;
  return trailingRest > 0 && trailingRest <= maxTrailingRestSteps ? endOfTrackStep : lastNoteEnd;
}

// ---- pitch ----

/** Note steps (each note weighted by its length) whose pitch class is in C major after `shift`. */
export function stepsInCMajor(notes: readonly TimedNote[], shift: number): number {
  let steps = 0;
  for (const note of notes) {
    if (C_MAJOR_PITCH_CLASSES.has((((note.pitch + shift) % 12) + 12) % 12)) steps += note.end - note.start;
  }
  return steps;
}

/** The shift in −6..+5 with the most note steps in C major; ties: smaller |shift|, then negative. */
export function chooseTransposition(notes: readonly TimedNote[]): number {
  let best = 0;
  let bestSteps = -1;
  for (const shift of TRANSPOSITIONS_IN_PREFERENCE_ORDER) {
    const steps = stepsInCMajor(notes, shift);
    if (steps > bestSteps) {
      best = shift;
      bestSteps = steps;
    }
  }
  return best;
}

/**
 * Whole octaves to shift by: none when every note already lies in MIN_PITCH..MAX_PITCH (so a melody
 * rltuner wrote comes back unchanged, SPEC §2); otherwise the shift that brings the centre of the pitch
 * range nearest 65.5 (ties: smaller |shift|, then down), after which notes still outside are folded.
 */
export function chooseOctaveShift(notes: readonly TimedNote[]): number {
  let low = Infinity, high = -Infinity;
  for (const note of notes) {
    low = Math.min(low, note.pitch);
    high = Math.max(high, note.pitch);
  }
  if (low >= MIN_PITCH && high <= MAX_PITCH) return 0;
  const centre = (low + high) / 2;
  const distance = (octaves: number): number => Math.abs(centre + 12 * octaves - RANGE_CENTRE);
  const nearest = Math.round((RANGE_CENTRE - centre) / 12) + 0; // + 0 turns -0 into 0
  const candidates = [nearest, nearest - 1, nearest + 1].sort(
    (a, b) => distance(a) - distance(b) || Math.abs(a) - Math.abs(b) || a - b,
  );
  return candidates[0];
}

/** Moves a pitch by whole octaves into MIN_PITCH..MAX_PITCH. */
export function foldIntoRange(pitch: number): number {
  if (pitch < MIN_PITCH) return pitch + 12 * Math.ceil((MIN_PITCH - pitch) / 12);
  if (pitch > MAX_PITCH) return pitch - 12 * Math.ceil((pitch - MAX_PITCH) / 12);
  return pitch;
}

// ---- encoding ----

/**
 * Tokens from the first onset to `melodyEnd`: a note-on class at each onset, NOTE_OFF at the first step
 * after a note ends when no note starts there, NO_EVENT elsewhere.
 */
export function encodeNotes(notes: readonly TimedNote[], melodyEnd: number): Uint8Array {
  const first = notes[0].start;
  const tokens = new Uint8Array(melodyEnd - first).fill(NO_EVENT);
  notes.forEach((note, i) => {
    tokens[note.start - first] = pitchToToken(note.pitch);
    const nextStart = i + 1 < notes.length ? notes[i + 1].start : melodyEnd;
    if (note.end < nextStart) tokens[note.end - first] = NOTE_OFF;
  });
  return tokens;
}
