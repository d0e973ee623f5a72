/**
 * The settings tables: the parser, the help and docs/flags.md are derived from them, a bare command's values
 * are what the help shows, and misspelt flags and commands get the nearest known name.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, flagsDocument, topHelp } from '../../src/cli/commands.js';
import { UsageError } from '../../src/cli/common.js';
import { commandHelp, defineCommand, editDistance, kebabCase, nearestName, parseCommandLine } from '../../src/cli/flags.js';
import { CONFIG_FIELDS, PRESET_NAMES, resolveConfig } from '../../src/rl/config.js';
import { TUNE } from '../../src/cli/tune.js';
import { TRAIN } from '../../src/cli/train.js';
import { PREFS, PREFS_PAIRS, PREFS_TRAIN } from '../../src/cli/prefs.js';
import { DEFAULT_TRAINING } from '../../src/train/note_rnn_training.js';

const SPEC = defineCommand({
  name: 'x',
  title: 'a test command',
  usage: ['x [options]'],
  flags: [
    { name: 'quiet', kind: 'boolean', doc: 'quiet' },
    { name: 'resume', kind: 'boolean', doc: 'resume' },
    { name: 'out', kind: 'string', arg: '<dir>', default: 'runs/x', doc: 'where' },
    { name: 'model', kind: 'string', doc: 'model' },
    { name: 'count', kind: 'integer', min: 1, max: 100, default: 4, doc: 'how many' },
    { name: 'length', alias: 'num-notes', kind: 'integer', min: 1, max: 1000, default: 64, doc: 'steps' },
    { name: 'shift', kind: 'integer', min: -24, max: 24, doc: 'semitones' },
    { name: 'timing', kind: 'choice', values: ['aligned', 'nearest'], doc: 'timing' },
    { name: 'sizes', kind: 'integers', allowed: '1 to 3 sizes', problem: (v) => (v.length > 3 ? 'at most 3 sizes' : null), doc: 'sizes' },
    { name: 'tuned', kind: 'string', multiple: true, doc: 'tuned' },
  ],
});
const parse = (args: string[]) => parseCommandLine(SPEC, args);

describe('parsing by a settings table', () => {
  it('boolean flags take --flag, --flag=true|false and --flag true|false', () => {
    expect(parse(['--quiet']).values).toMatchObject({ quiet: true });
    expect(parse(['--quiet=true']).values).toMatchObject({ quiet: true });
    expect(parse(['--quiet=false']).values).toMatchObject({ quiet: false });
    expect(parse(['--quiet', 'true', '--out', 'o']).values).toMatchObject({ quiet: true, out: 'o' });
    expect(parse(['--quiet', 'false', '--resume']).values).toMatchObject({ quiet: false, resume: true });
    expect(parse(['--out', 'true']).values).toMatchObject({ out: 'true' }); // a string flag keeps its value
    expect(() => parse(['--quiet=yes'])).toThrow(/--quiet=yes: expected true or false/);
    expect(() => parse(['--quiet', 'yes'])).toThrow(UsageError);
  });

  it('an empty value is an error, not a default', () => {
    expect(() => parse(['--out', ''])).toThrow("--out '' would write into the current folder; name a folder");
    expect(() => parse(['--out=  '])).toThrow(/--out ''/);
    expect(() => parse(['--model', ''])).toThrow("--model '': the value is empty; give one, or leave --model out");
  });

  it('fills the defaults, says which flags were given, and checks numbers, choices and lists', () => {
    const bare = parse([]);
    expect(bare.values).toEqual({ out: 'runs/x', count: 4, length: 64 });
    expect([...bare.given]).toEqual([]);
    const given = parse(['--count', '7', '--shift', '-3', '--timing=nearest', '--sizes', '8,16', '--tuned', 'a', '--tuned', 'b']);
    expect(given.values).toMatchObject({ count: 7, shift: -3, timing: 'nearest', sizes: [8, 16], tuned: ['a', 'b'], out: 'runs/x' });
    expect([...given.given].sort()).toEqual(['count', 'shift', 'sizes', 'timing', 'tuned']);
    expect(() => parse(['--count', '0'])).toThrow('--count 0: expected an integer in 1..100');
    expect(() => parse(['--timing', 'nearst'])).toThrow('--timing nearst: expected aligned, nearest; did you mean nearest?');
    expect(() => parse(['--timing', 'round'])).toThrow(/^--timing round: expected aligned, nearest$/);
    expect(() => parse(['--sizes', '1,2,3,4'])).toThrow('--sizes 1,2,3,4: at most 3 sizes');
    expect(() => parse(['--sizes', '1,x'])).toThrow(/--sizes x: expected comma-separated integers/);
  });

  it('an alias is the same flag: either name, not both with different values', () => {
    expect(parse(['--num-notes', '128']).values.length).toBe(128);
    expect(parse(['--num-notes', '128']).given.has('length')).toBe(true);
    expect(parse(['--length', '32', '--num-notes', '32']).values.length).toBe(32);
    expect(() => parse(['--length', '32', '--num-notes', '64'])).toThrow('--length 32 and --num-notes 64 name the same setting; give one');
    expect(() => parse(['--num-notes', '0'])).toThrow('--num-notes 0: expected an integer in 1..1000');
  });

  it("names a misspelt flag's nearest, a missing value, and an argument the command does not take, in its own words", () => {
    expect(() => parse(['--qiuet'])).toThrow('unknown flag --qiuet; did you mean --quiet?');
    expect(() => parse(['--count=3', '--lenght', '5'])).toThrow('unknown flag --lenght; did you mean --length?');
    expect(() => parse(['--frobnicate'])).toThrow(/^unknown flag --frobnicate$/);
    expect(() => parse(['-q'])).toThrow(/^unknown flag -q$/);
    expect(() => parse(['--out'])).toThrow('--out needs a value (<dir>)');
    expect(() => parse(['--out', '--quiet'])).toThrow("--out needs a value (<dir>); to give a value starting with '-', write --out=--quiet");
    expect(() => parse(['quiet'])).toThrow('unexpected argument "quiet"; did you mean --quiet?');
    expect(() => parse(['x.mid'])).toThrow('unexpected argument "x.mid": rltuner x takes flags only');
    for (const args of [['--frobnicate'], ['--out'], ['x.mid']]) {
      try {
        parse(args);
      } catch (e) {
        expect((e as Error).message).not.toMatch(/Option|ERR_PARSE_ARGS|TypeError/);
      }
    }
  });

  it('-h or --help anywhere is the help, whatever else is there', () => {
    expect(parse(['--frobnicate', '--out', '-h']).help).toBe(true);
    expect(parse(['--count', '0', '--help']).help).toBe(true);
    const withFiles = parseCommandLine({ ...SPEC, positionals: 'files' }, ['--quiet', '--', '--help', 'a']);
    expect(withFiles.help).toBe(false);
    expect(withFiles.positionals).toEqual(['--help', 'a']);
  });

  it('tune takes every config field as a flag, kept as given for resolveConfig to check', () => {
    const parsed = parseCommandLine(TUNE, ['--gamma', '0.5', '--music-theory-only', '--algorithm', 'q', '--quiet']);
    expect(parsed.config).toEqual({ gamma: '0.5', 'music-theory-only': true, algorithm: 'q' });
    expect(parsed.values.quiet).toBe(true);
    expect(parsed.values.preset).toBe('default');
    expect(() => parseCommandLine(TUNE, ['--trainig-steps', '3'])).toThrow('unknown flag --trainig-steps; did you mean --training-steps?');
    expect(() => parseCommandLine(TUNE, ['--gamma', ''])).toThrow("--gamma '': the value is empty");
  });
});

describe('did you mean', () => {
  it('measures edits, swaps of neighbours counting one', () => {
    expect(editDistance('tune', 'tune')).toBe(0);
    expect(editDistance('tunee', 'tune')).toBe(1);
    expect(editDistance('trainig-steps', 'training-steps')).toBe(1);
    expect(editDistance('qiuet', 'quiet')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only what is near enough to be a slip', () => {
    const commands = COMMANDS.map((c) => c.name);
    expect(nearestName('tunee', commands)).toBe('tune');
    expect(nearestName('evalute', commands)).toBe('evaluate');
    expect(nearestName('Train', commands)).toBe('train');
    expect(nearestName('banana', commands)).toBeUndefined();
    expect(nearestName('x', commands)).toBeUndefined();
  });
});

describe('help from the tables', () => {
  it("shows a bare tune's values: the default preset's, not the field defaults", () => {
    const help = commandHelp(TUNE);
    const bare = resolveConfig();
    const line = (field: keyof typeof CONFIG_FIELDS) => help.split('\n').find((l) => l.startsWith(`  --${kebabCase(field)} <`))!;
    expect(line('algorithm')).toMatch(/ default pg /);
    expect(line('rewardScaler')).toMatch(/ default 2 /);
    for (const field of Object.keys(CONFIG_FIELDS) as (keyof typeof CONFIG_FIELDS)[]) expect(line(field)).toContain(` default ${String(bare[field])} `);
    // The line after --algorithm is --reward-scaler's: `rltuner tune --help | grep -A1 algorithm` shows pg and 2.
    const lines = help.split('\n');
    expect(lines[lines.indexOf(line('algorithm')) + 1]).toBe(line('rewardScaler'));
  });

  it('lists the same presets in the usage line, the help and the code', () => {
    const help = commandHelp(TUNE);
    expect(help).toContain(`[--preset ${PRESET_NAMES.join('|')}]`);
    for (const name of PRESET_NAMES) expect(help).toMatch(new RegExp(`^  ${name}: `, 'm'));
    expect(help).toMatch(new RegExp(`--preset <name> .*\\[default\\]`));
  });

  it("every command's help shows every flag of its table once, and its defaults", () => {
    for (const { name } of COMMANDS) expect(topHelp()).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const help = commandHelp(TRAIN);
    for (const row of TRAIN.flags) expect(help.match(new RegExp(`^  --${row.name}\\b`, 'gm')), row.name).toHaveLength(1);
    expect(help).toMatch(/--hidden <n\[,n\.\.\]> +LSTM layer sizes, bottom first \[100\]/);
    expect(help).toContain(`Adam learning rate [${DEFAULT_TRAINING.learningRate}]`);
  });

  it('a command with subcommands (prefs) lists each subcommand with every flag of its table once; each parses by its own table', () => {
    const help = commandHelp(PREFS);
    for (const sub of PREFS.subcommands!) {
      expect(help).toContain(`\nrltuner ${sub.name}: ${sub.title}\n`);
      const own = commandHelp(sub);
      for (const row of sub.flags) expect(own.match(new RegExp(`^  --${row.name}(?![\\w-])`, 'gm')), `${sub.name} --${row.name}`).toHaveLength(1);
    }
    expect(help.match(/^ {2}--listener-noise\b/gm)).toHaveLength(1);
    expect(help.match(/^ {2}--out\b/gm)).toHaveLength(2); // once per subcommand
    expect(parseCommandLine(PREFS_TRAIN, ['a.csv', 'b.jsonl', '--hidden', '8,8']).positionals).toEqual(['a.csv', 'b.jsonl']);
    expect(() => parseCommandLine(PREFS_PAIRS, ['--hidden', '8'])).toThrow(/^unknown flag --hidden$/);
    expect(() => parseCommandLine(PREFS_PAIRS, ['x.csv'])).toThrow('unexpected argument "x.csv": rltuner prefs pairs takes flags only');
    expect(() => parseCommandLine(PREFS_TRAIN, ['--init', 'note-rn'])).toThrow('--init note-rn: expected random, note-rnn; did you mean note-rnn?');
  });

  it('docs/flags.md is what `npm run docs:flags` writes from the tables now', async () => {
    const committed = readFileSync(new URL('../../docs/flags.md', import.meta.url), 'utf8');
    expect(committed, 'docs/flags.md is stale: run `npm run docs:flags` and commit it').toBe(await flagsDocument());
    for (const { name } of COMMANDS) expect(committed).toContain(`## rltuner ${name}`);
    for (const sub of PREFS.subcommands!) expect(committed).toContain(`\n### rltuner ${sub.name}\n`);
    expect(committed).toContain('| `--algorithm` | `algorithm` | q \\| psi \\| g \\| pg | pg |');
  });
});
