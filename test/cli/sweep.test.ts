// rltuner sweep end to end on a tiny plan: parallel jobs give the same bytes as the same runs made one at
// a time, shards collect to the same table as the whole sweep, and a finished sweep resumes to nothing; a
// sweep folder moved or copied collects its own runs (paths relative to it, never followed outside it);
// --status lists each shard's jobs; --collect refuses an incomplete sweep unless --partial.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rltunerSync } from '../support/cli.js';

/** No scheduler's variables: --shard auto must find none here. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SLURM_|RLTUNER_SHARD_|JOB_COMPLETION_INDEX$)/.test(k)));
const run = (args: string[]) => rltunerSync(args, { env });

describe('rltuner sweep', () => {
  const root = mkdtempSync(join(tmpdir(), 'rltuner-sweep-'));
  const plan = join(root, 'plan.json');
  writeFileSync(plan, JSON.stringify({
    preset: 'g',
    base: { trainingSteps: 320, explorationSteps: 160, evalCompositions: 40, sampleCount: 1, checkpointEvery: 0, evalEvery: 0, logEvery: 160 },
    configs: { s1: { rewardScaler: 1 }, s4: { rewardScaler: 4, algorithm: 'psi' } },
    seeds: [1, 2],
  }));
  const tuned = (dir: string, config: string, seed: number) => {
    const file = readdirSync(join(dir, config, `seed-${seed}`)).find((f) => f.endsWith('_tuned.safetensors'))!;
    return readFileSync(join(dir, config, `seed-${seed}`, file));
  };

  it('two jobs at a time give byte-identical models to the same runs made one at a time', () => {
    const whole = run(['sweep', plan, '--jobs', '2', '--out', join(root, 'whole')]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain('## Goals met and the Pareto set');
    for (const config of ['s1', 's4']) {
      for (const seed of [1, 2]) {
        const alone = run(['tune', '--preset', 'g', '--config', join(root, 'whole', 'configs', `${config}.json`), '--seed', String(seed), '--out', join(root, 'alone', config, `seed-${seed}`), '--quiet']);
        expect(alone.code, alone.stderr).toBe(0);
        expect(tuned(join(root, 'whole'), config, seed).equals(tuned(join(root, 'alone'), config, seed))).toBe(true);
      }
    }
    expect(tuned(join(root, 'whole'), 's1', 1).equals(tuned(join(root, 'whole'), 's1', 2))).toBe(false);
  }, 120_000);

  it('--shard 1/2 and 2/2, collected, give the whole sweep\'s table; a finished sweep resumes to nothing', () => {
    for (const shard of ['1/2', '2/2']) {
      const r = run(['sweep', plan, '--jobs', '1', '--shard', shard, '--out', join(root, `shard${shard[0]}`)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const collected = run(['sweep', '--collect', join(root, 'shard1'), join(root, 'shard2')]);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toBe(readFileSync(join(root, 'whole', 'results.md'), 'utf8'));
    const again = run(['sweep', plan, '--out', join(root, 'whole')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 jobs in this shard (4 already done)');
  }, 120_000);

  it('--collect counts the 128-step recurrence goal from the runs that have a 128-step evaluation', () => {
    for (const seed of [1, 2]) {
      const dir = join(root, 'whole', 's1', `seed-${seed}`);
      const e = run(['evaluate', '--tuned', join(dir, 'g_tuned.safetensors'), '--length', '128', '--count', '20', '--json', join(dir, 'evaluation-128.json'), '--quiet']);
      expect(e.code, e.stderr).toBe(0);
    }
    let collected: ReturnType<typeof run>;
    let toStdout: ReturnType<typeof run>;
    try {
      collected = run(['sweep', '--collect', join(root, 'whole'), '--json', join(root, 'collected.json')]);
      toStdout = run(['sweep', '--collect', join(root, 'whole'), '--json', '-']);
    } finally {
      // The later tests compare collections of this sweep with its results.md, made without them.
      for (const seed of [1, 2]) rmSync(join(root, 'whole', 's1', `seed-${seed}`, 'evaluation-128.json'), { force: true });
    }
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain("The 128-step goal reads each run's evaluation-128.json (2 of the runs have one).");
    // Columns: the untuned Note RNN (its own 128-step evaluations), s1 (which has them), s2 (which has none).
    expect(collected.stdout).toMatch(/\| pieces where a 2-bar window recurs \(≥ 64 steps\): ≥ 30 % \(1,000 pieces of 128 steps\) \| [^|]+ \| [^|]+ \| n\/a ✗ \(0\/2 runs\) \|/);
    expect(collected.stdout).toMatch(/^\| goal \| Note RNN \(untuned baseline\) \| s1 \|/m);
    expect(collected.stdout).toMatch(/^\| Note RNN \(untuned baseline\) \| 2 \| \d+ \| -\d\.\d{3} \| baseline \|/m);
    expect(collected.stdout).toMatch(/goals met \(of 18\)/);
    const json = JSON.parse(readFileSync(join(root, 'collected.json'), 'utf8'));
    // --json -: the JSON on standard output, the tables on standard error.
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(JSON.parse(toStdout.stdout)).toEqual(json);
    expect(toStdout.stderr).toBe(collected.stdout);
    expect(json.goals.at(-1)).toEqual({ row: 'recurring_2_bar', goal: '≥ 30 % (1,000 pieces of 128 steps)', evaluation: 'long' });
    // The baseline is judged like a config: its goals met are those of its goal list.
    expect(json.baseline.goalsMet).toBe(json.baseline.goals.filter((g: { met: boolean }) => g.met).length);
    expect(json.baseline.goals).toHaveLength(18);
    expect(json.configs.find((c: { name: string }) => c.name === 's4').goals.at(-1)).toMatchObject({ met: false, runsMet: 0, runs: 2 });
    // Without any, the goal is left out and the table says how to make them.
    expect(readFileSync(join(root, 'whole', 'results.md'), 'utf8')).toContain('The 128-step goal is left out: no run has evaluation-128.json');
  }, 120_000);

  it('a plan with a bad field is refused naming the config, the field and the file', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ configs: { x: { gamma: 3 } }, seeds: [1] }));
    const r = run(['sweep', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`plan file ${bad}: configs.x.gamma = 3: is out of range; allowed: number in [0, 1]`);
  }, 60_000);

  it('done files and sweep.json hold only paths relative to the sweep folder; a moved sweep collects to the same table', () => {
    const whole = join(root, 'whole');
    const record = JSON.parse(readFileSync(join(whole, 'sweep.json'), 'utf8'));
    expect(record).toMatchObject({ format: 1, planFile: 'plan.json', shards: 1 });
    expect(record.plan).toEqual(JSON.parse(readFileSync(plan, 'utf8')));
    for (const file of readdirSync(join(whole, 'done'))) {
      const done = JSON.parse(readFileSync(join(whole, 'done', file), 'utf8'));
      expect(done.dir).toBe(`${done.config}/seed-${done.seed}`);
      expect(file).toBe(`${done.config}.seed-${done.seed}.json`);
    }
    expect(readFileSync(join(whole, 'sweep.json'), 'utf8')).not.toContain(root);
    cpSync(whole, join(root, 'original'), { recursive: true });
    renameSync(join(root, 'original'), join(root, 'moved'));
    const moved = run(['sweep', '--collect', join(root, 'moved')]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toBe(readFileSync(join(whole, 'results.md'), 'utf8'));
  }, 60_000);

  it('a copy with one result deleted: --collect refuses naming the job and the copy\'s missing file, --partial says what it lacks, --status lists it stopped, and the sweep redoes it', () => {
    const copy = join(root, 'copy');
    cpSync(join(root, 'whole'), copy, { recursive: true });
    unlinkSync(join(copy, 's4', 'seed-2', 'evaluation.json'));
    const refused = run(['sweep', '--collect', copy]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the sweep is not finished: 1 of its 4 jobs is not: s4.seed-2 (stopped: done/s4.seed-2.json says it finished, but s4/seed-2/evaluation.json is missing)');
    expect(refused.stderr).toContain('or pass --partial');
    expect(refused.stdout).toBe('');
    const partial = run(['sweep', '--collect', copy, '--partial', '--json', join(root, 'partial.json')]);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toContain('**Partial** (collected with --partial): this table lacks 1 of the 4 planned jobs: s4.seed-2.');
    expect(partial.stdout).toContain('| metric | Note RNN (2 runs) | s1 (2 runs) | s4 |');
    expect(partial.stderr).toContain('--partial: the table lacks 1 of 4 jobs: s4.seed-2');
    expect(JSON.parse(readFileSync(join(root, 'partial.json'), 'utf8')).partial).toEqual({ lacking: ['s4.seed-2'], foldersWithoutPlan: 0 });
    const status = run(['sweep', '--status', copy]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${copy}: plan plan.json, 2 configs × 2 seeds = 4 jobs in 1 shard`);
    expect(status.stdout).toContain('    stopped   s4.seed-2 (done/s4.seed-2.json says it finished, but s4/seed-2/evaluation.json is missing)');
    expect(status.stdout).toContain('  all: 3 finished, 0 running, 1 stopped, 0 missing of 4 jobs');
    const again = run(['sweep', plan, '--out', copy, '--jobs', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 jobs in this shard (3 already done)');
    expect(again.stdout).toBe(readFileSync(join(root, 'whole', 'results.md'), 'utf8'));
  }, 60_000);

  it('--status lists each shard\'s jobs: finished, running (lock held), stopped (checkpoint) and missing', () => {
    const status = join(root, 'status');
    cpSync(join(root, 'whole'), status, { recursive: true });
    const record = JSON.parse(readFileSync(join(status, 'sweep.json'), 'utf8'));
    writeFileSync(join(status, 'sweep.json'), JSON.stringify({ ...record, shards: 2 })); // as if started with --shard i/2
    // s1.seed-2: running (a live process holds its lock); s4.seed-1: stopped (checkpoint, no result); s4.seed-2: missing.
    for (const id of ['s1.seed-2', 's4.seed-1', 's4.seed-2']) unlinkSync(join(status, 'done', `${id}.json`));
    unlinkSync(join(status, 's1', 'seed-2', 'evaluation.json'));
    writeFileSync(join(status, 's1', 'seed-2', '.rltuner.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), kind: 'tune', started: '2026-12-07T10:00:00.000Z' }));
    unlinkSync(join(status, 's4', 'seed-1', 'evaluation.json'));
    rmSync(join(status, 's4', 'seed-2'), { recursive: true });
    const r = run(['sweep', '--status', status]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe([
      `${status}: plan plan.json, 2 configs × 2 seeds = 4 jobs in 2 shards`,
      '  shard 1/2: 2 jobs: 1 finished, 1 stopped',
      '    finished  s1.seed-1',
      '    stopped   s4.seed-1',
      '  shard 2/2: 2 jobs: 1 running, 1 missing',
      `    running   s1.seed-2 (lock held by pid ${process.pid} since 2026-12-07T10:00:00.000Z)`,
      '    missing   s4.seed-2',
      '  all: 1 finished, 1 running, 1 stopped, 1 missing of 4 jobs',
      '',
    ].join('\n'));
    // A lock on another host cannot be checked from here: shown as running, naming the host.
    writeFileSync(join(status, 's1', 'seed-2', '.rltuner.lock'), JSON.stringify({ pid: 12, hostname: 'node-17', kind: 'tune', started: 'x' }));
    expect(run(['sweep', '--status', status]).stdout).toContain('running   s1.seed-2 (lock held by pid 12 on host node-17 since x)');
    const refused = run(['sweep', '--collect', status]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('3 of its 4 jobs are not: s1.seed-2 (running: lock held by pid 12 on host node-17 since x), s4.seed-1 (stopped), s4.seed-2 (missing)');
  }, 60_000);

  it('refuses done files and links that lead outside the sweep folder, naming them; reads done files of the earlier format by their job ids', () => {
    const make = (name: string) => {
      const dir = join(root, name);
      cpSync(join(root, 'whole'), dir, { recursive: true });
      return dir;
    };
    const dotdot = make('dotdot');
    writeFileSync(join(dotdot, 'done', 's1.seed-1.json'), JSON.stringify({ config: 's1', seed: 1, dir: '../whole/s1/seed-1' }));
    let r = run(['sweep', '--collect', dotdot]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dotdot, 'done', 's1.seed-1.json')} names the run folder "../whole/s1/seed-1", which is not this job's (s1/seed-1)`);
    const linked = make('linked');
    rmSync(join(linked, 's4', 'seed-1'), { recursive: true });
    symlinkSync(join(root, 'whole', 's4', 'seed-1'), join(linked, 's4', 'seed-1'));
    r = run(['sweep', '--collect', linked, '--partial']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(linked, 's4', 'seed-1')} leads outside the sweep folder ${linked} (to ${join(root, 'whole', 's4', 'seed-1')})`);
    const wrongJob = make('wrong-job');
    writeFileSync(join(wrongJob, 'done', 's1.seed-2.json'), JSON.stringify({ config: 's1', seed: 1, dir: 's1/seed-1' }));
    r = run(['sweep', '--collect', wrongJob]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds config s1 seed 1, which is not the job its name says');
    // Done files as earlier versions wrote them: the absolute path of the original folder. Read by job id in the copy.
    const old = make('old-format');
    for (const file of readdirSync(join(old, 'done'))) {
      const done = JSON.parse(readFileSync(join(old, 'done', file), 'utf8'));
      writeFileSync(join(old, 'done', file), JSON.stringify({ ...done, dir: join('/elsewhere', 'sweep', done.dir) }));
    }
    unlinkSync(join(old, 's1', 'seed-1', 'evaluation.json')); // ... so that following the path could not be mistaken for reading the copy
    cpSync(join(root, 'whole', 's1', 'seed-1', 'evaluation.json'), join(old, 's1', 'seed-1', 'evaluation.json'));
    r = run(['sweep', '--collect', old]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(root, 'whole', 'results.md'), 'utf8'));
    // ... and without sweep.json (a folder an earlier version made): its completeness cannot be told.
    unlinkSync(join(old, 'sweep.json'));
    r = run(['sweep', '--collect', old]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${old}: made by an earlier version, without sweep.json, so whether every job finished cannot be told; pass --partial`);
    r = run(['sweep', '--collect', old, '--partial']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('its done files hold absolute paths (an earlier version); they were read by their job ids');
    expect(r.stdout.replace(/\*\*Partial\*\*[^\n]*\n\n/, '')).toBe(readFileSync(join(root, 'whole', 'results.md'), 'utf8'));
    writeFileSync(join(old, 'done', 's1.seed-1.json'), JSON.stringify({ config: 's1', seed: 1, dir: '/elsewhere/other/seed-9' }));
    r = run(['sweep', '--collect', old, '--partial']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('names the run folder /elsewhere/other/seed-9, which is not this job\'s (s1/seed-1)');
  }, 60_000);

  it('refuses a plan other than the folder\'s, --shard auto with no scheduler, and flags used with the wrong mode', () => {
    const other = join(root, 'other.json');
    writeFileSync(other, JSON.stringify({ ...JSON.parse(readFileSync(plan, 'utf8')), seeds: [1, 2, 3] }));
    let r = run(['sweep', other, '--out', join(root, 'whole')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(root, 'whole', 'sweep.json')}: this sweep folder belongs to another plan (plan.json, 4 jobs), not other.json as it is now`);
    r = run(['sweep', plan, '--out', join(root, 'auto'), '--shard', 'auto']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--shard auto: none of the variables it reads is set');
    expect(existsSync(join(root, 'auto'))).toBe(false);
    expect(run(['sweep', plan, '--shard', '1/2', '--shard-count', '2']).stderr).toContain('--shard-count goes with --shard auto');
    expect(run(['sweep', plan, '--partial']).stderr).toContain('--partial goes with --collect');
    expect(run(['sweep', '--status', join(root, 'whole'), '--out', 'x']).stderr).toContain('--out is for running a plan, not with --status');
    expect(run(['sweep', '--status', plan]).stderr).toContain(`${plan} is not a sweep folder`);
    const help = run(['sweep', '--help']).stdout;
    for (const word of ['--shard auto', 'SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_STEP', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX', 'RLTUNER_SHARD_INDEX', 'RLTUNER_SHARD_COUNT', '--shard-count', '--status', '--partial', 'sweeps/examples/']) {
      expect(help).toContain(word);
    }
  }, 60_000);
});
