/**
 * Key finding by profile correlation (Krumhansl & Schmuckler; Krumhansl 1990, "Cognitive Foundations of
 * Musical Pitch", ch. 4): the melody's pitch-class distribution, each note weighted by its duration, is
 * correlated (Pearson) with a major and a minor key profile rotated to each of the 12 tonics; the key
 * with the highest correlation wins. Three published profile pairs are offered:
 * - 'krumhansl-kessler': the probe-tone ratings of Krumhansl & Kessler (1982), the original K-S method;
 * - 'aarden-essen': pitch-class frequencies of the Essen folksong collection (Aarden 2003);
 * - 'temperley': Temperley's revised profiles (Temperley 2001, "The Cognition of Basic Musical Structures"),
 *   the default: with the key signatures of the 1,034 Nottingham tunes hidden, it named a key with the
 *   file's signature (the same key or its relative) for 93.5% of them, Aarden–Essen 92.2%,
 *   Krumhansl–Kessler 85.1% (measured with importMidi's useKeySignature: false).
 *
 * Modes (modeFromNotes, tonicOfScale, modalCorrelation): the profiles know major and minor only. The
 * mode on a tonic is told by the degree that sets it apart from major or minor (mixolydian's flat seventh,
 * dorian's major sixth): the mode whose own seven notes leave the least note time outside wins when it
 * leaves out clearly less and its degree sounds clearly longer than the one it replaces. The tonic of a
 * scale is its signature's unless the melody ends on another degree whose modal profile fits better. For
 * correlating a mode, the profile of its third (major or minor) has the mode's degree's two values swapped
 * (e.g. dorian: the minor profile with its minor and major sixth exchanged).
 * Pure; no Node modules.
 */
import { isMajorMode, keyName, modeOnDegree, parentMajorTonic, scaleOf, type Key, type ModeName } from './keys.js';

export const KEY_PROFILE_NAMES = ['aarden-essen', 'krumhansl-kessler', 'temperley'] as const;
export type KeyProfileName = (typeof KEY_PROFILE_NAMES)[number];

/** Major and minor profiles, index 0 = tonic, as published. */
export const KEY_PROFILES: Readonly<Record<KeyProfileName, { major: readonly number[]; minor: readonly number[] }>> = {
  'krumhansl-kessler': {
    major: [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
    minor: [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
  },
  'aarden-essen': {
    major: [17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122],
    minor: [18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623],
  },
  temperley: {
    major: [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
    minor: [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
  },
};

export const DEFAULT_KEY_PROFILE: KeyProfileName = 'temperley';

/** The estimate: the best key, its correlation, and the runner-up's (how clear the choice was). */
export interface KeyEstimate {
  key: Key & { mode: 'major' | 'minor' };
  /** Pearson correlation of the duration profile with the key's profile, −1..1. */
  correlation: number;
  /** The second-best key and its correlation. */
  runnerUp: { key: Key & { mode: 'major' | 'minor' }; correlation: number };
  profile: KeyProfileName;
}

/**
 * Duration per pitch class (12 entries) of notes given as parallel arrays of MIDI pitches and durations
 * (any unit, e.g. steps).
 */
export function pitchClassDurations(pitches: ArrayLike<number>, durations: ArrayLike<number>, count = pitches.length): Float64Array {
  const histogram = new Float64Array(12);
  for (let i = 0; i < count; i++) histogram[((pitches[i] % 12) + 12) % 12] += durations[i];
  return histogram;
}

/**
 * The key whose profile correlates best with a pitch-class duration histogram. Ties go to major, then
 * to the lower tonic. Returns null when the histogram is empty or flat (no key can be told).
 */
export function estimateKey(histogram: ArrayLike<number>, profile: KeyProfileName = DEFAULT_KEY_PROFILE): KeyEstimate | null {
  const profiles = KEY_PROFILES[profile];
  if (profiles === undefined) throw new RangeError(`key profile ${JSON.stringify(profile)} is not known; expected one of ${KEY_PROFILE_NAMES.join(', ')}`);
  let best: { key: KeyEstimate['key']; correlation: number } | null = null;
  let second: { key: KeyEstimate['key']; correlation: number } | null = null;
  for (const mode of ['major', 'minor'] as const) {
    for (let tonic = 0; tonic < 12; tonic++) {
      const correlation = rotatedCorrelation(histogram, profiles[mode], tonic);
      if (Number.isNaN(correlation)) return null;
      const candidate = { key: { tonic, mode }, correlation };
      if (best === null || correlation > best.correlation) {
        second = best;
        best = candidate;
      } else if (second === null || correlation > second.correlation) {
        second = candidate;
      }
    }
  }
  if (best === null || second === null) return null;
  return { key: best.key, correlation: best.correlation, runnerUp: second, profile };
}

/** Pearson correlation of histogram[(tonic + i) % 12] with profile[i]; NaN when either is constant. */
function rotatedCorrelation(histogram: ArrayLike<number>, profile: readonly number[], tonic: number): number {
  let meanH = 0, meanP = 0;
  for (let i = 0; i < 12; i++) {
    meanH += histogram[(tonic + i) % 12];
    meanP += profile[i];
  }
  meanH /= 12;
  meanP /= 12;
  let covariance = 0, varianceH = 0, varianceP = 0;
  for (let i = 0; i < 12; i++) {
    const h = histogram[(tonic + i) % 12] - meanH;
    const p = profile[i] - meanP;
    covariance += h * p;
    varianceH += h * h;
    varianceP += p * p;
  }
  if (varianceH === 0 || varianceP === 0) return NaN;
  return covariance / Math.sqrt(varianceH * varianceP);
}

/** "D major (r = 0.91)". */
export function formatKeyEstimate(estimate: KeyEstimate): string {
  return `${keyName(estimate.key)} (r = ${estimate.correlation.toFixed(2)})`;
}

/** A mode must leave out at least this share of the note time less than the mode it replaces. */
export const MODE_MIN_SHARE = 0.01;

/** Semitone pairs whose profile values are swapped to make a mode's profile from its third's. */
const MODE_PROFILE_SWAPS: Readonly<Partial<Record<ModeName, [number, number]>>> = {
  mixolydian: [10, 11], lydian: [5, 6], dorian: [8, 9], phrygian: [1, 2], locrian: [6, 7],
};

/** The profile of a mode: its third's (major or minor) with the mode's characteristic degree swapped in. */
export function modalProfile(profile: KeyProfileName, mode: ModeName): number[] {
  const base = [...KEY_PROFILES[profile][isMajorMode(mode) ? 'major' : 'minor']];
  const swap = MODE_PROFILE_SWAPS[mode];
  if (swap) [base[swap[0]], base[swap[1]]] = [base[swap[1]], base[swap[0]]];
  return base;
}

/** Pearson correlation of a histogram with a key's (modal) profile; NaN when the histogram is flat. */
export function modalCorrelation(histogram: ArrayLike<number>, key: Key, profile: KeyProfileName = DEFAULT_KEY_PROFILE): number {
  return rotatedCorrelation(histogram, modalProfile(profile, key.mode), key.tonic);
}

/** Share of the note time outside a mode's own seven notes (a minor-third mode may use its leading note). */
export function shareOutsideMode(histogram: Float64Array, key: Key): number {
  const allowed = new Set(scaleOf(key));
  if (!isMajorMode(key.mode)) allowed.add((key.tonic + 11) % 12);
  let outside = 0, total = 0;
  for (let pc = 0; pc < 12; pc++) {
    total += histogram[pc];
    if (!allowed.has(pc)) outside += histogram[pc];
  }
  return total > 0 ? outside / total : 0;
}

/**
 * The modes the importer tells apart on a tonic, by its third: the two of each that tunes use most.
 * Lydian and phrygian are left to text events and --mode: on the Nottingham tunes a raised fourth is a
 * modulation to the dominant far more often than a lydian tune.
 */
const MODES_OF_THIRD: Readonly<Record<'major' | 'minor', readonly ModeName[]>> = {
  major: ['major', 'mixolydian'],
  minor: ['minor', 'dorian'],
};
/** A mode's own degree must sound at least this many times as long as the degree it replaces. */
export const MODE_MIN_RATIO = 2;
/** Another degree of the signature's scale is the tonic only when its profile fits by this much more. */
const TONIC_MIN_CORRELATION_GAIN = 0.02;
/** Modes a tune may end in on another degree of its signature's scale (the common ones of tunes). */
const TONIC_CANDIDATE_MODES: ReadonlySet<ModeName> = new Set(['major', 'minor', 'dorian', 'mixolydian']);
const percent = (x: number) => `${Math.round(100 * x)}%`;
const PITCH_CLASS_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];

/** The plain major or minor name of a mode's family (ionian → major, aeolian → minor). */
export function plainMode(mode: ModeName): ModeName {
  return mode === 'ionian' ? 'major' : mode === 'aeolian' ? 'minor' : mode;
}

/**
 * The mode on `key.tonic` among those of its third (MODES_OF_THIRD): the one whose own notes leave the
 * least note time outside, by at least MODE_MIN_SHARE of it, when its own degree sounds at least
 * MODE_MIN_RATIO times as long as the one it replaces (a tune with both is not told apart); otherwise
 * `key`'s mode. Returns the key and, when the mode changed, the evidence in words.
 */
export function modeFromNotes(histogram: Float64Array, key: Key): { key: Key; evidence: string | null } {
  const given = plainMode(key.mode);
  const family = MODES_OF_THIRD[isMajorMode(given) ? 'major' : 'minor'];
  if (!family.includes(given)) return { key: { tonic: key.tonic, mode: given }, evidence: null };
  const givenOutside = shareOutsideMode(histogram, { tonic: key.tonic, mode: given });
  let best: ModeName = given, bestOutside = givenOutside;
  for (const mode of family) {
    const outside = shareOutsideMode(histogram, { tonic: key.tonic, mode });
    if (outside < bestOutside - 1e-12) {
      best = mode;
      bestOutside = outside;
    }
  }
  if (best === given || givenOutside - bestOutside < MODE_MIN_SHARE) return { key: { tonic: key.tonic, mode: given }, evidence: null };
  // The degrees the two scales differ in: the new mode's own, and the one it replaces.
  const givenScale = new Set(scaleOf({ tonic: key.tonic, mode: given }));
  const bestScale = new Set(scaleOf({ tonic: key.tonic, mode: best }));
  const total = histogram.reduce((a, b) => a + b, 0);
  const describe = (pcs: number[]) => pcs.map((pc) => `${PITCH_CLASS_NAMES[pc]} ${percent(histogram[pc] / total)}`).join(', ');
  const gained = [...bestScale].filter((pc) => !givenScale.has(pc));
  const lost = [...givenScale].filter((pc) => !bestScale.has(pc));
  const timeOf = (pcs: number[]) => pcs.reduce((sum, pc) => sum + histogram[pc], 0);
  if (timeOf(gained) < MODE_MIN_RATIO * timeOf(lost)) return { key: { tonic: key.tonic, mode: given }, evidence: null };
  return {
    key: { tonic: key.tonic, mode: best },
    evidence: `${keyName({ tonic: key.tonic, mode: best })}, not ${keyName({ tonic: key.tonic, mode: given })}: of the note time, ${describe(gained)} against ${describe(lost)}`,
  };
}

/**
 * The tonic of a key's scale that the melody is in: `key`'s own, unless the melody's last note is another
 * degree of the scale (in one of TONIC_CANDIDATE_MODES) whose modal profile correlates better with the
 * notes, by at least TONIC_MIN_CORRELATION_GAIN (a tune ending on its fifth stays in its key). Returns
 * the key and, when the tonic changed, why.
 */
export function tonicOfScale(histogram: Float64Array, key: Key, finalPitchClass: number, profile: KeyProfileName): { key: Key; evidence: string | null } {
  if (finalPitchClass === key.tonic) return { key, evidence: null };
  const mode = modeOnDegree(parentMajorTonic(key), finalPitchClass);
  if (mode === null || !TONIC_CANDIDATE_MODES.has(mode)) return { key, evidence: null };
  const candidate = { tonic: finalPitchClass, mode };
  const here = modalCorrelation(histogram, candidate, profile);
  const given = modalCorrelation(histogram, { tonic: key.tonic, mode: plainMode(key.mode) }, profile);
  if (!(here >= given + TONIC_MIN_CORRELATION_GAIN)) return { key, evidence: null };
  return {
    key: candidate,
    evidence: `the melody ends on ${PITCH_CLASS_NAMES[finalPitchClass]} and its notes fit ${keyName(candidate)} (r = ${here.toFixed(2)}) better than ${keyName(key)} (r = ${given.toFixed(2)})`,
  };
}

