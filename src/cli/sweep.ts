/**
 * `rltuner sweep`: runs configs × seeds from a plan file as ordinary `rltuner tune` runs, in worker
 * threads on every core, each run giving exactly what it gives alone; `--shard i/n` (or `--shard auto`,
 * from a Slurm job array, a Kubernetes indexed Job or a CI matrix) runs one slice so many machines can share
 * a sweep; `--status` says which jobs are finished, running, stopped or missing; `--collect` merges finished
 * sweeps into one table per config (mean [min–max] over seeds) and the Pareto set over (goals met, mean
 * log p under the Note RNN), refusing an incomplete sweep unless `--partial`. A stopped sweep resumes:
 * finished runs are skipped and unfinished ones continue from their checkpoints. The plan is checked by
 * sweep_plan.ts, the shard chosen by sweep_shard.ts, and the sweep folder read back by sweep_folder.ts.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PolicyEvaluation } from '../eval/evaluation.js';
import { GOALS, goalMet, goalOutcomes, goalTable, LONG_PIECE_EVALUATION, LONG_PIECE_GOALS, paretoTable, type ConfigResult, type RunEvaluation } from '../eval/goals.js';
import { evaluationTable, summarizeEvaluations } from '../eval/report.js';
import { formatDuration, Progress, QUIET, RELAXED_SIMD, reportStream, stopOnSignal, UsageError, writeOutput } from './common.js';
import { commandHelp, defineCommand, inGroup, parseCommandLine } from './flags.js';
import {
  CONFIGS_FOLDER, DONE_FOLDER, doneFileNames, isSweepFolder, jobState, readConfigFile, readDoneFile, readEvaluation, readSweepRecord,
  insideSweep, readBoundedFile, SWEEP_FILE, SweepFolderError, writeSweepFile, type JobState, type JobStateName, type RunEvaluation as StoredEvaluation,
  type SweepRecord,
} from './sweep_folder.js';
import { configFileText, PLAN_MAX_BYTES, PLAN_MAX_CONFIGS, PLAN_MAX_JOBS, PLAN_MAX_SEEDS, planJobs, readSweepPlan, type PlanJob, type SweepPlan } from './sweep_plan.js';
import { MAX_SHARD_COUNT, parseShardFlag, shardFromEnvironment, type Shard } from './sweep_shard.js';

export const SWEEP = defineCommand({
  name: 'sweep',
  title: 'run configs × seeds of `rltuner tune` in parallel, on one machine or many, and collect the results',
  usage: [
    'sweep <plan.json> [--out <dir>] [--jobs <n>] [--shard <i>/<n> | --shard auto [--shard-count <n>]]',
    '                [--relaxed-simd] [--quiet]',
    'sweep --status <dir> [<dir> ...]',
    'sweep --collect <dir> [<dir> ...] [--partial] [--json <file>] [--markdown <file>]',
  ],
  positionals: 'a plan file, or sweep folders with --status / --collect',
  flags: [
    ...inGroup('Running a plan', [
      {
        name: 'out', kind: 'string', arg: '<dir>', defaultText: 'runs/sweep-<plan name>',
        doc: 'sweep folder: one run folder per config and seed. Shards may share one (on a shared file system) or each write their own (collected together)',
      },
      { name: 'jobs', kind: 'integer', min: 1, max: 256, arg: '<n>', doc: 'runs at a time, each in its own worker thread', defaultText: 'the number of cores' },
      {
        name: 'shard', kind: 'string', arg: '<i>/<n>|auto',
        doc: 'run only the i-th of n slices of the jobs (1-based): the plan\'s jobs, config-major (as --status lists them), are dealt out in turn, job k to slice (k mod n) + 1; auto takes i and n from the environment a scheduler sets (below)',
      },
      {
        name: 'shard-count', kind: 'integer', min: 1, max: MAX_SHARD_COUNT, arg: '<n>',
        doc: 'with --shard auto: the number of shards, where the environment does not say it (Kubernetes); where it does, it must agree',
      },
      RELAXED_SIMD,
      { ...QUIET, doc: 'no progress bar (the lines of finished jobs are written still)' },
    ]),
    ...inGroup('Reading sweep folders', [
      {
        name: 'status', kind: 'boolean',
        doc: 'list the jobs of one or more sweep folders (the shards of a sweep, or several sweeps) shard by shard: finished; running (its run folder\'s lock is held: by a live process on this host, or on another host, which cannot be checked from here); stopped (a checkpoint without a result: the shard\'s command resumes it); missing',
      },
      {
        name: 'collect', kind: 'boolean',
        doc: 'merge the finished runs of one or more sweep folders into one table; refused while a job of a folder\'s plan is not finished (naming the jobs)',
      },
      { name: 'partial', kind: 'boolean', doc: 'with --collect: collect what is finished; the table says which jobs it lacks' },
      { name: 'json', kind: 'output', doc: 'with --collect: also write the merged results as JSON (- for standard output, the tables then going to standard error)' },
      { name: 'markdown', kind: 'output', doc: 'with --collect: also write the tables as Markdown (- for standard output, as for --json)' },
    ]),
  ],
  notes: `--shard auto takes i and n from the environment a scheduler sets, and prints which it used:
  Slurm job array (sbatch --array=1-4, 0-3, 1-7:2, ...): SLURM_ARRAY_TASK_ID's place
    in SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX in steps of SLURM_ARRAY_TASK_STEP
    (or, without it, as many as SLURM_ARRAY_TASK_COUNT); ids may start at 0 or 1
  Kubernetes Job with completionMode: Indexed: JOB_COMPLETION_INDEX (0-based); the
    count from --shard-count or RLTUNER_SHARD_COUNT (the Job's spec.completions)
  anything else, e.g. a CI matrix: RLTUNER_SHARD_INDEX (0-based) and RLTUNER_SHARD_COUNT
The variables of two of them at once, an index outside the count, a step that does
not divide the array's range, a list of ids that is not a range, or a missing count
is an error naming the variables and their values.

The plan file is a JSON object (at most ${PLAN_MAX_BYTES / 1024 / 1024} MB; every field is checked before anything runs):
  {
    "model": "models/note_rnn.safetensors",     optional; a path relative to the plan file
    "preset": "default",                         optional
    "base": { "trainingSteps": 200000 },         optional: fields for every config
    "configs": { "s2": { "rewardScaler": 2 }, "s4": { "rewardScaler": 4 } },
    "seeds": [1, 2, 3, 4, 5]
  }
Config fields are those of \`rltuner tune --help\` (camelCase); config names are letters, digits, '.', '_'
and '-'; at most ${PLAN_MAX_CONFIGS} configs, ${PLAN_MAX_SEEDS} seeds and ${PLAN_MAX_JOBS} jobs. Each job is \`rltuner tune --config
<sweep>/configs/<name>.json --seed <s> --out <sweep>/<name>/seed-<s>\`, so its run folder is the same as
that command's. Ctrl-C (or SIGTERM from a scheduler) stops every running job at the end of its
composition, after a checkpoint; run the same command again to resume.

The sweep folder holds sweep.json (the plan it belongs to: a run with another plan is refused), configs/,
a run folder per job and done/<name>.seed-<s>.json per finished job. Every path in it is relative to it, so
it can be moved or copied (a CI artifact, say) and collected where it lands; nothing outside it is
followed. When every job of the plan is finished in the folder, the sweep writes results.md and
results.json there and prints the table; a shard that leaves jobs to others prints how far the sweep is.

Job files for Slurm (sbatch job array, collected by a dependent job), Kubernetes (indexed Job, plan from a
ConfigMap, results on a PersistentVolumeClaim) and GitHub Actions (a matrix, collected from artifacts) are
in the source repository's sweeps/examples/ (see sweeps/README.md).
The tables hold the paper's, the listener's and the data rows (the data reference's own values in the
last column) and the goals met. The 2-bar recurrence goal needs each run's 128-step evaluation: write
it with \`rltuner evaluate --tuned <run>/<algorithm>_tuned.safetensors --length 128 --count 1000 --json
<run>/evaluation-128.json\`, and --collect counts that goal too.`,
});

interface Job extends PlanJob {
  /** The run folder's absolute path. */
  path: string;
  args: string[];
}

export async function sweepCommand(args: string[]): Promise<number> {
  const { values: v, positionals, help } = parseCommandLine(SWEEP, args);
  if (help) {
    process.stdout.write(commandHelp(SWEEP));
    return 0;
  }
  if (v.collect && v.status) throw new UsageError('--collect and --status: pass one of them', 'sweep');
  const runOnly = (['out', 'jobs', 'shard', 'shard-count', 'relaxed-simd', 'quiet'] as const).filter((f) => v[f] !== undefined);
  if ((v.collect || v.status) && runOnly.length) throw new UsageError(`--${runOnly[0]} is for running a plan, not with --${v.collect ? 'collect' : 'status'}`, 'sweep');
  if (!v.collect) {
    const collectOnly = (['partial', 'json', 'markdown'] as const).filter((f) => v[f] !== undefined);
    if (collectOnly.length) throw new UsageError(`--${collectOnly[0]} goes with --collect`, 'sweep');
  }
  if (v.status) {
    if (positionals.length === 0) throw new UsageError('--status needs one or more sweep folders', 'sweep');
    return statusCommand(positionals.map((d) => resolve(d)));
  }
  if (v.collect) {
    if (positionals.length === 0) throw new UsageError('--collect needs one or more sweep folders', 'sweep');
    return collectCommand(positionals.map((d) => resolve(d)), { jsonPath: v.json, markdownPath: v.markdown, partial: Boolean(v.partial) });
  }
  if (positionals.length !== 1) throw new UsageError('give one plan file (rltuner sweep <plan.json>), or --status / --collect <dirs...>', 'sweep');
  const planPath = resolve(positionals[0]);
  const plan = readSweepPlan(planPath);
  const out = resolve(typeof v.out === 'string' ? v.out : join('runs', `sweep-${basename(planPath).replace(/\.json$/i, '')}`));
  const threads = v.jobs ?? availableParallelism();
  const shard = chooseShard(v.shard, v['shard-count']);
  return runSweep(plan, planPath, out, threads, shard, Boolean(v['relaxed-simd']), new Progress(Boolean(v.quiet)));
}

/** The shard to run: --shard i/n, --shard auto (from the environment), or the whole sweep. */
function chooseShard(flag: string | undefined, count: number | undefined): Shard {
  const parsed = parseShardFlag(flag);
  if (parsed !== 'auto') {
    if (count !== undefined) throw new UsageError('--shard-count goes with --shard auto (--shard <i>/<n> names the count itself)', 'sweep');
    return parsed;
  }
  const shard = shardFromEnvironment(process.env, count);
  process.stderr.write(`--shard auto: shard ${shard.index + 1}/${shard.count}, from the ${shard.source}\n`);
  return shard;
}

/**
 * Makes `out` the sweep folder of `plan`: sweep.json and configs/ written, or checked to match when they
 * exist (a folder of another plan is refused).
 */
function prepareSweepFolder(out: string, plan: SweepPlan, planPath: string, shards: number): void {
  mkdirSync(join(out, DONE_FOLDER), { recursive: true });
  const record = readSweepRecord(out);
  if (record && JSON.stringify(record.plan) !== JSON.stringify(plan)) {
    throw new UsageError(
      `${join(out, SWEEP_FILE)}: this sweep folder belongs to another plan (${record.planFile}, ${planJobs(record.plan).length} jobs), not ${basename(planPath)} as it is now; ` +
        'use another --out for this plan (folders of several plans can be collected together)',
      'sweep',
    );
  }
  for (const name of Object.keys(plan.configs)) {
    const text = configFileText(plan, name);
    const existing = readConfigFile(out, name);
    if (existing !== null && existing !== text) {
      throw new UsageError(`${join(out, CONFIGS_FOLDER, `${name}.json`)} holds other settings than the plan's config ${name}: the plan changed since this sweep started; use another --out`, 'sweep');
    }
    if (existing === null) writeSweepFile(join(out, CONFIGS_FOLDER, `${name}.json`), text);
  }
  if (!record) {
    const written: SweepRecord = { format: 1, planFile: basename(planPath), shards, plan };
    writeSweepFile(join(out, SWEEP_FILE), `${JSON.stringify(written, null, 2)}\n`);
  }
}

/** The tune arguments of a job: its config, seed and run folder; --resume from a checkpoint, --overwrite of a start that left no checkpoint. */
function withTuneArgs(job: PlanJob, plan: SweepPlan, planPath: string, out: string, relaxed: boolean): Job {
  const path = join(out, ...job.dir.split('/'));
  const args = ['--config', join(out, CONFIGS_FOLDER, `${job.config}.json`), '--seed', String(job.seed), '--out', path, '--quiet'];
  if (plan.preset) args.push('--preset', plan.preset);
  if (plan.model) args.push('--model', resolve(dirname(planPath), plan.model));
  if (relaxed) args.push('--relaxed-simd');
  if (existsSync(join(path, 'checkpoint.safetensors'))) args.push('--resume');
  else if (existsSync(path) && readdirSync(path).length > 0) args.push('--overwrite');
  return { ...job, path, args };
}

async function runSweep(plan: SweepPlan, planPath: string, out: string, threads: number, shard: Shard, relaxed: boolean, progress: Progress): Promise<number> {
  prepareSweepFolder(out, plan, planPath, shard.count);
  const all = planJobs(plan);
  const mine = all.filter((_, k) => k % shard.count === shard.index);
  const pending: Job[] = [];
  for (const job of mine) {
    const state = jobState(out, job);
    if (state.state === 'damaged') throw new SweepFolderError(`job ${job.id}: ${state.note}`, out);
    if (state.state === 'finished') continue;
    if (state.note?.startsWith('done/')) process.stderr.write(`note: ${state.note}; running the job again\n`);
    pending.push(withTuneArgs(job, plan, planPath, out, relaxed));
  }
  const doneDir = join(out, DONE_FOLDER);
  const inShard = shard.count > 1 ? ` in shard ${shard.index + 1}/${shard.count}` : ' in this shard';
  process.stderr.write(`sweep ${basename(planPath)}: ${mine.length} jobs${inShard} (${mine.length - pending.length} already done), ${Math.min(threads, pending.length)} at a time -> ${out}\n`);

  const stop = stopOnSignal(() => process.stderr.write('stopping: every running job checkpoints at the end of its composition...\n'));
  const workers: Worker[] = [];
  const failures: string[] = [];
  let stopped = false;
  const started = performance.now();
  let finished = 0;
  // The bar counts finished jobs (each job's tune runs --quiet in its worker); redrawn every second for the time.
  let running = 0;
  const showBar = () => progress.bar(finished, pending.length, `${finished}/${pending.length} jobs finished, ${running} running`, false);
  const ticker = setInterval(showBar, 1000);
  try {
    const queue = [...pending];
    const runWorker = async () => {
      const worker = new Worker(new URL('./sweep_worker.js', import.meta.url));
      workers.push(worker);
      try {
        for (let job = queue.shift(); job && !stop.requested; job = queue.shift()) {
          const t0 = performance.now();
          running++;
          const result = await runJob(worker, job, () => stop.requested).finally(() => running--);
          if (result.code === 0) {
            writeSweepFile(join(doneDir, `${job.id}.json`), `${JSON.stringify({ config: job.config, seed: job.seed, dir: job.dir, seconds: (performance.now() - t0) / 1000 })}\n`);
            finished++;
            progress.note(`done ${finished}/${pending.length}: ${job.config} seed ${job.seed} in ${formatDuration((performance.now() - t0) / 1000)}`);
            showBar();
          } else if (result.code === 130 || result.code === 143) {
            stopped = true;
          } else {
            failures.push(`${job.config} seed ${job.seed} (${job.path}): ${result.message ?? `exit code ${result.code}`}`);
            progress.note(`failed: ${failures[failures.length - 1]}`);
          }
        }
      } finally {
        await worker.terminate();
      }
    };
    showBar();
    await Promise.all(Array.from({ length: Math.min(threads, pending.length) }, runWorker));
  } finally {
    clearInterval(ticker);
    progress.done();
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
  const states = all.map((job) => jobState(out, job).state);
  const unfinished = states.filter((s) => s !== 'finished').length;
  if (unfinished > 0) {
    process.stderr.write(
      `shard ${shard.index + 1}/${shard.count} finished; ${all.length - unfinished} of the plan's ${all.length} jobs ${all.length - unfinished === 1 ? 'is' : 'are'} finished in ${out}. ` +
        `Once every shard has finished: rltuner sweep --collect <the shards' folders> (rltuner sweep --status <folders> lists what is left)\n`,
    );
    return 0;
  }
  return collectCommand([out], { jsonPath: join(out, 'results.json'), markdownPath: join(out, 'results.md'), partial: false });
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


/** The sweep folders given, grouped by the plan they belong to; folders without sweep.json (earlier versions) apart. */
interface FolderGroups {
  groups: { plan: SweepPlan; records: SweepRecord[]; dirs: string[] }[];
  unplanned: string[];
}

function groupFolders(dirs: string[]): FolderGroups {
  const byPlan = new Map<string, FolderGroups['groups'][number]>();
  const unplanned: string[] = [];
  for (const dir of dirs) {
    if (!isSweepFolder(dir)) throw new UsageError(`${dir} is not a sweep folder (no ${SWEEP_FILE} or ${DONE_FOLDER}/ inside)`, 'sweep');
    const record = readSweepRecord(dir);
    if (!record) {
      unplanned.push(dir);
      continue;
    }
    const key = JSON.stringify(record.plan);
    const group = byPlan.get(key) ?? { plan: record.plan, records: [], dirs: [] };
    group.records.push(record);
    group.dirs.push(dir);
    byPlan.set(key, group);
  }
  return { groups: [...byPlan.values()], unplanned };
}

const STATE_ORDER: readonly JobStateName[] = ['finished', 'running', 'stopped', 'missing', 'damaged'];

/** A job's state over several folders of its plan: the furthest along (finished before running before stopped before missing). */
function bestState(dirs: string[], job: PlanJob): { state: JobState; dir: string } {
  let best: { state: JobState; dir: string } | null = null;
  for (const dir of dirs) {
    const state = jobState(dir, job);
    if (state.state === 'damaged') return { state, dir };
    if (!best || STATE_ORDER.indexOf(state.state) < STATE_ORDER.indexOf(best.state.state)) best = { state, dir };
  }
  return best as { state: JobState; dir: string };
}

/** "a, b, c and 4 more" */
function listed(names: readonly string[], shown = 20): string {
  return names.length > shown ? `${names.slice(0, shown).join(', ')} and ${names.length - shown} more` : names.join(', ');
}

function statusCommand(dirs: string[]): number {
  const { groups, unplanned } = groupFolders(dirs);
  const lines: string[] = [];
  for (const { plan, records, dirs: groupDirs } of groups) {
    const jobs = planJobs(plan);
    const shards = records[0].shards;
    const counts = Object.fromEntries(STATE_ORDER.map((s) => [s, 0])) as Record<JobStateName, number>;
    const perShard = Array.from({ length: shards }, () => new Map<JobStateName, string[]>());
    jobs.forEach((job, k) => {
      const { state } = bestState(groupDirs, job);
      counts[state.state]++;
      const entries = perShard[k % shards].get(state.state) ?? [];
      entries.push(state.note ? `${job.id} (${state.note})` : job.id);
      perShard[k % shards].set(state.state, entries);
    });
    const configs = Object.keys(plan.configs).length;
    lines.push(`${groupDirs.join(', ')}: plan ${records[0].planFile}, ${configs} config${configs === 1 ? '' : 's'} × ${plan.seeds.length} seed${plan.seeds.length === 1 ? '' : 's'} = ${jobs.length} jobs in ${shards} shard${shards === 1 ? '' : 's'}`);
    const other = records.find((r) => r.shards !== shards);
    if (other) lines.push(`  (some of these folders were started with ${other.shards} shards; jobs are grouped by ${shards})`);
    perShard.forEach((states, i) => {
      const total = [...states.values()].reduce((n, l) => n + l.length, 0);
      lines.push(`  shard ${i + 1}/${shards}: ${total} job${total === 1 ? '' : 's'}${total ? ':' : ''} ${STATE_ORDER.filter((s) => states.has(s)).map((s) => `${states.get(s)!.length} ${s}`).join(', ')}`.trimEnd());
      for (const state of STATE_ORDER) {
        const entries = states.get(state);
        if (entries) lines.push(`    ${state.padEnd(9)} ${entries.join(', ')}`);
      }
    });
    lines.push(`  all: ${STATE_ORDER.filter((s) => s !== 'damaged' || counts.damaged).map((s) => `${counts[s]} ${s}`).join(', ')} of ${jobs.length} jobs`);
  }
  for (const dir of unplanned) {
    const names = doneFileNames(dir);
    lines.push(`${dir}: made by an earlier version, without ${SWEEP_FILE}, so its plan (and the jobs it misses) is unknown; running the plan again with --out ${dir} records it`);
    const states = new Map<JobStateName, string[]>();
    for (const name of names) {
      const id = name.replace(/\.json$/, '');
      let state: JobState;
      try {
        const done = readDoneFile(dir, name);
        state = done ? jobState(dir, { id, config: done.config, seed: done.seed, dir: done.dir }) : { state: 'missing' };
      } catch (e) {
        if (!(e instanceof SweepFolderError)) throw e;
        state = { state: 'damaged', note: e.message };
      }
      const entries = states.get(state.state) ?? [];
      entries.push(state.note ? `${id} (${state.note})` : id);
      states.set(state.state, entries);
    }
    for (const state of STATE_ORDER) {
      const entries = states.get(state);
      if (entries) lines.push(`    ${state.padEnd(9)} ${entries.join(', ')}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

interface CollectOptions {
  jsonPath?: string;
  markdownPath?: string;
  /** Collect what is finished even when jobs are not. */
  partial: boolean;
}

/**
 * Merges the finished runs of `dirs` (sweep folders, or shards of one) into tables. A folder's jobs come
 * from its sweep.json; one that is not finished in any folder of its plan makes the sweep incomplete, which
 * is refused unless `partial`. Configs appear in plan order (folders in the order given), seeds ascending.
 */
function collectCommand(dirs: string[], options: CollectOptions): number {
  const report = reportStream('sweep', { json: options.jsonPath, markdown: options.markdownPath });
  const { groups, unplanned } = groupFolders(dirs);
  const byConfig = new Map<string, Map<number, RunEvaluation>>();
  const configFrom = new Map<string, { dir: string; text: string | null }>();
  const lacking: string[] = [];
  let planned = 0;
  let longRuns = 0;
  const take = (dir: string, config: string, seed: number, runDir: string, main: StoredEvaluation) => {
    const long = readLongEvaluation(dir, runDir);
    if (long) longRuns++;
    const evaluation: RunEvaluation = { tuned: main.tuned as PolicyEvaluation, noteRnn: main.noteRnn as PolicyEvaluation, ...(long ? { long } : {}) };
    const text = readConfigFile(dir, config);
    const first = configFrom.get(config);
    if (first && text !== null && first.text !== null && first.text !== text) {
      throw new UsageError(`config ${config} is not the same in ${first.dir} and ${dir} (their ${CONFIGS_FOLDER}/${config}.json differ): collect those sweeps apart`, 'sweep');
    }
    if (!first) configFrom.set(config, { dir, text });
    const runs = byConfig.get(config) ?? new Map<number, RunEvaluation>();
    if (!runs.has(seed)) runs.set(seed, evaluation);
    byConfig.set(config, runs);
  };
  for (const group of groups) {
    const jobs = planJobs(group.plan);
    planned += jobs.length;
    for (const config of Object.keys(group.plan.configs)) if (!byConfig.has(config)) byConfig.set(config, new Map());
    for (const job of jobs) {
      const { state, dir } = bestState(group.dirs, job);
      if (state.state === 'damaged') throw new SweepFolderError(`${dir}: job ${job.id}: ${state.note}`, dir);
      if (state.state === 'finished') take(dir, job.config, job.seed, job.dir, state.evaluation as StoredEvaluation);
      else lacking.push(`${job.id} (${state.state}${state.note ? `: ${state.note}` : ''})`);
    }
  }
  for (const dir of unplanned) {
    const names = doneFileNames(dir);
    for (const name of names) {
      const done = readDoneFile(dir, name);
      if (!done) continue;
      const evaluation = readEvaluation(dir, done.dir);
      if (evaluation) take(dir, done.config, done.seed, done.dir, evaluation);
      else lacking.push(`${done.config}.seed-${done.seed} (its done file says finished, but ${done.dir}/evaluation.json is missing)`);
    }
    if (names.some((n) => readDoneFile(dir, n)?.oldFormat)) {
      process.stderr.write(`note: ${dir}: its done files hold absolute paths (an earlier version); they were read by their job ids, inside ${dir}\n`);
    }
  }
  for (const [config, runs] of [...byConfig]) if (runs.size === 0) byConfig.delete(config);
  if (!options.partial) {
    if (unplanned.length) {
      throw new UsageError(
        `${listed(unplanned, 5)}: made by an earlier version, without ${SWEEP_FILE}, so whether every job finished cannot be told; ` +
          'pass --partial to collect the runs it holds, or run its plan again with --out <that folder> (finished jobs are skipped) to record the plan',
        'sweep',
      );
    }
    if (lacking.length) {
      throw new UsageError(
        `the sweep is not finished: ${lacking.length} of its ${planned} jobs ${lacking.length === 1 ? 'is' : 'are'} not: ${listed(lacking)}. Finish them (run their shards' commands again; ` +
          'rltuner sweep --status <folders> lists them by shard), or pass --partial to collect the finished ones',
        'sweep',
      );
    }
  }
  if (byConfig.size === 0) throw new UsageError(`no finished runs under ${dirs.join(', ')}`, 'sweep');
  if (lacking.length) process.stderr.write(`--partial: the table lacks ${lacking.length} of ${planned} jobs: ${listed(lacking)}\n`);
  if (unplanned.length) process.stderr.write(`--partial: ${listed(unplanned, 5)} ${unplanned.length === 1 ? 'records' : 'record'} no plan (an earlier version): the jobs missing from ${unplanned.length === 1 ? 'it' : 'them'}, if any, are not known\n`);

  const results: ConfigResult[] = [...byConfig.entries()].map(([name, runs]) => ({
    name,
    runs: [...runs.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r),
  }));
  // The 128-step goal counts once any run has its long evaluation (runs without one miss it).
  const goals = longRuns > 0 ? [...GOALS, ...LONG_PIECE_GOALS] : GOALS;
  const noteRnn = results[0].runs.map((r) => r.noteRnn);
  const table = evaluationTable([{ name: 'Note RNN', evaluations: noteRnn }, ...results.map((r) => ({ name: r.name, evaluations: r.runs.map((x) => x.tuned) }))]);
  const pareto = paretoTable(results, goals);
  // The untuned Note RNN judged by the same goals (its own evaluations beside the first config's runs): the
  // baseline a tuned config should beat, shown beside the candidates but not one of them.
  const baseline: ConfigResult = {
    name: BASELINE_NAME,
    runs: results[0].runs.map((r) => ({ tuned: r.noteRnn, noteRnn: r.noteRnn, ...(r.long ? { long: { tuned: r.long.noteRnn, noteRnn: r.long.noteRnn } } : {}) })),
  };
  const [baselineRow] = paretoTable([baseline], goals);
  const paretoLines = [
    `| config | runs | goals met (of ${goals.length}) | mean log p | Pareto | missed |`,
    '|---|---|---|---|---|---|',
    ...pareto.map((p) => `| ${p.name} | ${results.find((r) => r.name === p.name)?.runs.length} | ${p.goalsMet} | ${p.meanLogP.toFixed(3)} | ${p.pareto ? 'yes' : ''} | ${p.missed.join('; ')} |`),
    `| ${BASELINE_NAME} | ${baseline.runs.length} | ${baselineRow.goalsMet} | ${baselineRow.meanLogP.toFixed(3)} | baseline | ${baselineRow.missed.join('; ')} |`,
  ];
  const lackingIds = lacking.map((l) => l.replace(/ \(.*$/s, ''));
  const partialNote = [
    ...(lacking.length ? [`**Partial** (collected with --partial): this table lacks ${lacking.length} of the ${planned} planned jobs: ${listed(lackingIds, 50)}.`] : []),
    ...(unplanned.length ? [`**Partial** (collected with --partial): ${unplanned.length === 1 ? 'a folder records' : 'folders record'} no plan, so jobs missing from ${unplanned.length === 1 ? 'it' : 'them'} are not known.`] : []),
  ];
  const longNote = longRuns > 0
    ? `The 128-step goal reads each run's ${LONG_EVALUATION_FILE} (${longRuns} of the runs have one).`
    : `The 128-step goal is left out: no run has ${LONG_EVALUATION_FILE} (make one per run with \`rltuner evaluate --tuned <run>/<algorithm>_tuned.safetensors ` +
      `--length ${LONG_PIECE_EVALUATION.numNotes} --count ${LONG_PIECE_EVALUATION.count} --json <run>/${LONG_EVALUATION_FILE}\`).`;
  const intro = 'Each config: mean [min–max] over its seeds; a goal counts as met when the mean meets it and at least 80 % of the seeds do.';
  const text = `# Sweep results\n\n${intro}\n\n${partialNote.length ? `${partialNote.join('\n\n')}\n\n` : ''}${table}\n` +
    `## Goals\n\n${goalTable([baseline, ...results], goals)}\n${longNote}\n\n## Goals met and the Pareto set over (goals met, mean log p)\n\n${paretoLines.join('\n')}\n`;
  report.write(text);
  if (options.markdownPath !== undefined) writeOutput(options.markdownPath, text);
  if (options.jsonPath !== undefined) {
    const goalRecords = (runs: ConfigResult['runs']) =>
      goalOutcomes(runs, goals).map((o) => ({ row: o.goal.row, met: goalMet(o), metOnMean: o.metOnMean, runsMet: o.runsMet, runs: o.runs }));
    writeOutput(options.jsonPath, `${JSON.stringify({
      goals: goals.map((g) => ({ row: g.row, goal: g.text, evaluation: g.evaluation ?? 'main' })),
      ...(partialNote.length ? { partial: { lacking: lackingIds, foldersWithoutPlan: unplanned.length } } : {}),
      configs: results.map((r) => ({
        name: r.name,
        seeds: [...(byConfig.get(r.name)?.keys() ?? [])].sort((a, b) => a - b),
        tuned: summarizeEvaluations(r.runs.map((x) => x.tuned)),
        noteRnn: summarizeEvaluations(r.runs.map((x) => x.noteRnn)),
        goals: goalRecords(r.runs),
      })),
      pareto,
      baseline: { ...baselineRow, goals: goalRecords(baseline.runs) },
    }, null, 2)}\n`);
  }
  return 0;
}

/** The untuned Note RNN's row in the goal and Pareto tables of --collect. */
const BASELINE_NAME = 'Note RNN (untuned baseline)';

/** A run's separate 128-step evaluation, written beside its evaluation.json by `rltuner evaluate --json`. */
export const LONG_EVALUATION_FILE = 'evaluation-128.json';

/**
 * The Note RNN and tuned model of a run's LONG_EVALUATION_FILE (`runDir` relative to the sweep folder `dir`,
 * read as its evaluation.json is: inside the folder, a bounded regular file), or null when the run has none.
 */
function readLongEvaluation(dir: string, runDir: string): RunEvaluation['long'] | null {
  const path = insideSweep(dir, `${runDir}/${LONG_EVALUATION_FILE}`, 'the 128-step evaluation');
  const text = readBoundedFile(path, LONG_EVALUATION_MAX_BYTES, 'the 128-step evaluation');
  if (text === null) return null;
  let e: { numNotes?: number; models?: PolicyEvaluation[] };
  try {
    e = JSON.parse(text);
  } catch (err) {
    throw new SweepFolderError(`${path} is not valid JSON (${(err as Error).message}); write it again with rltuner evaluate --json`, path);
  }
  if (e?.numNotes !== LONG_PIECE_EVALUATION.numNotes || !Array.isArray(e.models) || e.models.length !== 2) {
    throw new UsageError(
      `${path}: expected the JSON of \`rltuner evaluate --tuned <the run's model> --length ${LONG_PIECE_EVALUATION.numNotes} --json\` ` +
        `(two models at ${LONG_PIECE_EVALUATION.numNotes} steps); found ${Array.isArray(e?.models) ? e.models.length : 'no'} models at ${e?.numNotes ?? 'no'} steps`,
      'sweep',
    );
  }
  return { noteRnn: e.models[0], tuned: e.models[1] };
}

/** A 128-step evaluation file larger than this is not one rltuner wrote (1,000 compositions' statistics are a few KB). */
const LONG_EVALUATION_MAX_BYTES = 16 * 1024 * 1024;
