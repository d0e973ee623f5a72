// Trains and compares the candidates for the default Note RNN (issue: a prior that remembers its phrases):
// the basic, lookback and phrase encodings × 100 and 256 units × without and with dropout 0.5, each trained on the
// Nottingham splits with the key-based import by one `rltuner train` command (printed before it runs), then
// measured alike:
//   test nats/step   the best epoch on data/nottingham/splits/test.txt (per event, so lookback and basic
//                    compare; the figure `rltuner score` prints)
//   2-bar recurrence the share of 300 of its own 128-step pieces, sampled through the library (one random
//                    priming note, temperature 1, seed 1), in which a 32-step window recurs
//                    (src/music/recurrence.ts hasRecurringWindow, as the data-likeness rows count it)
//   duration TV      the note-duration histogram of those pieces against the Nottingham test split cut into
//                    128-step pieces (src/eval/data_likeness.ts)
//   minutes          training: the sum of the epochs' wall-clock seconds, and of their CPU seconds (every
//                    thread of the process), from the run's metrics.jsonl
// and prints one Markdown table (also written to <out>/candidates.md and candidates.json, which keep the
// figures of candidates measured by earlier calls in the same --out).
//
//   npm run build
//   node scripts/prior_candidates.mjs                          all twelve, to the end (early stopping)
//   node scripts/prior_candidates.mjs --only lookback-256-dropout
//   node scripts/prior_candidates.mjs --epochs 2 --out runs/prior-smoke     a short functional run
//   node scripts/prior_candidates.mjs --measure-only           re-measure finished runs in --out
//
// Options: --out <dir> [runs/prior-candidates], --only <name[,name..]>, --epochs <n> [the train default, with
// early stopping], --window <n> [128], --lr <x> and --batch <n> [train's defaults], --threads <n> [train's
// default], --pieces <n> [300], --seed <n> [1], --measure-only. An existing run folder is resumed (--resume), so a stopped comparison continues.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  dataLikeness, decodeModel, generate, hasRecurringWindow, histogramDistances, loadKernels, loadNoteRnn, scoreNoteRnn, shippedReference,
} from '../dist/index.js';
import { loadSplits } from '../dist/node/training_data.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const nottingham = join(root, 'data', 'nottingham');

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/prior-candidates' }, only: { type: 'string' }, epochs: { type: 'string' },
    window: { type: 'string', default: '128' }, threads: { type: 'string' }, pieces: { type: 'string', default: '300' },
    lr: { type: 'string' }, batch: { type: 'string' },
    seed: { type: 'string', default: '1' }, 'measure-only': { type: 'boolean' },
  },
});

/** The comparison set: name → train flags beyond the common ones. */
const CANDIDATES = [];
for (const encoding of ['basic', 'lookback', 'phrase']) {
  for (const hidden of [100, 256]) {
    for (const dropout of [0, 0.5]) {
      CANDIDATES.push({
        name: `${encoding}-${hidden}${dropout ? '-dropout' : ''}`,
        flags: ['--encoding', encoding, '--hidden', String(hidden), ...(dropout ? ['--dropout', String(dropout)] : [])],
      });
    }
  }
}
const wanted = values.only ? values.only.split(',') : CANDIDATES.map((c) => c.name);
for (const name of wanted) {
  if (!CANDIDATES.some((c) => c.name === name)) throw new Error(`--only ${name}: not a candidate; the candidates are ${CANDIDATES.map((c) => c.name).join(', ')}`);
}
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const PIECE_STEPS = 128;
const pieces = Number(values.pieces);

const kernels = await loadKernels();
const splits = await loadSplits({ paths: { nottingham: { given: nottingham, path: nottingham } }, part: {}, import: { transposeBy: 'key', keepKey: false, timing: 'aligned' } });
const reference = shippedReference(PIECE_STEPS);

/** The `rltuner train` command of a candidate (its run folder resumed when it holds a checkpoint). */
function trainArgs(candidate, dir) {
  const args = ['train', '--nottingham', nottingham, ...candidate.flags, '--window', values.window, '--out', dir, '--quiet', '--no-baselines'];
  if (values.epochs) args.push('--epochs', values.epochs);
  if (values.lr) args.push('--lr', values.lr);
  if (values.batch) args.push('--batch', values.batch);
  if (values.threads) args.push('--threads', values.threads);
  if (existsSync(join(dir, 'checkpoint.safetensors'))) args.push('--resume');
  return args;
}

function measure(candidate, dir) {
  const bytes = new Uint8Array(readFileSync(join(dir, 'note_rnn.safetensors')));
  const decoded = decodeModel(bytes, join(dir, 'note_rnn.safetensors'));
  const test = scoreNoteRnn(kernels, decoded, splits.test, { grids: splits.grids.test }).model;
  const { model } = loadNoteRnn(kernels, bytes, 100);
  const samples = generate(model, { count: pieces, length: PIECE_STEPS, seed: Number(values.seed) });
  const recurring = samples.filter((p) => hasRecurringWindow(p, 32)).length / samples.length;
  const durationTv = histogramDistances(dataLikeness(samples), reference.stats).duration;
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const wall = epochs.reduce((s, e) => s + e.seconds, 0), cpu = epochs.reduce((s, e) => s + (e.cpu_seconds ?? NaN), 0);
  const training = decoded.info.training ?? {};
  return {
    name: candidate.name, testNats: test.nats, testLabelNats: test.labelNats ?? null, recurring2Bar: recurring, durationTv,
    epochs: epochs.length, bestEpoch: training.bestEpoch, trainMinutes: wall / 60, cpuMinutes: cpu / 60,
    secondsPerEpoch: wall / epochs.length, cpuSecondsPerEpoch: cpu / epochs.length, parameters: model.parameterCount,
  };
}

const results = [];
for (const candidate of CANDIDATES.filter((c) => wanted.includes(c.name))) {
  const dir = join(out, candidate.name);
  if (!values['measure-only']) {
    const args = trainArgs(candidate, dir);
    console.log(`\n# ${candidate.name}\nrltuner ${args.join(' ')}`);
    const run = spawnSync('node', [cli, ...args], { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`${candidate.name}: rltuner train exited with ${run.status}`);
  }
  const r = measure(candidate, dir);
  results.push(r);
  console.log(`${r.name}: test ${r.testNats.toFixed(4)} nats/step, 2-bar recurrence ${(100 * r.recurring2Bar).toFixed(1)} %, duration TV ${r.durationTv.toFixed(3)}, ` +
    `${r.epochs} epochs (best ${r.bestEpoch}) in ${r.trainMinutes.toFixed(1)} min (CPU ${r.cpuMinutes.toFixed(1)} min)`);
}

// Results of earlier calls in --out (other candidates) are kept; this call's replace theirs.
const jsonPath = join(out, 'candidates.json');
const earlier = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : [];
const merged = CANDIDATES.map((c) => results.find((r) => r.name === c.name) ?? earlier.find((r) => r.name === c.name)).filter(Boolean);
const table = [
  `Nottingham, key-based import, BPTT window ${values.window}${values.lr ? `, lr ${values.lr}` : ''}${values.batch ? `, batch ${values.batch}` : ''}; ${pieces} pieces of ${PIECE_STEPS} steps per model (seed ${values.seed}). ` +
    `Data: 2-bar recurrence ${(100 * reference.stats.recurring2Bar / reference.stats.recurrencePieces).toFixed(1)} % of the test split's ${PIECE_STEPS}-step pieces.`,
  '',
  '| candidate | parameters | test nats/step | 2-bar window recurs | duration TV | epochs (best) | s/epoch (CPU) | training min (CPU) |',
  '|---|---|---|---|---|---|---|---|',
  ...merged.map((r) => `| ${r.name} | ${r.parameters.toLocaleString('en')} | ${r.testNats.toFixed(4)} | ${(100 * r.recurring2Bar).toFixed(1)} % | ${r.durationTv.toFixed(3)} | ` +
    `${r.epochs} (${r.bestEpoch}) | ${r.secondsPerEpoch.toFixed(1)} (${r.cpuSecondsPerEpoch.toFixed(1)}) | ${r.trainMinutes.toFixed(1)} (${r.cpuMinutes.toFixed(1)}) |`),
].join('\n');
console.log(`\n${table}`);
writeFileSync(join(out, 'candidates.md'), `${table}\n`);
writeFileSync(jsonPath, `${JSON.stringify(merged, null, 1)}\n`);
