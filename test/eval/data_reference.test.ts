// The data reference on hand-made tunes: pieces cut aligned to each tune's end, the endings row read from
// the final pieces, the two halves, the one-piece-per-tune distinct windows; and the shipped summaries.
import { describe, expect, it } from 'vitest';
import { cutPieces, dataReference, referenceTunesOf, shippedReference, SHIPPED_REFERENCE_LENGTHS } from '../../src/eval/data_reference.js';
import { dataLikeness, histogramDistances } from '../../src/eval/data_likeness.js';
import { distinctWindowShare } from '../../src/eval/listener.js';

const H = 1;

describe('cutting tunes into pieces', () => {
  it("non-overlapping pieces aligned to the tune's end; the leftover at the start is dropped", () => {
    const tune = Array.from({ length: 11 }, (_, i) => 2 + i);
    expect(cutPieces(tune, 4).map((p) => Array.from(p))).toEqual([[5, 6, 7, 8], [9, 10, 11, 12]]);
    expect(cutPieces(tune, 11).map((p) => Array.from(p))).toEqual([tune]);
    expect(cutPieces(tune, 12)).toEqual([]);
    expect(cutPieces(Uint8Array.from(tune), 5).map((p) => Array.from(p))).toEqual([[3, 4, 5, 6, 7], [8, 9, 10, 11, 12]]);
  });
});

describe('dataReference', () => {
  // Tune A (C major) ends on C4; tune B (A minor, tonic class 9) ends on A4; tune C is too short.
  const a = { tokens: [14, H, 16, H, 18, H, 21, H, 23, H, 21, H, 14, H, H, H], tonicClass: 0 };
  const b = { tokens: [23, H, 21, H, 18, H, 16, H, 23, H, H, H], tonicClass: 9 };
  const c = { tokens: [14, 16], tonicClass: 0 };
  const r = dataReference('hand-made', [a, b, c], 4);

  it('counts every piece of the tunes long enough', () => {
    expect(r.tunes).toBe(3);
    expect(r.tunesUsed).toBe(2);
    const pieces = [...cutPieces(a.tokens, 4), ...cutPieces(b.tokens, 4)];
    expect(r.stats).toEqual(dataLikeness(pieces, [0, 0, 0, 0, 9, 9, 9]));
  });

  it("reads the ending row from each tune's final piece, in the tune's own key", () => {
    expect(r.endings).toEqual({ pieces: 2, lastNoteOnTonic: 2 });
    const other = dataReference('x', [{ ...a, tonicClass: 9 }, b], 4);
    expect(other.endings).toEqual({ pieces: 2, lastNoteOnTonic: 1 });
  });

  it('the halves are the even- and the odd-numbered tunes', () => {
    expect(r.halves).toEqual(histogramDistances(dataLikeness(cutPieces(a.tokens, 4), 0), dataLikeness(cutPieces(b.tokens, 4), 9)));
  });

  it('distinct windows over sets of one piece per tune, cycling through each tune', () => {
    // A has 4 pieces, B 3: sets k = 0..3 take A's k-th and B's (k mod 3)-th piece.
    const pa = cutPieces(a.tokens, 4), pb = cutPieces(b.tokens, 4);
    const expected = [0, 1, 2, 3].map((k) => distinctWindowShare([pa[k], pb[k % 3]], 8)).reduce((s, x) => s + x, 0) / 4;
    expect(r.distinctWindows8OnePerTune).toBe(expected);
  });

  it('says which length it cannot cut', () => {
    expect(() => dataReference('short', [c], 32)).toThrow(/short: no tune is 32 steps long \(the longest of 1 has 2\)/);
  });

  it("takes each melody's tonic from the key its tokens are in", () => {
    const info = (tokensKey: string) => ({ tokensKey } as never);
    expect(referenceTunesOf([
      { name: 'a', tokens: Uint8Array.of(14), info: info('C major') },
      { name: 'b', tokens: Uint8Array.of(23), info: info('A minor') },
      { name: 'c', tokens: Uint8Array.of(16) },
    ]).map((t) => t.tonicClass)).toEqual([0, 9, 0]);
  });
});

describe('the shipped reference', () => {
  it('covers 32, 64 and 128 steps (the Nottingham test split), and nothing else', () => {
    expect(SHIPPED_REFERENCE_LENGTHS).toEqual([32, 64, 128]);
    for (const n of [32, 64, 128]) {
      const r = shippedReference(n)!;
      expect(r.numNotes).toBe(n);
      expect(r.name).toBe('Nottingham test split');
      expect(r.tunes).toBe(169);
      expect(r.stats.steps).toBe(r.stats.pieces * n);
    }
    expect(shippedReference(48)).toBeNull();
    // Recurrence is measured from 64 steps on; real tunes repeat 2-bar phrases.
    expect(shippedReference(32)!.stats.recurrencePieces).toBe(0);
    expect(shippedReference(128)!.stats.recurring2Bar / shippedReference(128)!.stats.recurrencePieces).toBeGreaterThan(0.3);
  });
});
