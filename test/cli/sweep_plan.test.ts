// The sweep plan reader: the reproducers of test/fixtures/sweep_plans each end in a named error (file, field
// path, value found, what is expected) within a second, through the reader and through `rltuner sweep`,
// before anything is written; every part of a plan is checked; the plans in sweeps/ still read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSweepPlan, planJobs, PLAN_MAX_BYTES, readSweepPlan, shownValue, SweepPlanError } from '../../src/cli/sweep_plan.js';
import { rltunerSync } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'sweep_plans');

function refusal(plan: unknown, file = 'p.json'): SweepPlanError {
  try {
    parseSweepPlan(typeof plan === 'string' ? plan : JSON.stringify(plan), file);
  } catch (e) {
    expect(e).toBeInstanceOf(SweepPlanError);
    return e as SweepPlanError;
  }
  throw new Error(`accepted: ${JSON.stringify(plan)}`);
}

describe('sweep plan reader', () => {
  const reproducers: [string, string, string][] = [
    ['base_number.json', 'base', '5'],
    ['cfg_null.json', 'configs.a', 'null'],
    ['cfg_number.json', 'configs.a', '5'],
    ['model_number.json', 'model', '5'],
  ];

  it('each reproducer of issue 25 ends in a named error within a second, naming the file, the field and the value', () => {
    const listed = readFileSync(join(FIXTURES, 'README.md'), 'utf8');
    for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.json'))) expect(listed, `${name} has a README line`).toContain(`| ${name} |`);
    for (const [name, field, found] of reproducers) {
      const path = join(FIXTURES, name);
      const t0 = performance.now();
      let error: unknown;
      try {
        readSweepPlan(path);
      } catch (e) {
        error = e;
      }
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(error, name).toBeInstanceOf(SweepPlanError);
      const e = error as SweepPlanError;
      expect([e.file, e.field, e.found]).toEqual([path, field, found]);
      expect(e.message).toMatch(new RegExp(`^plan file ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${field.replace('.', '\\.')} = ${found}: expected `));
    }
    expect(planJobs(readSweepPlan(join(FIXTURES, 'plan.json'))).map((j) => j.id)).toEqual(['a.seed-1', 'a.seed-2', 'b.seed-1', 'b.seed-2']);
  });

  it('rltuner sweep refuses each reproducer with exit 2 and the named error, before it makes the sweep folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'rltuner-plans-'));
    for (const [name, field, found] of reproducers) {
      const out = join(root, name);
      const r = rltunerSync(['sweep', join(FIXTURES, name), '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`rltuner sweep: plan file ${join(FIXTURES, name)}: ${field} = ${found}: expected `);
      expect(r.stderr).not.toMatch(/TypeError|Cannot use 'in'|at .*\.js:\d+/);
      expect(existsSync(out)).toBe(false);
    }
  }, 30_000);

  it('checks every part of a plan, naming the field path, the value and what is expected', () => {
    const ok = { configs: { a: {} }, seeds: [1] };
    const cases: [unknown, string, string, string][] = [
      ['{"configs": ', '', 'not valid JSON', 'a plan is a JSON object'],
      [[1, 2], '', '[1,2]', 'expected a JSON object'],
      [{ ...ok, bases: {} }, 'bases', '{}', 'not a plan field; the fields are model, preset, base, configs, seeds'],
      [{ ...ok, model: '' }, 'model', '""', 'expected the path of a model file'],
      [{ ...ok, preset: 'fast' }, 'preset', '"fast"', 'expected one of default, '],
      [{ ...ok, base: [] }, 'base', '[]', 'expected an object of tune fields'],
      [{ ...ok, base: { seed: 3 } }, 'base.seed', '3', 'a plan sets its seeds in "seeds"'],
      [{ ...ok, base: { gamma: [0.5] } }, 'base.gamma', '[0.5]', 'expected a number, a string or a boolean'],
      [{ ...ok, base: { gamma: 3 } }, 'base.gamma', '3', 'is out of range; allowed: number in [0, 1] (in config a)'],
      [{ configs: { a: { gamma: 3 } }, seeds: [1] }, 'configs.a.gamma', '3', 'is out of range; allowed: number in [0, 1]'],
      [{ configs: { a: { 'reward-scaler': -1 } }, seeds: [1] }, 'configs.a.reward-scaler', '-1', 'is out of range'],
      [{ configs: { a: { gama: 0.5 } }, seeds: [1] }, 'configs.a.gama', '0.5', 'is an unknown field'],
      [{ configs: { a: { algorithm: 'sarsa' } }, seeds: [1] }, 'configs.a.algorithm', '"sarsa"', 'is not one of the choices; allowed: q | psi | g'],
      [{ configs: { a: { seed: 2 } }, seeds: [1] }, 'configs.a.seed', '2', 'a plan sets its seeds in "seeds"'],
      [{ base: { batchSize: 64 }, configs: { a: { replayCapacity: 32 } }, seeds: [1] }, 'base.batchSize', '64', 'is larger than the replay can hold'],
      [{ configs: {}, seeds: [1] }, 'configs', '{}', 'expected an object naming at least one config'],
      [{ configs: { 'a/b': {} }, seeds: [1] }, 'configs["a/b"]', '"a/b"', "a config name is its folder's name"],
      [{ configs: { '..': {} }, seeds: [1] }, 'configs[".."]', '".."', "a config name is its folder's name"],
      [{ configs: { __proto__x: {} }, seeds: [1] }, 'configs.__proto__x', '"__proto__x"', "a config name is its folder's name"],
      [{ configs: { a: {} } }, 'seeds', '(missing)', 'expected a non-empty list of integer seeds'],
      [{ configs: { a: {} }, seeds: [] }, 'seeds', '[]', 'expected a non-empty list'],
      [{ configs: { a: {} }, seeds: [1, 1.5] }, 'seeds[1]', '1.5', 'expected an integer seed in [0, 4294967295]'],
      [{ configs: { a: {} }, seeds: [1, 2 ** 32] }, 'seeds[1]', '4294967296', 'expected an integer seed'],
      [{ configs: { a: {} }, seeds: [3, 1, 3] }, 'seeds[2]', '3', 'repeats an earlier seed'],
      [{ configs: { a: {} }, seeds: Array.from({ length: 1001 }, (_, i) => i) }, 'seeds', '1001 seeds', 'at most 1000 seeds'],
      [{ configs: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`c${i}`, {}])), seeds: Array.from({ length: 501 }, (_, i) => i) }, 'configs', '200 configs × 501 seeds', 'at most 100000 jobs'],
    ];
    for (const [plan, field, found, expected] of cases) {
      const e = refusal(plan);
      expect([e.field, e.found], JSON.stringify(plan).slice(0, 80)).toEqual([field, found]);
      expect(e.expected).toContain(expected);
      expect(e.message.startsWith(`plan file p.json: ${field ? `${field} = ` : ''}${found}: `)).toBe(true);
    }
    // The JSON key "__proto__" is an own field of the parsed plan, refused like any other name.
    expect(refusal('{"configs": {"a": {"__proto__": {"gamma": 3}}}, "seeds": [1]}').field).toBe('configs.a.__proto__');
    expect(refusal('{"__proto__": {}, "configs": {"a": {}}, "seeds": [1]}').field).toBe('__proto__');
    expect(refusal(' '.repeat(PLAN_MAX_BYTES + 1)).found).toBe(`${PLAN_MAX_BYTES + 1} characters`);
  });

  it('shows at most 60 characters of a value, however large or deeply nested', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(shownValue(deep)).toBe(`${'['.repeat(57)}...`);
    expect(shownValue({ a: 'x'.repeat(10_000) }).length).toBe(60);
    expect(shownValue({ a: 1, b: [true, null] })).toBe('{"a":1,"b":[true,null]}');
    expect(shownValue(undefined)).toBe('(missing)');
    expect(() => JSON.stringify(deep)).toThrow(RangeError); // what the reader no longer calls on a value it shows
  });

  it('refuses, within a second, a file too deep for JSON.stringify, a folder, a named pipe, a missing file and a file over the size limit', () => {
    const root = mkdtempSync(join(tmpdir(), 'rltuner-plan-files-'));
    const deep = join(root, 'deep.json');
    writeFileSync(deep, `{"configs": {"a": {"gamma": ${'['.repeat(200_000)}${']'.repeat(200_000)}}}, "seeds": [1]}`);
    const big = join(root, 'big.json');
    writeFileSync(big, `{"configs": {"a": {}}, "seeds": [1], "model": "${'x'.repeat(PLAN_MAX_BYTES)}"}`);
    const fifo = join(root, 'pipe.json');
    const madeFifo = spawnSync('mkfifo', [fifo]).status === 0;
    const cases: [string, string][] = [
      [deep, `configs.a.gamma = ${'['.repeat(57)}...: expected a number, a string or a boolean`],
      [root, 'a folder: expected a plan file'],
      [join(root, 'none.json'), 'not found: give the path of a plan file'],
      [big, `${statSync(big).size} bytes: a plan file is at most ${PLAN_MAX_BYTES} bytes`],
      ...(madeFifo ? [[fifo, 'a named pipe: expected a plan file'] as [string, string]] : []),
    ];
    for (const [path, message] of cases) {
      const t0 = performance.now();
      expect(() => readSweepPlan(path)).toThrow(`plan file ${path}: ${message}`);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  }, 30_000);

  it('reads every plan in sweeps/ and the example plan', () => {
    const plans = readdirSync(join(ROOT, 'sweeps')).filter((n) => n.endsWith('.json') && !n.includes('results') && !n.endsWith('.fingerprint.json'));
    expect(plans.length).toBeGreaterThanOrEqual(7);
    for (const name of plans) expect(planJobs(readSweepPlan(join(ROOT, 'sweeps', name))).length, name).toBeGreaterThan(0);
    expect(planJobs(readSweepPlan(join(ROOT, 'sweeps', 'examples', 'tiny-plan.json'))).length).toBe(4);
  });
});
