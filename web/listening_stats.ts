/**
 * The listening test's answers and what they add up to: the answer record kept in the browser, the CSV
 * it exports (with both compositions' tokens, which `rltuner prefs train` reads: src/prefs/answers.ts), and
 * each model's win rate against the other with a 95 % Wilson score interval (answers of "no preference" are
 * counted but left out of the rate, as ties). Pure functions; the page is listen.ts.
 */
import { ANSWER_CSV_COLUMNS, tokensToField } from '../src/prefs/answers.js';

export type Answer = 'A' | 'B' | 'none';

/** One answer to one pair. "A" is the composition played first in the pair, "B" the second. */
export interface AnswerRecord {
  /** The session's seed (from the clock): with the models it fixes every pair and its order. */
  sessionSeed: number;
  /** 1-based pair number within the session. */
  trial: number;
  /** The two models of the session, in setup order. */
  model1: string;
  model2: string;
  /** Which model played as A and which as B. */
  modelA: string;
  modelB: string;
  /** Seed both compositions of the pair were sampled from. */
  compositionSeed: number;
  answer: Answer;
  /** The model preferred ('' for no preference). */
  preferred: string;
  /** ISO 8601 time of the answer. */
  answeredAt: string;
  /** The tokens of the compositions played as A and B (absent in answers stored before the page kept them). */
  tokensA?: number[];
  tokensB?: number[];
}

/** The CSV's columns: src/prefs/answers.ts's, which `rltuner prefs train` reads. */
export const CSV_COLUMNS = ANSWER_CSV_COLUMNS;

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The answers as CSV: a header row, then one row per answer, lines ending in CRLF. */
export function answersToCsv(answers: readonly AnswerRecord[]): string {
  const rows = answers.map((a) => [
    a.sessionSeed, a.trial, a.model1, a.model2, a.modelA, a.modelB, a.compositionSeed, a.answer, a.preferred, a.answeredAt,
    a.tokensA ? tokensToField(a.tokensA) : '', a.tokensB ? tokensToField(a.tokensB) : '',
  ].map(csvField).join(','));
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}

/** z for a two-sided 95 % interval. */
const Z_95 = 1.959963984540054;

/**
 * The Wilson score interval for a binomial proportion: `successes` of `trials`, at 95 % (Wilson 1927).
 * Unlike the normal approximation it stays inside [0, 1] and is usable for few trials and rates near 0
 * or 1. Null for no trials.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): { low: number; high: number } | null {
  if (!(Number.isInteger(successes) && Number.isInteger(trials) && successes >= 0 && successes <= trials)) {
    throw new RangeError(`wilsonInterval: need whole numbers 0 <= successes <= trials, got ${successes} of ${trials}`);
  }
  if (trials === 0) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At 0 or all successes the bound is exactly 0 or 1; say so rather than 1e-17 off.
  return { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === trials ? 1 : Math.min(1, centre + half) };
}

/** One model pair's tally: how often each model was preferred, and the win rate of `model2`. */
export interface PairTally {
  model1: string;
  model2: string;
  wins1: number;
  wins2: number;
  noPreference: number;
  /** model2's share of the answers with a preference (null when there are none). */
  winRate2: number | null;
  interval2: { low: number; high: number } | null;
}

/**
 * The answers tallied per (model1, model2) pair of the sessions, in order of first appearance. Answers to
 * pairs of one model's melodies (model1 = model2: they teach a reward model) are no contest and left out.
 */
export function tallyAnswers(answers: readonly AnswerRecord[]): PairTally[] {
  const tallies = new Map<string, PairTally>();
  for (const a of answers) {
    if (a.model1 === a.model2) continue;
    const key = JSON.stringify([a.model1, a.model2]);
    let t = tallies.get(key);
    if (!t) {
      t = { model1: a.model1, model2: a.model2, wins1: 0, wins2: 0, noPreference: 0, winRate2: null, interval2: null };
      tallies.set(key, t);
    }
    // The page gives the two models of a session different names, so `preferred` says which one won.
    if (a.preferred === '') t.noPreference++;
    else if (a.preferred === a.model2) t.wins2++;
    else if (a.preferred === a.model1) t.wins1++;
    else throw new Error(`answer ${a.trial} of session ${a.sessionSeed} prefers "${a.preferred}", which is neither "${a.model1}" nor "${a.model2}"`);
  }
  for (const t of tallies.values()) {
    const decided = t.wins1 + t.wins2;
    t.winRate2 = decided ? t.wins2 / decided : null;
    t.interval2 = wilsonInterval(t.wins2, decided);
  }
  return [...tallies.values()];
}

/** "62.5 %" */
export function percent(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}
