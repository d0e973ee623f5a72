/**
 * Key and mode for playback and display. The Note RNN and the music-theory rules work in C major, so the
 * model's melodies are in C; a listener may hear (and see) them in another key and mode. A mode maps C
 * major's scale degrees to the mode's degrees on the same tonic (E → E♭ in minor, B → B♭ in Mixolydian);
 * a chromatic note keeps its distance above the degree below it. The key then transposes by the nearest
 * shift (−5..+6 semitones), so the melody stays near the register it was written in. The model's tokens,
 * the rules and the MIDI download stay in C.
 */
import type { RollNote } from './piano_roll.js';

export const KEY_NAMES = ['C', 'C♯ / D♭', 'D', 'E♭', 'E', 'F', 'F♯ / G♭', 'G', 'A♭', 'A', 'B♭', 'B'] as const;

/** Semitones above the tonic of each scale degree. */
export const MODES = {
  major: { label: 'major (as generated)', degrees: [0, 2, 4, 5, 7, 9, 11] },
  minor: { label: 'natural minor', degrees: [0, 2, 3, 5, 7, 8, 10] },
  dorian: { label: 'Dorian', degrees: [0, 2, 3, 5, 7, 9, 10] },
  mixolydian: { label: 'Mixolydian', degrees: [0, 2, 4, 5, 7, 9, 10] },
} as const;
export type Mode = keyof typeof MODES;
export const MODE_NAMES = Object.keys(MODES) as Mode[];

const C_MAJOR_DEGREES = MODES.major.degrees;

/** The semitone shift that takes C to key `key` (0..11): the nearest one, −5..+6. */
export function keyShift(key: number): number {
  if (!(Number.isInteger(key) && key >= 0 && key <= 11)) throw new RangeError(`key must be an integer 0..11 (C..B), got ${key}`);
  return key > 6 ? key - 12 : key;
}

/** A pitch of a C major melody as heard in `key` (0 = C .. 11 = B) and `mode`. */
export function mapPitch(pitch: number, key: number, mode: Mode): number {
  const octave = Math.floor(pitch / 12);
  const pitchClass = pitch - 12 * octave;
  // The degree at or below this pitch class, and how far above it the pitch class is (0, or 1 for a chromatic note).
  let degree = C_MAJOR_DEGREES.length - 1;
  while (C_MAJOR_DEGREES[degree] > pitchClass) degree--;
  const above = pitchClass - C_MAJOR_DEGREES[degree];
  return 12 * octave + MODES[mode].degrees[degree] + above + keyShift(key);
}

/** The notes as heard in `key` and `mode`. */
export function mapNotes(notes: readonly RollNote[], key: number, mode: Mode): RollNote[] {
  if (key === 0 && mode === 'major') return notes.slice();
  return notes.map((n) => ({ ...n, pitch: mapPitch(n.pitch, key, mode) }));
}
