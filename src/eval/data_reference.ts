/**
 * The reference a model's data-likeness rows are compared with: a corpus of tunes cut into pieces of the
 * composition length, summarised by the same counts (src/eval/data_likeness.ts). The default is the
 * Nottingham test split (data/nottingham/splits/test.txt), imported as `rltuner train` imports it (each
 * tune's tonic moved to C or A); its summaries at 32, 64 and 128 steps ship with the library (made by
 * scripts/data_summaries.mjs, checked against the data by test/eval/data_reference.test.ts), so the
 * library and the page need no MIDI files.
 *
 * Cutting: each tune gives the non-overlapping pieces of `numNotes` steps that end at its end, at its end
 * minus numNotes, and so on back while a whole piece fits (the leftover at the tune's start is dropped).
 * Aligning to the end keeps every tune's real ending as one piece: a model's composition is a whole piece,
 * so its last note is compared with tunes' endings ("last note on the tonic class" reads the final pieces
 * only), while every other row reads all pieces.
 */
import { DATA_REFERENCE_SUMMARIES } from '../generated/data_reference.js';
import type { Melody } from '../music/corpus.js';
import { keyNamed } from '../music/keys.js';
import { distinctWindowShare, listenerMetrics } from './listener.js';
import { addPiece, emptyDataLikeness, histogramDistances, type DataLikeness } from './data_likeness.js';

/** A tune of a reference corpus: its tokens and the pitch class of its tonic (0 for C, 9 for A, …). */
export interface ReferenceTune {
  tokens: ArrayLike<number>;
  tonicClass: number;
}

export interface DataReference {
  /** What the reference is, e.g. "Nottingham test split". */
  name: string;
  numNotes: number;
  /** Tunes given, and those at least numNotes long (the ones that gave pieces). */
  tunes: number;
  tunesUsed: number;
  /** Counts over every piece. */
  stats: DataLikeness;
  /** Each tune's final piece: how many, and how many end on their tonic class. */
  endings: { pieces: number; lastNoteOnTonic: number };
  /**
   * The histogram distances between the pieces of the even-numbered and the odd-numbered tunes: how far
   * apart two halves of the data lie, the scale against which a model's distance reads.
   */
  halves: { duration: number | null; interval: number | null; pitchRange: number | null };
  /** Listener metrics of the pieces (the pieces count is stats.pieces). */
  listener: { topOpeningShare: number; pitchClassEntropyBits: number; distinctWindows4: number; distinctWindows8: number };
  /**
   * Distinct 8-step windows over sets of one piece per tune (tunesUsed pieces each, so independent tunes
   * like a model's independent samples): the mean over the sets made of every tune's k-th piece (cycling
   * through a tune's pieces), k = 0 .. the most pieces any tune gave − 1. Pooling every piece instead
   * would count each tune's repeated sections as a lack of variety.
   */
  distinctWindows8OnePerTune: number;
}

/** Window length of the count-matched distinct-window row. */
export const DISTINCT_WINDOW_STEPS = 8;

/** The pieces of `numNotes` steps cut from a tune, aligned to its end, in order; the last is its ending. */
export function cutPieces(tokens: ArrayLike<number>, numNotes: number): ArrayLike<number>[] {
  const count = Math.floor(tokens.length / numNotes);
  const first = tokens.length - count * numNotes;
  const pieces: ArrayLike<number>[] = [];
  for (let k = 0; k < count; k++) pieces.push(Array.prototype.slice.call(tokens, first + k * numNotes, first + (k + 1) * numNotes) as number[]);
  return pieces;
}

/** Summarises `tunes` cut into pieces of `numNotes` steps. Throws when no tune is that long. */
export function dataReference(name: string, tunes: readonly ReferenceTune[], numNotes: number): DataReference {
  const stats = emptyDataLikeness();
  const halves = [emptyDataLikeness(), emptyDataLikeness()];
  const endingStats = emptyDataLikeness();
  const allPieces: ArrayLike<number>[] = [];
  const byTune: ArrayLike<number>[][] = [];
  let tunesUsed = 0;
  tunes.forEach((tune, index) => {
    const pieces = cutPieces(tune.tokens, numNotes);
    if (pieces.length === 0) return;
    tunesUsed++;
    byTune.push(pieces);
    for (const piece of pieces) {
      addPiece(stats, piece, tune.tonicClass);
      addPiece(halves[index % 2], piece, tune.tonicClass);
      allPieces.push(piece);
    }
    addPiece(endingStats, pieces[pieces.length - 1], tune.tonicClass);
  });
  if (tunesUsed === 0) {
    const longest = tunes.reduce((m, t) => Math.max(m, t.tokens.length), 0);
    throw new RangeError(`data reference ${name}: no tune is ${numNotes} steps long (the longest of ${tunes.length} has ${longest}); pass a corpus of longer tunes or a shorter length`);
  }
  const listener = listenerMetrics(allPieces);
  const sets = byTune.reduce((m, pieces) => Math.max(m, pieces.length), 0);
  let onePerTune = 0;
  for (let k = 0; k < sets; k++) onePerTune += distinctWindowShare(byTune.map((pieces) => pieces[k % pieces.length]), DISTINCT_WINDOW_STEPS);
  return {
    name,
    numNotes,
    tunes: tunes.length,
    tunesUsed,
    stats,
    endings: { pieces: endingStats.piecesWithNotes, lastNoteOnTonic: endingStats.lastNoteOnTonic },
    halves: histogramDistances(halves[0], halves[1]),
    listener: {
      topOpeningShare: listener.topOpeningShare,
      pitchClassEntropyBits: listener.pitchClassEntropyBits,
      distinctWindows4: listener.distinctWindows4,
      distinctWindows8: listener.distinctWindows8,
    },
    distinctWindows8OnePerTune: onePerTune / sets,
  };
}

/** The lengths the shipped default reference covers. */
export const SHIPPED_REFERENCE_LENGTHS: readonly number[] = DATA_REFERENCE_SUMMARIES.references.map((r) => r.numNotes);

/** What the shipped summaries were made from (file list, import, script). */
export const SHIPPED_REFERENCE_SOURCE = DATA_REFERENCE_SUMMARIES.source;

/** The shipped default reference (the Nottingham test split) at `numNotes` steps, or null for other lengths. */
export function shippedReference(numNotes: number): DataReference | null {
  return (DATA_REFERENCE_SUMMARIES.references as readonly DataReference[]).find((r) => r.numNotes === numNotes) ?? null;
}

/** Tunes of a corpus import (src/music/corpus.ts) as reference tunes: each with the tonic of the key its tokens are in. */
export function referenceTunesOf(melodies: readonly Melody[]): ReferenceTune[] {
  return melodies.map((m) => ({ tokens: m.tokens, tonicClass: tokensTonicClass(m) }));
}

/** The tonic pitch class of a melody's tokens ("C major" → 0, "A minor" → 9); C without a record. */
function tokensTonicClass(m: Melody): number {
  if (!m.info) return 0;
  const [tonic, mode] = m.info.tokensKey.split(' ');
  return keyNamed(tonic, mode ?? 'major').tonic;
}
