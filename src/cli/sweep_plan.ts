/**
 * Sweep plans (`rltuner sweep <plan.json>`): reading one, checking its whole shape before anything is done
 * with it, and the jobs it makes.
 *
 * parseSweepPlan is pure (text in, plan or SweepPlanError out) so that it can be fuzzed; readSweepPlan adds
 * the file: a regular file of at most PLAN_MAX_BYTES, checked before it is read. Every error names the
 * file, the field's path in the plan (e.g. `configs.s2.gamma`), the value found and what is expected.
 */
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, PRESET_NAMES, resolveConfig } from '../rl/config.js';
import { UsageError } from './common.js';

/** A plan after parseSweepPlan: every field of the right type and every config valid for `rltuner tune`. */
export interface SweepPlan {
  model?: string;
  preset?: string;
  base?: Record<string, unknown>;
  configs: Record<string, Record<string, unknown>>;
  seeds: number[];
}

/** One job of a plan: `rltuner tune` of one config and seed, in the run folder `dir` of the sweep folder. */
export interface PlanJob {
  /** `<config>.seed-<seed>`: the name of its file in the sweep folder's done/. */
  id: string;
  config: string;
  seed: number;
  /** The run folder, relative to the sweep folder and '/'-separated: `<config>/seed-<seed>`. */
  dir: string;
}

/** The plan fields, in the order the help lists them. */
export const PLAN_FIELDS = ['model', 'preset', 'base', 'configs', 'seeds'] as const;
/** A plan file larger than this is refused before it is read (the largest plan in sweeps/ is under 4 KB). */
export const PLAN_MAX_BYTES = 1024 * 1024;
export const PLAN_MAX_CONFIGS = 1000;
export const PLAN_MAX_SEEDS = 1000;
/** configs × seeds: each job is a whole tuning run. */
export const PLAN_MAX_JOBS = 100_000;
/** A config name names a folder and a file; this keeps both well inside every file system's limits. */
export const CONFIG_NAME_MAX_LENGTH = 100;
export const CONFIG_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MODEL_PATH_MAX_LENGTH = 4096;

/** A plan that cannot be used: names the file, the field's path, the value found and what is expected. */
export class SweepPlanError extends UsageError {
  constructor(
    readonly file: string,
    /** The field's path in the plan, e.g. `configs.s2.gamma` ('' for the whole file). */
    readonly field: string,
    /** The value found, shown as JSON (shortened). */
    readonly found: string,
    readonly expected: string,
  ) {
    super(`plan file ${file}: ${field ? `${field} = ` : ''}${found}: ${expected} (see rltuner sweep --help for the format)`, 'sweep');
    this.name = 'SweepPlanError';
  }
}

/** A value as shown in an error: JSON, at most 60 characters (never more of it is looked at than that). */
export function shownValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const limit = 60;
  let out = '';
  // Writes JSON until the budget is spent; recursion stops with it, however deep the value nests.
  const write = (v: unknown): void => {
    if (out.length > limit) return;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= limit; i++) {
        if (i) out += ',';
        write(v[i]);
      }
      out += ']';
    } else if (typeof v === 'object' && v !== null) {
      out += '{';
      let first = true;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        if (out.length > limit) break;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key.length > limit ? key.slice(0, limit) : key)}:`;
        write((v as Record<string, unknown>)[key]);
      }
      out += '}';
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.length > limit ? v.slice(0, limit + 1) : v);
    } else {
      out += JSON.stringify(v) ?? String(v);
    }
  };
  write(value);
  return out.length > limit ? `${out.slice(0, limit - 3)}...` : out;
}

/** `configs` + `s2` → `configs.s2`; names that are not identifiers in brackets: `configs["a b"]`. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const shown = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key);
  if (shown.startsWith('"')) return `${parent}[${shown}]`;
  return parent ? `${parent}.${shown}` : shown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a plan's whole shape and every config (laid over `base` and the preset, as `rltuner tune` would
 * resolve it). Returns the plan or throws a SweepPlanError; never anything else.
 */
export function parseSweepPlan(text: string, file: string): SweepPlan {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new SweepPlanError(file, field, shownValue(value), expected);
  };
  if (text.length > PLAN_MAX_BYTES) throw new SweepPlanError(file, '', `${text.length} characters`, `a plan file is at most ${PLAN_MAX_BYTES} bytes; split the plan`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SweepPlanError(file, '', 'not valid JSON', `${(e as Error).message}; a plan is a JSON object`);
  }
  if (!isObject(parsed)) fail('', parsed, 'expected a JSON object with "configs" and "seeds"');
  const plan = parsed as Record<string, unknown>;
  for (const key of Object.keys(plan)) {
    if (!(PLAN_FIELDS as readonly string[]).includes(key)) fail(fieldPath('', key), plan[key], `not a plan field; the fields are ${PLAN_FIELDS.join(', ')}`);
  }
  if ('model' in plan) {
    const model = plan.model;
    if (typeof model !== 'string' || model.trim() === '' || model.length > MODEL_PATH_MAX_LENGTH || model.includes('\0')) {
      fail('model', model, `expected the path of a model file (a non-empty string of at most ${MODEL_PATH_MAX_LENGTH} characters, relative to the plan file), or leave "model" out for the shipped default`);
    }
  }
  if ('preset' in plan && (typeof plan.preset !== 'string' || !(PRESET_NAMES as string[]).includes(plan.preset))) {
    fail('preset', plan.preset, `expected one of ${PRESET_NAMES.join(', ')}, or leave "preset" out for default`);
  }
  if ('base' in plan && !isObject(plan.base)) {
    fail('base', plan.base, 'expected an object of tune fields laid under every config (camelCase names of rltuner tune --help), e.g. {"trainingSteps": 200000}');
  }
  const base = (plan.base ?? {}) as Record<string, unknown>;
  if ('seed' in base) fail('base.seed', base.seed, 'a plan sets its seeds in "seeds", not in the configs; remove it');

  const seeds = plan.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0) fail('seeds', seeds, 'expected a non-empty list of integer seeds, e.g. [1, 2, 3]');
  const seedList = seeds as unknown[];
  if (seedList.length > PLAN_MAX_SEEDS) throw new SweepPlanError(file, 'seeds', `${seedList.length} seeds`, `at most ${PLAN_MAX_SEEDS} seeds; split the plan`);
  const seen = new Set<number>();
  seedList.forEach((seed, i) => {
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) fail(fieldPath('seeds', i), seed, 'expected an integer seed in [0, 4294967295]');
    if (seen.has(seed as number)) fail(fieldPath('seeds', i), seed, 'repeats an earlier seed; give each seed once');
    seen.add(seed as number);
  });

  const configs = plan.configs;
  if (!isObject(configs) || Object.keys(configs).length === 0) {
    fail('configs', configs, 'expected an object naming at least one config, e.g. {"s2": {"rewardScaler": 2}}');
  }
  const names = Object.keys(configs as object);
  if (names.length > PLAN_MAX_CONFIGS) throw new SweepPlanError(file, 'configs', `${names.length} configs`, `at most ${PLAN_MAX_CONFIGS} configs; split the plan`);
  if (names.length * seedList.length > PLAN_MAX_JOBS) {
    throw new SweepPlanError(file, 'configs', `${names.length} configs × ${seedList.length} seeds`, `at most ${PLAN_MAX_JOBS} jobs (configs × seeds); split the plan`);
  }
  const preset = (plan.preset as string | undefined) ?? 'default';
  // Every tune field is a number, a string or a boolean; checked first so that nothing else reaches resolveConfig.
  const checkScalars = (where: string, object: Record<string, unknown>) => {
    for (const [field, value] of Object.entries(object)) {
      if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') {
        fail(fieldPath(where, field), value, 'expected a number, a string or a boolean (the value of a tune field; see rltuner tune --help)');
      }
    }
  };
  checkScalars('base', base);
  for (const name of names) {
    const path = fieldPath('configs', name);
    const fields = (configs as Record<string, unknown>)[name];
    if (!CONFIG_NAME_PATTERN.test(name) || name.length > CONFIG_NAME_MAX_LENGTH) {
      fail(path, name, `a config name is its folder's name: letters, digits, '.', '_' or '-', starting with a letter or digit, at most ${CONFIG_NAME_MAX_LENGTH} characters`);
    }
    if (!isObject(fields)) fail(path, fields, 'expected an object of tune fields (camelCase names of rltuner tune --help), e.g. {"rewardScaler": 2}, or {} for the base alone');
    const own = fields as Record<string, unknown>;
    if ('seed' in own) fail(fieldPath(path, 'seed'), own.seed, 'a plan sets its seeds in "seeds", not in the configs; remove it');
    checkScalars(path, own);
    try {
      resolveConfig(preset, { ...base, ...own });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      // The key the field came from (given in camelCase or kebab-case), in the config or else in the base.
      const keyOf = (object: Record<string, unknown>) =>
        Object.keys(object).reverse().find((k) => k === e.field || k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === e.field);
      const ownKey = keyOf(own);
      const baseKey = ownKey === undefined ? keyOf(base) : undefined;
      const inOwn = ownKey !== undefined, inBase = baseKey !== undefined;
      const where = inOwn ? fieldPath(path, ownKey) : inBase ? fieldPath('base', baseKey) : path;
      // ConfigError's message: "config: <field> = <value> <problem>; allowed: <allowed>".
      const valueText = typeof e.value === 'string' ? JSON.stringify(e.value) : String(e.value);
      const head = `config: ${e.field} = ${valueText} `;
      const problem = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
      const shown = shownValue(inOwn ? own[ownKey] : inBase ? base[baseKey] : e.value);
      throw new SweepPlanError(file, where, shown, `${problem}${inBase ? ` (in config ${name})` : ''}${!inOwn && !inBase ? ` (${e.field}, with preset ${preset})` : ''}`);
    }
  }
  const result: SweepPlan = { configs: configs as Record<string, Record<string, unknown>>, seeds: seedList as number[] };
  if (plan.model !== undefined) result.model = plan.model as string;
  if (plan.preset !== undefined) result.preset = plan.preset as string;
  if (plan.base !== undefined) result.base = base;
  return result;
}

/** Reads and checks a plan file: a regular file of at most PLAN_MAX_BYTES, then parseSweepPlan. */
export function readSweepPlan(path: string): SweepPlan {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a named pipe' : 'not a regular file';
      throw new SweepPlanError(path, '', kind, 'expected a plan file (a JSON file)');
    }
    size = info.size;
  } catch (e) {
    if (e instanceof SweepPlanError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new SweepPlanError(path, '', code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (e as Error).message})`, 'give the path of a plan file');
  }
  if (size > PLAN_MAX_BYTES) throw new SweepPlanError(path, '', `${size} bytes`, `a plan file is at most ${PLAN_MAX_BYTES} bytes; split the plan`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SweepPlanError(path, '', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'give the path of a readable plan file');
  }
  return parseSweepPlan(text, path);
}

/** Every job of the plan, config-major (the order `--shard` slices: job k goes to shard k mod n). */
export function planJobs(plan: SweepPlan): PlanJob[] {
  const jobs: PlanJob[] = [];
  for (const config of Object.keys(plan.configs)) {
    for (const seed of plan.seeds) jobs.push({ id: `${config}.seed-${seed}`, config, seed, dir: `${config}/seed-${seed}` });
  }
  return jobs;
}

/** The config written to `<sweep>/configs/<name>.json`: the plan's base with the config laid over it. */
export function configFileText(plan: SweepPlan, name: string): string {
  return `${JSON.stringify({ ...(plan.base ?? {}), ...plan.configs[name] }, null, 2)}\n`;
}
