/**
 * One settings table per command (per subcommand for a command that has them: `prefs pairs`, `prefs
 * train`), and everything derived from it: the parser, the --help text, the validation of each value, and
 * the Markdown flag reference (docs/flags.md, `npm run docs:flags`).
 *
 * A command's table lists its flags: name, kind (and with it the allowed values or range), the value a
 * bare command runs with, a one-line doc and the group it is listed under. `tune` also takes every field
 * of the tuning config (src/rl/config.ts CONFIG_FIELDS) as a flag: those rows come from that table and
 * are validated by resolveConfig, so a field is written once. Misspelt flags and commands get a
 * "did you mean" (edit distance); every message is rltuner's own, naming the flag, the value and the fix.
 */
import { allowedValues, CONFIG_FIELDS, describeConfig, PRESET_NAMES, PRESETS, resolveConfig, type TunerConfig } from '../rl/config.js';
import { numberFlag, UsageError } from './common.js';

interface FlagBase {
  /** The flag without its dashes, kebab-case: `training-steps`. */
  readonly name: string;
  /** What it does, one line (wrapped in --help). */
  readonly doc: string;
  /** The heading it is listed under in --help and docs/flags.md (none: the command's first list). */
  readonly group?: string;
  /** The placeholder of its value in --help: `<file>`, `<n>`. */
  readonly arg?: string;
  /** A one-letter form: `-h`. */
  readonly short?: string;
  /** Another name for the same flag (`num-notes` for `length`); giving both with different values is refused. */
  readonly alias?: string;
  /**
   * The default in words, when the bare command's value is not one fixed value (`the shipped default`,
   * `runs/tune-<algorithm>`); shown in brackets. With `default` as well, it is shown after the value.
   */
  readonly defaultText?: string;
  /** The setting it sets, where a command keeps its settings in an object of its own (`train`: TrainingSettings). */
  readonly field?: string;
}

/** A switch: `--quiet`, `--quiet=true|false`, `--quiet true|false`. */
export interface BooleanFlag extends FlagBase {
  readonly kind: 'boolean';
}
/** A text value (a path, a name); `multiple` collects every occurrence. */
export interface StringFlag extends FlagBase {
  readonly kind: 'string';
  readonly multiple?: boolean;
  readonly default?: string;
}
/** A file the command writes; `-` writes it to standard output. */
export interface OutputFlag extends FlagBase {
  readonly kind: 'output';
}
/** A plain decimal in [min, max]; `integer` for counts. `expected` replaces "an integer in min..max" in errors. */
export interface NumberFlag extends FlagBase {
  readonly kind: 'number' | 'integer';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  readonly expected?: string;
}
/** Comma-separated integers, checked as a whole by `problem` (the owner of the limit says what is allowed). */
export interface IntegerListFlag extends FlagBase {
  readonly kind: 'integers';
  readonly default?: readonly number[];
  /** The allowed lists in words (for the reference). */
  readonly allowed: string;
  /** Why the list is not allowed, or null. */
  readonly problem: (values: readonly number[]) => string | null;
}
/** One of `values`. */
export interface ChoiceFlag extends FlagBase {
  readonly kind: 'choice';
  readonly values: readonly string[];
  readonly default?: string;
}

export type FlagSpec = BooleanFlag | StringFlag | OutputFlag | NumberFlag | IntegerListFlag | ChoiceFlag;

type FlagValue<F> = F extends { kind: 'boolean' } ? boolean
  : F extends { kind: 'number' | 'integer' } ? number
  : F extends { kind: 'integers' } ? number[]
  : F extends { multiple: true } ? string[]
  : string;

/** The parsed values of a table's flags, by name: a flag with a `default` always has a value. */
export type FlagValues<F extends FlagSpec> = {
  -readonly [S in F as S['name']]: S extends { default: unknown } ? FlagValue<S> : FlagValue<S> | undefined;
};

/** A command: its name, what it is, how it is called, its flags and the prose around them. */
export interface CommandSpec<F extends FlagSpec = FlagSpec> {
  readonly name: string;
  /** The headline after "rltuner <name>: ". */
  readonly title: string;
  /** Usage lines (without "rltuner"). */
  readonly usage: readonly string[];
  /** Text between the usage and the flags. */
  readonly intro?: string;
  readonly flags: readonly F[];
  /** Text after the flags. */
  readonly notes?: string;
  /** Arguments that are not flags: none (the default), or what they are (for messages). */
  readonly positionals?: string;
  /** Every field of the tuning config is a flag too (`tune`): validated by resolveConfig. */
  readonly configFields?: boolean;
  /**
   * Subcommands, each with its own table (`prefs pairs`, `prefs train`: named in full): the command is
   * `rltuner <name> <subcommand> [flags]`, its help and reference list each subcommand's flags, and it has
   * no flags of its own.
   */
  readonly subcommands?: readonly CommandSpec[];
}

/** A table, typed by its rows (`defineCommand({...flags: [...] as const})`). */
export function defineCommand<const F extends FlagSpec>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/**
 * The flag maker of a settings table: `row(name, field, arg, doc)` is the flag of a numeric setting whose range
 * comes from `limits[field]` and whose default from `defaults[field]` (train's, distill's and prefs train's tables).
 */
export function limitedSettingRows<L extends Record<string, { min: number; max: number; integer: boolean }>, D extends { readonly [K in keyof L]: number }>(limits: L, defaults: D) {
  return <const N extends string, const K extends keyof L & string>(name: N, field: K, arg: string, doc: string) => {
    const { min, max, integer } = limits[field];
    return { name, field, kind: integer ? 'integer' : 'number', min, max, default: defaults[field], arg, doc } as const;
  };
}

/** The rows with `group` set (for shared rows listed under a command's own heading). */
export function inGroup<const T extends readonly FlagSpec[]>(group: string, rows: T): { [K in keyof T]: T[K] & { group: string } } {
  return rows.map((row) => ({ ...row, group })) as { [K in keyof T]: T[K] & { group: string } };
}

/** `rewardScaler` → `reward-scaler`. */
export function kebabCase(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

const CONFIG_FLAGS = new Map(Object.keys(CONFIG_FIELDS).map((field) => [kebabCase(field), field as keyof TunerConfig]));

export interface Parsed<F extends FlagSpec> {
  values: FlagValues<F>;
  /** The flags given on the command line (by their table name, an alias counting as its flag). */
  given: ReadonlySet<string>;
  positionals: string[];
  /** `configFields` commands: the config flags given, by kebab-case name, as typed (resolveConfig checks them). */
  config: Record<string, string | boolean>;
  /** -h / --help was given: print the help and nothing else. */
  help: boolean;
}

/**
 * Parses `args` by the command's table. An unknown flag (with the nearest known one when there is one), a
 * missing or empty value, a value outside its range or choices, or an argument the command does not take is
 * a UsageError naming it. Booleans take `--flag`, `--flag=true|false` or `--flag true|false`; a value may
 * follow its flag or be joined with `=`; a number may be negative (`--transpose -2`); after `--` every
 * argument is a positional. With -h / --help anywhere the values are not checked.
 */
export function parseCommandLine<F extends FlagSpec>(spec: CommandSpec<F>, args: readonly string[]): Parsed<F> {
  const command = spec.name;
  const rows = new Map<string, FlagSpec>();
  const aliasOf = new Map<string, string>();
  for (const row of spec.flags as readonly FlagSpec[]) {
    rows.set(row.name, row);
    if (row.alias) aliasOf.set(row.alias, row.name);
  }
  const raw = new Map<string, { used: string; values: (string | boolean)[] }>();
  const config: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const help = args.slice(0, args.includes('--') ? args.indexOf('--') : args.length).some((a) => a === '-h' || a === '--help');
  if (help) return { values: {} as FlagValues<F>, given: new Set(), positionals: [], config: {}, help };
  const record = (name: string, used: string, value: string | boolean) => {
    const entry = raw.get(name) ?? { used, values: [] };
    if (entry.used !== used && !entry.values.every((v) => v === value)) {
      throw new UsageError(`--${entry.used} ${entry.values.at(-1)} and --${used} ${value} name the same setting; give one`, command);
    }
    entry.values.push(value);
    raw.set(name, entry);
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (/^-[^-\d.]/.test(arg)) {
      const row = [...rows.values()].find((r) => r.short !== undefined && `-${r.short}` === arg);
      if (!row) throw new UsageError(`unknown flag ${arg}${suggestion(arg.slice(1), flagNames(spec))}`, command);
      i = take(row, row.name, undefined, i);
      continue;
    }
    const flag = /^--([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!flag) {
      positionals.push(arg);
      continue;
    }
    const [, used, inline] = flag;
    const name = aliasOf.get(used) ?? used;
    const row = rows.get(name);
    if (row) {
      i = take(row, used, inline, i);
    } else if (spec.configFields && CONFIG_FLAGS.has(used)) {
      const field = CONFIG_FIELDS[CONFIG_FLAGS.get(used)!];
      if (field.kind === 'boolean') {
        const [value, next] = booleanValue(used, inline, args, i, command);
        config[used] = value;
        i = next;
      } else {
        const [value, next] = stringValue(used, `<${allowedValues(field)}>`, inline, args, i, command);
        config[used] = value;
        i = next;
      }
    } else {
      throw new UsageError(`unknown flag --${used}${suggestion(used, flagNames(spec))}`, command);
    }
  }

  function take(row: FlagSpec, used: string, inline: string | undefined, i: number): number {
    if (row.kind === 'boolean') {
      const [value, next] = booleanValue(used, inline, args, i, command);
      record(row.name, used, value);
      return next;
    }
    const [value, next] = stringValue(used, placeholder(row), inline, args, i, command);
    record(row.name, used, value);
    return next;
  }

  const given = new Set(raw.keys());
  const result = { values: {} as Record<string, unknown>, given, positionals, config, help };
  if (positionals.length > 0 && spec.positionals === undefined) {
    const first = positionals[0];
    const asFlag = rows.has(first) || (spec.configFields && CONFIG_FLAGS.has(first)) ? `; did you mean --${first}?` : '';
    throw new UsageError(`unexpected argument ${JSON.stringify(first)}${asFlag || `: rltuner ${command} takes flags only`}`, command);
  }
  for (const [name, value] of Object.entries(config)) if (typeof value === 'string') refuseEmpty(name, value, command);
  for (const row of spec.flags as readonly FlagSpec[]) {
    const entry = raw.get(row.name);
    if (entry === undefined) {
      if ('default' in row && row.default !== undefined) result.values[row.name] = Array.isArray(row.default) ? [...row.default] : row.default;
      continue;
    }
    const { used, values } = entry;
    for (const value of values) if (typeof value === 'string') refuseEmpty(used, value, command);
    const last = values[values.length - 1];
    switch (row.kind) {
      case 'boolean':
        result.values[row.name] = last;
        break;
      case 'string':
        result.values[row.name] = row.multiple ? values : last;
        break;
      case 'output':
        result.values[row.name] = last;
        break;
      case 'number':
      case 'integer':
        result.values[row.name] = numberFlag(command, used, last as string, 0, row.min, row.max, row.kind === 'integer', row.expected);
        break;
      case 'integers': {
        const list = (last as string).split(',').map((part) => numberFlag(command, used, part, 0, -Infinity, Infinity, true, 'comma-separated integers'));
        const problem = row.problem(list);
        if (problem !== null) throw new UsageError(`--${used} ${last}: ${problem}`, command);
        result.values[row.name] = list;
        break;
      }
      case 'choice':
        if (!row.values.includes(last as string)) {
          throw new UsageError(`--${used} ${last}: expected ${row.values.join(', ')}${suggestion(last as string, row.values, '')}`, command);
        }
        result.values[row.name] = last;
        break;
    }
  }
  return result as unknown as Parsed<F>;
}

/** A boolean flag's value: inline `=true|false`, a following `true|false`, or true. */
function booleanValue(used: string, inline: string | undefined, args: readonly string[], i: number, command: string): [boolean, number] {
  if (inline === undefined && (args[i + 1] === 'true' || args[i + 1] === 'false')) return [args[i + 1] === 'true', i + 1];
  if (inline === undefined || inline === 'true') return [true, i];
  if (inline === 'false') return [false, i];
  throw new UsageError(`--${used}=${inline}: expected true or false (--${used} alone means true)`, command);
}

/** A value flag's value: inline after `=`, or the next argument unless that is a flag (a negative number is a value). */
function stringValue(used: string, arg: string, inline: string | undefined, args: readonly string[], i: number, command: string): [string, number] {
  if (inline !== undefined) return [inline, i];
  const next = args[i + 1];
  if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\.?\d/.test(next))) {
    const after = next === undefined ? '' : `; to give a value starting with '-', write --${used}=${next}`;
    throw new UsageError(`--${used} needs a value (${arg})${after}`, command);
  }
  return [next, i + 1];
}

function refuseEmpty(used: string, value: string, command: string): void {
  if (value.trim() !== '') return;
  throw new UsageError(used === 'out'
    ? "--out '' would write into the current folder; name a folder"
    : `--${used} '': the value is empty; give one, or leave --${used} out`, command);
}

/** Every flag the command takes, by every name (for suggestions). */
function flagNames(spec: CommandSpec): string[] {
  const names = spec.flags.flatMap((row) => [row.name, ...(row.alias ? [row.alias] : [])]);
  return spec.configFields ? [...names, ...CONFIG_FLAGS.keys()] : names;
}

/**
 * The edit distance between two names (insertions, deletions, substitutions and swaps of neighbours, each 1;
 * the optimal string alignment distance).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name nearest to `given`, when it is near enough to be a slip (at most a third of its letters
 * off, and at least one), or undefined.
 */
export function nearestName(given: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(given.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(given.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** "; did you mean --name?" for the nearest known name, or ''. */
function suggestion(given: string, known: Iterable<string>, dashes = '--'): string {
  const near = nearestName(given, known);
  return near === undefined ? '' : `; did you mean ${dashes}${near}?`;
}

// ---- help and docs ----

/** The value placeholder of a row: its `arg`, else one from its kind. */
function placeholder(row: FlagSpec): string {
  if (row.arg) return row.arg;
  switch (row.kind) {
    case 'boolean': return '';
    case 'output': return '<file|->';
    case 'integer': case 'integers': return '<n>';
    case 'number': return '<x>';
    case 'choice': return `<${row.values.join('|')}>`;
    default: return '<value>';
  }
}

/** The allowed values of a row in words, or '' for free text. */
export function allowedText(row: FlagSpec): string {
  switch (row.kind) {
    case 'boolean': return '';
    case 'output': return 'a file, or - for standard output';
    case 'integer': return `integer in ${row.min}..${row.max}`;
    case 'number': return `number in ${row.min}..${row.max}`;
    case 'integers': return `comma-separated integers: ${row.allowed}`;
    case 'choice': return row.values.join(' | ');
    default: return '';
  }
}

/** The value a bare command runs with, in words ('' when nothing is said). */
export function defaultShown(row: FlagSpec): string {
  const value = 'default' in row && row.default !== undefined ? (Array.isArray(row.default) ? row.default.join(',') : String(row.default)) : '';
  if (row.defaultText === undefined) return value;
  return value === '' ? row.defaultText : `${value}; ${row.defaultText}`;
}

/** Words of `text` laid into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Help lines are at most this wide. */
const HELP_WIDTH = 110;
/** Descriptions start two columns after the longest flag, but not further than this (longer flags: the next line). */
const MAX_DOC_COLUMN = 28;

/** `  -h, --help <arg>`: the flag's names and placeholder as --help shows them. */
function flagColumn(row: FlagSpec): string {
  return `  ${row.short ? `-${row.short}, ` : ''}--${row.name}${placeholder(row) ? ` ${placeholder(row)}` : ''}`;
}

/** The doc of a row as shown: its other name (an alias) said after it. */
function docShown(row: FlagSpec): string {
  return row.alias ? `${row.doc} (--${row.alias} is the same flag)` : row.doc;
}

/** The help lines of some rows: the flag and its placeholder, then the doc wrapped, the default in brackets. */
export function flagLines(rows: readonly FlagSpec[], column = docColumn(rows)): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const left = flagColumn(row);
    const shown = defaultShown(row);
    const lines = wrap(`${docShown(row)}${shown ? ` [${shown}]` : ''}`, HELP_WIDTH - column);
    if (left.length + 2 > column) out.push(left);
    else out.push(`${left.padEnd(column)}${lines.shift() ?? ''}`);
    for (const line of lines) out.push(`${' '.repeat(column)}${line}`);
  }
  return out;
}

/** The column a command's descriptions start at. */
function docColumn(rows: readonly FlagSpec[]): number {
  return Math.min(MAX_DOC_COLUMN, Math.max(...rows.map((row) => flagColumn(row).length + 2)));
}

/** The rows in table order, split where the group changes. */
function groupsOf<F extends FlagSpec>(rows: readonly F[]): { group: string | undefined; rows: F[] }[] {
  const groups: { group: string | undefined; rows: F[] }[] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last && last.group === row.group) last.rows.push(row);
    else groups.push({ group: row.group, rows: [row] });
  }
  return groups;
}

/**
 * The whole --help text of a command. A command with subcommands lists each one's title and flags (and
 * notes) after its own usage and intro.
 */
export function commandHelp(spec: CommandSpec): string {
  const parts = [`rltuner ${spec.name}: ${spec.title}`, ''];
  // A usage line starting with blanks continues the one before it, aligned by hand.
  if (spec.usage.length === 1) parts.push(`Usage: rltuner ${spec.usage[0]}`);
  else parts.push('Usage:', ...spec.usage.map((line) => (line.startsWith(' ') ? line : `  rltuner ${line}`)));
  if (spec.intro) parts.push('', spec.intro);
  if (spec.subcommands) {
    for (const sub of spec.subcommands) parts.push('', `rltuner ${sub.name}: ${sub.title}`, ...(sub.intro ? ['', sub.intro] : []), ...flagSections(sub));
  } else {
    parts.push(...flagSections(spec));
  }
  if (spec.notes) parts.push('', spec.notes);
  if (spec.configFields) parts.push('', ...describeConfig());
  return `${parts.join('\n')}\n`;
}

/** The help lines of a table: its groups, each after a blank line (and its heading), -h last; then a subcommand's notes. */
function flagSections(spec: CommandSpec): string[] {
  const parts: string[] = [];
  const all = [...spec.flags, { ...HELP_FLAG, group: spec.flags.at(-1)?.group }];
  const column = docColumn(all);
  for (const { group, rows } of groupsOf(all)) {
    parts.push('');
    if (group) parts.push(`${group}:`);
    parts.push(...flagLines(rows, column));
  }
  return parts;
}

/** -h / --help: every command takes it; the parser answers it. */
const HELP_FLAG: BooleanFlag = { name: 'help', short: 'h', kind: 'boolean', doc: 'this text' };

/** A Markdown table cell: one line, pipes escaped, and outside `code` the angle brackets (not taken for HTML). */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`').replace(/\|/g, '\\|');
}

/** The flag reference of some commands as Markdown: per command its usage and one table per group. */
export function flagsMarkdown(specs: readonly CommandSpec[]): string {
  const lines = [
    '# Command-line flags',
    '',
    '<!-- Written by `npm run docs:flags` from the commands\' settings tables (src/cli/<command>.ts); do not edit by hand. -->',
    '',
    'Every command also takes `-h` / `--help`. Numbers are plain decimals (`12`, `0.5`, `1e-3`); booleans take',
    '`--flag`, `--flag=true` or `--flag=false`. The default is what the command runs when the flag is left out.',
    '',
    ...specs.map((spec) => `- [\`rltuner ${spec.name}\`](#rltuner-${spec.name}): ${spec.title}`),
  ];
  // A command with subcommands is its title; each subcommand follows with its usage and tables.
  const section = (spec: CommandSpec, heading: string) => {
    lines.push('', `${heading} rltuner ${spec.name}`, '', spec.title.charAt(0).toUpperCase() + spec.title.slice(1) + '.');
    if (spec.subcommands) return;
    lines.push('', '```', ...spec.usage.map((line) => (line.startsWith(' ') ? line.slice(2) : `rltuner ${line}`)), '```');
    for (const { group, rows } of groupsOf(spec.flags)) {
      lines.push('');
      if (group) lines.push(`**${group}**`, '');
      lines.push('| flag | value | default | what it does |', '|---|---|---|---|');
      for (const row of rows) {
        const names = `\`--${row.name}${placeholder(row) ? ` ${placeholder(row)}` : ''}\``;
        lines.push(`| ${cell(names)} | ${cell(allowedText(row))} | ${cell(defaultShown(row))} | ${cell(docShown(row))} |`);
      }
    }
  };
  for (const spec of specs) {
    section(spec, '##');
    for (const sub of spec.subcommands ?? []) section(sub, '###');
    if (spec.configFields) {
      const bare = resolveConfig();
      lines.push(
        '', '**Tuning options**', '',
        'Each field of the tuning config is a flag (kebab-case) and a key of a `--config` JSON file (camelCase). The default is',
        'the `default` preset\'s value, what a bare `rltuner tune` runs; `--preset` and `--config` lay other values under the flags.',
        '', '| flag | config field | value | default | what it does |', '|---|---|---|---|---|',
      );
      for (const field of Object.keys(CONFIG_FIELDS) as (keyof TunerConfig)[]) {
        const fieldSpec = CONFIG_FIELDS[field];
        lines.push(`| \`--${kebabCase(field)}\` | \`${field}\` | ${cell(allowedValues(fieldSpec))} | ${cell(String(bare[field]))} | ${cell(fieldSpec.doc)} |`);
      }
      lines.push('', '**Presets** (`--preset <name>`)', '', '| preset | settings |', '|---|---|');
      for (const name of PRESET_NAMES) lines.push(`| \`${name}\` | ${cell(PRESETS[name].doc)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
