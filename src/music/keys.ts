/**
 * Keys and modes as data: tonic names ↔ pitch classes, the seven diatonic modes as rotations of the major
 * scale, MIDI key signatures (sharps/flats and major/minor) ↔ keys, and the transposition that puts a
 * key's tonic on C (major modes) or A (minor modes). Pure tables and small functions; the key finder is
 * src/music/key_finding.ts and the rules' use of a key is src/rules/key_context.ts.
 */

/** Tonic names accepted everywhere (--key, config `key`); flats and sharps both, ASCII only. */
export const TONIC_NAMES = ['C', 'C#', 'Db', 'D', 'D#', 'Eb', 'E', 'F', 'F#', 'Gb', 'G', 'G#', 'Ab', 'A', 'A#', 'Bb', 'B'] as const;
export type TonicName = (typeof TONIC_NAMES)[number];

/** The pitch class of each accepted tonic name (C = 0). */
const TONIC_PITCH_CLASS: Readonly<Record<TonicName, number>> = {
  C: 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, F: 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11,
};

/** Diatonic modes by name; `minor` is aeolian and `major` is ionian (both names accepted). */
export const MODE_NAMES = ['major', 'minor', 'ionian', 'dorian', 'phrygian', 'lydian', 'mixolydian', 'aeolian', 'locrian'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

/** Semitones of the major scale's seven degrees above its tonic. */
export const MAJOR_SCALE: readonly number[] = [0, 2, 4, 5, 7, 9, 11];

/** Which degree of the major scale each mode starts on (ionian 0 … locrian 6). */
const MODE_DEGREE: Readonly<Record<ModeName, number>> = {
  major: 0, ionian: 0, dorian: 1, phrygian: 2, lydian: 3, mixolydian: 4, minor: 5, aeolian: 5, locrian: 6,
};

/** Names used when printing a pitch class as a key (the spelling most key signatures use). */
const MAJOR_KEY_SPELLING = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const MINOR_KEY_SPELLING = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];

/** A key: a tonic pitch class and a mode. */
export interface Key {
  /** Pitch class of the tonic, 0..11 (C = 0). */
  tonic: number;
  mode: ModeName;
}

/** Thrown for a tonic or mode name that is not known; the message lists what is. */
export class KeyNameError extends Error {
  override readonly name = 'KeyNameError';
}

/** The pitch class of a tonic name ("D", "f#", "Bb"; case of the letter is ignored). */
export function tonicPitchClass(name: string): number {
  const normalised = name.trim().replace(/^([a-g])/, (letter) => letter.toUpperCase()).replace('♯', '#').replace('♭', 'b');
  if (!(normalised in TONIC_PITCH_CLASS)) {
    throw new KeyNameError(`key ${JSON.stringify(name)} is not a tonic name; expected one of ${TONIC_NAMES.join(' ')}`);
  }
  return TONIC_PITCH_CLASS[normalised as TonicName];
}

/** The mode of a name ("major", "Dorian"). */
export function modeNamed(name: string): ModeName {
  const lower = name.trim().toLowerCase();
  if (!(MODE_NAMES as readonly string[]).includes(lower)) {
    throw new KeyNameError(`mode ${JSON.stringify(name)} is not known; expected one of ${MODE_NAMES.join(' | ')}`);
  }
  return lower as ModeName;
}

/** A key from names: keyNamed('D', 'major'). */
export function keyNamed(tonic: string, mode = 'major'): Key {
  return { tonic: tonicPitchClass(tonic), mode: modeNamed(mode) };
}

/** True for the modes whose third is major (ionian, lydian, mixolydian): their tonic goes to C. */
export function isMajorMode(mode: ModeName): boolean {
  return scaleOf({ tonic: 0, mode })[2] === 4;
}

/** The seven pitch classes of a key's scale, tonic first, ascending. */
export function scaleOf(key: Key): number[] {
  const degree = MODE_DEGREE[key.mode];
  return Array.from({ length: 7 }, (_, i) => {
    const step = MAJOR_SCALE[(degree + i) % 7] - MAJOR_SCALE[degree] + (degree + i >= 7 ? 12 : 0);
    return (key.tonic + step) % 12;
  });
}

/** Pitch class of the major scale that holds the key's notes ("parent" major: C for A minor or D dorian). */
export function parentMajorTonic(key: Key): number {
  return (((key.tonic - MAJOR_SCALE[MODE_DEGREE[key.mode]]) % 12) + 12) % 12;
}

/** "D major", "F# minor", "A dorian". */
export function keyName(key: Key): string {
  const spelling = isMajorMode(key.mode) ? MAJOR_KEY_SPELLING : MINOR_KEY_SPELLING;
  return `${spelling[key.tonic]} ${key.mode}`;
}

/**
 * Semitones (−6..+5) that move the tonic to C (major modes) or A (minor modes): the SPEC §2.3
 * transposition. A tie (a tritone away) goes down, as the note-count transposition's ties do.
 */
export function transpositionToReference(key: Key): number {
  const target = isMajorMode(key.mode) ? 0 : 9;
  const up = (((target - key.tonic) % 12) + 12) % 12; // 0..11
  return up > 5 ? up - 12 : up;
}

/** The key a MIDI key signature names: `sharps` −7..7 (negative: flats), major or minor. */
export function keyOfSignature(sharps: number, mode: 'major' | 'minor'): Key & { mode: 'major' | 'minor' } {
  const majorTonic = (((7 * sharps) % 12) + 12) % 12;
  return mode === 'major' ? { tonic: majorTonic, mode: 'major' } : { tonic: (majorTonic + 9) % 12, mode: 'minor' };
}

/**
 * The key signature that writes a key: sharps (positive) or flats (negative) of its parent major scale,
 * −6..+6 (F# major is written with 6 sharps, not 6 flats), and major or minor by its third.
 */
export function signatureOfKey(key: Key): { sharps: number; mode: 'major' | 'minor' } {
  const parent = parentMajorTonic(key);
  let sharps = (parent * 7) % 12; // the fifths from C that reach the parent tonic
  if (sharps > 6) sharps -= 12;
  return { sharps, mode: isMajorMode(key.mode) ? 'major' : 'minor' };
}

/** True when two keys use the same seven pitch classes (D dorian and C major; E minor and G major). */
export function sameScale(a: Key, b: Key): boolean {
  return parentMajorTonic(a) === parentMajorTonic(b);
}

/** The mode of the major scale on `parentTonic` that starts on pitch class `tonic` (null when `tonic` is not in that scale). */
export function modeOnDegree(parentTonic: number, tonic: number): ModeName | null {
  const degree = MAJOR_SCALE.indexOf((((tonic - parentTonic) % 12) + 12) % 12);
  if (degree < 0) return null;
  return (['major', 'dorian', 'phrygian', 'lydian', 'mixolydian', 'minor', 'locrian'] as const)[degree];
}

/** Mode words a text may use, and the mode each names (abc notation's three-letter forms included). */
const MODE_WORDS: Readonly<Record<string, ModeName>> = {
  major: 'major', maj: 'major', ionian: 'ionian', ion: 'ionian', minor: 'minor', min: 'minor', aeolian: 'aeolian', aeo: 'aeolian',
  dorian: 'dorian', dor: 'dorian', phrygian: 'phrygian', phr: 'phrygian', lydian: 'lydian', lyd: 'lydian',
  mixolydian: 'mixolydian', mix: 'mixolydian', locrian: 'locrian', loc: 'locrian',
};
const KEY_TEXT = /^\s*(?:key\s*(?:of|:|=)?\s*)?([a-g])\s*(#|♯|b|♭|sharp|flat)?[\s-]*([a-z]+)\s*$/i;

/**
 * The key a short text names, as writers put it in a text or marker event: "D dorian", "Key: F# minor",
 * "Bb Mixolydian", "Ador" (abc). A mode word is required, so a section marker such as "A" or "B" names no
 * key; null when the text names none.
 */
export function keyOfText(text: string): Key | null {
  const match = KEY_TEXT.exec(text);
  if (match === null) return null;
  const mode = MODE_WORDS[match[3].toLowerCase()];
  if (mode === undefined) return null;
  const accidental = match[2] === undefined ? '' : /^(#|♯|sharp)$/i.test(match[2]) ? '#' : 'b';
  const name = `${match[1].toUpperCase()}${accidental}`;
  if (!(name in TONIC_PITCH_CLASS)) {
    // E#, Fb, B#, Cb: spelled enharmonically.
    const natural = TONIC_PITCH_CLASS[match[1].toUpperCase() as TonicName];
    return { tonic: (natural + (accidental === '#' ? 1 : 11)) % 12, mode };
  }
  return { tonic: TONIC_PITCH_CLASS[name as TonicName], mode };
}

/** The same key moved by `semitones`. */
export function transposeKey(key: Key, semitones: number): Key {
  return { tonic: (((key.tonic + semitones) % 12) + 12) % 12, mode: key.mode };
}
