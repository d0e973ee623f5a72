/**
 * `rltuner sweep`: runs configs × seeds from a plan file as ordinary `rltuner tune` runs, in worker
 * threads on every core, each run giving exactly what it gives alone; `--shard i/n` runs one slice so
 * many machines can share a sweep; `--collect` merges finished sweeps into one table per config (mean
 * [min–max] over seeds) and the Pareto set over (goals met, mean log p under the Note RNN). A stopped
 * sweep resumes: finished runs are skipped and unfinished ones continue from their checkpoints.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PolicyEvaluation } from '../eval/evaluation.js';
import { GOALS, goalMet, goalOutcomes, goalTable, LONG_PIECE_EVALUATION, LONG_PIECE_GOALS, paretoTable, type ConfigResult, type RunEvaluation } from '../eval/goals.js';
import { evaluationTable, summarizeEvaluations } from '../eval/report.js';
import { ConfigError, resolveConfig } from '../rl/config.js';
import { formatDuration, numberFlag, parseFlags, stopOnSignal, UsageError, writeFileAtomic } from './common.js';

export const SWEEP_HELP = `rltuner sweep: run configs × seeds of \`rltuner tune\` in parallel, and collect the results

Usage:
  rltuner sweep <plan.json> [--out <dir>] [--jobs <n>] [--shard <i>/<n>] [--relaxed-simd]
  rltuner sweep --collect <dir> [<dir> ...] [--json <file>] [--markdown <file>]

  --out <dir>          sweep folder [runs/sweep-<plan name>]: one run folder per config and seed
  --jobs <n>           runs at a time, each in its own worker thread [the number of cores]
  --shard <i>/<n>      run only the i-th of n slices of the jobs (1-based), e.g. one per machine of a
                       Slurm job array, a Kubernetes indexed Job or a CI matrix; collect them afterwards
  --collect <dir...>   merge the finished runs of one or more sweep folders (shards) into one table
  --json <file>        with --collect: also write the merged results as JSON
  --markdown <file>    with --collect: also write the tables as Markdown
  --relaxed-simd       use the relaxed-SIMD kernels where the runtime accepts them
  -h, --help           this text

The plan file is a JSON object:
  {
    "model": "models/note_rnn.safetensors",     optional; a path relative to the plan file
    "preset": "default",                         optional
    "base": { "trainingSteps": 200000 },         optional: fields for every config
    "configs": { "s2": { "rewardScaler": 2 }, "s4": { "rewardScaler": 4 } },
    "seeds": [1, 2, 3, 4, 5]
  }
Config fields are those of \`rltuner tune --help\` (camelCase). Each job is \`rltuner tune --config
<sweep>/configs/<name>.json --seed <s> --out <sweep>/<name>/seed-<s>\`, so its run folder is the same as
that command's. Ctrl-C stops every running job at the end of its composition, after a checkpoint; run the
same command again to resume. When a sweep (or shard) finishes it writes results.md and results.json.
The tables hold the paper's, the listener's and the data rows (the data reference's own values in the
last column) and the goals met. The 2-bar recurrence goal needs each run's 128-step evaluation: write
it with \`rltuner evaluate --tuned <run>/<algorithm>_tuned.safetensors --length 128 --count 1000 --json
<run>/evaluation-128.json\`, and --collect counts that goal too.
`;

interface Plan {
  model?: string;
  preset?: string;
  base?: Record<string, unknown>;
  configs: Record<string, Record<string, unknown>>;
  seeds: number[];
}

interface Job {
  id: string;
  config: string;
  seed: number;
  dir: string;
  args: string[];
}

export async function sweepCommand(args: string[]): Promise<number> {
  const v = parseFlags('sweep', args, {
    out: { type: 'string' }, jobs: { type: 'string' }, shard: { type: 'string' }, collect: { type: 'boolean' },
    json: { type: 'string' }, markdown: { type: 'string' }, 'relaxed-simd': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  }, true);
  if (v.help) {
    process.stdout.write(SWEEP_HELP);
    return 0;
  }
  const positionals = (v._ as string[] | undefined) ?? [];
  if (v.collect) {
    if (positionals.length === 0) throw new UsageError('--collect needs one or more sweep folders', 'sweep');
    return collectCommand(positionals.map((d) => resolve(d)), v.json as string | undefined, v.markdown as string | undefined);
  }
  if (positionals.length !== 1) throw new UsageError('give one plan file (rltuner sweep <plan.json>), or --collect <dirs...>', 'sweep');
  const planPath = resolve(positionals[0]);
  const plan = readPlan(planPath);
  const out = resolve(typeof v.out === 'string' ? v.out : join('runs', `sweep-${basename(planPath).replace(/\.json$/i, '')}`));
  const threads = numberFlag('sweep', 'jobs', v.jobs as string | undefined, availableParallelism(), 1, 256, true);
  const shard = parseShard(v.shard as string | undefined);
  const jobs = planJobs(plan, planPath, out, Boolean(v['relaxed-simd'])).filter((_, i) => i % shard.count === shard.index);
  const doneDir = join(out, 'done');
  mkdirSync(doneDir, { recursive: true });
  const pending = jobs.filter((j) => !existsSync(join(doneDir, `${j.id}.json`)));
  process.stderr.write(`sweep ${basename(planPath)}: ${jobs.length} jobs in this shard (${jobs.length - pending.length} already done), ${Math.min(threads, pending.length)} at a time -> ${out}\n`);

  const stop = stopOnSignal(() => process.stderr.write('stopping: every running job checkpoints at the end of its composition...\n'));
  const workers: Worker[] = [];
  const failures: string[] = [];
  let stopped = false;
  const started = performance.now();
  let finished = 0;
  try {
    const queue = [...pending];
    const runWorker = async () => {
      const worker = new Worker(new URL('./sweep_worker.js', import.meta.url));
      workers.push(worker);
      try {
        for (let job = queue.shift(); job && !stop.requested; job = queue.shift()) {
          const t0 = performance.now();
          const result = await runJob(worker, job, () => stop.requested);
          if (result.code === 0) {
            writeFileAtomic(join(doneDir, `${job.id}.json`), `${JSON.stringify({ config: job.config, seed: job.seed, dir: job.dir, seconds: (performance.now() - t0) / 1000 })}\n`);
            finished++;
            process.stderr.write(`done ${finished}/${pending.length}: ${job.config} seed ${job.seed} in ${formatDuration((performance.now() - t0) / 1000)}\n`);
          } else if (result.code === 130 || result.code === 143) {
            stopped = true;
          } else {
            failures.push(`${job.config} seed ${job.seed} (${job.dir}): ${result.message ?? `exit code ${result.code}`}`);
            process.stderr.write(`failed: ${failures[failures.length - 1]}\n`);
          }
        }
      } finally {
        await worker.terminate();
      }
    };
    await Promise.all(Array.from({ length: Math.min(threads, pending.length) }, runWorker));
  } finally {
    stop.dispose();
  }
  if (stop.requested || stopped) {
    process.stderr.write(`stopped after ${finished} jobs; run the same command again to resume\n`);
    return stop.requested ? stop.exitCode : 130;
  }
  process.stderr.write(`${finished} jobs in ${formatDuration((performance.now() - started) / 1000)}\n`);
  if (failures.length) {
    process.stderr.write(`${failures.length} jobs failed:\n  ${failures.join('\n  ')}\n`);
    return 1;
  }
  return collectCommand([out], join(out, 'results.json'), join(out, 'results.md'));
}

function runJob(worker: Worker, job: Job, stopRequested: () => boolean): Promise<{ code: number; message?: string }> {
  return new Promise((resolvePromise, reject) => {
    const poll = setInterval(() => {
      if (stopRequested()) worker.postMessage({ type: 'stop' });
    }, 100);
    const onMessage = (m: { type: string; code?: number; message?: string }) => {
      if (m.type !== 'done') return;
      clearInterval(poll);
      worker.off('message', onMessage);
      worker.off('error', onError);
      resolvePromise({ code: m.code ?? 1, message: m.message });
    };
    const onError = (e: Error) => {
      clearInterval(poll);
      worker.off('message', onMessage);
      reject(e);
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.postMessage({ type: 'job', args: job.args });
  });
}

function readPlan(path: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as Plan;
  } catch (e) {
    throw new UsageError(`plan file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`, 'sweep');
  }
  const bad = (what: string): never => {
    throw new UsageError(`plan file ${path}: ${what} (see rltuner sweep --help for the format)`, 'sweep');
  };
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) bad('not a JSON object');
  if (typeof plan.configs !== 'object' || plan.configs === null || Object.keys(plan.configs).length === 0) bad('"configs" must name at least one config');
  if (!Array.isArray(plan.seeds) || plan.seeds.length === 0 || !plan.seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)) bad('"seeds" must be a list of integer seeds');
  if (new Set(plan.seeds).size !== plan.seeds.length) bad('"seeds" repeats a seed');
  for (const [name, fields] of Object.entries(plan.configs)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) bad(`config name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`);
    try {
      resolveConfig(plan.preset ?? 'default', { ...(plan.base ?? {}), ...fields });
    } catch (e) {
      if (e instanceof ConfigError) bad(`config ${name}: ${e.message}`);
      throw e;
    }
    if ('seed' in fields || 'seed' in (plan.base ?? {})) bad(`config ${name} sets "seed"; seeds come from "seeds"`);
  }
  return plan;
}

/** Every job of the plan, config-major, each with the tune arguments that make it. */
function planJobs(plan: Plan, planPath: string, out: string, relaxed: boolean): Job[] {
  const jobs: Job[] = [];
  for (const [name, fields] of Object.entries(plan.configs)) {
    const configFile = join(out, 'configs', `${name}.json`);
    const config = { ...(plan.base ?? {}), ...fields };
    const existing = existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
    const text = `${JSON.stringify(config, null, 2)}\n`;
    if (existing !== null && existing !== text) {
      throw new UsageError(`${configFile} holds other settings than the plan's config ${name}: the plan changed since this sweep started; use another --out`, 'sweep');
    }
    if (existing === null) writeFileAtomic(configFile, text);
    for (const seed of plan.seeds) {
      const dir = join(out, name, `seed-${seed}`);
      const args = ['--config', configFile, '--seed', String(seed), '--out', dir, '--quiet'];
      if (plan.preset) args.push('--preset', plan.preset);
      if (plan.model) args.push('--model', resolve(dirname(planPath), plan.model));
      if (relaxed) args.push('--relaxed-simd');
      if (existsSync(join(dir, 'checkpoint.safetensors'))) args.push('--resume');
      else if (existsSync(dir) && readdirSync(dir).length > 0) args.push('--overwrite');
      jobs.push({ id: `${name}.seed-${seed}`, config: name, seed, dir, args });
    }
  }
  return jobs;
}

function parseShard(text: string | undefined): { index: number; count: number } {
  if (text === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new UsageError(`--shard ${text}: expected <i>/<n> with 1 <= i <= n, e.g. 2/4`, 'sweep');
  return { index: i - 1, count: n };
}

/** Merges the finished runs under `dirs` (sweep folders or shards of one) into tables. */
function collectCommand(dirs: string[], jsonPath: string | undefined, markdownPath: string | undefined): number {
  const byConfig = new Map<string, Map<number, RunEvaluation & { dir: string }>>();
  let longRuns = 0;
  for (const dir of dirs) {
    const doneDir = join(dir, 'done');
    if (!existsSync(doneDir)) throw new UsageError(`${dir} is not a sweep folder (no done/ inside)`, 'sweep');
    for (const file of readdirSync(doneDir).filter((f) => f.endsWith('.json')).sort()) {
      const done = JSON.parse(readFileSync(join(doneDir, file), 'utf8')) as { config: string; seed: number; dir: string };
      const evaluationPath = join(done.dir, 'evaluation.json');
      if (!existsSync(evaluationPath)) throw new UsageError(`${evaluationPath} is missing although ${join(doneDir, file)} says the run finished`, 'sweep');
      const e = JSON.parse(readFileSync(evaluationPath, 'utf8')) as { tuned: PolicyEvaluation; noteRnn: PolicyEvaluation };
      const long = readLongEvaluation(done.dir);
      if (long) longRuns++;
      const runs = byConfig.get(done.config) ?? new Map();
      runs.set(done.seed, { dir: done.dir, tuned: e.tuned, noteRnn: e.noteRnn, ...(long ? { long } : {}) });
      byConfig.set(done.config, runs);
    }
  }
  if (byConfig.size === 0) throw new UsageError(`no finished runs under ${dirs.join(', ')}`, 'sweep');
  const results: ConfigResult[] = [...byConfig.entries()].map(([name, runs]) => ({
    name,
    runs: [...runs.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => ({ tuned: r.tuned, noteRnn: r.noteRnn, ...(r.long ? { long: r.long } : {}) })),
  }));
  // The 128-step goal counts once any run has its long evaluation (runs without one miss it).
  const goals = longRuns > 0 ? [...GOALS, ...LONG_PIECE_GOALS] : GOALS;
  const noteRnn = results[0].runs.map((r) => r.noteRnn);
  const table = evaluationTable([{ name: 'Note RNN', evaluations: noteRnn }, ...results.map((r) => ({ name: r.name, evaluations: r.runs.map((x) => x.tuned) }))]);
  const pareto = paretoTable(results, goals);
  const paretoLines = [
    `| config | runs | goals met (of ${goals.length}) | mean log p | Pareto | missed |`,
    '|---|---|---|---|---|---|',
    ...pareto.map((p) => `| ${p.name} | ${results.find((r) => r.name === p.name)?.runs.length} | ${p.goalsMet} | ${p.meanLogP.toFixed(3)} | ${p.pareto ? 'yes' : ''} | ${p.missed.join('; ')} |`),
  ];
  const longNote = longRuns > 0
    ? `The 128-step goal reads each run's ${LONG_EVALUATION_FILE} (${longRuns} of the runs have one).`
    : `The 128-step goal is left out: no run has ${LONG_EVALUATION_FILE} (make one per run with \`rltuner evaluate --tuned <run>/<algorithm>_tuned.safetensors ` +
      `--length ${LONG_PIECE_EVALUATION.numNotes} --count ${LONG_PIECE_EVALUATION.count} --json <run>/${LONG_EVALUATION_FILE}\`).`;
  const text = `# Sweep results\n\nEach config: mean [min–max] over its seeds; a goal counts as met when the mean meets it and at least 80 % of the seeds do.\n\n${table}\n` +
    `## Goals\n\n${goalTable(results, goals)}\n${longNote}\n\n## Goals met and the Pareto set over (goals met, mean log p)\n\n${paretoLines.join('\n')}\n`;
  process.stdout.write(text);
  if (markdownPath) writeFileAtomic(resolve(markdownPath), text);
  if (jsonPath) {
    writeFileAtomic(resolve(jsonPath), `${JSON.stringify({
      goals: goals.map((g) => ({ row: g.row, goal: g.text, evaluation: g.evaluation ?? 'main' })),
      configs: results.map((r) => ({
        name: r.name,
        seeds: [...(byConfig.get(r.name)?.keys() ?? [])].sort((a, b) => a - b),
        tuned: summarizeEvaluations(r.runs.map((x) => x.tuned)),
        noteRnn: summarizeEvaluations(r.runs.map((x) => x.noteRnn)),
        goals: goalOutcomes(r.runs, goals).map((o) => ({ row: o.goal.row, met: goalMet(o), metOnMean: o.metOnMean, runsMet: o.runsMet, runs: o.runs })),
      })),
      pareto,
    }, null, 2)}\n`);
  }
  return 0;
}

/** A run's separate 128-step evaluation, written beside its evaluation.json by `rltuner evaluate --json`. */
export const LONG_EVALUATION_FILE = 'evaluation-128.json';

/** The Note RNN and tuned model of a run's LONG_EVALUATION_FILE, or null when the run has none. */
function readLongEvaluation(dir: string): RunEvaluation['long'] | null {
  const path = join(dir, LONG_EVALUATION_FILE);
  if (!existsSync(path)) return null;
  const e = JSON.parse(readFileSync(path, 'utf8')) as { numNotes?: number; models?: PolicyEvaluation[] };
  if (e.numNotes !== LONG_PIECE_EVALUATION.numNotes || !Array.isArray(e.models) || e.models.length !== 2) {
    throw new UsageError(
      `${path}: expected the JSON of \`rltuner evaluate --tuned <the run's model> --length ${LONG_PIECE_EVALUATION.numNotes} --json\` ` +
        `(two models at ${LONG_PIECE_EVALUATION.numNotes} steps); found ${Array.isArray(e.models) ? e.models.length : 'no'} models at ${e.numNotes ?? 'no'} steps`,
      'sweep',
    );
  }
  return { noteRnn: e.models[0], tuned: e.models[1] };
}
