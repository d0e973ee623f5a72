/**
 * The config family: `rltuner tune --config <file.json>` files through configOverridesFromText and
 * resolveConfigWithNotes (src/rl/config.ts), exactly what tune does with the file's text.
 *
 * Seeds are configs a user writes: empty, each preset's overrides, a handful of fields, and a run folder's
 * config.json (the fields under "config", beside the run record). Each input sets fields (known ones in
 * camelCase and kebab-case, unknown ones, "__proto__" and "constructor") to values of every type and at
 * the edges of their ranges, wraps or unwraps the "config" object, makes the whole file another JSON
 * value or nests it deeply, or changes characters of the text so it is no longer JSON.
 *
 * The check: the result is a config whose every field is within its range (configFieldProblem), or a
 * ConfigError or ConfigFileError whose message starts with the file's name.
 */
import {
  ConfigError, ConfigFileError, CONFIG_FIELDS, configFieldProblem, configOverridesFromText, DEFAULT_CONFIG, PRESET_NAMES, PRESETS,
  resolveConfigWithNotes, type TunerConfig,
} from '../../../src/rl/config.js';
import { Random } from '../../../src/random.js';
import { checkNamedError, errorKind, FuzzFailure, INTERESTING_NUMBERS, interestingJsonValue, pick, type FuzzFamily, type FuzzInput } from '../runner.js';

/** A config file's text and the preset it is laid over. */
export interface ConfigInput {
  text: string;
  preset: string;
}

const FIELDS = Object.keys(CONFIG_FIELDS) as (keyof TunerConfig)[];

function loadSeeds(): { name: string; json: unknown }[] {
  return [
    { name: 'empty', json: {} },
    ...PRESET_NAMES.map((name) => ({ name: `preset ${name}`, json: { ...PRESETS[name].overrides } })),
    { name: 'a few fields', json: { algorithm: 'psi', trainingSteps: 3200, numNotes: 64, temperature: 0.8, seed: 7 } },
    { name: 'run folder config.json', json: { config: { ...DEFAULT_CONFIG }, run: { model: 'models/note_rnn.safetensors' }, command: 'rltuner tune' } },
  ];
}

class ConfigMutator {
  private index = 0;
  /** Levels of nesting to wrap the next input's text in. */
  private nesting = 0;
  constructor(private readonly seeds: readonly { name: string; json: unknown }[], private readonly random: Random) {}

  next(): FuzzInput<ConfigInput> {
    const r = this.random;
    const seed = pick(r, this.seeds);
    let json = JSON.parse(JSON.stringify(seed.json)) as unknown;
    const mutations: string[] = [];
    this.nesting = 0;
    for (let m = 1 + (r.float() < 0.4 ? r.int(4) : 0); m > 0; m--) json = this.mutate(json, mutations);
    let text = JSON.stringify(json) ?? 'undefined';
    // Deep nesting is written as text: JSON.stringify itself recurses.
    for (let k = 0; k < this.nesting; k++) text = r.int(2) ? `[${text}]` : `{"config":${text}}`;
    if (r.float() < 0.1) {
      const at = r.int(text.length + 1);
      const kind = r.int(3);
      text = kind === 0 ? text.slice(0, at) : kind === 1 ? text.slice(0, at) + pick(r, ['"', '{', '}', ',', ':', '\u0000', 'NaN']) + text.slice(at + 1) : `${text}${text}`;
      mutations.push(`text ${['cut', 'character changed', 'doubled'][kind]} at ${at}`);
    }
    const preset = r.int(4) === 0 ? pick(r, PRESET_NAMES) : 'default';
    const index = this.index++;
    return { index, name: `fuzz config ${index}.json`, seedName: seed.name, mutations, value: { text, preset }, size: text.length };
  }

  private mutate(json: unknown, log: string[]): unknown {
    const r = this.random;
    const target = (typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (typeof (json as { config?: unknown }).config === 'object' && (json as { config?: unknown }).config !== null ? (json as { config: object }).config : json)
      : null) as Record<string, unknown> | null;
    switch (r.int(8)) {
      case 0:
      case 1:
      case 2: {
        if (!target) return json;
        const field = pick(r, FIELDS);
        const spec = CONFIG_FIELDS[field];
        const value = spec.kind === 'number' && r.int(2) === 0
          ? pick(r, [spec.min, spec.max, spec.min - 1, spec.max + 1, spec.min + 0.5, spec.max * 10, ...INTERESTING_NUMBERS])
          : spec.kind === 'choice' && r.int(2) === 0 ? pick(r, [...spec.values, 'x', '']) : interestingJsonValue(r);
        target[field] = value;
        log.push(`${field} = ${JSON.stringify(value)?.slice(0, 40)}`);
        return json;
      }
      case 3: {
        if (!target) return json;
        const name = pick(r, ['num-notes', 'training-steps', 'unknownField', '__proto__', 'constructor', 'toString', '', 'a'.repeat(500)]);
        Object.defineProperty(target, name, { value: interestingJsonValue(r), enumerable: true, writable: true, configurable: true });
        log.push(`field ${JSON.stringify(name.slice(0, 20))} set`);
        return json;
      }
      case 4:
        log.push('wrapped in "config"');
        return { config: json };
      case 5:
        log.push('made another JSON value');
        return interestingJsonValue(r);
      case 6: {
        const depth = pick(r, [2, 50, 5000]);
        this.nesting += depth;
        log.push(`nested ${depth} deep`);
        return json;
      }
      default:
        if (target) for (let k = 0; k < 500; k++) target[`extra${k}`] = k;
        log.push('500 unknown fields');
        return json;
    }
  }
}

const ERROR_KINDS: readonly (readonly [string, RegExp])[] = [
  ['not-json', /is not valid JSON/],
  ['too-deep', /nests arrays and objects/],
  ['not-an-object', /must hold a JSON object/],
  ['too-large', /MAX_CONFIG_FILE_BYTES/],
  ['unknown-field', /unknown field/],
  ['out-of-range', /out of range|larger than the replay|needs a positive/],
  ['wrong-type', /is not/],
];

export const configFamily: FuzzFamily<ConfigInput> = {
  name: 'config',
  description: 'tune --config JSON files through configOverridesFromText and resolveConfigWithNotes',
  accepted: 'config',
  inputs(random) {
    const mutator = new ConfigMutator(loadSeeds(), random);
    return () => mutator.next();
  },
  check(input) {
    try {
      const overrides = configOverridesFromText(input.value.text, input.name);
      const { config } = resolveConfigWithNotes(input.value.preset, overrides, {}, input.name);
      for (const field of FIELDS) {
        const problem = configFieldProblem(field, config[field]);
        if (problem !== null) throw new FuzzFailure(input, `accepted ${field} = ${JSON.stringify(config[field])}, which ${problem}`);
      }
      return 'config';
    } catch (error) {
      const expected = error instanceof ConfigFileError ? ConfigFileError : ConfigError;
      return errorKind(checkNamedError(input, error, expected, input.name), ERROR_KINDS);
    }
  },
  files: (input) => ({ 'config.json': new TextEncoder().encode(input.value.text) }),
};
