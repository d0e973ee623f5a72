/**
 * Data likeness: does a set of compositions have the rhythm, contour and form of the tunes the Note RNN
 * learned from? One linear pass over every composition (SPEC §1 tokens) counts what a listener hears
 * beyond the paper's rules, and the same pass over a reference set (by default the Nottingham test split
 * cut into pieces of the composition length, src/eval/data_reference.ts) gives the values to compare with.
 * Pure: token arrays in, plain JSON counts out; total-variation distances between two sets' histograms.
 *
 * Definitions (each chosen so a model's compositions and the reference's pieces are measured alike):
 * - A note starts at a note-on (tokens 2..37) and lasts until the next note-on or NOTE_OFF; NO_EVENT holds
 *   it. Its duration is that many 16th-note steps. A note still sounding at the piece's end is cut there:
 *   its true length is unknown (a model's piece ends where sampling stops; a reference piece is cut out of
 *   a longer tune), so it is left out of the duration histogram and of the sixteenth runs, and counted
 *   everywhere else (note-ons, intervals, range, last note). Leading NO_EVENTs before the first note-on
 *   continue the primer's (or the tune's previous) note and belong to no note of the piece.
 * - Duration histogram: bins of 1..16 steps and one bin for longer notes.
 * - Hold share: NO_EVENT steps / all steps (holds of notes and continued rests alike).
 * - Onsets on the eighth-note grid: a piece's note-ons fall on even or odd steps; the piece's own grid is
 *   the phase holding more of them (a piece cut from a tune, or sampled after a primer, need not start on
 *   a beat). The row is Σ over pieces of the larger count / all note-ons.
 * - Note-ons per bar: note-ons / (steps / 16), a bar being 16 steps of 4/4.
 * - Sixteenth runs: a run is a maximal sequence of back-to-back notes of one step each (each ended by the
 *   next note-on; the last may end in a NOTE_OFF). The row is the share of (uncut) notes in runs of ≥ 4.
 * - Intervals: the signed semitone step between successive note-ons of a piece (rests in between do not
 *   break the succession), in bins −12..+12 and one bin each for wider steps down and up.
 * - Pitch range: highest minus lowest note-on of a piece, in semitones (pieces with at least one note),
 *   in bins 0..24 and one bin for wider ranges.
 * - Last note on the tonic class: the piece's last note-on is in its key's tonic class (the rules' key for
 *   a model; each tune's own key for the reference).
 * - Recurrence (pieces of ≥ 64 steps): the share of pieces in which a window of 16 steps (one bar) or 32
 *   steps (two bars) recurs: the same tokens again later, not overlapping, at any offset, with at least 2
 *   note-ons (src/music/recurrence.ts says why any offset).
 */
import { NO_EVENT, NOTE_OFF, NUM_SPECIAL, PITCH_OFFSET, STEPS_PER_BAR } from '../music/encoding.js';
import { hasRecurringWindow, RECURRENCE_MIN_STEPS, RECURRENCE_WINDOWS } from '../music/recurrence.js';

export { hasRecurringWindow, RECURRENCE_MIN_STEPS, RECURRENCE_WINDOWS };

/** Duration bins: 1..16 steps, then one bin for notes longer than 16 steps. */
export const DURATION_BINS = 17;
/** Interval bins: −12..+12 semitones, and one bin each for wider steps down and up (27 bins). */
export const MAX_BINNED_INTERVAL = 12;
export const INTERVAL_BINS = 2 * MAX_BINNED_INTERVAL + 3;
/** Pitch-range bins: 0..24 semitones, then one bin for wider ranges. */
export const MAX_BINNED_RANGE = 24;
export const RANGE_BINS = MAX_BINNED_RANGE + 2;
/** A sixteenth run counts from this many notes. */
export const SIXTEENTH_RUN_MIN = 4;

/** Counts over a set of pieces; every share is derived from them (see the accessors below). */
export interface DataLikeness {
  pieces: number;
  steps: number;
  /** Note-ons (every note, cut or not). */
  noteOns: number;
  /** Notes with a known duration (not cut by the piece's end): the duration histogram's total. */
  notes: number;
  /** Notes per duration bin (index d − 1 for d = 1..16 steps; the last bin > 16). */
  durationCounts: number[];
  /** NO_EVENT steps. */
  holdSteps: number;
  /** Σ over pieces of the note-ons on the piece's better eighth-grid phase. */
  onsetsOnEighthGrid: number;
  /** Uncut notes in runs of ≥ SIXTEENTH_RUN_MIN back-to-back sixteenths. */
  notesInSixteenthRuns: number;
  /** Successive note-on pairs per signed interval bin (index interval + 13; 0 and 26 are the wide bins). */
  intervalCounts: number[];
  /** Pieces with at least one note-on. */
  piecesWithNotes: number;
  /** Pieces per pitch-range bin (0..24 semitones, the last bin wider). */
  rangeCounts: number[];
  /** Σ over pieces with notes of their range in semitones. */
  rangeSum: number;
  /** Pieces spanning more than an octave (range > 12). */
  piecesOverOctave: number;
  /** Pieces whose last note-on is in their key's tonic class. */
  lastNoteOnTonic: number;
  /** Note-ons per pitch class (C = 0). */
  pitchClassCounts: number[];
  /** Pieces of ≥ RECURRENCE_MIN_STEPS steps, and how many of them have a recurring 1-bar / 2-bar window. */
  recurrencePieces: number;
  recurring1Bar: number;
  recurring2Bar: number;
}

/** How to find a piece's tonic class: one pitch class for all (a model's key) or one per piece (a corpus). */
export type TonicClasses = number | ArrayLike<number>;

/** An empty set of counts (to merge into). */
export function emptyDataLikeness(): DataLikeness {
  return {
    pieces: 0, steps: 0, noteOns: 0, notes: 0, durationCounts: new Array(DURATION_BINS).fill(0), holdSteps: 0,
    onsetsOnEighthGrid: 0, notesInSixteenthRuns: 0, intervalCounts: new Array(INTERVAL_BINS).fill(0),
    piecesWithNotes: 0, rangeCounts: new Array(RANGE_BINS).fill(0), rangeSum: 0, piecesOverOctave: 0,
    lastNoteOnTonic: 0, pitchClassCounts: new Array(12).fill(0), recurrencePieces: 0, recurring1Bar: 0, recurring2Bar: 0,
  };
}

/**
 * The data-likeness counts of `pieces` (token arrays of any length; normally all the same). `tonicClass`
 * is the pitch class (0..11, C = 0) of the tonic, for every piece or per piece.
 */
export function dataLikeness(pieces: readonly ArrayLike<number>[], tonicClass: TonicClasses = 0): DataLikeness {
  const out = emptyDataLikeness();
  pieces.forEach((piece, i) => addPiece(out, piece, typeof tonicClass === 'number' ? tonicClass : tonicClass[i]));
  return out;
}

/** Adds one piece's counts to `out`. */
export function addPiece(out: DataLikeness, piece: ArrayLike<number>, tonicClass: number): void {
  const n = piece.length;
  out.pieces++;
  out.steps += n;
  let onset = -1; // step of the sounding note's onset, −1 when none sounds
  let previousPitch = -1;
  let run = 0; // back-to-back sixteenths so far in the current run
  let even = 0, odd = 0, lowest = Infinity, highest = -Infinity, last = -1;
  const closeRun = () => {
    if (run >= SIXTEENTH_RUN_MIN) out.notesInSixteenthRuns += run;
    run = 0;
  };
  for (let i = 0; i < n; i++) {
    const token = piece[i];
    if (token === NO_EVENT) {
      out.holdSteps++;
      continue;
    }
    if (onset >= 0) {
      const duration = i - onset;
      out.notes++;
      out.durationCounts[Math.min(duration, DURATION_BINS) - 1]++;
      if (duration === 1) {
        run++;
        if (token === NOTE_OFF) closeRun();
      } else {
        closeRun();
      }
      onset = -1;
    }
    if (token < NUM_SPECIAL) continue; // NOTE_OFF
    onset = i;
    out.noteOns++;
    if (i % 2 === 0) even++;
    else odd++;
    if (previousPitch >= 0) {
      const interval = Math.max(-MAX_BINNED_INTERVAL - 1, Math.min(MAX_BINNED_INTERVAL + 1, token - previousPitch));
      out.intervalCounts[interval + MAX_BINNED_INTERVAL + 1]++;
    }
    previousPitch = token;
    if (token < lowest) lowest = token;
    if (token > highest) highest = token;
    last = token;
    out.pitchClassCounts[(((token + PITCH_OFFSET) % 12) + 12) % 12]++;
  }
  closeRun(); // a note cut by the end is not in a run: the run closes before it
  out.onsetsOnEighthGrid += Math.max(even, odd);
  if (last >= 0) {
    const range = highest - lowest;
    out.piecesWithNotes++;
    out.rangeSum += range;
    out.rangeCounts[Math.min(range, MAX_BINNED_RANGE + 1)]++;
    if (range > 12) out.piecesOverOctave++;
    if ((((last + PITCH_OFFSET) % 12) + 12) % 12 === (((tonicClass % 12) + 12) % 12)) out.lastNoteOnTonic++;
  }
  if (n >= RECURRENCE_MIN_STEPS) {
    out.recurrencePieces++;
    if (hasRecurringWindow(piece, RECURRENCE_WINDOWS[0])) out.recurring1Bar++;
    if (hasRecurringWindow(piece, RECURRENCE_WINDOWS[1])) out.recurring2Bar++;
  }
}

/** Merges counts (e.g. of several corpora). */
export function mergeDataLikeness(a: DataLikeness, b: DataLikeness): DataLikeness {
  const out = emptyDataLikeness();
  for (const key of Object.keys(out) as (keyof DataLikeness)[]) {
    const x = a[key], y = b[key];
    (out as unknown as Record<string, number | number[]>)[key] = Array.isArray(x) ? x.map((v, i) => v + (y as number[])[i]) : (x as number) + (y as number);
  }
  return out;
}

// ---- Shares and distances -----------------------------------------------------------------------------

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** Share of uncut notes lasting `steps` steps (1..16), or longer than 16 for `steps` > 16. */
export function durationShare(d: DataLikeness, steps: number): number | null {
  return ratio(d.durationCounts[Math.min(steps, DURATION_BINS) - 1], d.notes);
}

/** Share of uncut notes lasting at least `steps` steps. */
export function durationShareAtLeast(d: DataLikeness, steps: number): number | null {
  let count = 0;
  for (let i = steps - 1; i < DURATION_BINS; i++) count += d.durationCounts[i];
  return ratio(count, d.notes);
}

export const holdShare = (d: DataLikeness) => ratio(d.holdSteps, d.steps);
export const eighthGridShare = (d: DataLikeness) => ratio(d.onsetsOnEighthGrid, d.noteOns);
export const noteOnsPerBar = (d: DataLikeness) => ratio(d.noteOns * STEPS_PER_BAR, d.steps);
export const sixteenthRunShare = (d: DataLikeness) => ratio(d.notesInSixteenthRuns, d.notes);
export const meanPitchRange = (d: DataLikeness) => ratio(d.rangeSum, d.piecesWithNotes);
export const overOctaveShare = (d: DataLikeness) => ratio(d.piecesOverOctave, d.piecesWithNotes);
export const lastNoteOnTonicShare = (d: DataLikeness) => ratio(d.lastNoteOnTonic, d.piecesWithNotes);
export const recurring1BarShare = (d: DataLikeness) => ratio(d.recurring1Bar, d.recurrencePieces);
export const recurring2BarShare = (d: DataLikeness) => ratio(d.recurring2Bar, d.recurrencePieces);

/** Entropy of the note-ons' pitch classes, in bits. */
export function pitchClassEntropy(d: DataLikeness): number | null {
  if (d.noteOns === 0) return null;
  let entropy = 0;
  for (const count of d.pitchClassCounts) {
    if (count > 0) {
      const p = count / d.noteOns;
      entropy -= p * Math.log2(p);
    }
  }
  return entropy;
}

/** Total-variation distance ½ Σ |p_i − q_i| between two histograms of counts; null when either is empty. */
export function totalVariation(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new RangeError(`totalVariation: histograms of ${a.length} and ${b.length} bins`);
  let sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) {
    sa += a[i];
    sb += b[i];
  }
  if (sa <= 0 || sb <= 0) return null;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] / sa - b[i] / sb);
  return sum / 2;
}

/** The three histogram distances of `d` to `reference`: note durations, intervals, pitch ranges. */
export function histogramDistances(d: DataLikeness, reference: DataLikeness): { duration: number | null; interval: number | null; pitchRange: number | null } {
  return {
    duration: totalVariation(d.durationCounts, reference.durationCounts),
    interval: totalVariation(d.intervalCounts, reference.intervalCounts),
    pitchRange: totalVariation(d.rangeCounts, reference.rangeCounts),
  };
}
