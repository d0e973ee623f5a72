/**
 * Time to music: for each algorithm, the training wall time until the evaluations along a run first meet
 * as many goals as they ever do in that run, on one and two threads. Each run is the library's tune() (the
 * loop `rltuner tune` runs) on the shipped default Note RNN with the algorithm's preset, evaluated every
 * sixteenth of its steps on 1,000 compositions of the evaluation length; an evaluation's time is not counted
 * as training time. The goals are those of src/eval/goals.ts that a 32-step evaluation can show (all but the
 * 2-bar recurrence of 128-step pieces), judged on the one run, with the Note RNN's own evaluation (the same
 * count, after the run) as the base of the relative goals.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/time_to_music.js [--seeds 1,2,3] [--only pg,g,q,psi] [--threads 1,2]
 *   node dist-bench/bench/time_to_music.js --from dist-bench/time-to-music.json     (the table again, from the JSON)
 *
 * Writes dist-bench/time-to-music.json and prints a Markdown table. Nothing else may run on the machine.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PolicyEvaluation } from '../src/eval/evaluation.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The build in dist/ (its generated modules live there), typed as the sources.
const load = <T>(path: string): Promise<T> => import(new URL(path, `file://${root}/`).href);
const { loadKernelsOnThreads } = await load<typeof import('../src/cli/common.js')>('dist/cli/common.js');
const { goalMet, goalOutcomes, GOALS } = await load<typeof import('../src/eval/goals.js')>('dist/eval/goals.js');
const { tune } = await load<typeof import('../src/index.js')>('dist/index.js');
const { resolveConfig } = await load<typeof import('../src/rl/config.js')>('dist/rl/config.js');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seeds = (flag('seeds') ?? '1,2,3').split(',').map(Number);
const threadCounts = (flag('threads') ?? '1,2').split(',').map(Number);

/** Each algorithm with the preset `rltuner tune` would run it with. */
const ALGORITHMS: Record<string, { preset: string; config: Record<string, unknown> }> = {
  pg: { preset: 'default', config: {} },
  g: { preset: 'g', config: {} },
  q: { preset: 'classic', config: {} },
  psi: { preset: 'classic', config: { algorithm: 'psi' } },
};
const only = (flag('only') ?? Object.keys(ALGORITHMS).join(',')).split(',');
const EVALUATIONS = 16;
const EVAL_COMPOSITIONS = 1000;

const noteRnnBytes = new Uint8Array(readFileSync(`${root}/models/note_rnn.safetensors`));

interface Point {
  step: number;
  /** Training seconds so far (evaluations not counted). */
  seconds: number;
  goals: number;
}

interface Run {
  algorithm: string;
  threads: number;
  seed: number;
  steps: number;
  /** Training seconds of the whole run (evaluations not counted). */
  seconds: number;
  noteRnnGoals: number;
  points: Point[];
  /** The most goals an evaluation met, and the training seconds until the first evaluation that met them. */
  bestGoals: number;
  secondsToBest: number;
}

const goalCount = (tuned: PolicyEvaluation, noteRnn: PolicyEvaluation) =>
  goalOutcomes([{ tuned, noteRnn }], GOALS).filter(goalMet).length;

async function timeRun(algorithm: string, threads: number, seed: number): Promise<Run> {
  const { preset, config } = ALGORITHMS[algorithm];
  const steps = resolveConfig(preset, config).trainingSteps;
  const loaded = await loadKernelsOnThreads(threads);
  try {
    const evaluations: { step: number; at: number; evaluation: PolicyEvaluation }[] = [];
    let lastLog = 0, evaluationMs = 0;
    const started = performance.now();
    const result = await tune(loaded.kernels, noteRnnBytes, {
      preset,
      config: { ...config, seed, evalEvery: steps / EVALUATIONS, logEvery: steps / EVALUATIONS, evalCompositions: EVAL_COMPOSITIONS, checkpointEvery: 0 },
      sliceMs: 1e9, // no yields: the loop as the CLI runs it
      onProgress: () => {
        lastLog = performance.now();
      },
      onEvaluation: (record, evaluation) => {
        // The evaluation ran between the logging interval's record (same step) and this call.
        evaluations.push({ step: record.step, at: lastLog - started - evaluationMs, evaluation });
        evaluationMs += performance.now() - lastLog;
      },
    });
    // The last logging record comes at the last step, before the final comparison.
    const total = lastLog - started - evaluationMs;
    const { noteRnn, tuned } = result.final!;
    const points = evaluations.map((e) => ({ step: e.step, seconds: e.at / 1000, goals: goalCount(e.evaluation, noteRnn) }));
    points.push({ step: steps, seconds: total / 1000, goals: goalCount(tuned, noteRnn) });
    const bestGoals = Math.max(...points.map((p) => p.goals));
    return {
      algorithm, threads, seed, steps, seconds: total / 1000, noteRnnGoals: goalCount(noteRnn, noteRnn), points, bestGoals,
      secondsToBest: points.find((p) => p.goals === bestGoals)!.seconds,
    };
  } finally {
    loaded.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;

// --from <json>: the table of runs measured before (this script's JSON), without running again.
const from = flag('from');
const runs: Run[] = from ? JSON.parse(readFileSync(from, 'utf8')) : [];
// Alternate the thread counts within each seed, and the order of algorithms, so drift falls on all alike.
for (const seed of from ? [] : seeds) {
  for (const algorithm of only) {
    const order = (seed + only.indexOf(algorithm)) % 2 ? [...threadCounts].reverse() : threadCounts;
    for (const threads of order) {
      const run = await timeRun(algorithm, threads, seed);
      runs.push(run);
      process.stderr.write(`${algorithm} seed ${seed} threads ${threads}: ${run.seconds.toFixed(1)} s, best ${run.bestGoals} goals at ${run.secondsToBest.toFixed(1)} s ` +
        `(${run.points.map((p) => p.goals).join(' ')})\n`);
    }
  }
}
if (!from) {
  mkdirSync(`${root}/dist-bench`, { recursive: true });
  writeFileSync(`${root}/dist-bench/time-to-music.json`, `${JSON.stringify(runs, null, 1)}\n`);
}

const lines = [
  `| algorithm (preset) | threads | steps | training s, median [min–max] | steps/s | goals met by the Note RNN | most goals met along the run | s until first met, median [min–max] | goals met at the end |`,
  '|---|---|---|---|---|---|---|---|---|',
];
for (const algorithm of only) {
  for (const threads of threadCounts) {
    const rs = runs.filter((r) => r.algorithm === algorithm && r.threads === threads);
    if (!rs.length) continue;
    lines.push(`| ${algorithm} (${ALGORITHMS[algorithm].preset}) | ${threads} | ${rs[0].steps} | ${range(rs.map((r) => r.seconds), 1)} | ` +
      `${Math.round(median(rs.map((r) => r.steps / r.seconds)))} | ${rs.map((r) => r.noteRnnGoals).join(', ')} | ${rs.map((r) => r.bestGoals).join(', ')} | ` +
      `${range(rs.map((r) => r.secondsToBest), 1)} | ${rs.map((r) => r.points[r.points.length - 1].goals).join(', ')} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n\nSeeds ${[...new Set(runs.map((r) => r.seed))].join(', ')}; goals of ${GOALS.length} (the 32-step ones), each on one run's evaluation of ${EVAL_COMPOSITIONS} compositions.\n`);
