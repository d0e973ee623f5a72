/**
 * `npm run fuzz [-- --family <names>] [--count <n>] [--seed <n>] [--quick]`: runs every input family of
 * test/fuzz/families/ (MIDI files, model files, Magenta checkpoints, NoteSequences, tune configs) outside
 * the test suite, 200,000 inputs each by default (`--quick`: 5,000 each, the short form CI runs). Each
 * family runs in its own node process, so the peak resident memory reported for it is its own. The seed
 * is printed first so any run can be repeated. On a broken contract the input is written to
 * runs/fuzz/<family>-seed<seed>-input<index>/ and the command exits with status 1.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FUZZ_FAMILIES, type AnyFuzzFamily } from './families/index.js';
import { FuzzFailure, formatFuzzSummary, runFuzz, type FuzzRunSummary } from './runner.js';

const USAGE = `usage: npm run fuzz -- [--family ${FUZZ_FAMILIES.map((f) => f.name).join(',')}] [--count <inputs per family>] [--seed <0..4294967295>] [--quick]
  --count   inputs per family [200000]
  --quick   5,000 inputs per family: the short form CI runs
  --family  the families to run, comma-separated [all]`;
const DEFAULT_COUNT = 200_000;
const QUICK_COUNT = 5_000;
/** What a family's process prints last: its summary and its peak resident memory, as JSON after this tag. */
const RESULT_TAG = 'FUZZ-RESULT ';

interface FamilyResult {
  summary?: FuzzRunSummary;
  /** Peak resident memory of the family's process over its whole run (startup included). */
  peakRssBytes: number;
  failure?: string;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      family: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, quick: { type: 'boolean' },
      child: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = values.seed === undefined ? Date.now() % 2 ** 32 : Number(values.seed);
  const count = values.count !== undefined ? Number(values.count) : values.quick ? QUICK_COUNT : DEFAULT_COUNT;
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32) || !(Number.isInteger(count) && count >= 1)) {
    process.stderr.write(`fuzz: --seed must be an integer in 0..4294967295 and --count a positive integer\n${USAGE}\n`);
    return 2;
  }
  const names = values.family?.split(',').map((n) => n.trim()) ?? FUZZ_FAMILIES.map((f) => f.name);
  const unknown = names.filter((n) => !FUZZ_FAMILIES.some((f) => f.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`fuzz: unknown family ${unknown.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const families = FUZZ_FAMILIES.filter((f) => names.includes(f.name));
  if (values.child) return runChild(families[0], seed, count);

  process.stdout.write(`fuzz: seed ${seed}, ${count} inputs per family, families ${families.map((f) => f.name).join(', ')} (repeat with: npm run fuzz -- --seed ${seed} --count ${count}${values.family ? ` --family ${values.family}` : ''})\n`);
  const results: [AnyFuzzFamily, FamilyResult][] = [];
  for (const family of families) {
    process.stdout.write(`\n${family.name}: ${family.description}\n`);
    results.push([family, await runFamilyProcess(family, seed, count)]);
  }
  process.stdout.write(`\n${formatTable(results)}\n`);
  return results.every(([, r]) => r.summary !== undefined) ? 0 : 1;
}

/** Runs one family in a fresh node process (this script with --child), passing its progress through. */
function runFamilyProcess(family: AnyFuzzFamily, seed: number, count: number): Promise<FamilyResult> {
  return new Promise((done) => {
    const args = [fileURLToPath(import.meta.url), '--child', '--family', family.name, '--seed', String(seed), '--count', String(count)];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let pending = '';
    let result: FamilyResult = { peakRssBytes: 0, failure: 'the process ended without a result' };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.startsWith(RESULT_TAG)) result = JSON.parse(line.slice(RESULT_TAG.length)) as FamilyResult;
        else process.stdout.write(`${line}\n`);
      }
    });
    child.on('close', (code) => {
      if (code !== 0 && result.summary !== undefined) result = { ...result, failure: `exit status ${code}` };
      done(result);
    });
  });
}

function runChild(family: AnyFuzzFamily, seed: number, count: number): number {
  const root = repositoryRoot();
  const report = (result: FamilyResult) => process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
  try {
    const summary = runFuzz(family, root, seed, count, (progress) => process.stdout.write(`${formatFuzzSummary(progress)}\n`));
    process.stdout.write(`done\n${formatFuzzSummary(summary)}\n`);
    report({ summary, peakRssBytes: process.resourceUsage().maxRSS * 1024 });
    return 0;
  } catch (error) {
    if (!(error instanceof FuzzFailure)) throw error;
    const out = join(root, 'runs', 'fuzz', `${family.name}-seed${seed}-input${error.input.index}`);
    mkdirSync(out, { recursive: true });
    for (const [name, bytes] of Object.entries(family.files(error.input))) writeFileSync(join(out, name), bytes);
    process.stderr.write(`fuzz: ${family.name}: contract broken with seed ${seed}: ${error.message}\n  input written to ${out}\n`);
    report({ peakRssBytes: process.resourceUsage().maxRSS * 1024, failure: error.message });
    return 1;
  }
}

function formatTable(results: [AnyFuzzFamily, FamilyResult][]): string {
  const lines = [
    '| family | inputs | seconds | worst time (ms, input bytes, bound) | largest heap growth (MB, input bytes, bound) | peak RSS of its process (MB) | outcomes |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [family, r] of results) {
    const s = r.summary;
    if (!s) {
      lines.push(`| ${family.name} | FAILED | | | | ${(r.peakRssBytes / 1e6).toFixed(0)} | ${r.failure ?? ''} |`);
      continue;
    }
    const outcomes = Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`| ${family.name} | ${s.inputs} | ${s.seconds.toFixed(1)} | ${s.worstTime.ms.toFixed(2)} for ${s.worstTime.bytes} (${s.worstTime.boundMs.toFixed(0)}) | ` +
      `${(s.worstHeap.heapBytes / 1e6).toFixed(2)} for ${s.worstHeap.bytes} (${(s.worstHeap.boundBytes / 1e6).toFixed(1)}) | ${(r.peakRssBytes / 1e6).toFixed(0)} | ${outcomes} |`);
  }
  const failed = results.filter(([, r]) => !r.summary).map(([f]) => f.name);
  lines.push('', failed.length === 0 ? `fuzz: ${results.length} families passed` : `fuzz: ${failed.length} of ${results.length} families FAILED: ${failed.join(', ')}`);
  return lines.join('\n');
}

/** The folder holding data/nottingham, found upwards from this script (it runs compiled, from dist-fuzz/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'data', 'nottingham', 'melody'))) {
    const parent = resolve(dir, '..');
    if (parent === dir) throw new Error('fuzz: cannot find data/nottingham/melody above this script; run it from the repository');
    dir = parent;
  }
  return dir;
}

process.exitCode = await main();
