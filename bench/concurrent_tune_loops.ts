/**
 * What two cores give two independent jobs on this machine: the tune loop (the default preset, G, the
 * shipped Note RNN; every part of a training step) runs in one worker thread alone, then in two worker
 * threads at once, each with its own kernels (plain build) and its own tuner, sharing nothing. The sum of
 * the two copies' steps/s over one copy's alone is the most any split of one tune over two threads could
 * reach here, however it shares its work: the bound the issue's two-thread target is measured against.
 */
import { Worker } from 'node:worker_threads';

export interface ConcurrentTuneLoopsResult {
  steps: number;
  /** Env steps/s of one copy alone (each alone run, in order). */
  alone: number[];
  /** Env steps/s of each copy while both ran at once. */
  together: number[];
  /** Sum of `together` over the mean of `alone`. */
  scaling: number;
}

const WARM_UP_STEPS = 5000;

/** One copy in its worker: `ready` once warmed up, `done` with its steps/s (both fail if the worker does). */
function startCopy(steps: number): { worker: Worker; ready: Promise<void>; done: Promise<number> } {
  const worker = new Worker(new URL('./tune_loop_worker.js', import.meta.url), { workerData: { steps, warmUp: WARM_UP_STEPS } });
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { ready?: true }) => m.ready && resolve());
    worker.on('error', reject);
  });
  const done = new Promise<number>((resolve, reject) => {
    worker.on('message', (m: { stepsPerSecond?: number }) => m.stepsPerSecond !== undefined && resolve(m.stepsPerSecond));
    worker.on('error', reject);
  });
  return { worker, ready, done };
}

/** Runs `copies` tune loops at once, started together once all have warmed up; returns each one's steps/s. */
async function runTogether(copies: number, steps: number): Promise<number[]> {
  const started = Array.from({ length: copies }, () => startCopy(steps));
  await Promise.all(started.map((c) => c.ready));
  for (const c of started) c.worker.postMessage('go');
  const rates = await Promise.all(started.map((c) => c.done));
  await Promise.all(started.map((c) => c.worker.terminate()));
  return rates;
}

export async function benchConcurrentTuneLoops(steps: number): Promise<ConcurrentTuneLoopsResult> {
  const alone = [(await runTogether(1, steps))[0]];
  const together = await runTogether(2, steps);
  alone.push((await runTogether(1, steps))[0]);
  const meanAlone = alone.reduce((a, b) => a + b, 0) / alone.length;
  return { steps, alone, together, scaling: together.reduce((a, b) => a + b, 0) / meanAlone };
}

export function concurrentTuneLoopsTable(r: ConcurrentTuneLoopsResult): string {
  const f = (x: number) => Math.round(x).toLocaleString('en');
  return [
    '| tune loop copies (G, H = 100) | env steps/s of each | together, over one alone |',
    '|---|---:|---:|',
    `| one alone (before, after) | ${r.alone.map(f).join(', ')} | |`,
    `| two at once | ${r.together.map(f).join(', ')} | ${r.scaling.toFixed(2)}× |`,
  ].join('\n');
}
