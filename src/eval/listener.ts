/**
 * Listener metrics: what a person hears that the paper's rule statistics miss — whether every piece
 * opens the same way, how varied the pitches are, how much material repeats within and across pieces,
 * how much of the music sits on the tonic and the dominant, and how much of it is held or silent.
 * Pure functions of token compositions (SPEC §1 encoding) and the key's tonic and fifth classes.
 */
import { NO_EVENT, NOTE_OFF } from '../music/encoding.js';
import { C_MAJOR_RULES, type RuleContext } from '../rules/rules.js';

/** Tokens in an opening: the first four steps (a quarter note). */
export const OPENING_STEPS = 4;

export interface Opening {
  /** The first OPENING_STEPS tokens. */
  tokens: number[];
  /** Fraction of compositions that open with them. */
  share: number;
}

export interface ListenerMetrics {
  /** Fraction of compositions that open with the most common first four tokens. */
  topOpeningShare: number;
  /** The three most common openings (most common first; ties by token order). */
  topOpenings: Opening[];
  /** Entropy of the pitch classes of the note-ons, in bits (0..log2 12 = 3.585). */
  pitchClassEntropyBits: number;
  /** Distinct 4-step windows / all 4-step windows, over every composition. */
  distinctWindows4: number;
  /** Distinct 8-step windows / all 8-step windows, over every composition. */
  distinctWindows8: number;
  /** Mean over compositions of how often its most repeated 8-step window occurs in it. */
  meanMaxRepeat8: number;
  /** Fraction of note-ons in the tonic class. */
  tonicShare: number;
  /** Fraction of note-ons in the dominant (fifth) class. */
  dominantShare: number;
  /** Fraction of steps with no note sounding (NOTE_OFF, and NO_EVENT continuing a rest). */
  restShare: number;
  /** Fraction of steps that hold a sounding note (NO_EVENT after a note-on). */
  holdShare: number;
}

/** The listener metrics of `compositions` in the key of `ctx` (its tonic and fifth classes). */
export function listenerMetrics(compositions: readonly ArrayLike<number>[], ctx: RuleContext = C_MAJOR_RULES): ListenerMetrics {
  const n = compositions.length;
  const openings = new Map<string, { tokens: number[]; count: number }>();
  const pitchClassCounts = new Array<number>(12).fill(0);
  const windows4 = new Set<number | string>();
  const windows8 = new Set<number | string>();
  let total4 = 0, total8 = 0, maxRepeatSum = 0;
  let noteOns = 0, tonic = 0, dominant = 0, steps = 0, rests = 0, holds = 0;
  for (const c of compositions) {
    const tokens = Array.from(c);
    const opening = tokens.slice(0, OPENING_STEPS);
    const key = opening.join(',');
    const entry = openings.get(key);
    if (entry) entry.count++;
    else openings.set(key, { tokens: opening, count: 1 });

    let sounding = false;
    for (const t of tokens) {
      steps++;
      if (t === NOTE_OFF) {
        sounding = false;
        rests++;
      } else if (t === NO_EVENT) {
        if (sounding) holds++;
        else rests++;
      } else {
        sounding = true;
        noteOns++;
        pitchClassCounts[(t + 46) % 12]++;
        if (ctx.tonicNotes.has(t)) tonic++;
        if (ctx.fifthNotes.has(t)) dominant++;
      }
    }
    const inThis = new Map<number | string, number>();
    for (let i = 0; i + 8 <= tokens.length; i++) {
      const w = windowKey(tokens, i, 8);
      windows8.add(w);
      inThis.set(w, (inThis.get(w) ?? 0) + 1);
      total8++;
    }
    for (let i = 0; i + 4 <= tokens.length; i++) {
      windows4.add(windowKey(tokens, i, 4));
      total4++;
    }
    maxRepeatSum += inThis.size ? Math.max(...inThis.values()) : 0;
  }
  const ranked = [...openings.values()].sort((a, b) => b.count - a.count || compareTokens(a.tokens, b.tokens));
  let entropy = 0;
  for (const count of pitchClassCounts) {
    if (count > 0) {
      const p = count / noteOns;
      entropy -= p * Math.log2(p);
    }
  }
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    topOpeningShare: ratio(ranked[0]?.count ?? 0, n),
    topOpenings: ranked.slice(0, 3).map((o) => ({ tokens: o.tokens, share: o.count / n })),
    pitchClassEntropyBits: entropy,
    distinctWindows4: ratio(windows4.size, total4),
    distinctWindows8: ratio(windows8.size, total8),
    meanMaxRepeat8: ratio(maxRepeatSum, n),
    tonicShare: ratio(tonic, noteOns),
    dominantShare: ratio(dominant, noteOns),
    restShare: ratio(rests, steps),
    holdShare: ratio(holds, steps),
  };
}

/** Distinct windows of `length` steps / all windows of that length, over every piece (0 with no window). */
export function distinctWindowShare(pieces: readonly ArrayLike<number>[], length: number): number {
  const seen = new Set<number | string>();
  let total = 0;
  for (const piece of pieces) {
    const tokens = Array.from(piece);
    for (let i = 0; i + length <= tokens.length; i++) {
      seen.add(windowKey(tokens, i, length));
      total++;
    }
  }
  return total > 0 ? seen.size / total : 0;
}

/**
 * distinctWindowShare at a fixed sample count: the mean over consecutive blocks of `blockSize` pieces
 * (the last incomplete block left out; one block of all pieces when there are fewer). The share falls as
 * pieces are added (windows start to repeat across pieces), so only shares over the same count compare.
 */
export function blockDistinctWindowShare(pieces: readonly ArrayLike<number>[], blockSize: number, length: number): { blockSize: number; blocks: number; share: number } {
  if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new RangeError(`blockDistinctWindowShare: blockSize ${blockSize} is not a positive integer`);
  const blocks = Math.floor(pieces.length / blockSize);
  if (blocks === 0) return { blockSize: pieces.length, blocks: 1, share: distinctWindowShare(pieces, length) };
  let sum = 0;
  for (let b = 0; b < blocks; b++) sum += distinctWindowShare(pieces.slice(b * blockSize, (b + 1) * blockSize), length);
  return { blockSize, blocks, share: sum / blocks };
}

/**
 * A window of `length` tokens from `start` as one key: the tokens as digits of a base-64 number when they
 * are token ids (0..63: exact in a double for 8 of them, and no string to build), else joined as text.
 */
function windowKey(tokens: readonly number[], start: number, length: number): number | string {
  let key = 0;
  for (let i = start + length - 1; i >= start; i--) {
    const t = tokens[i];
    if (!(Number.isInteger(t) && t >= 0 && t < 64)) return tokens.slice(start, start + length).join(',');
    key = key * 64 + t;
  }
  return key;
}

function compareTokens(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
