/**
 * `npm run fuzz [-- --seed <n>] [--count <n>]`: runs the MIDI mutation fuzzer (test/music/midi_fuzz.ts)
 * outside the test suite, a million inputs by default, printing the seed first so any run can be
 * repeated. On a broken contract it writes the input to runs/fuzz/ and exits with status 1.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FuzzFailure, formatFuzzSummary, loadFuzzSeeds, runFuzz } from './midi_fuzz.js';

const USAGE = 'usage: npm run fuzz -- [--seed <0..4294967295>] [--count <inputs>]';

function main(): number {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, count: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = values.seed === undefined ? Date.now() % 2 ** 32 : Number(values.seed);
  const count = values.count === undefined ? 1_000_000 : Number(values.count);
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32) || !(Number.isInteger(count) && count >= 1)) {
    process.stderr.write(`fuzz: --seed must be an integer in 0..4294967295 and --count a positive integer\n${USAGE}\n`);
    return 2;
  }
  const root = repositoryRoot();
  const seeds = loadFuzzSeeds(root);
  process.stdout.write(`fuzz: seed ${seed}, ${count} inputs from ${seeds.length} seed files (repeat with: npm run fuzz -- --seed ${seed} --count ${count})\n`);
  try {
    const summary = runFuzz(seeds, seed, count, (progress) => process.stdout.write(`${formatFuzzSummary(progress)}\n`));
    process.stdout.write(`done\n${formatFuzzSummary(summary)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof FuzzFailure)) throw error;
    const out = join(root, 'runs', 'fuzz');
    mkdirSync(out, { recursive: true });
    const file = join(out, `failure-seed${seed}-input${error.input.index}.mid`);
    writeFileSync(file, error.input.bytes);
    process.stderr.write(`fuzz: contract broken with seed ${seed}: ${error.message}\n  input written to ${file}\n`);
    return 1;
  }
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

process.exitCode = main();
