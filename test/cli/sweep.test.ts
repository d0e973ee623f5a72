// rltuner sweep end to end on a tiny plan: parallel jobs give the same bytes as the same runs made one at
// a time, shards collect to the same table as the whole sweep, and a finished sweep resumes to nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('rltuner sweep', () => {
  const root = mkdtempSync(join(tmpdir(), 'rltuner-sweep-'));
  const plan = join(root, 'plan.json');
  writeFileSync(plan, JSON.stringify({
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
    expect(whole.status, whole.stderr).toBe(0);
    expect(whole.stdout).toContain('## Goals met and the Pareto set');
    for (const config of ['s1', 's4']) {
      for (const seed of [1, 2]) {
        const alone = run(['tune', '--config', join(root, 'whole', 'configs', `${config}.json`), '--seed', String(seed), '--out', join(root, 'alone', config, `seed-${seed}`), '--quiet']);
        expect(alone.status, alone.stderr).toBe(0);
        expect(tuned(join(root, 'whole'), config, seed).equals(tuned(join(root, 'alone'), config, seed))).toBe(true);
      }
    }
    expect(tuned(join(root, 'whole'), 's1', 1).equals(tuned(join(root, 'whole'), 's1', 2))).toBe(false);
  }, 120_000);

  it('--shard 1/2 and 2/2, collected, give the whole sweep\'s table; a finished sweep resumes to nothing', () => {
    for (const shard of ['1/2', '2/2']) {
      const r = run(['sweep', plan, '--jobs', '1', '--shard', shard, '--out', join(root, `shard${shard[0]}`)]);
      expect(r.status, r.stderr).toBe(0);
    }
    const collected = run(['sweep', '--collect', join(root, 'shard1'), join(root, 'shard2')]);
    expect(collected.status, collected.stderr).toBe(0);
    expect(collected.stdout).toBe(readFileSync(join(root, 'whole', 'results.md'), 'utf8'));
    const again = run(['sweep', plan, '--out', join(root, 'whole')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 jobs in this shard (4 already done)');
  }, 120_000);

  it('--collect counts the 128-step recurrence goal from the runs that have a 128-step evaluation', () => {
    for (const seed of [1, 2]) {
      const dir = join(root, 'whole', 's1', `seed-${seed}`);
      const e = run(['evaluate', '--tuned', join(dir, 'g_tuned.safetensors'), '--length', '128', '--count', '20', '--json', join(dir, 'evaluation-128.json'), '--quiet']);
      expect(e.status, e.stderr).toBe(0);
    }
    const collected = run(['sweep', '--collect', join(root, 'whole'), '--json', join(root, 'collected.json')]);
    expect(collected.status, collected.stderr).toBe(0);
    expect(collected.stdout).toContain("The 128-step goal reads each run's evaluation-128.json (2 of the runs have one).");
    expect(collected.stdout).toMatch(/\| pieces where a 2-bar window recurs \(≥ 64 steps\): ≥ 30 % \(1,000 pieces of 128 steps\) \| [^|]+ \| n\/a ✗ \(0\/2 runs\) \|/);
    expect(collected.stdout).toMatch(/goals met \(of 18\)/);
    const json = JSON.parse(readFileSync(join(root, 'collected.json'), 'utf8'));
    expect(json.goals.at(-1)).toEqual({ row: 'recurring_2_bar', goal: '≥ 30 % (1,000 pieces of 128 steps)', evaluation: 'long' });
    expect(json.configs.find((c: { name: string }) => c.name === 's4').goals.at(-1)).toMatchObject({ met: false, runsMet: 0, runs: 2 });
    // Without any, the goal is left out and the table says how to make them.
    expect(readFileSync(join(root, 'whole', 'results.md'), 'utf8')).toContain('The 128-step goal is left out: no run has evaluation-128.json');
  }, 120_000);

  it('a plan with a bad field is refused naming the config, the field and the file', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ configs: { x: { gamma: 3 } }, seeds: [1] }));
    const r = run(['sweep', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`plan file ${bad}: config x: config: gamma = 3 is out of range`);
  });
});
