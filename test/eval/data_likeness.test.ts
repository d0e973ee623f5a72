// Data-likeness counts on hand-made pieces (every definition of src/eval/data_likeness.ts once), the
// recurrence test against a brute-force search, and the distances.
import { describe, expect, it } from 'vitest';
import {
  dataLikeness, durationShare, durationShareAtLeast, eighthGridShare, emptyDataLikeness, hasRecurringWindow, histogramDistances, holdShare,
  lastNoteOnTonicShare, meanPitchRange, mergeDataLikeness, noteOnsPerBar, overOctaveShare, pitchClassEntropy, recurring1BarShare,
  recurring2BarShare, sixteenthRunShare, totalVariation, DURATION_BINS, INTERVAL_BINS, RANGE_BINS,
} from '../../src/eval/data_likeness.js';
import { blockDistinctWindowShare, distinctWindowShare } from '../../src/eval/listener.js';
import { Random } from '../../src/random.js';

// Tokens: 14 = C4, 16 = D4, 18 = E4, 21 = G4, 23 = A4, 26 = C5, 0 = NOTE_OFF, 1 = NO_EVENT (hold).
const H = 1, OFF = 0;

describe('notes and durations', () => {
  // A leading hold (no note), C4 for 4 steps, D4 for 1 (ended by NOTE_OFF), a rest of 2, E4 cut by the end.
  const piece = [H, 14, H, H, H, 16, OFF, H, 18, H];
  const d = dataLikeness([piece], 0);

  it('a note lasts from its onset to the next onset or NOTE_OFF; the note cut by the end is left out', () => {
    expect(d.noteOns).toBe(3);
    expect(d.notes).toBe(2);
    expect(d.durationCounts[3]).toBe(1); // C4: 4 steps
    expect(d.durationCounts[0]).toBe(1); // D4: 1 step
    expect(d.durationCounts.reduce((s, c) => s + c, 0)).toBe(2);
    expect(durationShare(d, 4)).toBe(0.5);
    expect(durationShareAtLeast(d, 2)).toBe(0.5);
  });

  it('hold share counts every NO_EVENT step, of notes and of rests', () => {
    expect(d.holdSteps).toBe(6); // the leading hold, three of C4, one of the rest, one of E4
    expect(holdShare(d)).toBeCloseTo(6 / 10, 12);
  });

  it('notes longer than 16 steps share the last bin', () => {
    const long = dataLikeness([[14, ...new Array(19).fill(H), 16, H]], 0);
    expect(long.durationCounts[DURATION_BINS - 1]).toBe(1);
    expect(durationShare(long, 30)).toBe(1);
  });

  it('note-ons per bar of 16 steps', () => {
    expect(noteOnsPerBar(d)).toBeCloseTo((3 * 16) / 10, 12);
  });
});

describe('the eighth-note grid', () => {
  it("each piece's better phase: onsets on odd steps count when most are odd", () => {
    // Piece 1: onsets at 1, 3, 5 (odd) and 6 (even) → 3 of 4. Piece 2: onsets at 0, 2, 3 → 2 of 3.
    const d = dataLikeness([[H, 14, H, 16, H, 18, 21, H], [14, H, 16, 18]], 0);
    expect(d.onsetsOnEighthGrid).toBe(5);
    expect(eighthGridShare(d)).toBeCloseTo(5 / 7, 12);
  });
});

describe('sixteenth runs', () => {
  it('back-to-back one-step notes; runs of 4 or more count, the cut last note never does', () => {
    // Run of 4 sixteenths then a quarter; a run of 3 then a quarter; a run of 3 ended by NOTE_OFF (counted as 3, below 4).
    const d = dataLikeness([[14, 16, 18, 21, 23, H, H, H, 14, 16, 18, 21, H, H, H, 14, 16, 18, OFF, H]], 0);
    expect(d.notesInSixteenthRuns).toBe(4);
    // A run of 4 whose last note ends in a NOTE_OFF counts; so does one of 5 closed by a longer note.
    expect(dataLikeness([[14, 16, 18, 21, OFF, H]], 0).notesInSixteenthRuns).toBe(4);
    expect(dataLikeness([[14, 16, 18, 21, 23, 14, H]], 0).notesInSixteenthRuns).toBe(5);
    // Three complete sixteenths and a fourth cut by the end: the cut one has no known length.
    expect(dataLikeness([[14, 16, 18, 21]], 0).notesInSixteenthRuns).toBe(0);
    // Four sixteenths, then A4 cut by the end (the run of 4 counts); two eighths, then E4 cut.
    const both = dataLikeness([[14, 16, 18, 21, 23, H], [14, H, 16, H, 18, H]], 0);
    expect(both.notes).toBe(4 + 2);
    expect(sixteenthRunShare(both)).toBeCloseTo(4 / 6, 12);
  });
});

describe('intervals, range, ending and pitch classes', () => {
  // C4 E4 (rest) C5 G4 … B5 (37): +4, +8 across the rest, −5, +16 (wide, the top bin).
  const piece = [14, 18, OFF, 26, 21, H, 37, H];
  const d = dataLikeness([piece], 0);

  it('signed intervals between successive note-ons, rests in between; wider than an octave in the end bins', () => {
    expect(d.intervalCounts).toHaveLength(INTERVAL_BINS);
    const at = (i: number) => d.intervalCounts[i + 13];
    expect([at(4), at(8), at(-5), at(13)]).toEqual([1, 1, 1, 1]);
    expect(d.intervalCounts.reduce((s, c) => s + c, 0)).toBe(4);
    expect(dataLikeness([[37, 2]], 0).intervalCounts[0]).toBe(1); // −35: the bottom bin
  });

  it('range: highest minus lowest note-on, its histogram and the octave share', () => {
    expect(d.rangeSum).toBe(37 - 14);
    expect(d.rangeCounts).toHaveLength(RANGE_BINS);
    expect(d.rangeCounts[23]).toBe(1);
    expect(overOctaveShare(d)).toBe(1);
    const two = dataLikeness([piece, [14, H, 18, H, 21, H, 26, H]], 0);
    expect(meanPitchRange(two)).toBe((23 + 12) / 2);
    expect(overOctaveShare(two)).toBe(0.5); // exactly an octave is not more than one
    expect(dataLikeness([[14, 2, 37]], 0).rangeCounts[RANGE_BINS - 1]).toBe(1); // 35 semitones: the last bin
  });

  it("the last note-on is on the tonic class of the piece's key (one for all, or one per piece)", () => {
    const endsOnC = [14, 16, 26, OFF]; // last note-on C5, then a rest
    const endsOnA = [14, 16, 23, H]; // A4
    expect(lastNoteOnTonicShare(dataLikeness([endsOnC, endsOnA], 0))).toBe(0.5);
    expect(lastNoteOnTonicShare(dataLikeness([endsOnC, endsOnA], [0, 9]))).toBe(1); // C major, A minor
    expect(lastNoteOnTonicShare(dataLikeness([endsOnC, endsOnA], 9))).toBe(0.5);
    const silent = dataLikeness([[H, OFF, H, H]], 0);
    expect(silent.piecesWithNotes).toBe(0);
    expect(lastNoteOnTonicShare(silent)).toBeNull();
    expect(eighthGridShare(silent)).toBeNull();
  });

  it('pitch-class entropy of the note-ons', () => {
    // C E C G B: C 2, E 1, G 1, B 1 of 5.
    const p = [2, 1, 1, 1].map((k) => k / 5);
    expect(pitchClassEntropy(d)).toBeCloseTo(-p.reduce((s, x) => s + x * Math.log2(x), 0), 12);
  });
});

/** The recurrence by brute force: every pair of non-overlapping windows, compared token by token. */
function recursBruteForce(tokens: number[], length: number): boolean {
  const onsets = (start: number) => tokens.slice(start, start + length).filter((t) => t >= 2).length;
  for (let i = 0; i + length <= tokens.length; i++) {
    if (onsets(i) < 2) continue;
    for (let j = i + length; j + length <= tokens.length; j++) {
      if (tokens.slice(i, i + length).every((t, k) => t === tokens[j + k])) return true;
    }
  }
  return false;
}

describe('recurrence', () => {
  const rng = new Random(7);
  const phrase = (n: number) => Array.from({ length: n }, () => [14, 16, 18, 21, 23, H, H, OFF][rng.int(8)]);

  it('a 2-bar phrase played again at any offset, without overlapping', () => {
    const a = phrase(32);
    const piece = [...a, ...phrase(5), ...a, ...phrase(27)]; // the repeat starts at step 37, off every bar line
    expect(piece.length).toBeGreaterThanOrEqual(64);
    expect(hasRecurringWindow(piece, 32)).toBe(true);
    expect(hasRecurringWindow(piece, 16)).toBe(true);
  });

  it('overlapping repeats do not count: a 1-bar figure played three times is a recurring bar, not two bars', () => {
    const bar = [14, H, 16, 18, H, 21, 23, H, 26, H, 23, 21, 18, 16, 14, OFF];
    const ascending = Array.from({ length: 24 }, (_, i) => 2 + i); // all different: nothing recurs in it
    const piece = [...bar, ...bar, ...bar, ...ascending];
    expect(hasRecurringWindow(piece, 16)).toBe(true);
    // Windows [0, 32) and [16, 48) are equal but overlap; no other 32-step window recurs.
    expect(hasRecurringWindow(piece, 32)).toBe(false);
    expect(recursBruteForce(piece, 32)).toBe(false);
  });

  it('windows of fewer than 2 note-ons do not count: one held note is not a phrase', () => {
    const held = [14, ...new Array(127).fill(H)];
    expect(hasRecurringWindow(held, 16)).toBe(false);
    expect(hasRecurringWindow([14, 16, ...new Array(62).fill(H)], 16)).toBe(false);
  });

  it('matches a brute-force search on random pieces with many repeats', () => {
    const search = new Random(11);
    let found = 0;
    for (let trial = 0; trial < 300; trial++) {
      const alphabet = [1, 2, 3][search.int(3)] + 1;
      const n = 64 + search.int(40);
      const tokens = Array.from({ length: n }, () => [H, 14, 16, 0][search.int(alphabet)]);
      for (const length of [4, 8, 16, 32]) {
        const expected = recursBruteForce(tokens, length);
        expect(hasRecurringWindow(tokens, length)).toBe(expected);
        if (expected) found++;
      }
    }
    expect(found).toBeGreaterThan(100); // the search met both outcomes often
  });

  it('is measured on pieces of at least 64 steps only', () => {
    const a = phrase(32);
    const short = dataLikeness([[...a, ...a.slice(0, 31)]], 0);
    expect(short.recurrencePieces).toBe(0);
    expect(recurring2BarShare(short)).toBeNull();
    const bar = [14, H, 16, 18, H, 21, 23, H, 26, H, 23, 21, 18, 16, 14, OFF];
    const long = dataLikeness([[...a, ...a], [...bar, ...Array.from({ length: 32 }, (_, i) => 2 + i), ...bar]], 0);
    expect(long.recurrencePieces).toBe(2);
    expect(recurring2BarShare(long)).toBe(0.5);
    expect(recurring1BarShare(long)).toBe(1);
  });
});

describe('merging and distances', () => {
  it('merged counts equal the counts of the pieces together', () => {
    const rng = new Random(3);
    const pieces = Array.from({ length: 12 }, () => Array.from({ length: 64 }, () => rng.int(38)));
    expect(mergeDataLikeness(dataLikeness(pieces.slice(0, 5), 0), dataLikeness(pieces.slice(5), 0))).toEqual(dataLikeness(pieces, 0));
    expect(mergeDataLikeness(emptyDataLikeness(), dataLikeness(pieces, 0))).toEqual(dataLikeness(pieces, 0));
  });

  it('total variation: half the L1 distance of the normalised histograms; null when one is empty', () => {
    expect(totalVariation([1, 1, 0], [0, 1, 1])).toBeCloseTo(0.5, 12);
    expect(totalVariation([2, 0], [0, 5])).toBe(1);
    expect(totalVariation([3, 6], [1, 2])).toBeCloseTo(0, 12);
    expect(totalVariation([0, 0], [1, 2])).toBeNull();
    expect(() => totalVariation([1], [1, 2])).toThrow(/1 and 2 bins/);
  });

  it('histogram distances of a set to another', () => {
    const quarters = dataLikeness([[14, H, H, H, 16, H, H, H, 18, H, H, H, 21, H, H, H]], 0);
    const eighths = dataLikeness([[14, H, 16, H, 18, H, 21, H, 14, H, 16, H]], 0);
    const h = histogramDistances(quarters, eighths);
    expect(h.duration).toBe(1); // three quarters (the cut G4 left out) against five eighths
    // Intervals: quarters +2 +2 +3 (2/3, 1/3); eighths +2 +2 +3 −7 +2 (3/5, 1/5, 1/5): ½(1/15 + 2/15 + 3/15).
    expect(h.interval).toBeCloseTo(0.2, 12);
    expect(h.pitchRange).toBe(0); // both span C4..G4, 7 semitones
  });
});

describe('distinct windows at a fixed count', () => {
  it('distinct / all windows, and the mean over blocks of a given size', () => {
    const a = [14, 16, 18, 21], b = [21, 18, 16, 14];
    expect(distinctWindowShare([a, a], 2)).toBeCloseTo(3 / 6, 12);
    expect(distinctWindowShare([a, b], 2)).toBeCloseTo(6 / 6, 12);
    // Blocks of 2: [a, a] → 1/2, [b, b] → 1/2, [a, b] → 1; the fifth piece is left out.
    const blocks = blockDistinctWindowShare([a, a, b, b, a, b, a], 2, 2);
    expect(blocks).toEqual({ blockSize: 2, blocks: 3, share: (0.5 + 0.5 + 1) / 3 });
    expect(blockDistinctWindowShare([a], 5, 2)).toEqual({ blockSize: 1, blocks: 1, share: 1 });
    expect(() => blockDistinctWindowShare([a], 0, 2)).toThrow(/blockSize 0/);
  });
});
