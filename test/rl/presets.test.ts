// The default and g presets say only what their stored sweeps show: their settings are one of the swept
// configs, and the goals their doc strings claim met and missed are those of the stored results.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRESETS, resolveConfig } from '../../src/rl/config.js';

interface Plan {
  preset?: string;
  base?: Record<string, unknown>;
  configs: Record<string, Record<string, unknown>>;
  seeds: number[];
}
interface Results {
  configs: { name: string; seeds: number[]; goals: { row: string; met: boolean }[] }[];
}

const plan = JSON.parse(readFileSync(new URL('../../sweeps/default-5seeds.json', import.meta.url), 'utf8')) as Plan;
const results = JSON.parse(readFileSync(new URL('../../sweeps/default-5seeds.results.json', import.meta.url), 'utf8')) as Results;
/** Fields that say how a sweep evaluates, not how a run tunes. */
const EVALUATION_FIELDS = ['evalCompositions', 'evalEvery', 'checkpointEvery', 'sampleCount'];

const pgPlan = JSON.parse(readFileSync(new URL('../../sweeps/default-pg-5seeds.json', import.meta.url), 'utf8')) as Plan;
const pgResults = JSON.parse(readFileSync(new URL('../../sweeps/default-pg-5seeds.results.json', import.meta.url), 'utf8')) as Results;

/** The config of `plan` whose settings are the preset's (fields that only say how a sweep evaluates aside). */
function sweptConfigOf(preset: 'default' | 'g', plan: Plan): string | undefined {
  const fromPreset = resolveConfig(preset);
  return Object.keys(plan.configs).find((n) => {
    const swept = resolveConfig(plan.preset ?? 'default', { ...plan.base, ...plan.configs[n] }) as unknown as Record<string, unknown>;
    return Object.entries(fromPreset).every(([k, v]) => EVALUATION_FIELDS.includes(k) || swept[k] === v);
  });
}

/** The doc string claims the goals met and names the missed ones exactly as config `name` of `results` shows them. */
function expectGoalClaims(doc: string, name: string, results: Results): void {
  const stored = results.configs.find((c) => c.name === name)!;
  const met = stored.goals.filter((g) => g.met).length;
  expect(doc).toContain(`meets ${met} of the ${stored.goals.length} goals`);
  expect(doc).toContain(`config ${name} of`);
  const missed = stored.goals.filter((g) => !g.met).map((g) => g.row.replace(/_/g, ' '));
  expect(doc).toContain(missed.length ? `misses ${missed.join(', ')}.` : 'misses none');
}

describe('the default preset', () => {
  const name = sweptConfigOf('default', pgPlan);

  it('is a config of its stored five-seed sweep, run on the shipped Note RNN', () => {
    expect(name, "no config of sweeps/default-pg-5seeds.json has the default preset's settings").toBeDefined();
    expect((pgPlan as { model?: string }).model, 'the plan must tune the shipped default Note RNN').toBeUndefined();
    const stored = pgResults.configs.find((c) => c.name === name)!;
    expect(stored.seeds).toEqual(pgPlan.seeds);
    expect(pgPlan.seeds).toHaveLength(5);
  });

  it('claims exactly the goals the stored results show met, and names the ones missed', () => {
    expectGoalClaims(PRESETS.default.doc, name!, pgResults);
  });
});

describe('the g preset (the default before pg and the phrase Note RNN)', () => {
  const fromPreset = resolveConfig('g');
  const name = sweptConfigOf('g', plan);

  it('is a config of the stored five-seed sweep', () => {
    expect(name, 'no config of sweeps/default-5seeds.json has the g preset\'s settings').toBeDefined();
    const stored = results.configs.find((c) => c.name === name)!;
    expect(stored.seeds).toEqual(plan.seeds);
    expect(plan.seeds).toHaveLength(5);
  });

  it('claims exactly the goals the stored results show met, and names the ones missed', () => {
    expectGoalClaims(PRESETS.g.doc, name!, results);
  });

  it('claims the goals the current build\'s ten-seed sweep shows met and missed', () => {
    const tenPlan = JSON.parse(readFileSync(new URL('../../sweeps/default-10seeds.json', import.meta.url), 'utf8')) as Plan;
    const ten = JSON.parse(readFileSync(new URL('../../sweeps/default-10seeds.results.json', import.meta.url), 'utf8')) as Results;
    const swept = resolveConfig(tenPlan.preset ?? 'default', { ...tenPlan.base, ...tenPlan.configs[name!] }) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(fromPreset)) if (!EVALUATION_FIELDS.includes(k)) expect(swept[k], k).toEqual(v);
    const stored = ten.configs.find((c) => c.name === name)!;
    expect(stored.seeds).toHaveLength(10);
    const met = stored.goals.filter((g) => g.met).length;
    const missed = stored.goals.filter((g) => !g.met).map((g) => g.row.replace(/_/g, ' '));
    expect(PRESETS.g.doc).toContain(`over ten seeds (\`rltuner sweep sweeps/default-10seeds.json\`; sweeps/default-10seeds.results.md) it meets ${met} of the ${stored.goals.length} and misses ${missed.join(', ')}.`);
  });
});
