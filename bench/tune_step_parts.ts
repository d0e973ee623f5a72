/**
 * Where the tune loop's time goes (G, H = 100, the shipped Note RNN), on one thread and on two: each TD
 * update taken apart at its calls (the Q-network's forward pass, the Target network's — on two threads
 * the wait for the helper running it —, the backward pass with Adam, the separate soft update on two
 * threads, drawing the minibatch, reading its cache lines ahead, the gathers from the replay, and the
 * rest: the targets and small copies, and on two threads recording and posting the Target network's
 * calls), and the time of a step outside the update (acting: two batch-1 LSTM steps, the rules, the
 * replay push). The calls are timed by wrapping the model methods of one tuner, so the loop runs as in
 * `tune`, plus a clock read around each call.
 */
import type { Kernels } from '../src/engine/kernels.js';
import { warmTuner } from './tune_loop.js';

export interface TuneStepParts {
  threads: number;
  updates: number;
  /** Microseconds per update of each timed part, and of the whole update. */
  perUpdate: {
    qForward: number; targetForward: number; backwardAdam: number; softUpdate: number;
    sample: number; prefetch: number; gatherStates: number; gatherLogProbs: number; rest: number; whole: number;
  };
  /** Microseconds per step outside the update, and per step in all. */
  actingPerStep: number;
  perStep: number;
}

/**
 * Replaces `object[name]` with a wrapper that adds its call's milliseconds to `into[key]`; returns how to put
 * the method back.
 */
function timeCalls<T extends object>(object: T, name: keyof T & string, into: Record<string, number>, key: string): () => void {
  const own = Object.prototype.hasOwnProperty.call(object, name);
  const method = object[name];
  const original = (method as (...a: unknown[]) => unknown).bind(object);
  into[key] = 0;
  (object as Record<string, unknown>)[name] = (...a: unknown[]) => {
    const started = performance.now();
    const result = original(...a);
    into[key] += performance.now() - started;
    return result;
  };
  return () => {
    if (own) (object as Record<string, unknown>)[name] = method;
    else delete (object as Record<string, unknown>)[name];
  };
}

export function benchTuneStepParts(kernels: Kernels, modelUrl: URL, steps: number): TuneStepParts {
  const threads = kernels.threads?.threads ?? 1;
  const tuner = warmTuner(kernels, modelUrl, 'g');
  const ms: Record<string, number> = {};
  const { q, target } = tuner;
  const restore = [
    timeCalls(q, 'forwardFrom', ms, 'qForward'),
    timeCalls(q, 'backwardOneStep', ms, 'backwardAdam'),
    timeCalls(q, 'adamUpdate', ms, 'backwardAdam'),
    timeCalls(target, 'softUpdateFrom', ms, 'softUpdate'),
    // One thread: the Target network's forward pass. Two: the wait for the helper running it (recording and
    // posting its calls fall in the rest).
    kernels.threads ? timeCalls(kernels.threads, 'joinDeferred', ms, 'targetForward') : timeCalls(target, 'forwardFrom', ms, 'targetForward'),
    timeCalls(tuner.replay, 'draw', ms, 'sample'),
    timeCalls(tuner.replay, 'prefetch', ms, 'prefetch'),
    timeCalls(tuner.replay, 'gatherStates', ms, 'gatherStates'),
    timeCalls(tuner.replay, 'gatherNextLogProbs', ms, 'gatherLogProbs'),
    timeCalls(tuner, 'learn', ms, 'whole'),
  ];
  const updatesBefore = tuner.counters.updates;
  const started = performance.now();
  for (let i = 0; i < steps; i++) tuner.step();
  const totalMs = performance.now() - started;
  for (const put of restore) put(); // the thread pool goes on to other benches untimed
  const updates = tuner.counters.updates - updatesBefore;
  const per = (key: string) => (ms[key] * 1000) / updates;
  const parts = ['qForward', 'targetForward', 'backwardAdam', 'softUpdate', 'sample', 'prefetch', 'gatherStates', 'gatherLogProbs'] as const;
  const timed = parts.reduce((sum, key) => sum + per(key), 0);
  return {
    threads,
    updates,
    perUpdate: {
      ...(Object.fromEntries(parts.map((key) => [key, per(key)])) as Record<(typeof parts)[number], number>),
      rest: per('whole') - timed, whole: per('whole'),
    },
    actingPerStep: ((totalMs - ms.whole) * 1000) / steps,
    perStep: (totalMs * 1000) / steps,
  };
}

export function tuneStepPartsTable(results: TuneStepParts[]): string {
  const us = (x: number) => `${x.toFixed(1)} µs`;
  const column = (f: (r: TuneStepParts) => string) => results.map((r) => ` ${f(r)} |`).join('');
  const header = results.map((r) => ` ${r.threads} thread${r.threads > 1 ? 's' : ''} |`).join('');
  return [
    `| part (G, H = 100, B = 32; ${results[0]?.updates.toLocaleString('en')} updates) |${header}`,
    `|---|${results.map(() => '---:|').join('')}`,
    `| Q-network forward (per update) |${column((r) => us(r.perUpdate.qForward))}`,
    `| Target network forward (one thread), or waiting for the helper's (two) |${column((r) => us(r.perUpdate.targetForward))}`,
    `| backward pass and Adam (one thread: with the soft update folded in) |${column((r) => us(r.perUpdate.backwardAdam))}`,
    `| soft update as its own pass (two threads) |${column((r) => us(r.perUpdate.softUpdate))}`,
    `| drawing the minibatch (32 distinct transitions) |${column((r) => us(r.perUpdate.sample))}`,
    `| reading the drawn transitions' cache lines ahead of the gathers |${column((r) => us(r.perUpdate.prefetch))}`,
    `| gathering the Q-network's states before and after (two 32 × 200 floats) |${column((r) => us(r.perUpdate.gatherStates))}`,
    `| gathering log p(·\\|s′) (32 × 38 floats) |${column((r) => us(r.perUpdate.gatherLogProbs))}`,
    `| the rest: targets, small copies (two threads: also recording and posting the Target forward) |${column((r) => us(r.perUpdate.rest))}`,
    `| **the whole update** |${column((r) => `**${us(r.perUpdate.whole)}**`)}`,
    `| a step outside the update (acting, rules, replay push) |${column((r) => us(r.actingPerStep))}`,
    `| **a step in all** (an update every 5 steps) |${column((r) => `**${us(r.perStep)}**`)}`,
  ].join('\n');
}
