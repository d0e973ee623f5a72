/**
 * The melody encoding shared by every part of rltuner (SPEC §1). One step is a sixteenth note; each step
 * holds one of 38 classes. Models, rules and MIDI code depend on this module, never the reverse.
 */

/** Number of classes, for input (one-hot) and output (softmax). */
export const NUM_CLASSES = 38;
/** The sounding note stops and a rest begins. */
export const NOTE_OFF = 0;
/** Nothing new happens: a note is held, or a rest continues. */
export const NO_EVENT = 1;
/** Number of special (non-pitch) classes at the start of the table. */
export const NUM_SPECIAL = 2;
/** MIDI pitch of class NUM_SPECIAL (C3); class i >= 2 plays MIDI pitch i + PITCH_OFFSET. */
export const MIN_PITCH = 48;
/** MIDI pitch of the last class (B5). */
export const MAX_PITCH = 83;
export const PITCH_OFFSET = MIN_PITCH - NUM_SPECIAL; // 46
/** Sixteenth-note steps per quarter note. */
export const STEPS_PER_QUARTER = 4;
/** Steps per 4/4 bar. */
export const STEPS_PER_BAR = 16;
/** Default composition length in steps. */
export const DEFAULT_NUM_NOTES = 32;

/** True for NOTE_OFF and NO_EVENT. */
export function isSpecial(token: number): boolean {
  return token < NUM_SPECIAL;
}

/** The class of a MIDI pitch in 48..83; throws for a pitch outside that range. */
export function pitchToToken(pitch: number): number {
  if (!Number.isInteger(pitch) || pitch < MIN_PITCH || pitch > MAX_PITCH) {
    throw new RangeError(`pitch ${pitch} is outside the encodable range ${MIN_PITCH}..${MAX_PITCH}`);
  }
  return pitch - PITCH_OFFSET;
}

/** The MIDI pitch of a note class (2..37); throws for a special or out-of-range class. */
export function tokenToPitch(token: number): number {
  if (!Number.isInteger(token) || token < NUM_SPECIAL || token >= NUM_CLASSES) {
    throw new RangeError(`token ${token} is not a note class (expected ${NUM_SPECIAL}..${NUM_CLASSES - 1})`);
  }
  return token + PITCH_OFFSET;
}

/** Throws unless every entry is an integer class in 0..37; names the position and the value. */
export function assertTokens(tokens: ArrayLike<number>, what = 'tokens'): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= NUM_CLASSES) {
      throw new RangeError(`${what}[${i}] = ${t} is not a class in 0..${NUM_CLASSES - 1}`);
    }
  }
}

// ---- C major tables, in class indices (SPEC §1) ----

/** Classes in C major; the specials count as in key. */
export const C_MAJOR_KEY: ReadonlySet<number> = new Set([
  0, 1, 2, 4, 6, 7, 9, 11, 13, 14, 16, 18, 19, 21, 23, 25, 26, 28, 30, 31, 33, 35, 37,
]);
/** The tonic note, C4 (MIDI 60). */
export const C_MAJOR_TONIC = 14;
/** Tonic-class notes (C3, C4, C5). */
export const C_MAJOR_TONIC_NOTES: ReadonlySet<number> = new Set([2, 14, 26]);
/** Fifth-class notes (G3, G4, G5). */
export const C_MAJOR_FIFTH_NOTES: ReadonlySet<number> = new Set([9, 21, 33]);
/** Third-class notes (E3, E4, E5). */
export const C_MAJOR_THIRD_NOTES: ReadonlySet<number> = new Set([6, 18, 30]);

/** Names of the classes, for logs and plots ("off", "hold", "C3" .. "B5"). */
export function tokenName(token: number): string {
  if (token === NOTE_OFF) return 'off';
  if (token === NO_EVENT) return 'hold';
  const pitch = token + PITCH_OFFSET;
  const names = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
  return `${names[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}
