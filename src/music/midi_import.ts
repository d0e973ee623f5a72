/**
 * Standard MIDI File → melody tokens (SPEC §2, "Import"). Pure: bytes in, tokens and a record of every
 * decision out; no file system, so it runs in browsers and Workers.
 *
 * The pipeline, one small function per stage:
 *   read bytes → notes per (track, channel) part → pick the melody part → quantise to 16th steps →
 *   keep the highest note of each onset → cut overlaps → transpose to C major / A minor →
 *   centre by octaves in MIDI 48..83 → fold stragglers by octaves → encode as tokens.
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

import { MAX_PITCH, MIN_PITCH, NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, pitchToToken } from './encoding.js';
import { MidiFileError, printableText, readMidiFile, type MidiFile, type MidiTrack, type NoteEvents } from './midi_file.js';

/** Why a file yields no melody. */
export type MidiImportFailure = 'unreadable' | 'unsupported' | 'no-notes' | 'too-short' | 'too-long' | 'bad-option';

/**
 * A file (or the options given for it) that cannot yield a melody; `reason` is machine-readable. The
 * message starts with the file name; text from the file or its name is printed with control characters
 * escaped (printableText), so a message never carries terminal control bytes.
 */
export class MidiImportError extends Error {
  override readonly name = 'MidiImportError';
  /** The message without the file name. */
  readonly detail: string;
  constructor(
    /** The name as given (not escaped). */
    readonly fileName: string,
    readonly reason: MidiImportFailure,
    detail: string,
  ) {
    const printableDetail = printableText(detail);
    super(`${printableText(fileName)}: ${printableDetail}`);
    this.detail = printableDetail;
  }
}

/** Default for ImportOptions.maxSteps: 65,536 steps is 4,096 bars of 4/4, far beyond any song. */
export const DEFAULT_MAX_STEPS = 65_536;
/** The largest maxSteps an import accepts (2^22 steps, a 4 MB token array), so no option can make one file take unbounded memory. */
export const MAX_STEPS_LIMIT = 4_194_304;

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
  /**
   * Melodies longer than this many steps are rejected, before any token is allocated (guards against
   * corrupt delta times). Default DEFAULT_MAX_STEPS (65,536); at most MAX_STEPS_LIMIT (4,194,304).
   */
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

/**
 * Notes as parallel arrays (structure-of-arrays keeps a dense file's notes at 17 bytes each instead of
 * one object per note). Times are ticks or steps depending on the stage; `end` is exclusive.
 */
interface NoteList {
  count: number;
  pitch: Int32Array;
  start: Float64Array;
  end: Float64Array;
}

/** The notes of one channel in one track. */
interface Part {
  /** Tag of the part's notes in the list of all notes. */
  id: number;
  track: number;
  channel: number;
  noteCount: number;
  /** Tick of the track's last event (its end of track). */
  endTick: number;
}

const DRUM_CHANNEL = 9;
const C_MAJOR_PITCH_CLASSES: ReadonlySet<number> = new Set([0, 2, 4, 5, 7, 9, 11]);
/** Shifts in tie-break order: smaller |shift| first, negative before positive. */
const TRANSPOSITIONS_IN_PREFERENCE_ORDER = [0, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6];
const RANGE_CENTRE = (MIN_PITCH + MAX_PITCH) / 2;

/**
 * Reads a Standard MIDI File and returns its melody as tokens, with every decision made on the way.
 *
 * Bounded: reading and every later stage are single passes or passes over 12 transpositions, so the
 * time is linear in the file size; memory is a few tens of bytes per input byte plus the token array,
 * whose length is checked against maxSteps (at most MAX_STEPS_LIMIT) before it is allocated.
 */
export function importMidi(bytes: Uint8Array, options: ImportOptions = {}): ImportResult {
  const name = options.name ?? '<midi>';
  const maxSteps = checkMaxSteps(options.maxSteps, name);
  const minSteps = options.minSteps ?? 8;
  const midi = readMidi(bytes, name);
  const warnings = [...midi.warnings];
  const ticksPerQuarter = midi.division.kind === 'ticks-per-quarter' ? midi.division.ticksPerQuarter : 0;

  const { all, parts } = extractNotes(midi.notes, midi.tracks);
  const { chosen, skippedParts } = choosePart(parts, midi.tracks.length, options, name);

  const ticksPerStep = ticksPerQuarter / STEPS_PER_QUARTER;
  const quantised = quantiseNotes(notesOfPart(all, chosen), ticksPerStep);
  const highest = keepHighestAtEachOnset(quantised);
  const { notes: cut, notesCut } = cutOverlaps(highest);
  const melodyEnd = chooseMelodyEnd(cut, Math.round(chosen.endTick / ticksPerStep), options.maxTrailingRestSteps ?? 16);

  // The melody's length in steps is known here, before the token array is allocated.
  const length = melodyEnd - cut.start[0];
  if (length < minSteps) {
    throw new MidiImportError(name, 'too-short', `melody is ${length} steps long, below the minimum of ${minSteps} (lower minSteps to keep it)`);
  }
  if (length > maxSteps) {
    const fix = length > MAX_STEPS_LIMIT
      ? `beyond the ${MAX_STEPS_LIMIT} steps any import allows; the file's delta times are corrupt or it is not a melody`
      : `corrupt delta times? raise maxSteps, up to ${MAX_STEPS_LIMIT}, if the file is right`;
    throw new MidiImportError(name, 'too-long', `melody is ${length} steps long, above the maximum of ${maxSteps} (${fix})`);
  }

  const transposition = options.transpose === false ? 0 : chooseTransposition(cut);
  const transposed = shiftPitches(cut.pitch, transposition);
  const octaveShift = options.centre === false ? 0 : chooseOctaveShift(transposed);
  const centred = shiftPitches(transposed, 12 * octaveShift);
  const { pitches: folded, notesFolded } = foldIntoRange(centred);

  const chordNotesDropped = quantised.count - highest.count;
  if (chordNotesDropped > 0) warnings.push(`${chordNotesDropped} notes dropped: a higher note starts on the same step`);
  if (notesFolded > 0) warnings.push(`${notesFolded} notes outside MIDI ${MIN_PITCH}..${MAX_PITCH} folded by octaves`);

  return {
    name,
    tokens: encodeNotes({ ...cut, pitch: folded }, melodyEnd),
    format: midi.format,
    ticksPerQuarter,
    track: chosen.track,
    channel: chosen.channel,
    noteCount: chosen.noteCount,
    chordNotesDropped,
    notesCut,
    transposition,
    octaveShift,
    notesFolded,
    skippedParts,
    warnings,
  };
}

function checkMaxSteps(maxSteps: number | undefined, name: string): number {
  if (maxSteps === undefined) return DEFAULT_MAX_STEPS;
  if (!(Number.isInteger(maxSteps) && maxSteps >= 1 && maxSteps <= MAX_STEPS_LIMIT)) {
    throw new MidiImportError(name, 'bad-option', `maxSteps ${maxSteps} is out of range; expected an integer in 1..${MAX_STEPS_LIMIT}`);
  }
  return maxSteps;
}

// ---- reading ----

/** Reads the file (src/music/midi_file.ts) and checks what the importer needs: format 0 or 1, metrical time. */
function readMidi(bytes: Uint8Array, name: string): MidiFile {
  let midi: MidiFile;
  try {
    midi = readMidiFile(bytes);
  } catch (error) {
    if (error instanceof MidiFileError) throw new MidiImportError(name, 'unreadable', `not a readable MIDI file: ${error.message}`);
    throw error;
  }
  const { format, division } = midi;
  if (division.kind === 'smpte') {
    throw new MidiImportError(name, 'unsupported', `time division is SMPTE (${division.framesPerSecond} frames per second), not ticks per quarter note; re-save the file with metrical timing (ticks per quarter)`);
  }
  if (division.ticksPerQuarter <= 0) {
    throw new MidiImportError(name, 'unreadable', `ticks per quarter note is ${division.ticksPerQuarter}; expected a positive integer`);
  }
  if (format !== 0 && format !== 1) {
    throw new MidiImportError(name, 'unsupported', `SMF format ${format} is not supported; save the file as format 0 or 1`);
  }
  return midi;
}

/** Parallel arrays of notes, each tagged with its part, that grow by doubling (at most 3x the live size while growing). */
class NoteListBuilder {
  count = 0;
  pitch = new Int32Array(64);
  start = new Float64Array(64);
  end = new Float64Array(64);
  part = new Int32Array(64);

  /** Appends a note and returns its index. */
  push(pitch: number, start: number, end: number, part: number): number {
    if (this.count === this.pitch.length) this.grow();
    const i = this.count++;
    this.pitch[i] = pitch;
    this.start[i] = start;
    this.end[i] = end;
    this.part[i] = part;
    return i;
  }

  private grow(): void {
    const capacity = 2 * this.count;
    const pitch = new Int32Array(capacity), start = new Float64Array(capacity), end = new Float64Array(capacity), part = new Int32Array(capacity);
    pitch.set(this.pitch);
    start.set(this.start);
    end.set(this.end);
    part.set(this.part);
    Object.assign(this, { pitch, start, end, part });
  }
}

/** Keys of the sounding-note tables: channel * 128 + pitch. */
const KEYS = 16 * 128;

/**
 * Every note of the file, each in a part (the notes of one channel within one track; parts sorted by
 * track, then channel). Note events come in file order, ticks non-decreasing within a track; at equal
 * ticks note-offs are taken before note-ons (each in file order), so a repeated pitch written "on, then
 * off" at the same tick is still two notes; an off that ends no earlier note but follows a same-tick on
 * of its pitch in the file ends that note (zero length). A note-on for a pitch already sounding ends the
 * sounding one; a note still sounding at the end of its track ends there. Notes are appended at their
 * onsets, so each part's notes are in onset order.
 *
 * The lookup tables are allocated once per file and stamped with the track that wrote each entry, so a
 * file of many tiny tracks costs no table per track.
 */
function extractNotes(events: NoteEvents, tracks: readonly MidiTrack[]): { all: NoteListBuilder; parts: Part[] } {
  const all = new NoteListBuilder();
  const parts: Part[] = [];
  const soundingNote = new Int32Array(KEYS);
  const soundingTrack = new Int32Array(KEYS).fill(-1);
  // Offs at this tick that found no earlier note to end, by key, with their place in the file: one that
  // the file wrote after a note-on of the same tick ends that note there (a zero-length note, which
  // quantises to one step) instead of leaving it to sound until the next onset.
  const unmatchedOffTick = new Float64Array(KEYS);
  const unmatchedOffOrder = new Int32Array(KEYS);
  const unmatchedOffTrack = new Int32Array(KEYS).fill(-1);
  const partOfChannel = new Int32Array(16);
  const { tick, channel, pitch, isOn } = events;

  for (const track of tracks) {
    const t = track.index;
    partOfChannel.fill(-1);
    const take = (i: number): void => {
      const ch = channel[i];
      const key = ch * 128 + pitch[i];
      if (soundingTrack[key] === t) {
        all.end[soundingNote[key]] = tick[i];
        soundingTrack[key] = -1;
      } else if (!isOn[i]) {
        unmatchedOffTrack[key] = t;
        unmatchedOffTick[key] = tick[i];
        unmatchedOffOrder[key] = i;
      }
      if (!isOn[i]) return;
      if (partOfChannel[ch] < 0) {
        partOfChannel[ch] = parts.length;
        parts.push({ id: parts.length, track: t, channel: ch, noteCount: 0, endTick: track.endTick });
      }
      const part = parts[partOfChannel[ch]];
      part.noteCount++;
      const note = all.push(pitch[i], tick[i], track.endTick, part.id);
      if (unmatchedOffTrack[key] === t && unmatchedOffTick[key] === tick[i] && unmatchedOffOrder[key] > i) {
        all.end[note] = tick[i];
        unmatchedOffTrack[key] = -1;
      } else {
        soundingTrack[key] = t;
        soundingNote[key] = note;
      }
    };
    const last = track.firstNote + track.noteCount;
    for (let groupStart = track.firstNote; groupStart < last; ) {
      let groupEnd = groupStart + 1;
      while (groupEnd < last && tick[groupEnd] === tick[groupStart]) groupEnd++;
      for (let i = groupStart; i < groupEnd; i++) if (!isOn[i]) take(i);
      for (let i = groupStart; i < groupEnd; i++) if (isOn[i]) take(i);
      groupStart = groupEnd;
    }
  }
  parts.sort((a, b) => a.track - b.track || a.channel - b.channel);
  return { all, parts };
}

/** The notes of one part, in onset order. */
function notesOfPart(all: NoteListBuilder, part: Part): NoteList {
  const notes: NoteList = {
    count: part.noteCount,
    pitch: new Int32Array(part.noteCount),
    start: new Float64Array(part.noteCount),
    end: new Float64Array(part.noteCount),
  };
  let j = 0;
  for (let i = 0; i < all.count; i++) {
    if (all.part[i] !== part.id) continue;
    notes.pitch[j] = all.pitch[i];
    notes.start[j] = all.start[i];
    notes.end[j] = all.end[i];
    j++;
  }
  return notes;
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
    const listed = parts.slice(0, 5).map((p) => `track ${p.track} channel ${p.channel}: ${p.noteCount} notes`);
    if (parts.length > listed.length) listed.push(`${parts.length - listed.length} more parts`);
    const found = listed.join('; ');
    const detail = parts.length === 0 ? 'has no notes' : `has no notes in a usable part (found ${found}); choose one with the track/channel options`;
    throw new MidiImportError(name, 'no-notes', detail);
  }
  const chosen = eligible.reduce((best, part) => (part.noteCount > best.noteCount ? part : best));
  const skippedParts = parts
    .filter((part) => part !== chosen)
    .map((part) => ({
      track: part.track,
      channel: part.channel,
      noteCount: part.noteCount,
      reason: exclusionReason(part) ?? `fewer notes than the chosen part (track ${chosen.track} channel ${chosen.channel}, ${chosen.noteCount} notes)`,
    }));
  return { chosen, skippedParts };
}

// ---- timing ----

/** Onsets and offsets rounded to the nearest step; a note lasts at least one step. Onset order is kept. */
function quantiseNotes(notes: NoteList, ticksPerStep: number): NoteList {
  const start = new Float64Array(notes.count);
  const end = new Float64Array(notes.count);
  for (let i = 0; i < notes.count; i++) {
    start[i] = Math.round(notes.start[i] / ticksPerStep);
    end[i] = Math.max(start[i] + 1, Math.round(notes.end[i] / ticksPerStep));
  }
  return { count: notes.count, pitch: notes.pitch, start, end };
}

/**
 * Of the notes sharing an onset step, the highest (the first of equals); the input is in onset order, so
 * one pass over each run of equal onsets does it.
 */
function keepHighestAtEachOnset(notes: NoteList): NoteList {
  const kept: number[] = [];
  for (let i = 0; i < notes.count; ) {
    let best = i;
    let j = i + 1;
    for (; j < notes.count && notes.start[j] === notes.start[i]; j++) if (notes.pitch[j] > notes.pitch[best]) best = j;
    kept.push(best);
    i = j;
  }
  return {
    count: kept.length,
    pitch: Int32Array.from(kept, (i) => notes.pitch[i]),
    start: Float64Array.from(kept, (i) => notes.start[i]),
    end: Float64Array.from(kept, (i) => notes.end[i]),
  };
}

/** Each note ends no later than the next onset (onsets are distinct and sorted); counts the notes cut. */
function cutOverlaps(notes: NoteList): { notes: NoteList; notesCut: number } {
  const end = Float64Array.from(notes.end);
  let notesCut = 0;
  for (let i = 0; i + 1 < notes.count; i++) {
    if (end[i] > notes.start[i + 1]) {
      end[i] = notes.start[i + 1];
      notesCut++;
    }
  }
  return { notes: { ...notes, end }, notesCut };
}

/** End of the last note, or the end of track when the silence up to it is short enough to be music. */
function chooseMelodyEnd(notes: NoteList, endOfTrackStep: number, maxTrailingRestSteps: number): number {
  const lastNoteEnd = notes.end[notes.count - 1];
  const trailingRest = endOfTrackStep - lastNoteEnd;
  return trailingRest > 0 && trailingRest <= maxTrailingRestSteps ? endOfTrackStep : lastNoteEnd;
}

// ---- pitch ----

/** Note steps (each note weighted by its length) whose pitch class is in C major after `shift`. */
function stepsInCMajor(notes: NoteList, shift: number): number {
  let steps = 0;
  for (let i = 0; i < notes.count; i++) {
    if (C_MAJOR_PITCH_CLASSES.has((((notes.pitch[i] + shift) % 12) + 12) % 12)) steps += notes.end[i] - notes.start[i];
  }
  return steps;
}

/** The shift in −6..+5 with the most note steps in C major; ties: smaller |shift|, then negative. */
function chooseTransposition(notes: NoteList): number {
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

function shiftPitches(pitches: Int32Array, semitones: number): Int32Array {
  return pitches.map((pitch) => pitch + semitones);
}

/**
 * Whole octaves to shift by: none when every note already lies in MIN_PITCH..MAX_PITCH (so a melody
 * rltuner wrote comes back unchanged, SPEC §2); otherwise the shift that brings the centre of the pitch
 * range nearest 65.5 (ties: smaller |shift|, then down), after which notes still outside are folded.
 */
function chooseOctaveShift(pitches: Int32Array): number {
  let low = Infinity, high = -Infinity;
  for (const pitch of pitches) {
    low = Math.min(low, pitch);
    high = Math.max(high, pitch);
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

/** Each pitch moved by whole octaves into MIN_PITCH..MAX_PITCH, and how many had to move. */
function foldIntoRange(pitches: Int32Array): { pitches: Int32Array; notesFolded: number } {
  let notesFolded = 0;
  const folded = pitches.map((pitch) => {
    if (pitch < MIN_PITCH) pitch += 12 * Math.ceil((MIN_PITCH - pitch) / 12);
    else if (pitch > MAX_PITCH) pitch -= 12 * Math.ceil((pitch - MAX_PITCH) / 12);
    else return pitch;
    notesFolded++;
    return pitch;
  });
  return { pitches: folded, notesFolded };
}

// ---- encoding ----

/**
 * Tokens from the first onset to `melodyEnd`: a note-on class at each onset, NOTE_OFF at the first step
 * after a note ends when no note starts there, NO_EVENT elsewhere. `melodyEnd - first onset` has been
 * checked against maxSteps.
 */
function encodeNotes(notes: NoteList, melodyEnd: number): Uint8Array {
  const first = notes.start[0];
  const tokens = new Uint8Array(melodyEnd - first).fill(NO_EVENT);
  for (let i = 0; i < notes.count; i++) {
    tokens[notes.start[i] - first] = pitchToToken(notes.pitch[i]);
    const nextStart = i + 1 < notes.count ? notes.start[i + 1] : melodyEnd;
    if (notes.end[i] < nextStart) tokens[notes.end[i] - first] = NOTE_OFF;
  }
  return tokens;
}
