/**
 * Which slice of a sweep this process runs: `--shard <i>/<n>` given by hand, or `--shard auto` read from the
 * environment a scheduler sets for each of its tasks:
 *
 * - a Slurm job array (`sbatch --array=1-4`, `--array=0-3`, `--array=1-7:2`): SLURM_ARRAY_TASK_ID within
 *   SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX in steps of SLURM_ARRAY_TASK_STEP (or, without it, as many as
 *   SLURM_ARRAY_TASK_COUNT); the shard is the task's place in the array, the count the array's size;
 * - a Kubernetes Job with `completionMode: Indexed`: JOB_COMPLETION_INDEX (0-based), the count from
 *   `--shard-count` or RLTUNER_SHARD_COUNT (the Job's spec.completions, which the pod is not told);
 * - anything else (a CI matrix): RLTUNER_SHARD_INDEX (0-based) and RLTUNER_SHARD_COUNT.
 *
 * Pure: the environment is passed in. Anything ambiguous or inconsistent is a UsageError naming the
 * variables, their values and what to do.
 */
import { UsageError } from './common.js';

/** A slice of a sweep: jobs k with k mod count = index (index 0-based). */
export interface Shard {
  index: number;
  count: number;
  /** Where the shard came from, for the log line (e.g. "Slurm job array: SLURM_ARRAY_TASK_ID=3 in 1-7 step 2"). */
  source: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const SLURM_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_MAX', 'SLURM_ARRAY_TASK_STEP', 'SLURM_ARRAY_TASK_COUNT'] as const;
export const KUBERNETES_INDEX = 'JOB_COMPLETION_INDEX';
export const SHARD_INDEX = 'RLTUNER_SHARD_INDEX';
export const SHARD_COUNT = 'RLTUNER_SHARD_COUNT';
/** No scheduler runs more tasks than this in one array; a larger count is a typo. */
export const MAX_SHARD_COUNT = 1_000_000;

const fail = (message: string): never => {
  throw new UsageError(`--shard auto: ${message}`, 'sweep');
};

/** `NAME=value` for the variables that are set. */
function shown(env: Environment, names: readonly string[]): string {
  return names.filter((n) => env[n] !== undefined).map((n) => `${n}=${JSON.stringify(env[n]).slice(1, -1) || "''"}`).join(', ');
}

/** A variable holding a plain non-negative integer, or a UsageError naming it. */
function integerVariable(env: Environment, name: string, what: string): number {
  const text = env[name] as string;
  const value = /^\s*\d{1,15}\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) fail(`${name}=${JSON.stringify(text)} is not a non-negative integer (${what}); fix or unset it, or pass --shard <i>/<n>`);
  return value;
}

/** `--shard <i>/<n>` (1-based, as the user writes it); undefined gives the whole sweep. */
export function parseShardFlag(text: string | undefined): Shard | 'auto' {
  if (text === undefined) return { index: 0, count: 1, source: 'the whole sweep' };
  if (text === 'auto') return 'auto';
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(text);
  const i = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) throw new UsageError(`--shard ${text}: expected <i>/<n> with 1 <= i <= n (e.g. 2/4), or auto`, 'sweep');
  return { index: i - 1, count: n, source: `--shard ${text}` };
}

/**
 * The count given besides the index: `--shard-count` and RLTUNER_SHARD_COUNT; both must agree. Undefined
 * when neither is given.
 */
function givenCount(env: Environment, shardCount: number | undefined): { count: number; from: string } | undefined {
  const fromEnv = env[SHARD_COUNT] !== undefined ? integerVariable(env, SHARD_COUNT, 'the number of shards') : undefined;
  if (fromEnv !== undefined && shardCount !== undefined && fromEnv !== shardCount) {
    fail(`--shard-count ${shardCount} and ${SHARD_COUNT}=${fromEnv} disagree; give the number of shards once`);
  }
  if (shardCount !== undefined) return { count: shardCount, from: `--shard-count ${shardCount}` };
  if (fromEnv !== undefined) return { count: fromEnv, from: `${SHARD_COUNT}=${fromEnv}` };
  return undefined;
}

/** The shard `--shard auto` runs in this environment (see the file comment), or a UsageError saying why not. */
export function shardFromEnvironment(env: Environment, shardCount?: number): Shard {
  const sources = [
    env.SLURM_ARRAY_TASK_ID !== undefined ? `Slurm job array (${shown(env, ['SLURM_ARRAY_TASK_ID'])})` : null,
    env[KUBERNETES_INDEX] !== undefined ? `Kubernetes indexed Job (${shown(env, [KUBERNETES_INDEX])})` : null,
    env[SHARD_INDEX] !== undefined ? `generic pair (${shown(env, [SHARD_INDEX])})` : null,
  ].filter((s): s is string => s !== null);
  if (sources.length > 1) {
    fail(`the variables of more than one scheduler are set: ${sources.join(' and ')}; unset those that do not belong to this job, or pass --shard <i>/<n>`);
  }
  let shard: Shard;
  if (env.SLURM_ARRAY_TASK_ID !== undefined) shard = slurmShard(env, givenCount(env, shardCount));
  else if (env[KUBERNETES_INDEX] !== undefined) shard = indexedShard(env, KUBERNETES_INDEX, 'Kubernetes indexed Job', givenCount(env, shardCount), 'pass --shard-count <the Job\'s spec.completions>, or set RLTUNER_SHARD_COUNT in the container\'s env');
  else if (env[SHARD_INDEX] !== undefined) shard = indexedShard(env, SHARD_INDEX, 'generic pair', givenCount(env, shardCount), `set ${SHARD_COUNT} (the number of shards), or pass --shard-count <n>`);
  else {
    const slurmJob = env.SLURM_JOB_ID !== undefined ? ` (SLURM_JOB_ID=${env.SLURM_JOB_ID} is set: this Slurm job is not part of an array; submit it with sbatch --array=1-<n>)` : '';
    const strays = shown(env, [...SLURM_VARIABLES.slice(1), SHARD_COUNT]);
    return fail(
      `none of the variables it reads is set${slurmJob}${strays ? ` (only ${strays})` : ''}: SLURM_ARRAY_TASK_ID (a Slurm job array, sbatch --array), ` +
        `${KUBERNETES_INDEX} (a Kubernetes Job with completionMode: Indexed), or ${SHARD_INDEX} with ${SHARD_COUNT} (0-based, e.g. from a CI matrix); ` +
        'run under one of them, or pass --shard <i>/<n>',
    );
  }
  if (shard.count > MAX_SHARD_COUNT) fail(`${shard.source} gives ${shard.count} shards, more than ${MAX_SHARD_COUNT}; check the variables`);
  return shard;
}

function indexedShard(env: Environment, indexName: string, what: string, given: { count: number; from: string } | undefined, howToCount: string): Shard {
  const index = integerVariable(env, indexName, `the 0-based index of this ${what === 'generic pair' ? 'shard' : 'pod'}`);
  if (given === undefined) fail(`${indexName}=${index} gives this shard's index but not the number of shards: ${howToCount}`);
  const { count, from } = given as { count: number; from: string };
  if (count < 1) fail(`${from}: the number of shards must be at least 1`);
  if (index >= count) {
    fail(`${indexName}=${index} is outside 0..${count - 1} for ${count} shards (${from}); the count must be the number of indexes the ${what === 'generic pair' ? 'matrix' : 'Job'} runs${what === 'generic pair' ? '' : ' (spec.completions)'}`);
  }
  return { index, count, source: `${what}: ${indexName}=${index}, ${from}` };
}

function slurmShard(env: Environment, given: { count: number; from: string } | undefined): Shard {
  const all = shown(env, SLURM_VARIABLES);
  for (const name of ['SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_MAX']) {
    if (env[name] === undefined) fail(`Slurm job array: ${name} is not set (${all}), so the array's range is unknown; run under sbatch --array, or pass --shard <i>/<n>`);
  }
  const id = integerVariable(env, 'SLURM_ARRAY_TASK_ID', "this task's index in the job array");
  const min = integerVariable(env, 'SLURM_ARRAY_TASK_MIN', "the job array's lowest index");
  const max = integerVariable(env, 'SLURM_ARRAY_TASK_MAX', "the job array's highest index");
  const stepGiven = env.SLURM_ARRAY_TASK_STEP !== undefined ? integerVariable(env, 'SLURM_ARRAY_TASK_STEP', "the job array's step") : undefined;
  const countGiven = env.SLURM_ARRAY_TASK_COUNT !== undefined ? integerVariable(env, 'SLURM_ARRAY_TASK_COUNT', 'the number of tasks in the job array') : undefined;
  if (min > max) fail(`Slurm job array: SLURM_ARRAY_TASK_MIN is above SLURM_ARRAY_TASK_MAX (${all}); check the variables, or pass --shard <i>/<n>`);
  if (id < min || id > max) fail(`Slurm job array: SLURM_ARRAY_TASK_ID is outside SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX (${all}); check the variables, or pass --shard <i>/<n>`);
  let step: number;
  if (stepGiven !== undefined) {
    step = stepGiven;
    if (step < 1) fail(`Slurm job array: SLURM_ARRAY_TASK_STEP must be at least 1 (${all})`);
  } else {
    const spaced = countGiven ?? given?.count;
    const from = countGiven !== undefined ? 'SLURM_ARRAY_TASK_COUNT' : given?.from;
    if (spaced === undefined) {
      return fail(`Slurm job array: neither SLURM_ARRAY_TASK_STEP nor SLURM_ARRAY_TASK_COUNT is set (${all}), so the number of tasks is unknown; pass --shard-count <the number of tasks> with --shard auto, or --shard <i>/<n>`);
    }
    if (spaced < 1) fail(`Slurm job array: ${from} must be at least 1 (${all})`);
    if (spaced === 1 ? min !== max : (max - min) % (spaced - 1) !== 0) {
      fail(`Slurm job array: ${spaced} tasks (${from}) cannot be evenly spaced from SLURM_ARRAY_TASK_MIN to SLURM_ARRAY_TASK_MAX (${all}); submit a range such as sbatch --array=1-<n> or --array=0-<n-1>:<step>, or pass --shard <i>/<n>`);
    }
    step = spaced === 1 ? 1 : (max - min) / (spaced - 1);
  }
  if ((max - min) % step !== 0) {
    fail(`Slurm job array: the step SLURM_ARRAY_TASK_STEP does not divide SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN (${all}); submit a range whose end is start + k * step (e.g. --array=1-7:2), or pass --shard <i>/<n>`);
  }
  if ((id - min) % step !== 0) fail(`Slurm job array: SLURM_ARRAY_TASK_ID is not SLURM_ARRAY_TASK_MIN plus a multiple of SLURM_ARRAY_TASK_STEP (${all}); check the variables, or pass --shard <i>/<n>`);
  const count = (max - min) / step + 1;
  if (countGiven !== undefined && countGiven !== count) {
    fail(`Slurm job array: SLURM_ARRAY_TASK_COUNT disagrees with the range ${min}-${max}:${step}, which holds ${count} tasks (${all}); ` +
      'the array is a list of indexes (such as --array=1,2,9) rather than a range: submit a range such as --array=1-<n>, or pass --shard <i>/<n>');
  }
  if (given !== undefined && given.count !== count) {
    fail(`Slurm job array ${min}-${max}:${step} holds ${count} tasks, but ${given.from}; drop ${given.from.startsWith('--') ? '--shard-count' : SHARD_COUNT} or make it ${count}`);
  }
  return { index: (id - min) / step, count, source: `Slurm job array: SLURM_ARRAY_TASK_ID=${id} in ${min}-${max}${step !== 1 ? `:${step}` : ''} (${count} tasks)` };
}
