/**
 * Standard MIDI File → melody tokens (SPEC §2, "Import"). Pure: bytes in, tokens and a record of every
 * decision out; no file system, so it runs in browsers and Workers.
 *
 * The pipeline, one small function per stage:
 *   read bytes (src/music/midi_file.ts) → list the (track, channel) parts → pick the most melodic part →
 *   take its notes → remove the file's constant grid offset → drop grace notes → count triplets and onsets
 *   off the grid → quantise to 16th steps (one note per step) → cut overlaps → find the key (signature,
 *   text, else estimate; the mode from the notes) → transpose to C / A → centre by octaves in MIDI 48..83
 *   → fold stragglers → encode; the meter (signature, else estimated) and the melody's place in its bar.
 * Beside the tokens it records the part chosen and why, the key and mode (where each came from), the
 * transposition, the meter, the bar position of the first note (a pickup), the tempo, and what the timing
 * stages changed, so exports can write them back and reports can say what happened.
 *
 * Decisions where the SPEC leaves room (each one is also stated where it is made):
 * - Tracks and channels are numbered from 0, as stored in the file (drums are channel index 9,
 *   "channel 10" in MIDI manuals). A "part" is the notes of one channel within one track.
 * - The melody part (choosePart): a part playing one pitch only (a drone, percussion on a melodic
 *   channel) is never the melody while another part moves. A part whose track or instrument name says
 *   melody (MELODY_NAME: melody, lead, vocal, voice, tune, solo, theme, ...) and that is a line or
 *   singable chords is taken over parts not so named; parts named as accompaniment (bass, chords, pad,
 *   drums, ...) are passed over while another part is left. Among what is left, parts are ranked in
 *   tiers: a line (at most 10% of its onset steps carry two or more notes) with a singable range (at most
 *   24 semitones), then lines with a wider range, then chordal parts of singable range, then the rest. In
 *   the best tier, parts with fewer than a fifth of the notes of that tier's busiest part are passed over
 *   (a few stray notes are not the tune); of those left, the highest mean pitch wins (the tune sits above
 *   its bass line and accompaniment); ties: more notes, then lower track, then lower channel. Drum parts
 *   are skipped unless asked for by channel.
 * - Timing ('aligned', the default; 'nearest' is the first importer's, kept so models trained on it are
 *   scored on what they saw): (1) the grid offset: when most of the file's onsets share one phase off the
 *   16th grid (a whole file recorded or exported a little late or early), that phase is removed from
 *   every time first (gridOffset); only what lies off the grid after that is counted as off the grid;
 *   (2) grace notes: a note no longer than half a step (a 32nd) whose next onset follows less than a step
 *   later leads into that note; up to MAX_GRACE_NOTES such notes in a row are ornaments and are dropped,
 *   never replacing their principal note (the principal takes the first grace's onset when it lies off
 *   the grid and the grace on it; the note before the graces keeps sounding up to the principal when it
 *   was held into them); (3) triplets (three equal onsets a third of a quarter, half note or eighth
 *   apart) are counted; rounding keeps a triplet of eighths as 16th–8th–16th and of quarters as
 *   dotted 8th–8th–dotted 8th, the closest the grid allows; (4) onsets and offsets are rounded to the
 *   nearest step; notes whose onsets lie within a quarter step of each other are a chord (the highest is
 *   kept); of successive notes that round onto one step the one nearer the step is kept. Under
 *   'nearest', every note is rounded as it is and the highest of each step is kept.
 * - The key (chooseKey): a text or marker event before the first note that names a key with its mode
 *   ("D dorian", as rltuner's exports write) is taken when the signature in force agrees with its notes;
 *   else the key-signature event in force at the melody's first note (else the file's first one). When
 *   several signatures stand at that tick, the one whose scale leaves the least note time outside is
 *   taken (the report says so). The signature gives the scale; its tonic stands unless the melody ends on
 *   another degree of that scale whose (modal) profile fits the notes better (an E minor or A dorian tune
 *   written with G major's signature: the mode is then that degree's mode of the scale). On the
 *   signature's own tonic the mode is the one of its third (major: major, mixolydian; minor: minor,
 *   dorian) whose scale leaves the least note time outside, by at least MODE_MIN_SHARE, with its own
 *   degree sounding at least twice as long as the one it replaces; else the signature's mode stands. So a
 *   D major signature over a tune with C naturals is D mixolydian, and one characteristic accidental
 *   never moves a tonic. The key is
 *   estimated from the notes instead when the notes contradict it: more than 10% of the note time falls
 *   outside its scale (a minor-third mode also allows the raised seventh; minor its raised sixth) while the
 *   estimate leaves out at most half as much. A C major signature is what sequencers write when nobody
 *   chose one: it is contradicted from 3% of the note time outside, and is then named a placeholder.
 *   Estimates use the key finder (src/music/key_finding.ts, Temperley's profiles by default), the same
 *   tonic check and the same modes.
 * - Transposition ('key', the default): the shift in −6..+5 that puts the tonic on C for the modes with a
 *   major third (major, lydian, mixolydian) and on A for those with a minor third (minor, dorian,
 *   phrygian, locrian), the layout the rules use for every key (src/rules/key_context.ts): a D dorian tune
 *   becomes A dorian (its F# stays), a D mixolydian tune C mixolydian (its Bb stays); ties (a tritone) go
 *   down. 'note-count' is the first importer's rule, kept so models trained on it can be scored on the
 *   data they saw: the shift with the most note steps in the C major pitch classes; ties go to the
 *   smaller |shift|, then to the negative (downward) shift.
 * - Octave centring: the octave shift that brings the centre of the min..max pitch range nearest to the
 *   centre of 48..83 (65.5); ties go to the smaller |shift|, then downward.
 * - Meter and tempo: the time signature and tempo in force at the first note (else the first ones in the
 *   file; else 4/4 and 120 quarter notes per minute, the SMF defaults). Later changes are counted. A
 *   time signature of one beat a bar (1/4, 1/8: what some converters write for "unknown") is a placeholder:
 *   the meter is estimated from the notes instead (estimateMeter) and the report names it.
 * - Bars: bar lines fall every bar of the meter from the time signature in force (tick 0 without one);
 *   the melody's first note lies `barPosition` steps into its bar (0: on a downbeat; else a pickup of
 *   stepsPerBar − barPosition steps before the first downbeat). With an estimated meter, the downbeat is
 *   estimated too.
 * - The melody ends where its last note ends. No NOTE_OFF is appended after it, unless the file itself
 *   has silence after the last note up to the part's end of track and that silence is at most
 *   `maxTrailingRestSteps` (default one 4/4 bar); then the melody keeps it as NOTE_OFF + NO_EVENTs.
 *   This is what makes export → import return a composition that ends in a rest unchanged; longer
 *   trailing silence is padding (another track playing on) and is dropped.
 * - A melody shorter than `minSteps` (default 8 steps, half a bar) is "too short"; one longer than
 *   `maxSteps` (default 65,536, settable up to 2^22) is "too long", decided before its tokens exist.
 */

import { MAX_PITCH, MIN_PITCH, NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, pitchToToken } from './encoding.js';
import { MidiFileError, printableText, readMidiFile, type MidiFile, type MidiTrack, type NoteEvents } from './midi_file.js';
import { DEFAULT_KEY_PROFILE, estimateKey, modeFromNotes, pitchClassDurations, plainMode, tonicOfScale, type KeyProfileName } from './key_finding.js';
import {
  isMajorMode, keyName, keyOfSignature, keyOfText, sameScale, scaleOf, transpositionToReference, transposeKey,
  type Key, type ModeName,
} from './keys.js';

/** Why a file yields no melody. */
export type MidiImportFailure = 'unreadable' | 'unsupported' | 'no-notes' | 'part-missing' | 'too-short' | 'too-long' | 'bad-option';

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

/**
 * The largest MIDI file rltuner's readers take: 64 MiB, a thousand times the largest melody file one meets
 * (the Nottingham files are 1 to 20 KB). The CLI and the page check a file's size against it before
 * reading it; importMidi itself reads any size in time and memory linear in it.
 */
export const MAX_MIDI_FILE_BYTES = 64 * 1024 * 1024;

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
  /** Transpose to C major / A minor (SPEC §2.3). Default true; false keeps the key (`--keep-key`). */
  transpose?: boolean;
  /**
   * How the transposition is chosen: 'key' (default) moves the tonic of the file's key to C or A;
   * 'note-count' is the first importer's rule (most note steps on the white keys), which the shipped
   * model was trained with.
   */
  transposeBy?: TransposeRule;
  /** Read the file's key-signature events (default true); false estimates every key from the notes. */
  useKeySignature?: boolean;
  /** Profiles of the key estimator. Default 'temperley'. */
  keyProfile?: KeyProfileName;
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
  /**
   * How notes are put on the 16th grid: 'aligned' (default) removes the file's constant grid offset,
   * drops grace notes and keeps the nearer of two successive notes that round onto one step; 'nearest'
   * is the first importer's rule (every time rounded as it is, the highest note of each step kept), which
   * models trained before 'aligned' saw.
   */
  timing?: TimingRule;
}

export const TRANSPOSE_RULES = ['key', 'note-count'] as const;
export type TransposeRule = (typeof TRANSPOSE_RULES)[number];
export const TIMING_RULES = ['aligned', 'nearest'] as const;
export type TimingRule = (typeof TIMING_RULES)[number];

/** The key of a melody as found in its file, and where it came from. */
export interface MelodyKey {
  /** Pitch class of the tonic, 0..11 (C = 0), as in the file (before transposition). */
  tonic: number;
  /** major, minor, dorian, mixolydian, lydian or phrygian. */
  mode: ModeName;
  /** "D major", "A dorian". */
  name: string;
  /**
   * 'signature': the file's key-signature event (its tonic and mode, or another tonic or mode of its
   * scale as the notes say, see `modeFrom`); 'text': a text or marker event naming the key;
   * 'estimated': the key finder (see `reason`).
   */
  source: 'signature' | 'text' | 'estimated';
  /** Where the mode came from: as the signature (major or minor) or text names it, or from the notes. */
  modeFrom: 'signature' | 'text' | 'notes';
  /** Why the key was estimated: no signature, signatures ignored, or the notes contradict it. */
  reason?: string;
  /** The key signature in force at the first note, if the file has one. */
  signature: { sharps: number; mode: 'major' | 'minor'; name: string } | null;
  /** The signature was a placeholder: C major (what sequencers write unasked) that the notes contradict. */
  placeholder: boolean;
  /** Key-signature events after the first one that name another key. */
  signatureChanges: number;
  /** Distinct key signatures standing at the tick of the one in force (2 or more: the notes chose). */
  signaturesAtOnce: number;
  /** The key finder's answer (always computed, so the two can be compared). */
  estimate: { name: string; tonic: number; mode: 'major' | 'minor'; correlation: number; profile: KeyProfileName } | null;
  /** Share of note steps outside the chosen key's scale (a minor-third mode also allows its raised 7th, minor its raised 6th). */
  outsideScale: number;
  /** What decided the key beyond the signature, in words (several signatures, another tonic, the mode). */
  notes: string[];
}

/** The meter of a melody: its time signature and the 16th steps in one bar. */
export interface MelodyMeter {
  numerator: number;
  denominator: number;
  /** numerator × 16 / denominator: 16 for 4/4, 12 for 6/8 and 3/4, 18 for 9/8. */
  stepsPerBar: number;
  /**
   * 'signature': the file's time-signature event; 'default': none, so 4/4 (the SMF default);
   * 'estimated': the file's was a placeholder (see `placeholder`), so it was estimated from the notes.
   */
  source: 'signature' | 'default' | 'estimated';
  /** The placeholder signature the estimate replaced ("1/4"), when there was one. */
  placeholder?: string;
  /** Time-signature events after the first one that name another meter. */
  changes: number;
}

/** A track/channel part that was not used, and why. */
export interface SkippedPart {
  track: number;
  channel: number;
  noteCount: number;
  reason: string;
}

/**
 * The parts not taken as the melody, each with the reason, in file order: kept as parallel arrays and a
 * table of distinct reasons (a file may hold hundreds of thousands of one-note parts, and an object per
 * part would cost the importer more memory than the file's bytes allow). Iterate it, or `at(i)`; JSON
 * writes it as a list of SkippedPart.
 */
export class SkippedParts implements Iterable<SkippedPart> {
  private readonly track: Int32Array;
  private readonly channel: Uint8Array;
  private readonly noteCount: Int32Array;
  private readonly reasonOf: Uint32Array;
  private readonly reasons: string[] = [];
  private readonly reasonIndex = new Map<string, number>();
  private count = 0;

  constructor(capacity: number) {
    this.track = new Int32Array(capacity);
    this.channel = new Uint8Array(capacity);
    this.noteCount = new Int32Array(capacity);
    this.reasonOf = new Uint32Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  add(track: number, channel: number, noteCount: number, reason: string): void {
    let r = this.reasonIndex.get(reason);
    if (r === undefined) {
      r = this.reasons.length;
      this.reasons.push(reason);
      this.reasonIndex.set(reason, r);
    }
    const i = this.count++;
    this.track[i] = track;
    this.channel[i] = channel;
    this.noteCount[i] = noteCount;
    this.reasonOf[i] = r;
  }

  at(i: number): SkippedPart {
    if (!(Number.isInteger(i) && i >= 0 && i < this.count)) throw new RangeError(`skipped part ${i} of ${this.count}`);
    return { track: this.track[i], channel: this.channel[i], noteCount: this.noteCount[i], reason: this.reasons[this.reasonOf[i]] };
  }

  *[Symbol.iterator](): Iterator<SkippedPart> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  toJSON(): SkippedPart[] {
    return [...this];
  }
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
  /** Why this part was taken as the melody (its statistics, and what it was chosen over). */
  partChoice: string;
  /** Notes read from the chosen part. */
  noteCount: number;
  /** How notes were put on the grid ('aligned' or 'nearest', see ImportOptions.timing). */
  timing: TimingRule;
  /** The file's constant grid offset in ticks, removed from every time before rounding (0: none found). */
  gridOffsetTicks: number;
  /** Onsets of the chosen part more than a quarter step off the 16th grid after the offset is removed (triplets, swing), rounded anyway. */
  offGridNotes: number;
  /** Groups of three triplet notes (eighths, quarters or sixteenths in triplets), rounded to the grid. */
  tripletGroups: number;
  /** Grace notes (at most a 32nd, leading into the next note) dropped. */
  graceNotesDropped: number;
  /** Notes dropped because a higher note starts on the same step (a chord). */
  chordNotesDropped: number;
  /** Notes dropped because an earlier or later note nearer the step rounds onto the same step. */
  notesMergedOnStep: number;
  /** Notes shortened because the next note starts before they end. */
  notesCut: number;
  /** The key in the file (before transposition). */
  key: MelodyKey;
  /** How the transposition was chosen: 'key', 'note-count', or 'none' (the key was kept). */
  transposedBy: TransposeRule | 'none';
  /** Semitones applied to put the melody in C major / A minor (−6..+5). */
  transposition: number;
  /** The key of the tokens: the file's key moved by `transposition` ("C major" or "A minor" by default). */
  tokensKey: string;
  meter: MelodyMeter;
  /**
   * Steps from the bar line before the melody's first note to that note (0: it starts on a downbeat;
   * else a pickup of stepsPerBar − barPosition steps); null when a bar is not a whole number of steps.
   */
  barPosition: number | null;
  /** 'file': from the file's bar lines; 'estimated': the meter was estimated, so was the downbeat. */
  barSource: 'file' | 'estimated';
  /** Tempo at the first note in quarter notes per minute (120 when the file has no tempo event). */
  qpm: number;
  /** Tempo events after the first one that set another tempo. */
  tempoChanges: number;
  /** Whole octaves applied after the transposition to centre the melody. */
  octaveShift: number;
  /** Notes still outside 48..83 after centring, moved by octaves into range. */
  notesFolded: number;
  /** Every part but the chosen one, with the reason it was passed over. */
  skippedParts: SkippedParts;
  warnings: string[];
}

/**
 * Notes as parallel arrays (20 bytes a note, where an object per note would take several times that).
 * Times are ticks or steps depending on the stage; `end` is exclusive.
 */
export interface NoteList {
  count: number;
  pitch: Int32Array;
  start: Float64Array;
  end: Float64Array;
}

/** The notes of one channel in one track. */
interface Part {
  track: number;
  channel: number;
  noteCount: number;
  /** The track's name and instrument name, as written ("" when it has none). */
  label: string;
  /** Tick of the track's last event (its end of track). */
  endTick: number;
}

/**
 * Every part of a file as parallel arrays (a file may have hundreds of thousands of one-note parts, and an
 * object per part would cost many times the 4 bytes of file each takes): part i is channel channel[i] of
 * track track[i], with noteCount[i] note-ons. Names are the tracks' (trackLabel).
 */
interface PartList {
  count: number;
  track: Int32Array;
  channel: Uint8Array;
  noteCount: Int32Array;
}

/** A track's name and instrument name, as written ("" when it has none). */
function trackLabel(track: MidiTrack): string {
  return [track.name, track.instrument].filter((text): text is string => text !== null && text.trim() !== '').join(' / ');
}

/** Part i as an object (for the chosen part and messages). */
function partAt(parts: PartList, i: number, tracks: readonly MidiTrack[]): Part {
  const track = tracks[parts.track[i]];
  return { track: parts.track[i], channel: parts.channel[i], noteCount: parts.noteCount[i], label: trackLabel(track), endTick: track.endTick };
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
  const transposeBy = options.transposeBy ?? 'key';
  if (!(TRANSPOSE_RULES as readonly string[]).includes(transposeBy)) {
    throw new MidiImportError(name, 'bad-option', `transposeBy ${JSON.stringify(transposeBy)} is not a rule; expected ${TRANSPOSE_RULES.join(' or ')}`);
  }
  const timing = options.timing ?? 'aligned';
  if (!(TIMING_RULES as readonly string[]).includes(timing)) {
    throw new MidiImportError(name, 'bad-option', `timing ${JSON.stringify(timing)} is not a rule; expected ${TIMING_RULES.join(' or ')}`);
  }
  const midi = readMidi(bytes, name);
  const warnings = [...midi.warnings];
  const ticksPerQuarter = midi.division.kind === 'ticks-per-quarter' ? midi.division.ticksPerQuarter : 0;
  const ticksPerStep = ticksPerQuarter / STEPS_PER_QUARTER;

  const parts = listParts(midi.notes, midi.tracks);
  const { chosen, skippedParts, partChoice } = choosePart(parts, midi, ticksPerStep, options, name);

  // The chosen part's notes, then each timing stage in place on them (one copy of the notes in memory).
  const notes = notesOfPart(midi.notes, midi.tracks[chosen.track], chosen.channel);
  const gridOffsetTicks = timing === 'aligned' ? gridOffset(midi.notes, ticksPerStep) : 0;
  if (gridOffsetTicks !== 0) shiftTimes(notes, -gridOffsetTicks);
  const graceNotesDropped = timing === 'aligned' ? dropGraceNotes(notes, ticksPerStep) : 0;
  const firstOnsetTick = notes.start[0] + gridOffsetTicks; // as written in the file
  const offGridNotes = countOffGridOnsets(notes, ticksPerStep);
  const tripletGroups = countTripletGroups(notes, ticksPerStep);
  let chordNotesDropped: number, notesMergedOnStep = 0;
  if (timing === 'aligned') {
    ({ chordNotesDropped, notesMergedOnStep } = quantiseKeepingOneNotePerStep(notes, ticksPerStep));
  } else {
    quantiseNotes(notes, ticksPerStep);
    chordNotesDropped = keepHighestAtEachOnset(notes);
  }
  const notesCut = cutOverlaps(notes);
  const endOfTrackStep = Math.round((chosen.endTick - gridOffsetTicks) / ticksPerStep);
  const melodyEnd = chooseMelodyEnd(notes, endOfTrackStep, options.maxTrailingRestSteps ?? 16);

  // The melody's length in steps is known here, before the token array is allocated.
  const length = melodyEnd - notes.start[0];
  if (length < minSteps) {
    throw new MidiImportError(name, 'too-short', `melody is ${length} steps long, below the minimum of ${minSteps} (lower minSteps to keep it)`);
  }
  if (length > maxSteps) {
    const fix = length > MAX_STEPS_LIMIT
      ? `beyond the ${MAX_STEPS_LIMIT} steps any import allows; the file's delta times are corrupt or it is not a melody`
      : `corrupt delta times? raise maxSteps, up to ${MAX_STEPS_LIMIT}, if the file is right`;
    throw new MidiImportError(name, 'too-long', `melody is ${length} steps long, above the maximum of ${maxSteps} (${fix})`);
  }

  const key = chooseKey(notes, midi, firstOnsetTick, options);
  const transposedBy = options.transpose === false ? 'none' : transposeBy;
  const transposition = transposedBy === 'none' ? 0 : transposedBy === 'key' ? transpositionToReference(key) : chooseTransposition(notes);
  const transposed = shiftPitches(notes.pitch, transposition);
  const octaveShift = options.centre === false ? 0 : chooseOctaveShift(transposed);
  const centred = shiftPitches(transposed, 12 * octaveShift);
  const { pitches: folded, notesFolded } = foldIntoRange(centred);
  const { meter, barOriginStep } = meterAt(midi, firstOnsetTick, ticksPerStep, gridOffsetTicks, notes);
  const barPosition = Number.isInteger(meter.stepsPerBar) && meter.stepsPerBar > 0
    ? (((notes.start[0] - barOriginStep) % meter.stepsPerBar) + meter.stepsPerBar) % meter.stepsPerBar
    : null;
  const { qpm, tempoChanges } = tempoAt(midi, firstOnsetTick);

  if (gridOffsetTicks !== 0) warnings.push(`the file's notes lie ${Math.abs(gridOffsetTicks)} ticks ${gridOffsetTicks > 0 ? 'after' : 'before'} the 16th grid throughout; that offset was removed before rounding`);
  if (graceNotesDropped > 0) warnings.push(`${graceNotesDropped} grace notes (a 32nd or shorter, leading into the next note) dropped`);
  if (chordNotesDropped > 0) warnings.push(`${chordNotesDropped} notes dropped: a higher note starts on the same step`);
  if (notesMergedOnStep > 0) warnings.push(`${notesMergedOnStep} notes dropped: a note nearer the step rounds onto the same 16th`);
  if (notesFolded > 0) warnings.push(`${notesFolded} notes outside MIDI ${MIN_PITCH}..${MAX_PITCH} folded by octaves`);
  if (offGridNotes > 0) warnings.push(`${offGridNotes} notes more than a quarter step off the 16th grid (${tripletGroups > 0 ? `${tripletGroups} triplet groups, ` : ''}triplets or swing) rounded to the nearest 16th`);
  if (key.placeholder) warnings.push(`placeholder key signature ${key.signature?.name}: ${key.reason}`);
  if (meter.placeholder !== undefined) warnings.push(`placeholder time signature ${meter.placeholder}: the meter was estimated as ${meter.numerator}/${meter.denominator}`);
  for (const note of key.notes) if (note.startsWith('several key signatures')) warnings.push(note);

  return {
    name,
    tokens: encodeNotes({ ...notes, pitch: folded }, melodyEnd),
    format: midi.format,
    ticksPerQuarter,
    track: chosen.track,
    channel: chosen.channel,
    partChoice,
    noteCount: chosen.noteCount,
    timing,
    gridOffsetTicks,
    offGridNotes,
    tripletGroups,
    graceNotesDropped,
    chordNotesDropped,
    notesMergedOnStep,
    notesCut,
    key,
    transposedBy,
    transposition,
    tokensKey: keyName(transposeKey(key, transposition)),
    meter,
    barPosition,
    barSource: meter.source === 'estimated' ? 'estimated' : 'file',
    qpm,
    tempoChanges,
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

/** Every (track, channel) with at least one note-on, sorted by track, then channel, with its note count. */
function listParts(events: NoteEvents, tracks: readonly MidiTrack[]): PartList {
  const notesPerChannel = new Int32Array(16);
  const countNotes = (track: MidiTrack): void => {
    notesPerChannel.fill(0);
    for (let i = track.firstNote; i < track.firstNote + track.noteCount; i++) notesPerChannel[events.channel[i]] += events.isOn[i];
  };
  let count = 0;
  for (const track of tracks) {
    countNotes(track);
    for (let channel = 0; channel < 16; channel++) if (notesPerChannel[channel] > 0) count++;
  }
  const parts: PartList = { count, track: new Int32Array(count), channel: new Uint8Array(count), noteCount: new Int32Array(count) };
  let p = 0;
  for (const track of tracks) {
    countNotes(track);
    for (let channel = 0; channel < 16; channel++) {
      if (notesPerChannel[channel] === 0) continue;
      parts.track[p] = track.index;
      parts.channel[p] = channel;
      parts.noteCount[p] = notesPerChannel[channel];
      p++;
    }
  }
  return parts;
}

/**
 * The notes of one channel of one track, in ticks, in onset order. Note events come in file order, ticks
 * non-decreasing; at equal ticks note-offs are taken before note-ons (each in file order), so a repeated
 * pitch written "on, then off" at the same tick is still two notes; an off that ends no earlier note but
 * follows a same-tick on of its pitch in the file ends that note (zero length). A note-on for a pitch
 * already sounding ends the sounding one; a note still sounding at the end of the track ends there.
 */
function notesOfPart(events: NoteEvents, track: MidiTrack, channel: number): NoteList {
  const { tick, pitch, isOn } = events;
  let count = 0;
  const first = track.firstNote;
  const last = first + track.noteCount;
  for (let i = first; i < last; i++) if (events.channel[i] === channel) count += isOn[i];
  const notes: NoteList = { count, pitch: new Int32Array(count), start: new Float64Array(count), end: new Float64Array(count) };

  const soundingNote = new Int32Array(128).fill(-1); // by pitch: index in `notes`
  // Offs at this tick that found no earlier note to end, by pitch, with their place in the file: one that
  // the file wrote after a note-on of the same tick ends that note there (a zero-length note, which
  // quantises to one step) instead of leaving it to sound until the next onset.
  const unmatchedOffTick = new Float64Array(128).fill(-1);
  const unmatchedOffOrder = new Int32Array(128);
  let n = 0;
  const take = (i: number): void => {
    const key = pitch[i];
    const open = soundingNote[key];
    if (open >= 0) {
      notes.end[open] = tick[i];
      soundingNote[key] = -1;
    } else if (!isOn[i]) {
      unmatchedOffTick[key] = tick[i];
      unmatchedOffOrder[key] = i;
    }
    if (!isOn[i]) return;
    notes.pitch[n] = key;
    notes.start[n] = tick[i];
    notes.end[n] = track.endTick;
    if (unmatchedOffTick[key] === tick[i] && unmatchedOffOrder[key] > i) {
      notes.end[n] = tick[i];
      unmatchedOffTick[key] = -1;
    } else {
      soundingNote[key] = n;
    }
    n++;
  };
  for (let groupStart = first; groupStart < last; ) {
    let groupEnd = groupStart + 1;
    while (groupEnd < last && tick[groupEnd] === tick[groupStart]) groupEnd++;
    for (let i = groupStart; i < groupEnd; i++) if (!isOn[i] && events.channel[i] === channel) take(i);
    for (let i = groupStart; i < groupEnd; i++) if (isOn[i] && events.channel[i] === channel) take(i);
    groupStart = groupEnd;
  }
  return notes;
}

// ---- choosing the melody part ----

/** A line has two or more notes at no more than this share of its onset steps. */
const LINE_MAX_CHORD_SHARE = 0.1;
/** A singable range: two octaves. */
const SINGABLE_RANGE = 24;
/** Within the best tier, parts with fewer notes than this share of the busiest one's are passed over. */
const MIN_SHARE_OF_BUSIEST = 0.2;
/** Files with at most this many parts get numbers in each skipped part's reason (larger ones: shared reasons). */
const PARTS_DESCRIBED_IN_FULL = 32;
/** Track or instrument names that say "this is the tune" (whole words, any case, in several languages). */
export const MELODY_NAME = /(^|[^a-z])(melod(y|ie|ia|ía)|lead|vocals?|voice|voix|voz|singer|sing|tune|theme|solo|canto|air)([^a-z]|$)/i;
/** Track or instrument names that say "this accompanies the tune". */
export const ACCOMPANIMENT_NAME = /(^|[^a-z])(bass|basso|drums?|percussion|kit|chords?|accomp\w*|backing|pad|strings|rhythm|harmony|comp|arp\w*|left hand|lh)([^a-z]|$)/i;

/**
 * What makes each part look like a melody, from its note-ons alone (onsets rounded to 16th steps), as
 * parallel arrays over the parts (a file may have hundreds of thousands of one-note parts):
 * chordShare: share of its distinct onset steps where two or more notes start; range: highest minus
 * lowest pitch in semitones; meanPitch; tier: 0 a line of singable range, 1 a wider line, 2 chordal of
 * singable range, 3 other; named: +1 its name says melody, −1 accompaniment, 0 neither.
 */
interface PartShapes {
  chordShare: Float64Array;
  range: Float64Array;
  meanPitch: Float64Array;
  tier: Uint8Array;
  named: Int8Array;
}

/** Per-channel running figures of measureTrackParts, reused for every track (the importer is synchronous). */
const CHANNEL_TALLIES = {
  onsetSteps: new Float64Array(16), chordSteps: new Float64Array(16), notesHere: new Float64Array(16), lastStep: new Float64Array(16),
  low: new Float64Array(16), high: new Float64Array(16), pitchSum: new Float64Array(16), notes: new Float64Array(16),
};

/**
 * Measures every eligible part of one track in one pass over its note events: `partOfChannel[c]` is the
 * index of channel c's part (or −1 to skip the channel). Each part's figures are those of its own events
 * in file order, as if measured alone; its name is the track's.
 */
function measureTrackParts(shapes: PartShapes, partOfChannel: Int32Array, events: NoteEvents, track: MidiTrack, ticksPerStep: number): void {
  const { onsetSteps, chordSteps, notesHere, lastStep, low, high, pitchSum, notes } = CHANNEL_TALLIES;
  for (const tally of [onsetSteps, chordSteps, notesHere, pitchSum, notes]) tally.fill(0);
  lastStep.fill(NaN);
  low.fill(Infinity);
  high.fill(-Infinity);
  for (let e = track.firstNote; e < track.firstNote + track.noteCount; e++) {
    const c = events.channel[e];
    if (!events.isOn[e] || partOfChannel[c] < 0) continue;
    const step = Math.round(events.tick[e] / ticksPerStep);
    if (step !== lastStep[c]) {
      if (notesHere[c] > 1) chordSteps[c]++;
      onsetSteps[c]++;
      notesHere[c] = 0;
      lastStep[c] = step;
    }
    notesHere[c]++;
    const pitch = events.pitch[e];
    if (pitch < low[c]) low[c] = pitch;
    if (pitch > high[c]) high[c] = pitch;
    pitchSum[c] += pitch;
    notes[c]++;
  }
  const label = trackLabel(track);
  const named = MELODY_NAME.test(label) ? 1 : ACCOMPANIMENT_NAME.test(label) ? -1 : 0;
  for (let c = 0; c < 16; c++) {
    const i = partOfChannel[c];
    if (i < 0) continue;
    if (notesHere[c] > 1) chordSteps[c]++;
    const chordShare = onsetSteps[c] > 0 ? chordSteps[c] / onsetSteps[c] : 0;
    const range = notes[c] > 0 ? high[c] - low[c] : 0;
    const line = chordShare <= LINE_MAX_CHORD_SHARE;
    const singable = range <= SINGABLE_RANGE;
    shapes.chordShare[i] = chordShare;
    shapes.range[i] = range;
    shapes.meanPitch[i] = notes[c] > 0 ? pitchSum[c] / notes[c] : 0;
    shapes.tier[i] = line ? (singable ? 0 : 1) : singable ? 2 : 3;
    shapes.named[i] = named;
  }
}

const TIER_NAMES = ['a line of singable range', 'a line wider than two octaves', 'chords of singable range', 'chords over more than two octaves'];

function describeShape(shapes: PartShapes, i: number): string {
  return `${Math.round(100 * shapes.chordShare[i])}% of onsets are chords, range ${shapes.range[i]} semitones, mean pitch ${shapes.meanPitch[i].toFixed(1)}`;
}

/** "named "MELODY"" for a part with a name; "" without. */
function describeName(part: Part): string {
  return part.label === '' ? '' : `named "${printableText(part.label.length > 40 ? `${part.label.slice(0, 40)}...` : part.label)}"`;
}

/**
 * The most melodic part among those the options allow (see the file comment for the rule). Every other
 * part is listed with the reason it was skipped; `partChoice` says why the chosen one won.
 */
function choosePart(
  parts: PartList,
  midi: MidiFile,
  ticksPerStep: number,
  options: ImportOptions,
  name: string,
): { chosen: Part; skippedParts: SkippedParts; partChoice: string } {
  const trackCount = midi.tracks.length;
  if (options.track !== undefined && !(Number.isInteger(options.track) && options.track >= 0)) {
    throw new MidiImportError(name, 'bad-option', `track ${options.track} is not a track index; expected an integer from 0`);
  }
  if (options.track !== undefined && options.track >= trackCount) {
    throw new MidiImportError(name, 'part-missing', `track ${options.track} does not exist; the file has ${trackCount} tracks (0..${trackCount - 1})`);
  }
  if (options.channel !== undefined && !(Number.isInteger(options.channel) && options.channel >= 0 && options.channel <= 15)) {
    throw new MidiImportError(name, 'bad-option', `channel ${options.channel} is not a channel index; expected 0..15 (drums are 9)`);
  }
  // Each reason is one string shared by every part it applies to (a file may have many thousands of parts).
  const notRequestedTrack = `not the requested track ${options.track}`;
  const notRequestedChannel = `not the requested channel ${options.channel}`;
  const exclusionReason = (i: number): string | null => {
    if (options.track !== undefined && parts.track[i] !== options.track) return notRequestedTrack;
    if (options.channel !== undefined && parts.channel[i] !== options.channel) return notRequestedChannel;
    if (options.channel === undefined && parts.channel[i] === DRUM_CHANNEL) return 'drum channel (index 9, MIDI channel 10)';
    return null;
  };
  const n = parts.count;
  const isEligible = new Uint8Array(n);
  let eligibleCount = 0;
  for (let i = 0; i < n; i++) {
    if (exclusionReason(i) !== null) continue;
    isEligible[i] = 1;
    eligibleCount++;
  }
  if (eligibleCount === 0) {
    const listed: string[] = [];
    for (let i = 0; i < Math.min(5, n); i++) listed.push(`track ${parts.track[i]} channel ${parts.channel[i]}: ${parts.noteCount[i]} notes`);
    if (n > listed.length) listed.push(`${n - listed.length} more parts`);
    const found = listed.join('; ');
    if (n === 0) throw new MidiImportError(name, 'no-notes', 'has no notes');
    const requested = [options.track !== undefined ? `track ${options.track}` : '', options.channel !== undefined ? `channel ${options.channel}` : ''].filter(Boolean).join(' ');
    if (requested) throw new MidiImportError(name, 'part-missing', `has no notes in the requested ${requested} (found ${found}); choose another part, or leave the track/channel options out to let the melody be chosen`);
    throw new MidiImportError(name, 'no-notes', `has no notes in a usable part (found ${found}); choose one with the track/channel options`);
  }

  const shapes: PartShapes = { chordShare: new Float64Array(n), range: new Float64Array(n), meanPitch: new Float64Array(n), tier: new Uint8Array(n), named: new Int8Array(n) };
  // Parts come sorted by track: each track's parts are measured in one pass over its events.
  const partOfChannel = new Int32Array(16);
  for (let first = 0; first < n;) {
    let end = first;
    partOfChannel.fill(-1);
    for (; end < n && parts.track[end] === parts.track[first]; end++) if (isEligible[end]) partOfChannel[parts.channel[end]] = end;
    measureTrackParts(shapes, partOfChannel, midi.notes, midi.tracks[parts.track[first]], ticksPerStep);
    first = end;
  }
  let anyMoves = false;
  for (let i = 0; i < n; i++) if (isEligible[i] && shapes.range[i] > 0) anyMoves = true;
  // Who may compete: not a one-pitch part while another part moves; parts named as the melody (lines or
  // singable chords) before the rest; parts named as accompaniment only when nothing else is left.
  const onePitch = (i: number) => anyMoves && shapes.range[i] === 0;
  const namedMelody = (i: number) => shapes.named[i] === 1 && shapes.tier[i] <= 2;
  let anyNamedMelody = false, anyUnnamed = false;
  for (let i = 0; i < n; i++) {
    if (!isEligible[i] || onePitch(i)) continue;
    if (namedMelody(i)) anyNamedMelody = true;
    if (shapes.named[i] !== -1) anyUnnamed = true;
  }
  const competes = (i: number): boolean => isEligible[i] === 1 && !onePitch(i) &&
    (anyNamedMelody ? namedMelody(i) : !anyUnnamed || shapes.named[i] !== -1);
  let bestTier = 3;
  for (let i = 0; i < n; i++) if (competes(i)) bestTier = Math.min(bestTier, shapes.tier[i]);
  let busiest = 0;
  for (let i = 0; i < n; i++) if (competes(i) && shapes.tier[i] === bestTier) busiest = Math.max(busiest, parts.noteCount[i]);
  const minNotes = MIN_SHARE_OF_BUSIEST * busiest;
  let c = -1; // the chosen part's index
  for (let i = 0; i < n; i++) {
    if (!competes(i) || shapes.tier[i] !== bestTier || parts.noteCount[i] < minNotes) continue;
    const higher = c < 0 ? 1 : shapes.meanPitch[i] - shapes.meanPitch[c];
    if (higher > 0 || (higher === 0 && parts.noteCount[i] > parts.noteCount[c])) c = i;
  }
  if (c < 0) { // only one-pitch parts: the busiest of them
    for (let i = 0; i < n; i++) if (isEligible[i] && (c < 0 || parts.noteCount[i] > parts.noteCount[c])) c = i;
  }
  const chosen = partAt(parts, c, midi.tracks);
  const requestedPart = options.track !== undefined || options.channel !== undefined;
  const chosenName = describeName(chosen);
  const partChoice = (requestedPart ? 'the requested part' : eligibleCount === 1 ? 'the only part with notes' : `the most melodic of ${eligibleCount} parts`) +
    ` (track ${chosen.track} channel ${chosen.channel}${chosenName ? `, ${chosenName}` : ''}, ${chosen.noteCount} notes: ${TIER_NAMES[shapes.tier[c]]}; ${describeShape(shapes, c)})` +
    (anyNamedMelody && !requestedPart && eligibleCount > 1 ? '; its name says it is the melody' : '');

  const inFull = n <= PARTS_DESCRIBED_IN_FULL;
  const lessMelodic = TIER_NAMES.map((name) => `less melodic than the chosen part: ${name}`);
  const fewNotes = `too few notes beside the busiest part of its kind (under ${Math.round(100 * MIN_SHARE_OF_BUSIEST)}%)`;
  const lower = 'lower than the chosen part (the tune is taken to be the highest line)';
  const onePitchReason = 'plays one pitch only (a drone or percussion), while another part moves';
  const notNamedMelody = `not named as the melody (${chosenName || 'the chosen part'} is)`;
  const namedAccompaniment = 'named as accompaniment';
  const skippedParts = new SkippedParts(Math.max(0, n - 1));
  for (let i = 0; i < n; i++) {
    if (i === c) continue;
    const noteCount = parts.noteCount[i];
    let reason = exclusionReason(i);
    if (reason === null) {
      reason = onePitch(i) ? onePitchReason
        : anyNamedMelody && !namedMelody(i) ? notNamedMelody
        : !competes(i) ? namedAccompaniment
        : shapes.tier[i] > bestTier ? lessMelodic[shapes.tier[i]] : noteCount < minNotes ? fewNotes : lower;
      if (inFull) {
        const part = partAt(parts, i, midi.tracks);
        reason += ` (${part.label ? `${describeName(part)}, ` : ''}${noteCount} notes; ${describeShape(shapes, i)})`;
      }
    }
    skippedParts.add(parts.track[i], parts.channel[i], noteCount, reason);
  }
  return { chosen, skippedParts, partChoice };
}

// ---- timing ----

/** Phase bins per step used to find the grid offset. */
const OFFSET_BINS = 64;
/** Onsets within this share of a step of a phase count for it (an eighth of a step either side). */
const OFFSET_WINDOW = 1 / 8;
/** A phase other than 0 is the file's offset when it holds at least this share of the onsets... */
const OFFSET_MIN_SHARE = 0.5;
/** ...and at least this many times the onsets near phase 0. */
const OFFSET_MIN_RATIO = 2;
/** Fewer onsets than this tell no offset. */
const OFFSET_MIN_ONSETS = 8;

/**
 * The constant offset, in ticks (−ticksPerStep/2 .. ticksPerStep/2), of the whole file's onsets from the
 * 16th grid: every note-on but the drums' is placed by its phase within its step; the phase with the
 * most onsets within an eighth of a step (OFFSET_WINDOW) is the file's offset when it holds at least half
 * of them and twice as many as phase 0 does (a file recorded or rendered late or early throughout);
 * otherwise 0. The offset is their mean phase, in whole ticks. Triplets and swing, which put some onsets
 * off the grid but leave most on it, give 0. One pass over the notes and two over OFFSET_BINS bins.
 */
export function gridOffset(events: NoteEvents, ticksPerStep: number): number {
  if (!(ticksPerStep >= 8)) return 0; // too coarse a resolution to tell a phase
  const bins = new Float64Array(OFFSET_BINS);
  let onsets = 0;
  for (let i = 0; i < events.count; i++) {
    if (!events.isOn[i] || events.channel[i] === DRUM_CHANNEL) continue;
    const phase = (((events.tick[i] % ticksPerStep) + ticksPerStep) % ticksPerStep) / ticksPerStep; // 0..1
    bins[Math.floor(phase * OFFSET_BINS) % OFFSET_BINS]++;
    onsets++;
  }
  if (onsets < OFFSET_MIN_ONSETS) return 0;
  const half = Math.round(OFFSET_WINDOW * OFFSET_BINS);
  const near = (centre: number) => {
    let count = 0;
    for (let d = -half; d < half; d++) count += bins[(centre + d + OFFSET_BINS) % OFFSET_BINS];
    return count;
  };
  let best = 0, bestCount = near(0);
  const atZero = bestCount;
  for (let centre = 1; centre < OFFSET_BINS; centre++) {
    const count = near(centre);
    if (count > bestCount) {
      best = centre;
      bestCount = count;
    }
  }
  if (best === 0 || bestCount < OFFSET_MIN_SHARE * onsets || bestCount < OFFSET_MIN_RATIO * atZero) return 0;
  // The mean phase of the onsets in the winning window, measured from its centre (so it does not wrap).
  let sum = 0, count = 0;
  const centrePhase = best / OFFSET_BINS;
  for (let i = 0; i < events.count; i++) {
    if (!events.isOn[i] || events.channel[i] === DRUM_CHANNEL) continue;
    const phase = (((events.tick[i] % ticksPerStep) + ticksPerStep) % ticksPerStep) / ticksPerStep;
    let d = phase - centrePhase;
    if (d > 0.5) d -= 1;
    if (d < -0.5) d += 1;
    if (Math.abs(d) <= OFFSET_WINDOW) {
      sum += d;
      count++;
    }
  }
  let offset = (centrePhase + sum / count) * ticksPerStep;
  if (offset > ticksPerStep / 2) offset -= ticksPerStep;
  return Math.round(offset) + 0; // + 0 turns -0 into 0
}

/** Moves every onset and offset by `ticks`, in place. */
function shiftTimes(notes: NoteList, ticks: number): void {
  for (let i = 0; i < notes.count; i++) {
    notes.start[i] += ticks;
    notes.end[i] += ticks;
  }
}

/** Grace notes last at most this share of a step (a 32nd). */
const GRACE_MAX_STEPS = 0.5;
/** More short notes than this in a row are a run of fast notes, not ornaments, and are kept. */
const MAX_GRACE_NOTES = 4;

/** Drops notes 0 .. count-1 where `keep[i]` is 0, in place. */
function compactNotes(notes: NoteList, keep: Uint8Array): void {
  let kept = 0;
  for (let i = 0; i < notes.count; i++) {
    if (!keep[i]) continue;
    notes.pitch[kept] = notes.pitch[i];
    notes.start[kept] = notes.start[i];
    notes.end[kept] = notes.end[i];
    kept++;
  }
  notes.count = kept;
  notes.pitch = notes.pitch.subarray(0, kept);
  notes.start = notes.start.subarray(0, kept);
  notes.end = notes.end.subarray(0, kept);
}

/** Distance of a time in ticks from the nearest step, in steps (0..0.5). */
function offGrid(tick: number, ticksPerStep: number): number {
  const steps = tick / ticksPerStep;
  return Math.abs(steps - Math.round(steps));
}

/**
 * Drops grace notes, in place (notes in ticks, in onset order), and returns how many: a note of at most
 * GRACE_MAX_STEPS whose next onset (of another time) follows within a step leads into that note; one to
 * MAX_GRACE_NOTES such notes in a row (each alone at its onset) are ornaments of the note they lead into,
 * the principal. The principal never gives way to them: it takes the first grace's onset when it lies off
 * the grid and that onset nearer the grid (a grace on the beat delays its principal); the note before the
 * graces, when it sounded up to (within a quarter step of) the first of them, is held on to the principal
 * (the graces had taken its time). Longer runs of short notes are kept for rounding.
 */
function dropGraceNotes(notes: NoteList, ticksPerStep: number): number {
  const { start, end } = notes;
  const n = notes.count;
  const leads = (i: number): boolean => {
    if (end[i] - start[i] > GRACE_MAX_STEPS * ticksPerStep) return false;
    if (i > 0 && start[i - 1] === start[i]) return false; // part of a chord
    if (i + 1 >= n || start[i + 1] === start[i]) return false;
    return start[i + 1] - start[i] < ticksPerStep;
  };
  const keep = new Uint8Array(n).fill(1);
  let dropped = 0;
  for (let i = 0; i < n; ) {
    if (!leads(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && leads(j)) j++;
    // Notes i .. j-1 lead into note j, the principal.
    if (j - i <= MAX_GRACE_NOTES && j < n) {
      for (let g = i; g < j; g++) keep[g] = 0;
      dropped += j - i;
      if (offGrid(start[j], ticksPerStep) > 0.25 && offGrid(start[i], ticksPerStep) < offGrid(start[j], ticksPerStep)) start[j] = start[i];
      const before = i - 1;
      if (before >= 0 && keep[before] && Math.abs(end[before] - start[i]) <= 0.25 * ticksPerStep && end[before] < start[j]) {
        for (let k = before; k >= 0 && start[k] === start[before]; k--) if (end[k] >= end[before]) end[k] = start[j];
      }
    }
    i = j;
  }
  if (dropped > 0) compactNotes(notes, keep);
  return dropped;
}

/** Onsets more than a quarter step away from the nearest step (notes still in ticks). */
function countOffGridOnsets(notes: NoteList, ticksPerStep: number): number {
  let count = 0;
  for (let i = 0; i < notes.count; i++) if (offGrid(notes.start[i], ticksPerStep) > 0.25) count++;
  return count;
}

/** Triplet spacings, in steps: sixteenths, eighths and quarters in triplets. */
const TRIPLET_SPACINGS = [2 / 3, 4 / 3, 8 / 3];

/**
 * Groups of three successive onsets (notes in ticks; onsets of one time count once) a triplet spacing
 * apart, within a twelfth of a step, the first within a quarter step of the grid and no other onset
 * before the group's end (three spacings on); counted left to right without overlap.
 */
function countTripletGroups(notes: NoteList, ticksPerStep: number): number {
  const onsets: number[] = []; // in steps
  for (let i = 0; i < notes.count; i++) if (i === 0 || notes.start[i] !== notes.start[i - 1]) onsets.push(notes.start[i] / ticksPerStep);
  let groups = 0;
  for (let i = 0; i + 2 < onsets.length; ) {
    const a = onsets[i + 1] - onsets[i];
    const b = onsets[i + 2] - onsets[i + 1];
    const spacing = TRIPLET_SPACINGS.find((t) => Math.abs(a - t) <= 1 / 12 && Math.abs(b - t) <= 1 / 12);
    const startsOnGrid = Math.abs(onsets[i] - Math.round(onsets[i])) <= 0.25;
    if (spacing !== undefined && startsOnGrid && (i + 3 >= onsets.length || onsets[i + 3] - onsets[i] >= 3 * spacing - 0.25)) {
      groups++;
      i += 3;
    } else {
      i++;
    }
  }
  return groups;
}

/** Rounds onsets and offsets to the nearest step, in place; a note lasts at least one step. Onset order is kept. */
function quantiseNotes(notes: NoteList, ticksPerStep: number): void {
  for (let i = 0; i < notes.count; i++) {
    notes.start[i] = Math.round(notes.start[i] / ticksPerStep);
    notes.end[i] = Math.max(notes.start[i] + 1, Math.round(notes.end[i] / ticksPerStep));
  }
}

/**
 * The 'aligned' rounding, in place (notes in ticks, in onset order): onsets and offsets to the nearest
 * step (a note lasts at least one step), then one note per step: of the notes that land on one step,
 * those whose onset is nearest the step (with any others within a quarter step of that onset: one chord)
 * are kept and the highest of them wins; the others are successive notes that the grid cannot hold
 * apart. Returns the notes dropped of each kind.
 */
function quantiseKeepingOneNotePerStep(notes: NoteList, ticksPerStep: number): { chordNotesDropped: number; notesMergedOnStep: number } {
  const { pitch, start, end } = notes;
  let kept = 0, chordNotesDropped = 0, notesMergedOnStep = 0;
  for (let i = 0; i < notes.count; ) {
    const step = Math.round(start[i] / ticksPerStep);
    let j = i + 1;
    while (j < notes.count && Math.round(start[j] / ticksPerStep) === step) j++;
    // Notes i .. j-1 land on `step`: the onset nearest it (ties: the later), then the chord around it.
    let nearest = i;
    for (let k = i + 1; k < j; k++) if (Math.abs(start[k] - step * ticksPerStep) <= Math.abs(start[nearest] - step * ticksPerStep)) nearest = k;
    let best = -1;
    for (let k = i; k < j; k++) {
      const sameChord = Math.abs(start[k] - start[nearest]) <= 0.25 * ticksPerStep;
      if (!sameChord) notesMergedOnStep++;
      else if (best < 0 || pitch[k] > pitch[best]) best = k;
    }
    chordNotesDropped += j - i - notesMergedOnStepIn(i, j, start, nearest, ticksPerStep) - 1;
    pitch[kept] = pitch[best];
    start[kept] = step;
    end[kept] = Math.max(step + 1, Math.round(end[best] / ticksPerStep));
    kept++;
    i = j;
  }
  notes.count = kept;
  notes.pitch = pitch.subarray(0, kept);
  notes.start = start.subarray(0, kept);
  notes.end = end.subarray(0, kept);
  return { chordNotesDropped, notesMergedOnStep };
}

/** How many of notes i .. j-1 lie more than a quarter step from the onset of note `nearest`. */
function notesMergedOnStepIn(i: number, j: number, start: Float64Array, nearest: number, ticksPerStep: number): number {
  let count = 0;
  for (let k = i; k < j; k++) if (Math.abs(start[k] - start[nearest]) > 0.25 * ticksPerStep) count++;
  return count;
}

/**
 * Keeps, in place, only the highest of the notes sharing an onset step (the first of equals); the notes
 * are in onset order, so one pass over each run of equal onsets does it. Returns how many were dropped.
 */
export function keepHighestAtEachOnset(notes: NoteList): number {
  const { pitch, start, end } = notes;
  let kept = 0;
  for (let i = 0; i < notes.count; ) {
    let best = i;
    let j = i + 1;
    for (; j < notes.count && start[j] === start[i]; j++) if (pitch[j] > pitch[best]) best = j;
    pitch[kept] = pitch[best];
    start[kept] = start[best];
    end[kept] = end[best];
    kept++;
    i = j;
  }
  const dropped = notes.count - kept;
  notes.count = kept;
  notes.pitch = pitch.subarray(0, kept);
  notes.start = start.subarray(0, kept);
  notes.end = end.subarray(0, kept);
  return dropped;
}

/** Ends each note, in place, no later than the next onset (onsets are distinct and sorted). Returns how many were cut. */
export function cutOverlaps(notes: NoteList): number {
  let notesCut = 0;
  for (let i = 0; i + 1 < notes.count; i++) {
    if (notes.end[i] > notes.start[i + 1]) {
      notes.end[i] = notes.start[i + 1];
      notesCut++;
    }
  }
  return notesCut;
}

/** End of the last note, or the end of track when the silence up to it is short enough to be music. */
export function chooseMelodyEnd(notes: NoteList, endOfTrackStep: number, maxTrailingRestSteps: number): number {
  const lastNoteEnd = notes.end[notes.count - 1];
  const trailingRest = endOfTrackStep - lastNoteEnd;
  return trailingRest > 0 && trailingRest <= maxTrailingRestSteps ? endOfTrackStep : lastNoteEnd;
}

// ---- key, meter, tempo ----

/**
 * The pitch classes a key's notes may use without contradicting it: its scale; a mode with a minor third
 * also its raised seventh (the leading note), and minor its raised sixth (melodic minor) as well.
 */
function pitchClassesAllowed(key: Key): Set<number> {
  const allowed = new Set(scaleOf(key));
  if (!isMajorMode(key.mode)) {
    allowed.add((key.tonic + 11) % 12);
    if (key.mode === 'minor' || key.mode === 'aeolian') allowed.add((key.tonic + 9) % 12);
  }
  return allowed;
}

function shareOutside(histogram: Float64Array, key: Key): number {
  const allowed = pitchClassesAllowed(key);
  let outside = 0, total = 0;
  for (let pc = 0; pc < 12; pc++) {
    total += histogram[pc];
    if (!allowed.has(pc)) outside += histogram[pc];
  }
  return total > 0 ? outside / total : 0;
}

/** Of events sorted by tick: the last one at or before `tick`, else the first; null when there are none. */
function inForceAt<T extends { tick: number }>(events: readonly T[], tick: number): T | null {
  if (events.length === 0) return null;
  let found = events[0];
  for (const event of events) if (event.tick <= tick && event.tick >= found.tick) found = event;
  return found;
}

const CONTRADICTED_OUTSIDE_SHARE = 0.1;
/** A C major signature (what sequencers write when nobody chose a key) is contradicted from this share on. */
const PLACEHOLDER_OUTSIDE_SHARE = 0.03;
const percent = (x: number) => `${Math.round(100 * x)}%`;
/** The key of the melody in the file: from a text naming it, else its signature, unless the notes contradict it; else estimated. */
function chooseKey(notes: NoteList, midi: MidiFile, firstOnsetTick: number, options: ImportOptions): MelodyKey {
  const durations = new Float64Array(notes.count);
  for (let i = 0; i < notes.count; i++) durations[i] = notes.end[i] - notes.start[i];
  const histogram = pitchClassDurations(notes.pitch, durations, notes.count);
  const finalPitchClass = ((notes.pitch[notes.count - 1] % 12) + 12) % 12;
  const profile = options.keyProfile ?? DEFAULT_KEY_PROFILE;
  const found = estimateKey(histogram, profile);
  const estimate = found && { name: keyName(found.key), tonic: found.key.tonic, mode: found.key.mode, correlation: found.correlation, profile };
  const keyNotes: string[] = [];

  // The estimate: the key finder's major or minor key (a single repeated pitch: its major key), its tonic
  // checked against the last note, its mode against the notes.
  const estimateNotes: string[] = [];
  let estimatedKey: Key = found?.key ?? { tonic: ((notes.pitch[0] % 12) + 12) % 12, mode: 'major' };
  if (found) {
    const tonic = tonicOfScale(histogram, estimatedKey, finalPitchClass, profile);
    if (tonic.evidence) estimateNotes.push(`tonic: ${tonic.evidence}`);
    const mode = modeFromNotes(histogram, tonic.key);
    if (mode.evidence) estimateNotes.push(`mode from the notes: ${mode.evidence}`);
    estimatedKey = mode.key;
  }

  // Key signatures: the one in force at the first note; of several at its tick, the one the notes fit.
  const sorted = [...midi.keySignatures].sort((a, b) => a.tick - b.tick);
  let inForce = inForceAt(sorted, firstOnsetTick);
  let signaturesAtOnce = 0;
  if (inForce !== null) {
    const tick = inForce.tick;
    const atTick = sorted.filter((k) => k.tick === tick);
    const distinct = atTick.filter((k, i) => atTick.findIndex((o) => o.sharps === k.sharps && o.mode === k.mode) === i);
    signaturesAtOnce = distinct.length;
    if (distinct.length > 1) {
      const outsideOf = (k: (typeof distinct)[number]) => shareOutside(histogram, keyOfSignature(k.sharps, k.mode));
      let best = inForce;
      for (const k of distinct) if (outsideOf(k) < outsideOf(best)) best = k;
      keyNotes.push(`several key signatures at tick ${tick} (${distinct.map((k) => `${keyName(keyOfSignature(k.sharps, k.mode))} ${percent(outsideOf(k))} of note time outside`).join(', ')}): ` +
        `${keyName(keyOfSignature(best.sharps, best.mode))} taken, the one the notes fit best`);
      inForce = best;
    }
  }
  const signature = inForce && { sharps: inForce.sharps, mode: inForce.mode, name: keyName(keyOfSignature(inForce.sharps, inForce.mode)) };
  let signatureChanges = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i].sharps !== sorted[i - 1].sharps || sorted[i].mode !== sorted[i - 1].mode) signatureChanges++;

  // A key named in a text or marker event at or before the first note (the last such).
  let textKey: Key | null = null;
  for (const text of [...midi.texts].sort((a, b) => a.tick - b.tick)) {
    if (text.tick > firstOnsetTick) break;
    textKey = keyOfText(text.text) ?? textKey;
  }

  const record = (key: Key, source: MelodyKey['source'], modeFrom: MelodyKey['modeFrom'], extra: { reason?: string; placeholder?: boolean; notes?: string[] } = {}): MelodyKey => ({
    tonic: key.tonic, mode: plainMode(key.mode), name: keyName({ tonic: key.tonic, mode: plainMode(key.mode) }), source, modeFrom,
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    signature, placeholder: extra.placeholder ?? false, signatureChanges, signaturesAtOnce, estimate,
    outsideScale: shareOutside(histogram, key), notes: [...keyNotes, ...(extra.notes ?? [])],
  });
  const estimated = (reason: string, placeholder = false) => record(estimatedKey, 'estimated', 'notes', { reason, placeholder, notes: estimateNotes });

  if (options.useKeySignature === false) return estimated('key signatures ignored (useKeySignature false)');
  const signed = signature && keyOfSignature(signature.sharps, signature.mode);
  let chosen: Key;
  let source: MelodyKey['source'];
  let modeFrom: MelodyKey['modeFrom'];
  const choiceNotes: string[] = [];
  if (textKey !== null && (signed === null || sameScale(textKey, signed))) {
    chosen = { tonic: textKey.tonic, mode: plainMode(textKey.mode) };
    source = 'text';
    modeFrom = 'text';
  } else if (signed !== null) {
    // Another tonic of the signature's scale (its notes as written), or the signature's tonic in a mode
    // the notes say (one characteristic degree altered); never both, which would leave the signature behind.
    const tonic = tonicOfScale(histogram, signed, finalPitchClass, profile);
    if (tonic.evidence) {
      choiceNotes.push(`tonic: ${tonic.evidence}`);
      chosen = tonic.key;
    } else {
      const mode = modeFromNotes(histogram, signed);
      if (mode.evidence) choiceNotes.push(`mode from the notes: ${mode.evidence}`);
      chosen = mode.key;
    }
    source = 'signature';
    modeFrom = chosen.mode === signed.mode ? 'signature' : 'notes';
  } else {
    return estimated('no key signature');
  }

  // The notes contradict the key when much of them lie outside its scale (as written, and as read from the
  // notes) and the estimate fits far better.
  const isCMajorSignature = source === 'signature' && signature !== null && signature.sharps === 0 && signature.mode === 'major';
  const threshold = isCMajorSignature ? PLACEHOLDER_OUTSIDE_SHARE : CONTRADICTED_OUTSIDE_SHARE;
  const written = source === 'text' ? chosen : (signed as Key);
  const outsideWritten = shareOutside(histogram, written);
  const outsideChosen = Math.min(outsideWritten, shareOutside(histogram, chosen));
  const outsideEstimated = shareOutside(histogram, estimatedKey);
  if (outsideChosen > threshold && outsideEstimated <= outsideChosen / 2) {
    const what = source === 'text' ? `the key named in the file, ${keyName(chosen)}` : `the key signature ${signature?.name}${isCMajorSignature ? ', a placeholder (what sequencers write when no key was chosen)' : ''}`;
    const reason = `the notes contradict ${what}: ${percent(outsideWritten)} of note steps fall outside its scale, ${percent(outsideEstimated)} outside ${keyName(estimatedKey)}`;
    return estimated(reason, isCMajorSignature);
  }
  return record(chosen, source, modeFrom, { notes: choiceNotes });
}

/** Candidate meters for an estimate: [numerator, denominator]; 2/4 and 2/2 are told as 4/4 (the same bars to the rules). */
const ESTIMATED_METERS: readonly [number, number][] = [[4, 4], [3, 4], [6, 8]];

/**
 * A meter and downbeat from the notes alone (steps, onset order): for bars of 16 steps (4/4) and of 12
 * (3/4 or 6/8), each phase is scored by the note time starting on its downbeats, as a multiple of what
 * an even spread would put there; the highest score wins (ties: the longer bar, phase 0). Twelve-step bars
 * are 6/8 when more note time starts half-way through the bar than on its second and third quarter beats.
 */
export function estimateMeter(notes: NoteList): { numerator: number; denominator: number; phase: number } {
  let total = 0;
  for (let i = 0; i < notes.count; i++) total += Math.max(1, notes.end[i] - notes.start[i]);
  let best = { numerator: 4, denominator: 4, phase: 0 }, bestScore = -Infinity;
  for (const bar of [16, 12]) {
    const atPosition = new Float64Array(bar);
    for (let i = 0; i < notes.count; i++) atPosition[((notes.start[i] % bar) + bar) % bar] += Math.min(bar, Math.max(1, notes.end[i] - notes.start[i]));
    for (let phase = 0; phase < bar; phase++) {
      const score = total > 0 ? (atPosition[phase] / total) * bar : 0;
      if (score > bestScore + 1e-9) {
        bestScore = score;
        let meter: [number, number] = bar === 16 ? ESTIMATED_METERS[0] : ESTIMATED_METERS[1];
        if (bar === 12) {
          const at = (offset: number) => atPosition[(phase + offset) % bar];
          if (at(6) > (at(4) + at(8)) / 2) meter = ESTIMATED_METERS[2];
        }
        best = { numerator: meter[0], denominator: meter[1], phase };
      }
    }
  }
  return best;
}

/**
 * The time signature in force at the first note (4/4 when the file has none; estimated from the notes
 * when it is a one-beat placeholder such as 1/4), how often it changes, and the step a bar line falls on.
 */
function meterAt(midi: MidiFile, firstOnsetTick: number, ticksPerStep: number, gridOffsetTicks: number, notes: NoteList): { meter: MelodyMeter; barOriginStep: number } {
  const sorted = [...midi.timeSignatures].sort((a, b) => a.tick - b.tick);
  let changes = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i].numerator !== sorted[i - 1].numerator || sorted[i].denominator !== sorted[i - 1].denominator) changes++;
  const first = inForceAt(sorted, firstOnsetTick);
  if (first === null || first.numerator === 0) return { meter: { numerator: 4, denominator: 4, stepsPerBar: 16, source: 'default', changes }, barOriginStep: 0 };
  if (first.numerator === 1) {
    const estimate = estimateMeter(notes);
    return {
      meter: { numerator: estimate.numerator, denominator: estimate.denominator, stepsPerBar: (estimate.numerator * 16) / estimate.denominator, source: 'estimated', placeholder: `${first.numerator}/${first.denominator}`, changes },
      barOriginStep: estimate.phase,
    };
  }
  return {
    meter: { numerator: first.numerator, denominator: first.denominator, stepsPerBar: (first.numerator * 16) / first.denominator, source: 'signature', changes },
    barOriginStep: Math.round((first.tick - gridOffsetTicks) / ticksPerStep),
  };
}

/** The tempo in force at the first note in quarter notes per minute (120 without a tempo event). */
function tempoAt(midi: MidiFile, firstOnsetTick: number): { qpm: number; tempoChanges: number } {
  const sorted = [...midi.tempos].sort((a, b) => a.tick - b.tick);
  let tempoChanges = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i].microsecondsPerQuarter !== sorted[i - 1].microsecondsPerQuarter) tempoChanges++;
  const first = inForceAt(sorted, firstOnsetTick);
  if (first === null || first.microsecondsPerQuarter <= 0) return { qpm: 120, tempoChanges };
  return { qpm: Math.round((60_000_000 / first.microsecondsPerQuarter) * 1000) / 1000, tempoChanges };
}

// ---- pitch ----

/** Note steps (each note weighted by its length) whose pitch class is in C major after `shift`. */
export function stepsInCMajor(notes: NoteList, shift: number): number {
  let steps = 0;
  for (let i = 0; i < notes.count; i++) {
    if (C_MAJOR_PITCH_CLASSES.has((((notes.pitch[i] + shift) % 12) + 12) % 12)) steps += notes.end[i] - notes.start[i];
  }
  return steps;
}

/** The shift in −6..+5 with the most note steps in C major; ties: smaller |shift|, then negative. */
export function chooseTransposition(notes: NoteList): number {
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
export function chooseOctaveShift(pitches: Int32Array): number {
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
export function foldIntoRange(pitches: Int32Array): { pitches: Int32Array; notesFolded: number } {
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
export function encodeNotes(notes: NoteList, melodyEnd: number): Uint8Array {
  const first = notes.start[0];
  const tokens = new Uint8Array(melodyEnd - first).fill(NO_EVENT);
  for (let i = 0; i < notes.count; i++) {
    tokens[notes.start[i] - first] = pitchToToken(notes.pitch[i]);
    const nextStart = i + 1 < notes.count ? notes.start[i + 1] : melodyEnd;
    if (notes.end[i] < nextStart) tokens[notes.end[i] - first] = NOTE_OFF;
  }
  return tokens;
}
