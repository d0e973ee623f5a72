// --shard auto: for every task of Slurm arrays (ids from 0 or 1, with and without a step), every index of a
// Kubernetes indexed Job and every entry of a generic pair, the shard chosen is the one --shard i/n names,
// each shard exactly once; and every ambiguous or inconsistent environment is refused naming the variables,
// their values and what to do.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/common.js';
import { parseShardFlag, shardFromEnvironment, type Environment, type Shard } from '../../src/cli/sweep_shard.js';

const flag = (i: number, n: number): Shard => parseShardFlag(`${i}/${n}`) as Shard;

/** What Slurm sets for each task of `sbatch --array=<lo>-<hi>:<step>`. */
function slurmArray(lo: number, hi: number, step: number): Environment[] {
  const ids: number[] = [];
  for (let id = lo; id <= hi; id += step) ids.push(id);
  const max = ids[ids.length - 1];
  return ids.map((id) => ({
    SLURM_JOB_ID: String(9000 + id), SLURM_ARRAY_JOB_ID: '9000', SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: String(lo),
    SLURM_ARRAY_TASK_MAX: String(max), SLURM_ARRAY_TASK_STEP: String(step), SLURM_ARRAY_TASK_COUNT: String(ids.length),
  }));
}

function refusal(env: Environment, shardCount?: number): string {
  try {
    shardFromEnvironment(env, shardCount);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe('--shard auto', () => {
  for (const [lo, hi, step] of [[1, 4, 1], [0, 3, 1], [1, 1, 1], [0, 0, 1], [1, 7, 2], [0, 12, 3], [5, 9, 1], [2, 30, 4]] as const) {
    it(`Slurm --array=${lo}-${hi}${step > 1 ? `:${step}` : ''}: each task gets the shard --shard i/n names, each shard once`, () => {
      const tasks = slurmArray(lo, hi, step);
      tasks.forEach((env, k) => {
        const shard = shardFromEnvironment(env);
        expect({ index: shard.index, count: shard.count }).toEqual({ index: flag(k + 1, tasks.length).index, count: tasks.length });
        expect(shard.source).toContain(`SLURM_ARRAY_TASK_ID=${env.SLURM_ARRAY_TASK_ID}`);
        // Without SLURM_ARRAY_TASK_STEP (older Slurm), the count spaces the ids the same way.
        const { SLURM_ARRAY_TASK_STEP: _, ...noStep } = env;
        expect(shardFromEnvironment(noStep).index).toBe(shard.index);
        // A --shard-count that agrees is accepted.
        expect(shardFromEnvironment(env, tasks.length).index).toBe(shard.index);
      });
    });
  }

  it('a Kubernetes indexed Job (0..n-1, the count from --shard-count or RLTUNER_SHARD_COUNT) and the generic pair map index i to --shard i+1/n', () => {
    for (const n of [1, 2, 4, 7]) {
      for (let i = 0; i < n; i++) {
        const want = { index: flag(i + 1, n).index, count: n };
        const k8s = shardFromEnvironment({ JOB_COMPLETION_INDEX: String(i) }, n);
        expect({ index: k8s.index, count: k8s.count }).toEqual(want);
        expect(k8s.source).toBe(`Kubernetes indexed Job: JOB_COMPLETION_INDEX=${i}, --shard-count ${n}`);
        const k8sEnv = shardFromEnvironment({ JOB_COMPLETION_INDEX: String(i), RLTUNER_SHARD_COUNT: String(n) });
        expect({ index: k8sEnv.index, count: k8sEnv.count }).toEqual(want);
        const generic = shardFromEnvironment({ RLTUNER_SHARD_INDEX: String(i), RLTUNER_SHARD_COUNT: String(n) });
        expect({ index: generic.index, count: generic.count }).toEqual(want);
        expect(generic.source).toBe(`generic pair: RLTUNER_SHARD_INDEX=${i}, RLTUNER_SHARD_COUNT=${n}`);
      }
    }
  });

  it('--shard i/n still works, and is 1-based', () => {
    expect(parseShardFlag('2/4')).toEqual({ index: 1, count: 4, source: '--shard 2/4' });
    expect(parseShardFlag(undefined)).toEqual({ index: 0, count: 1, source: 'the whole sweep' });
    expect(parseShardFlag('auto')).toBe('auto');
    for (const bad of ['0/4', '5/4', '1/0', '1-4', 'x', '2/4/6']) expect(() => parseShardFlag(bad)).toThrow(`--shard ${bad}: expected <i>/<n> with 1 <= i <= n`);
  });

  it('refuses the variables of two schedulers at once, naming both with their values', () => {
    const both = refusal({ ...slurmArray(1, 4, 1)[1], JOB_COMPLETION_INDEX: '1', RLTUNER_SHARD_COUNT: '4' });
    expect(both).toContain('the variables of more than one scheduler are set: Slurm job array (SLURM_ARRAY_TASK_ID=2) and Kubernetes indexed Job (JOB_COMPLETION_INDEX=1)');
    expect(both).toContain('unset those that do not belong to this job, or pass --shard <i>/<n>');
    expect(refusal({ JOB_COMPLETION_INDEX: '0', RLTUNER_SHARD_INDEX: '0', RLTUNER_SHARD_COUNT: '2' })).toContain('Kubernetes indexed Job (JOB_COMPLETION_INDEX=0) and generic pair (RLTUNER_SHARD_INDEX=0)');
  });

  it('refuses an index outside the count, a step that does not divide, an irregular list and a missing count, naming the variables', () => {
    expect(refusal({ JOB_COMPLETION_INDEX: '4', RLTUNER_SHARD_COUNT: '4' })).toContain('JOB_COMPLETION_INDEX=4 is outside 0..3 for 4 shards (RLTUNER_SHARD_COUNT=4)');
    expect(refusal({ RLTUNER_SHARD_INDEX: '2', RLTUNER_SHARD_COUNT: '2' })).toContain('RLTUNER_SHARD_INDEX=2 is outside 0..1 for 2 shards');
    expect(refusal({ JOB_COMPLETION_INDEX: '1' })).toContain("JOB_COMPLETION_INDEX=1 gives this shard's index but not the number of shards: pass --shard-count <the Job's spec.completions>, or set RLTUNER_SHARD_COUNT");
    expect(refusal({ RLTUNER_SHARD_INDEX: '1' })).toContain('RLTUNER_SHARD_INDEX=1 gives this shard\'s index but not the number of shards: set RLTUNER_SHARD_COUNT');
    expect(refusal({ JOB_COMPLETION_INDEX: '1', RLTUNER_SHARD_COUNT: '4' }, 3)).toContain('--shard-count 3 and RLTUNER_SHARD_COUNT=4 disagree');
    const task = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8' };
    expect(refusal({ ...task, SLURM_ARRAY_TASK_STEP: '2' })).toContain('the step SLURM_ARRAY_TASK_STEP does not divide SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN (SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=8, SLURM_ARRAY_TASK_STEP=2)');
    expect(refusal({ ...task, SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_STEP: '3' })).toContain('does not divide');
    expect(refusal({ ...task, SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MAX: '7', SLURM_ARRAY_TASK_STEP: '2' })).toContain('SLURM_ARRAY_TASK_ID is not SLURM_ARRAY_TASK_MIN plus a multiple of SLURM_ARRAY_TASK_STEP');
    // sbatch --array=1,3,8: three tasks, but the range 1-8 in steps of 1 would hold eight.
    expect(refusal({ ...task, SLURM_ARRAY_TASK_STEP: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toContain('SLURM_ARRAY_TASK_COUNT disagrees with the range 1-8:1, which holds 8 tasks');
    expect(refusal({ ...task, SLURM_ARRAY_TASK_COUNT: '3' })).toContain('3 tasks (SLURM_ARRAY_TASK_COUNT) cannot be evenly spaced');
    expect(refusal(task)).toContain('neither SLURM_ARRAY_TASK_STEP nor SLURM_ARRAY_TASK_COUNT is set (SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=8)');
    expect(shardFromEnvironment(task, 8).index).toBe(2); // ... which --shard-count settles
    expect(refusal({ ...task, SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_STEP: '1' })).toContain('SLURM_ARRAY_TASK_ID is outside SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX');
    expect(refusal({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MAX: '8' })).toContain('SLURM_ARRAY_TASK_MIN is not set');
    expect(refusal({ ...slurmArray(1, 4, 1)[0] }, 3)).toContain('Slurm job array 1-4:1 holds 4 tasks, but --shard-count 3');
    expect(refusal({ ...slurmArray(1, 4, 1)[0], RLTUNER_SHARD_COUNT: '2' })).toContain('but RLTUNER_SHARD_COUNT=2; drop RLTUNER_SHARD_COUNT or make it 4');
  });

  it('refuses values that are not integers, and an environment with none of the variables, saying what to set', () => {
    expect(refusal({ JOB_COMPLETION_INDEX: 'one', RLTUNER_SHARD_COUNT: '4' })).toContain('JOB_COMPLETION_INDEX="one" is not a non-negative integer');
    expect(refusal({ RLTUNER_SHARD_INDEX: '-1', RLTUNER_SHARD_COUNT: '4' })).toContain('RLTUNER_SHARD_INDEX="-1" is not a non-negative integer');
    expect(refusal({ RLTUNER_SHARD_INDEX: '', RLTUNER_SHARD_COUNT: '4' })).toContain('RLTUNER_SHARD_INDEX="" is not a non-negative integer');
    expect(refusal({ RLTUNER_SHARD_INDEX: '0', RLTUNER_SHARD_COUNT: '0' })).toContain('the number of shards must be at least 1');
    const none = refusal({ PATH: '/usr/bin' });
    expect(none).toContain('none of the variables it reads is set');
    for (const name of ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'RLTUNER_SHARD_INDEX', 'RLTUNER_SHARD_COUNT', '--shard <i>/<n>']) expect(none).toContain(name);
    expect(refusal({ SLURM_JOB_ID: '77' })).toContain('SLURM_JOB_ID=77 is set: this Slurm job is not part of an array; submit it with sbatch --array=1-<n>');
    expect(refusal({ RLTUNER_SHARD_COUNT: '4' })).toContain('(only RLTUNER_SHARD_COUNT=4)');
  });
});
