/**
 * Keys and modes for playback and display. Every melody on the page has the key it is written in: the
 * Note RNN's are in C major (it was trained on melodies moved to the white keys), a tuned model's are in
 * the key and mode its rules rewarded (the tune's Key and Mode). A listener may hear (and see) a melody in
 * another key or mode: a mode maps the written mode's scale degrees to the heard mode's degrees on the
 * same tonic (E → E♭ from C major to C minor, B → B♭ to Mixolydian); a chromatic note keeps its distance
 * above the degree below it. The key then transposes by the nearest shift (−5..+6 semitones), so the
 * melody stays near the register it was written in. The model's tokens, the rules and the MIDI download
 * stay as written.
 */
import { scaleOf, type Key, type ModeName } from '../src/index.js';
import type { RollNote } from './piano_roll.js';

/** Display names of the twelve tonics, by pitch class (C = 0). */
export const KEY_NAMES = ['C', 'C♯ / D♭', 'D', 'E♭', 'E', 'F', 'F♯ / G♭', 'G', 'A♭', 'A', 'B♭', 'B'] as const;
/** The library's tonic name (config `key`, `--key`) of each pitch class. */
export const TONIC_BY_PITCH_CLASS = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'] as const;

/** The seven diatonic modes the page offers (the library also accepts ionian and aeolian, the same as major and minor). */
export const MODE_NAMES = ['major', 'minor', 'dorian', 'phrygian', 'lydian', 'mixolydian', 'locrian'] as const satisfies readonly ModeName[];
export type Mode = (typeof MODE_NAMES)[number];
export const MODE_LABELS: Record<Mode, string> = {
  major: 'major', minor: 'natural minor', dorian: 'Dorian', phrygian: 'Phrygian', lydian: 'Lydian', mixolydian: 'Mixolydian', locrian: 'Locrian',
};

export const C_MAJOR: Key = Object.freeze({ tonic: 0, mode: 'major' });

/** What playback changes: a tonic (0..11) and a mode, each null to keep the melody's own. */
export interface HeardAs {
  tonic: number | null;
  mode: ModeName | null;
}
export const AS_WRITTEN: HeardAs = Object.freeze({ tonic: null, mode: null });

/** Semitones of a mode's seven degrees above its tonic (major: 0 2 4 5 7 9 11). */
function degreesOf(mode: ModeName): number[] {
  return scaleOf({ tonic: 0, mode });
}

function checkTonic(tonic: number, what: string): void {
  if (!(Number.isInteger(tonic) && tonic >= 0 && tonic <= 11)) throw new RangeError(`${what} must be an integer 0..11 (C..B), got ${tonic}`);
}

/** The nearest semitone shift (−5..+6) from tonic `from` to tonic `to` (pitch classes 0..11). */
export function keyShift(from: number, to: number): number {
  checkTonic(from, 'the written tonic');
  checkTonic(to, 'the heard tonic');
  const up = (((to - from) % 12) + 12) % 12;
  return up > 6 ? up - 12 : up;
}

/** The key a melody written in `written` is heard in. */
export function heardKey(written: Key, heard: HeardAs): Key {
  return { tonic: heard.tonic ?? written.tonic, mode: heard.mode ?? written.mode };
}

/** A pitch of a melody written in `written`, as heard in `heard`. */
export function mapPitch(pitch: number, written: Key, heard: Key): number {
  const fromTonic = ((pitch - written.tonic) % 12 + 12) % 12;
  const base = pitch - fromTonic; // the written tonic at or below the pitch
  const from = degreesOf(written.mode);
  // The degree at or below this pitch, and how far above it the pitch is (0, or 1 for a chromatic note).
  let degree = from.length - 1;
  while (from[degree] > fromTonic) degree--;
  const above = fromTonic - from[degree];
  return base + keyShift(written.tonic, heard.tonic) + degreesOf(heard.mode)[degree] + above;
}

/** The notes of a melody written in `written`, as heard with the playback settings `heard`. */
export function mapNotes(notes: readonly RollNote[], written: Key, heard: HeardAs): RollNote[] {
  const to = heardKey(written, heard);
  if (to.tonic === written.tonic && degreesOf(to.mode).join() === degreesOf(written.mode).join()) return notes.slice();
  return notes.map((n) => ({ ...n, pitch: mapPitch(n.pitch, written, to) }));
}

/** Pitch classes (0..11) of a key's scale, for shading the piano roll. */
export function scalePitchClasses(key: Key): Set<number> {
  return new Set(scaleOf(key));
}
