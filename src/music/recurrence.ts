/**
 * Phrase recurrence in a token sequence (SPEC §1 tokens): does a window of some length come back later in
 * the piece? Used by the data-likeness rows (src/eval/data_likeness.ts) and the phrase-recurrence reward
 * term (src/rules/composition.ts), so both mean the same thing.
 *
 * A window of `length` steps recurs when the same tokens occur again starting at least `length` steps
 * later (the two do not overlap), at any offset — not only at bar lines: a piece cut from a tune does not
 * know its bar lines (tunes start with their pickup, and 6/8 tunes have 12-step bars), and a repeated
 * phrase is a repeated phrase wherever it starts. Windows with fewer than RECURRENCE_MIN_ONSETS note-ons
 * (a held note, a rest) do not count, so holding one note throughout is not a repeated phrase.
 */
import { NUM_SPECIAL, STEPS_PER_BAR } from './encoding.js';

/** Recurrence is measured on pieces of at least this many steps (four bars of 4/4). */
export const RECURRENCE_MIN_STEPS = 4 * STEPS_PER_BAR;
/** Window lengths measured: one bar and two bars of 4/4. */
export const RECURRENCE_WINDOWS = [STEPS_PER_BAR, 2 * STEPS_PER_BAR] as const;
/** A recurring window holds at least this many note-ons. */
export const RECURRENCE_MIN_ONSETS = 2;

const HASH_BASE = 41;
const HASH_MODULI = [67_108_859, 67_108_837]; // primes below 2^26: products stay exact in a double

/**
 * True when some window of `length` steps with at least RECURRENCE_MIN_ONSETS note-ons occurs again in
 * `tokens`, starting at least `length` steps later (no overlap), at any offset. Linear: rolling hashes
 * find candidates, which are then compared token by token.
 */
export function hasRecurringWindow(tokens: ArrayLike<number>, length: number): boolean {
  const n = tokens.length;
  if (length < 1 || 2 * length > n) return false;
  const onsetsBefore = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) onsetsBefore[i + 1] = onsetsBefore[i] + (tokens[i] >= NUM_SPECIAL ? 1 : 0);
  const keys = windowHashes(tokens, length);
  const firstStart = new Map<number, number>();
  const counts = (start: number) => onsetsBefore[start + length] - onsetsBefore[start] >= RECURRENCE_MIN_ONSETS;
  for (let j = length; j + length <= n; j++) {
    const s = j - length; // every window starting at or before j − length may be matched by the one at j
    if (counts(s) && !firstStart.has(keys[s])) firstStart.set(keys[s], s);
    if (!counts(j)) continue;
    const earlier = firstStart.get(keys[j]);
    if (earlier !== undefined && sameWindow(tokens, earlier, j, length)) return true;
  }
  return false;
}

/** A hash of every window of `length` tokens (two rolling hashes mod primes below 2^26, combined). */
function windowHashes(tokens: ArrayLike<number>, length: number): Float64Array {
  const n = tokens.length;
  const out = new Float64Array(n - length + 1);
  const parts = HASH_MODULI.map((m) => {
    let power = 1;
    for (let i = 0; i < length; i++) power = (power * HASH_BASE) % m;
    const h = new Float64Array(n - length + 1);
    let rolling = 0;
    for (let i = 0; i < n; i++) {
      rolling = (rolling * HASH_BASE + tokens[i] + 1) % m;
      if (i >= length) rolling = (rolling - ((power * (tokens[i - length] + 1)) % m) + m) % m;
      if (i >= length - 1) h[i - length + 1] = rolling;
    }
    return h;
  });
  for (let i = 0; i < out.length; i++) out[i] = parts[0][i] * 67_108_864 + parts[1][i];
  return out;
}

function sameWindow(tokens: ArrayLike<number>, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (tokens[a + k] !== tokens[b + k]) return false;
  return true;
}
