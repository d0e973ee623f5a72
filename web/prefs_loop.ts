/**
 * The listening page's loop, the parts without a DOM (tested in test/web/page_logic.test.ts): which stored
 * answers a reward model can learn from, the length to tune at, and the sentences the page shows for each
 * long step (its progress and time left, from what this tab measured).
 */
import { duration } from './estimate.js';
import type { AnswerRecord } from './listening_stats.js';
import type { AnsweredPair, RewardSummary } from './listen_protocol.js';

/** Answers a reward model needs at the least (the library's minimum); the page suggests 20 to 50. */
export const MIN_LOOP_ANSWERS = 2;

/** Whether a stored answer holds both compositions' tokens (what a reward model learns from). */
const holdsMelodies = (r: AnswerRecord): boolean => Boolean(r.tokensA && r.tokensB && r.tokensA.length > 0 && r.tokensB.length > 0);

/** The stored answers that hold both compositions' tokens, as pairs (A first). */
export function answeredPairs(records: readonly AnswerRecord[]): AnsweredPair[] {
  return records.filter(holdsMelodies).map((r) => ({ a: r.tokensA!, b: r.tokensB!, answer: r.answer }));
}

/**
 * How long the stored answers took, from the first answer to the last (their answeredAt), as the page says it
 * beside them: "over 5 min 2 s, 10.4 s an answer"; null with fewer than two answers or unreadable times.
 */
export function listeningTimeText(records: readonly AnswerRecord[]): string | null {
  const times = records.filter(holdsMelodies).map((r) => Date.parse(r.answeredAt)).filter(Number.isFinite);
  if (times.length < 2) return null;
  const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
  return `over ${duration(seconds)} from the first to the last, ${(seconds / (times.length - 1)).toFixed(1)} s an answer`;
}

/** The length to tune at: the commonest length of the answered compositions, within the tuner's 8..1024 steps. */
export function loopLength(pairs: readonly AnsweredPair[]): number {
  const counts = new Map<number, number>();
  for (const p of pairs) for (const c of [p.a, p.b]) counts.set(c.length, (counts.get(c.length) ?? 0) + 1);
  let best = 32, most = 0;
  for (const [length, n] of counts) if (n > most || (n === most && length < best)) [best, most] = [length, n];
  return Math.min(1024, Math.max(8, best));
}

/** "epoch 3 of at most 20 · about 4 s left at most": the time left from the epochs measured so far. */
export function rewardProgressText(epoch: number, epochs: number, secondsPerEpoch: number | null): string {
  const left = secondsPerEpoch === null ? 'estimating time left' : `about ${duration(Math.max(0, epochs - epoch) * secondsPerEpoch)} left at most`;
  return `epoch ${epoch} of at most ${epochs} · ${left} (it stops early when the held-out answers stop improving)`;
}

/** What a trained reward model did, in a sentence. */
export function rewardSummaryText(s: RewardSummary): string {
  const accuracy = (x: number | null) => (x === null ? 'no pair with a preference' : `${(100 * x).toFixed(0)} %`);
  return `Reward model trained on ${s.train} of your ${s.pairs} answers in ${s.seconds.toFixed(1)} s (best epoch ${s.bestEpoch} of ${s.epochsRun}). ` +
    `On the ${s.heldOut} held out (${s.heldOutDecided} with a preference) it orders ${accuracy(s.heldOutAccuracy)} as you did; ` +
    `on the answers it learnt from, ${accuracy(s.trainAccuracy)}. With few answers these figures are rough.`;
}
