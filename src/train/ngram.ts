/**
 * N-gram baselines for the Note RNN (SPEC §3): interpolated Kneser–Ney models of orders 1..6 over the 38
 * melody classes, on exactly the Note RNN's task. For a melody x of length n, x[t] is predicted from
 * x[0..t−1] for t = 1..n−1: the first token is context only, and contexts never cross melody boundaries.
 * Near the start of a melody the context is shorter than order − 1 and the model uses the shorter one.
 *
 * Smoothing (Chen & Goodman 1999, interpolated Kneser–Ney with one absolute discount D shared by all
 * levels). For a level-k context h (k − 1 tokens) and h' = h without its oldest token:
 *
 *   p_k(w | h) = max(c(h, w) − D, 0) / c(h) + D · N1+(h •) / c(h) · p_{k−1}(w | h')
 *   p_0(w)     = 1 / 38                       (so no probability is ever 0)
 *
 * c are raw counts at the top level of a query and continuation counts (the number of distinct tokens
 * seen just before the n-gram, the melody start counting as one such token) at the levels below. An
 * unseen context (c(h) = 0) passes p_{k−1} through unchanged. With 0 < D < 1 and integer counts, each
 * level is a proper distribution, so the 38 probabilities always sum to 1. D is picked on validation
 * data from a small grid.
 *
 * Contexts are integer keys in base 38 with the most recent token least significant, so dropping the
 * oldest token of a level-k key is `key % 38^(k−2)`. A model remembers each distribution it computes
 * (one per distinct context queried), so evaluating a corpus costs little more than one pass over it.
 */
import { NO_EVENT, NUM_CLASSES, assertTokens } from '../music/encoding.js';

/** Highest order supported (38^5 context keys stay far below 2^53). */
export const MAX_NGRAM_ORDER = 6;
/** The discount used when neither `discount` nor `validation` is given (Chen & Goodman's usual value). */
export const DEFAULT_DISCOUNT = 0.75;
/** Discounts tried when tuning on validation data. */
export const DEFAULT_DISCOUNT_GRID: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

/** Distinct-token marker for "the melody starts here" in continuation counts. */
const MELODY_START = NUM_CLASSES;

export interface NgramOptions {
  /** Kneser–Ney discount in (0, 1). If given, no tuning happens. */
  discount?: number;
  /** Melodies on which to choose the discount from `discountGrid` (lowest nats per step wins). */
  validation?: Uint8Array[];
  /** Candidate discounts for tuning; default DEFAULT_DISCOUNT_GRID. */
  discountGrid?: readonly number[];
}

export interface NgramModel {
  readonly order: number;
  readonly discount: number;
  /**
   * Natural log of p(next | context[0..end)); `end` defaults to the whole context. Only the last
   * order − 1 tokens before `end` matter.
   */
  logProb(context: ArrayLike<number>, next: number, end?: number): number;
  /** A fresh copy of p(· | context[0..end)) over the 38 classes; `end` defaults to the whole context. */
  distribution(context: ArrayLike<number>, end?: number): Float64Array;
  /** The most probable next class after context[0..end) (lowest index on ties). */
  mostLikely(context: ArrayLike<number>, end?: number): number;
}

export interface NgramMetrics {
  /** Mean negative log-likelihood, nats per predicted step. */
  nats: number;
  /** exp(nats). */
  perplexity: number;
  /** Fraction of steps where the most probable class (lowest index on ties) is the target. */
  accuracy: number;
  /** Accuracy over steps whose target is not NO_EVENT; NaN if there are none. */
  accuracyOnEvents: number;
  /** Number of predicted steps: the sum over melodies of length − 1. */
  steps: number;
}

export interface NgramBaselineRow {
  order: number;
  /** Discount chosen on the validation melodies. */
  discount: number;
  valid: NgramMetrics;
  test: NgramMetrics;
}

/** Bad input to the n-gram code; the message names the value and what to pass instead. */
export class NgramError extends Error {
  override name = 'NgramError';
}

/** Counts of the next token after one context, with their sum and the number of non-zero entries. */
interface ContextCounts {
  readonly counts: Uint32Array;
  total: number;
  types: number;
}

/** Per level k = 1..order (index k − 1): context key → counts. */
interface NgramCounts {
  readonly order: number;
  /** Raw counts of k-grams ending at predicted positions. */
  readonly raw: Map<number, ContextCounts>[];
  /** Continuation counts, levels 1..order − 1 (index k − 1). */
  readonly continuation: Map<number, ContextCounts>[];
}

/** 38^k for k = 0..MAX_NGRAM_ORDER. */
const POWERS: readonly number[] = Array.from({ length: MAX_NGRAM_ORDER + 1 }, (_, k) => NUM_CLASSES ** k);

/** Fits an interpolated Kneser–Ney model of `order` (1..6) on `melodies`. */
export function fitNgram(melodies: Uint8Array[], order: number, options: NgramOptions = {}): NgramModel {
  const counts = countNgrams(melodies, order);
  if (options.discount !== undefined) return modelFromCounts(counts, checkDiscount(options.discount));
  if (options.validation !== undefined) {
    return tuneDiscount(counts, options.validation, options.discountGrid ?? DEFAULT_DISCOUNT_GRID).model;
  }
  return modelFromCounts(counts, DEFAULT_DISCOUNT);
}

/** Scores `model` on the Note RNN task over `melodies`. Throws if there is no step to predict. */
export function evaluateNgram(model: NgramModel, melodies: Uint8Array[]): NgramMetrics {
  let nats = 0;
  let steps = 0;
  let correct = 0;
  let eventSteps = 0;
  let eventsCorrect = 0;
  for (let m = 0; m < melodies.length; m++) {
    const melody = melodies[m];
    assertTokens(melody, `melodies[${m}]`);
    for (let t = 1; t < melody.length; t++) {
      const target = melody[t];
      const hit = model.mostLikely(melody, t) === target ? 1 : 0;
      nats -= model.logProb(melody, target, t);
      steps++;
      correct += hit;
      if (target !== NO_EVENT) {
        eventSteps++;
        eventsCorrect += hit;
      }
    }
  }
  if (steps === 0) {
    throw new NgramError(`no steps to predict in ${melodies.length} melodies; each melody needs at least 2 tokens`);
  }
  const meanNats = nats / steps;
  return {
    nats: meanNats,
    perplexity: Math.exp(meanNats),
    accuracy: correct / steps,
    accuracyOnEvents: eventSteps === 0 ? NaN : eventsCorrect / eventSteps,
    steps,
  };
}

/** For each order: count on `train`, choose the discount on `valid`, report valid and test metrics. */
export function ngramBaselines(
  train: Uint8Array[],
  valid: Uint8Array[],
  test: Uint8Array[],
  orders: readonly number[] = [1, 2, 3, 4],
  discountGrid: readonly number[] = DEFAULT_DISCOUNT_GRID,
): NgramBaselineRow[] {
  return orders.map((order) => {
    const { model, metrics } = tuneDiscount(countNgrams(train, order), valid, discountGrid);
    return { order, discount: model.discount, valid: metrics, test: evaluateNgram(model, test) };
  });
}

/** The baseline rows as a Markdown table (nats per step, perplexity, accuracy in percent). */
export function formatNgramTable(rows: readonly NgramBaselineRow[]): string {
  const percent = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const cells = (m: NgramMetrics): string[] => [m.nats.toFixed(4), m.perplexity.toFixed(3), percent(m.accuracy), percent(m.accuracyOnEvents)];
  const lines = [
    '| order | discount | valid nats/step | valid perplexity | valid accuracy | valid accuracy (no NO_EVENT) | test nats/step | test perplexity | test accuracy | test accuracy (no NO_EVENT) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => `| ${[String(row.order), String(row.discount), ...cells(row.valid), ...cells(row.test)].join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}

// ---- counting ----

function countNgrams(melodies: Uint8Array[], order: number): NgramCounts {
  if (!Number.isInteger(order) || order < 1 || order > MAX_NGRAM_ORDER) {
    throw new NgramError(`n-gram order ${order} is not supported; use an integer in 1..${MAX_NGRAM_ORDER}`);
  }
  const raw = Array.from({ length: order }, () => new Map<number, ContextCounts>());
  const continuation = Array.from({ length: order - 1 }, () => new Map<number, ContextCounts>());
  /** Per lower level: keys of distinct (n-gram, preceding token) pairs already counted. */
  const seenExtensions = Array.from({ length: order - 1 }, () => new Set<number>());
  for (let m = 0; m < melodies.length; m++) {
    const melody = melodies[m];
    assertTokens(melody, `melodies[${m}]`);
    for (let t = 1; t < melody.length; t++) {
      const next = melody[t];
      let contextKey = 0;
      for (let k = 1; k <= order && t - k + 1 >= 0; k++) {
        // contextKey now encodes the k − 1 tokens before position t.
        increment(raw[k - 1], contextKey, next);
        if (k < order) {
          const preceding = t - k >= 0 ? melody[t - k] : MELODY_START;
          const extensionKey = ((contextKey * NUM_CLASSES + next) * (NUM_CLASSES + 1)) + preceding;
          const seen = seenExtensions[k - 1];
          if (!seen.has(extensionKey)) {
            seen.add(extensionKey);
            increment(continuation[k - 1], contextKey, next);
          }
        }
        if (t - k >= 0) contextKey += melody[t - k] * POWERS[k - 1];
      }
    }
  }
  return { order, raw, continuation };
}

function increment(table: Map<number, ContextCounts>, contextKey: number, next: number): void {
  let entry = table.get(contextKey);
  if (entry === undefined) {
    entry = { counts: new Uint32Array(NUM_CLASSES), total: 0, types: 0 };
    table.set(contextKey, entry);
  }
  if (entry.counts[next] === 0) entry.types++;
  entry.counts[next]++;
  entry.total++;
}

// ---- the model ----

function checkDiscount(discount: number): number {
  if (!(discount > 0 && discount < 1)) {
    throw new NgramError(`Kneser–Ney discount ${discount} is outside (0, 1); pass a value such as ${DEFAULT_DISCOUNT}`);
  }
  return discount;
}

function modelFromCounts(counts: NgramCounts, discount: number): NgramModel {
  const { order, raw, continuation } = counts;
  /** Distributions already computed, by POWERS[used] + key (unique across context lengths). */
  const cache = new Map<number, Float64Array>();
  const cachedDistribution = (context: ArrayLike<number>, end: number): Float64Array => {
    if (!Number.isInteger(end) || end < 0 || end > context.length) {
      throw new NgramError(`context end ${end} is outside 0..${context.length} (the context length)`);
    }
    const used = Math.min(order - 1, end);
    let key = 0;
    for (let j = 1; j <= used; j++) {
      const token = context[end - j];
      if (!Number.isInteger(token) || token < 0 || token >= NUM_CLASSES) {
        throw new NgramError(`context[${end - j}] = ${token} is not a class in 0..${NUM_CLASSES - 1}`);
      }
      key += token * POWERS[j - 1];
    }
    const cacheKey = POWERS[used] + key;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const probabilities = new Float64Array(NUM_CLASSES).fill(1 / NUM_CLASSES);
    const topLevel = used + 1;
    for (let k = 1; k <= topLevel; k++) {
      const table = k === topLevel ? raw[k - 1] : continuation[k - 1];
      const entry = table.get(key % POWERS[k - 1]);
      if (entry !== undefined) interpolate(probabilities, entry, discount);
    }
    cache.set(cacheKey, probabilities);
    return probabilities;
  };
  return {
    order,
    discount,
    distribution: (context, end = context.length) => new Float64Array(cachedDistribution(context, end)),
    mostLikely: (context, end = context.length) => argmax(cachedDistribution(context, end)),
    logProb(context, next, end = context.length) {
      if (!Number.isInteger(next) || next < 0 || next >= NUM_CLASSES) {
        throw new NgramError(`next token ${next} is not a class in 0..${NUM_CLASSES - 1}`);
      }
      return Math.log(cachedDistribution(context, end)[next]);
    },
  };
}

/** Replaces the lower-order distribution `probabilities` in place by one level of interpolated KN. */
function interpolate(probabilities: Float64Array, entry: ContextCounts, discount: number): void {
  const backoffWeight = (discount * entry.types) / entry.total;
  for (let w = 0; w < NUM_CLASSES; w++) {
    const discounted = Math.max(entry.counts[w] - discount, 0) / entry.total;
    probabilities[w] = discounted + backoffWeight * probabilities[w];
  }
}

function tuneDiscount(
  counts: NgramCounts,
  validation: Uint8Array[],
  grid: readonly number[],
): { model: NgramModel; metrics: NgramMetrics } {
  if (grid.length === 0) throw new NgramError('the discount grid is empty; pass at least one value in (0, 1)');
  let best: { model: NgramModel; metrics: NgramMetrics } | undefined;
  for (const discount of grid) {
    const model = modelFromCounts(counts, checkDiscount(discount));
    const metrics = evaluateNgram(model, validation);
    if (best === undefined || metrics.nats < best.metrics.nats) best = { model, metrics };
  }
  return best!;
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
