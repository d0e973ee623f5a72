/**
 * The sweep-plan fuzz family: a seeded, structure-aware generator of plan files for the plan reader
 * (src/cli/sweep_plan.ts), and the contract each input is held to. Used by the suite
 * (test/cli/sweep_plan_fuzz.test.ts) and meant for a general fuzz runner (`npm run fuzz`).
 *
 *   const family = sweepPlanFamily(new Random(seed), seedPlans);
 *   const input = family.next();          // { index, name, bytes, mutations }: deterministic in the seed
 *   const outcome = family.check(input);  // 'plan' or 'error:<field>'; throws if the contract is broken
 *
 * Inputs start from seed plans (the plans in sweeps/, the example plan, the reproducers in
 * test/fixtures/sweep_plans) parsed to a tree, changed by 1..4 mutations aimed at the plan's structure
 * (a node replaced by a value of another type or a boundary value of its field, keys added, removed or
 * renamed, configs and seeds multiplied past the limits, deep nesting), then serialized; one input in
 * five also gets byte-level mutations of the text (so that JSON syntax errors are reached too).
 *
 * The contract: parseSweepPlan returns a plan whose every config resolves and whose seeds are distinct
 * integers, or throws a SweepPlanError whose message starts with "plan file <name>: " and names a field
 * and the value found; nothing else (no TypeError, no RangeError). The caller times each check (≤ 1 s).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSweepPlan, planJobs, PLAN_FIELDS, PLAN_MAX_CONFIGS, PLAN_MAX_SEEDS, SweepPlanError } from '../../src/cli/sweep_plan.js';
import { CONFIG_FIELDS, resolveConfig } from '../../src/rl/config.js';
import { Random } from '../../src/random.js';

export interface SweepPlanFuzzInput {
  /** Position in the family's stream (0-based); with the seed it reproduces the input. */
  index: number;
  /** The file name the reader is given. */
  name: string;
  /** The plan file's bytes (UTF-8 JSON, perhaps broken). */
  bytes: Uint8Array;
  /** What was done to the seed plan, in order. */
  mutations: string[];
}

export interface SweepPlanFamily {
  readonly name: 'sweep-plan';
  next(): SweepPlanFuzzInput;
  /** Runs the input through the plan reader; returns 'plan' or 'error:<file|model|preset|base|configs|seeds|unknown-field>'; throws when the contract is broken. */
  check(input: SweepPlanFuzzInput): string;
}

/** The seed plans: every plan in sweeps/ and sweeps/examples/, and the reproducers in test/fixtures/sweep_plans/. */
export function loadSweepPlanSeeds(repositoryRoot: string): { name: string; text: string }[] {
  const seeds: { name: string; text: string }[] = [];
  for (const folder of ['sweeps', join('sweeps', 'examples'), join('test', 'fixtures', 'sweep_plans')]) {
    for (const name of readdirSync(join(repositoryRoot, folder)).filter((n) => n.endsWith('.json') && !n.includes('results')).sort()) {
      seeds.push({ name: `${folder}/${name}`, text: readFileSync(join(repositoryRoot, folder, name), 'utf8') });
    }
  }
  return seeds;
}

/** Stands for a deeply nested list until the text is written. */
const NEST_MARKER = '\u0001nest:';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const FIELD_NAMES = Object.keys(CONFIG_FIELDS) as (keyof typeof CONFIG_FIELDS)[];
const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'seed', 'seeds', 'config', 'configs', '', ' ', 'reward-scaler', 'training-steps', 'Gamma', 'é', '\u0000', '../x', 'a/b', '.hidden', '-dash', 'x'.repeat(120)];
const ODD_STRINGS = ['', ' ', 'default', 'classic', 'q', 'psi', 'g', 'f16', 'C', 'major', 'true', '1', '1e3', '0x10', 'NaN', 'Infinity', '../../etc/passwd', '/dev/zero', 'models/note_rnn.safetensors', 'a\u0000b', '\u2028', 'é'.repeat(50), 'x'.repeat(5000)];
const ODD_NUMBERS = [0, -0, 1, -1, 2, 0.5, -0.5, 1e-320, 1e308, -1e308, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1.5, 0.1, 1000, 1001, 1e12, 1e12 + 1, 100_000, 10_000_000];

/** Every node of a tree with its parent and key, for mutations that pick one. */
function nodes(tree: Json): { parent: Json[] | Record<string, Json> | null; key: string | number | null; value: Json }[] {
  const out: ReturnType<typeof nodes> = [{ parent: null, key: null, value: tree }];
  for (let i = 0; i < out.length && out.length < 5000; i++) {
    const v = out[i].value;
    if (Array.isArray(v)) v.forEach((child, k) => out.push({ parent: v, key: k, value: child }));
    else if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) out.push({ parent: v, key: k, value: child });
  }
  return out;
}

export function sweepPlanFamily(random: Random, seeds: readonly { name: string; text: string }[]): SweepPlanFamily {
  if (seeds.length === 0) throw new Error('sweepPlanFamily: no seed plans');
  const pick = <T>(list: readonly T[]): T => list[random.int(list.length)];
  const trees = seeds.map((s) => {
    try {
      return JSON.parse(s.text) as Json;
    } catch {
      return s.text as Json;
    }
  });
  let index = 0;

  const randomScalar = (): Json => {
    switch (random.int(6)) {
      case 0: return null;
      case 1: return random.int(2) === 0;
      case 2: return pick(ODD_NUMBERS);
      case 3: return pick(ODD_STRINGS);
      case 4: return (random.float() - 0.5) * 10 ** random.int(12);
      default: return random.int(100);
    }
  };
  const randomValue = (depth = 0): Json => {
    const r = random.int(10);
    if (depth > 2 || r < 6) return randomScalar();
    if (r < 8) return Array.from({ length: random.int(4) }, () => randomValue(depth + 1));
    return Object.fromEntries(Array.from({ length: random.int(4) }, () => [random.int(2) ? pick(FIELD_NAMES) : pick(ODD_KEYS), randomValue(depth + 1)]));
  };
  /** A value for a tune field: its boundaries, just past them, another type. */
  const fieldValue = (field: keyof typeof CONFIG_FIELDS): Json => {
    const spec = CONFIG_FIELDS[field] as { kind: string; min?: number; max?: number; values?: readonly string[] };
    if (spec.kind === 'choice') return random.int(3) ? pick(spec.values as string[]) : randomScalar();
    if (spec.kind === 'boolean') return random.int(3) ? random.int(2) === 0 : randomScalar();
    const { min = 0, max = 1 } = spec;
    return pick([min, max, min - 1, max + 1, min - 1e-9, max * (1 + 1e-12), (min + max) / 2, Math.floor((min + max) / 2) + 0.5, randomScalar()]);
  };

  const mutations: ((tree: Json, log: string[]) => Json)[] = [
    // A node replaced by a value of another type.
    (tree, log) => {
      const all = nodes(tree);
      const n = pick(all);
      const value = randomValue();
      log.push(`replace ${String(n.key)} with ${JSON.stringify(value)?.slice(0, 40)}`);
      if (n.parent === null) return value;
      (n.parent as Record<string, Json>)[n.key as string] = value;
      return tree;
    },
    // A tune field set (in base or a config) to a boundary value or another type.
    (tree, log) => {
      if (!tree || typeof tree !== 'object' || Array.isArray(tree)) return tree;
      const objects = [tree.base, ...(tree.configs && typeof tree.configs === 'object' && !Array.isArray(tree.configs) ? Object.values(tree.configs) : [])]
        .filter((o): o is Record<string, Json> => !!o && typeof o === 'object' && !Array.isArray(o));
      if (objects.length === 0) return tree;
      const field = pick(FIELD_NAMES);
      const value = fieldValue(field);
      log.push(`set ${field} = ${JSON.stringify(value)?.slice(0, 40)}`);
      pick(objects)[random.int(4) === 0 ? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : field] = value;
      return tree;
    },
    // A key removed.
    (tree, log) => {
      const objects = nodes(tree).filter((n) => n.value && typeof n.value === 'object' && !Array.isArray(n.value) && Object.keys(n.value).length);
      if (!objects.length) return tree;
      const o = pick(objects).value as Record<string, Json>;
      const key = pick(Object.keys(o));
      log.push(`delete ${key}`);
      delete o[key];
      return tree;
    },
    // A key added or renamed to an odd name.
    (tree, log) => {
      const objects = nodes(tree).filter((n) => n.value && typeof n.value === 'object' && !Array.isArray(n.value));
      if (!objects.length) return tree;
      const o = pick(objects).value as Record<string, Json>;
      const key = random.int(2) ? pick(ODD_KEYS) : pick(FIELD_NAMES);
      const keys = Object.keys(o);
      if (keys.length && random.int(2)) {
        const old = pick(keys);
        log.push(`rename ${old} to ${JSON.stringify(key).slice(0, 30)}`);
        Object.defineProperty(o, key, { value: o[old], enumerable: true, configurable: true, writable: true });
        if (old !== key) delete o[old];
      } else {
        log.push(`add ${JSON.stringify(key).slice(0, 30)}`);
        Object.defineProperty(o, key, { value: randomValue(), enumerable: true, configurable: true, writable: true });
      }
      return tree;
    },
    // Configs multiplied, up to past the limit.
    (tree, log) => {
      if (!tree || typeof tree !== 'object' || Array.isArray(tree) || !tree.configs || typeof tree.configs !== 'object' || Array.isArray(tree.configs)) return tree;
      const configs = tree.configs;
      const first = Object.values(configs)[0] ?? {};
      // Past the limit now and then: a thousand configs make the slowest inputs.
      const count = random.int(8) === 0 ? pick([PLAN_MAX_CONFIGS - 1, PLAN_MAX_CONFIGS + 1]) : pick([2, 10, 100]);
      log.push(`configs x${count}`);
      for (let i = 0; i < count; i++) configs[`c${i}`] = first;
      return tree;
    },
    // Seeds changed: many, repeated, odd.
    (tree, log) => {
      if (!tree || typeof tree !== 'object' || Array.isArray(tree)) return tree;
      const kind = random.int(4);
      if (kind === 0) {
        const count = random.int(4) === 0 ? pick([PLAN_MAX_SEEDS, PLAN_MAX_SEEDS + 1]) : pick([0, 1, 5]);
        tree.seeds = Array.from({ length: count }, (_, i) => i);
      } else if (kind === 1) {
        tree.seeds = [1, 2, 1];
      } else if (kind === 2) {
        tree.seeds = [randomScalar(), 1];
      } else {
        tree.seeds = randomValue();
      }
      log.push(`seeds ${JSON.stringify(tree.seeds)?.slice(0, 40)}`);
      return tree;
    },
    // Deep nesting in place of a node (JSON.parse takes depths JSON.stringify cannot print): a marker, written out as text.
    (tree, log) => {
      const depth = pick([100, 2000, 20_000]);
      const n = pick(nodes(tree));
      log.push(`nest ${depth} deep at ${String(n.key)}`);
      const marker = `${NEST_MARKER}${depth}`;
      if (n.parent === null) return marker;
      (n.parent as Record<string, Json>)[n.key as string] = marker;
      return tree;
    },
  ];

  const byteMutations: ((text: string, log: string[]) => string)[] = [
    (t, log) => { const at = random.int(t.length + 1); log.push(`truncate at ${at}`); return t.slice(0, at); },
    (t, log) => { const at = random.int(t.length + 1); const c = pick(['{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', '\ufeff', '9', '-', 'e', ' ']); log.push(`insert ${JSON.stringify(c)} at ${at}`); return t.slice(0, at) + c + t.slice(at); },
    (t, log) => { const at = random.int(Math.max(1, t.length)); log.push(`delete char ${at}`); return t.slice(0, at) + t.slice(at + 1); },
    (t, log) => { const other = pick(seeds).text; const at = random.int(t.length + 1); const from = random.int(other.length + 1); log.push(`splice at ${at}`); return t.slice(0, at) + other.slice(from); },
  ];

  return {
    name: 'sweep-plan',
    next(): SweepPlanFuzzInput {
      const seedIndex = random.int(seeds.length);
      const log = [`seed ${seeds[seedIndex].name}`];
      let tree = structuredClone(trees[seedIndex]);
      const count = 1 + random.int(4);
      for (let i = 0; i < count; i++) tree = pick(mutations)(tree, log);
      let text = typeof tree === 'string' && random.int(2) && !tree.startsWith(NEST_MARKER) ? tree : JSON.stringify(tree);
      // JSON.stringify wrote the marker as "\u0001nest:<depth>".
      // A nested list in a config copied a thousand times is written a thousand times: shallower then, so the text stays near the reader's limit.
      const markers = text.split('"\\u0001nest:').length - 1;
      text = text.replace(/"\\u0001nest:(\d+)"/g, (_, d: string) => {
        const depth = Math.min(Number(d), Math.floor(600_000 / markers));
        return `${'['.repeat(depth)}${']'.repeat(depth)}`;
      });
      if (random.int(5) === 0) {
        const edits = 1 + random.int(3);
        for (let i = 0; i < edits; i++) text = pick(byteMutations)(text, log);
      }
      return { index: index++, name: `plan-${index - 1}.json`, bytes: new TextEncoder().encode(text), mutations: log };
    },

    check(input: SweepPlanFuzzInput): string {
      const text = new TextDecoder().decode(input.bytes);
      const where = () => `sweep-plan input ${input.index} (${input.mutations.join('; ')})`;
      let plan;
      try {
        plan = parseSweepPlan(text, input.name);
      } catch (e) {
        if (!(e instanceof SweepPlanError)) throw new Error(`${where()}: not a named error: ${(e as Error)?.name}: ${(e as Error)?.message}`);
        if (!e.message.startsWith(`plan file ${input.name}: `)) throw new Error(`${where()}: the error does not start with the file name: ${e.message.slice(0, 200)}`);
        if (e.file !== input.name || typeof e.found !== 'string' || e.found === '' || e.expected === '') throw new Error(`${where()}: the error does not name the value found and what is expected: ${e.message.slice(0, 200)}`);
        const top = e.field.split(/[.[]/)[0];
        return `error:${e.field === '' ? 'file' : (PLAN_FIELDS as readonly string[]).includes(top) ? top : 'unknown-field'}`;
      }
      const jobs = planJobs(plan);
      if (jobs.length !== Object.keys(plan.configs).length * plan.seeds.length || jobs.length === 0) throw new Error(`${where()}: a plan with ${jobs.length} jobs`);
      if (new Set(plan.seeds).size !== plan.seeds.length || !plan.seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)) throw new Error(`${where()}: bad seeds accepted`);
      for (const fields of Object.values(plan.configs)) resolveConfig(plan.preset ?? 'default', { ...(plan.base ?? {}), ...fields });
      return 'plan';
    },
  };
}
