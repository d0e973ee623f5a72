/**
 * The listener in the loop, measured with scripted listeners (src/prefs/listeners.ts): for each listener and
 * each number of answers, the learning curve answers → the reward model's accuracy → the listener's statistic
 * after tuning on it. Per seed:
 *
 *   1. n pairs of the shipped Note RNN's 32-step compositions, answered by the listener with 20 % lapses
 *      (equal statistic: no preference);
 *   2. a reward model trained on them with the defaults (trainRewardModel: Bradley–Terry, the held-out tenth by
 *      hash choosing the best epoch); its accuracy on that held-out tenth (against the answers, lapses included)
 *      and on 2,000 fresh pairs against the listener's statistic itself (pairs whose statistic differs);
 *   3. the Note RNN tuned on it alone (PREFERENCE_TUNING: pg, GRPO over 8 groups of 8, the KL to the Note RNN in
 *      the reward with β 0.1, 655,360 steps);
 *   4. the tuned model and the Note RNN evaluated on 1,000 compositions each (the evaluation stream of the
 *      seed): the listener's statistic, and every row of the evaluation table.
 *
 * "Within seed noise" for a row: the tuned runs' [min, max] over the seeds overlaps the Note RNN's [min, max]
 * over the same evaluation seeds. The statistic's goal: at least half the distance from the Note RNN's mean
 * to the listener's ideal.
 *
 * The least change (src/prefs/least_change.ts): per seed, a pool of the Note RNN's compositions reweighted to
 * the KL-regularised optimum for the listener's utility, π* ∝ p·exp(u/β), at the β where its statistic equals
 * that seed's tuned statistic; 1,000 compositions drawn from it are evaluated like a model. Its rows show what
 * the statistic brings with it in the Note RNN's own music; the tuned rows against them, what tuning added.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/prefs_learning_curve.js [--quick] [--kl <β>] [--steps <n>] [--pg-kl loss|reward] [--out <file.md>]
 *
 * --quick: one seed, 50 and 100 answers, 40,960 tuning steps, a pool of 20,000 (a smoke run; its numbers are not the curve).
 * --kl, --steps, --pg-kl: PREFERENCE_TUNING's KL β, steps and place of the KL (loss or reward) replaced (the trade-off
 * between moving the statistic and keeping the rest).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PolicyEvaluation, PreferencePair, ScriptedListenerName } from '../src/index.js';

// The library as built in dist/ (its generated modules live there), typed as src/index.ts.
const root = fileURLToPath(new URL('../..', import.meta.url));
const lib: typeof import('../src/index.js') = await import(new URL('dist/index.js', `file://${root}/`).href);
const {
  createModel, createTuner, decodeModel, evaluateSample, EVALUATION_ROWS, leastChangeDraw, kernelsFromModule, loadNoteRnn, NARROW_RANGE_SEMITONES, noisyListener, NUM_SPECIAL,
  PREFERENCE_TUNING, Random, rankingAgreement, resolveConfig, REWARD_MODEL, runTuning, sampleCompositions, scoreCompositions, SCRIPTED_LISTENERS,
  trainRewardModel,
} = lib;

const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const outFile = outIndex >= 0 ? process.argv[outIndex + 1] : null;
const SEEDS = quick ? [1] : [1, 2, 3];
const COUNTS = quick ? [50, 100] : [50, 100, 300];
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  if (i < 0) return null;
  const value = Number(process.argv[i + 1]);
  if (!(value > 0)) throw new RangeError(`${name} needs a positive number, got ${process.argv[i + 1]}`);
  return value;
};
const STEPS = flag('--steps') ?? (quick ? 40_960 : PREFERENCE_TUNING.trainingSteps!);
const KL = flag('--kl') ?? PREFERENCE_TUNING.klCoefficient!;
const pgKlAt = process.argv.indexOf('--pg-kl');
const PG_KL = pgKlAt >= 0 ? process.argv[pgKlAt + 1] : PREFERENCE_TUNING.pgKl!;
if (PG_KL !== 'loss' && PG_KL !== 'reward') throw new RangeError(`--pg-kl is loss or reward, got ${PG_KL}`);
const TUNING = { ...PREFERENCE_TUNING, klCoefficient: KL, pgKl: PG_KL };
/** The Note RNN compositions per seed the least change is drawn from. */
const POOL = quick ? 20_000 : 200_000;
const NUM_NOTES = 32;
const NOISE = 0.2;
const EVALUATION = 1000;
const FRESH_PAIRS = 2000;

const wasm = new Uint8Array(readFileSync(`${root}/dist/rltuner.wasm`));
const kernels = kernelsFromModule(new WebAssembly.Module(wasm), wasm);
const noteRnnBytes = new Uint8Array(readFileSync(`${root}/models/note_rnn.safetensors`));
const noteRnn = decodeModel(noteRnnBytes);
const sampler = loadNoteRnn(kernels, noteRnnBytes, 128).model;

/** Highest minus lowest note-on in semitones (null without notes). */
function pitchRange(c: Uint8Array): number | null {
  const notes = Array.from(c).filter((t) => t >= NUM_SPECIAL);
  return notes.length ? Math.max(...notes) - Math.min(...notes) : null;
}

/** What each listener's statistic is, per composition, and its ideal. */
interface Statistic {
  label: string;
  /** The statistic of a set of compositions (a share or a mean). */
  of(compositions: readonly Uint8Array[]): number;
  /** The statistic of one composition from its utility level (the least change reweights levels). */
  ofLevel(level: number): number;
  ideal: number;
  format(x: number): string;
}
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const lastNote = (c: Uint8Array) => { for (let i = c.length - 1; i >= 0; i--) if (c[i] >= NUM_SPECIAL) return { step: i, token: c[i] }; return null; };
const TONIC = new Set([2, 14, 26]);
const STATISTICS: Record<ScriptedListenerName, Statistic> = {
  'tonic-ending': {
    label: 'compositions ending on the tonic class', ideal: 1, format: pct, ofLevel: (v) => (v > 0 ? 1 : 0),
    of: (cs) => cs.filter((c) => { const l = lastNote(c); return l !== null && TONIC.has(l.token); }).length / cs.length,
  },
  'few-notes': {
    label: 'note-ons per 32-step composition', ideal: 1, format: (x) => x.toFixed(2), ofLevel: (v) => -v,
    of: (cs) => cs.reduce((s, c) => s + c.filter((t) => t >= NUM_SPECIAL).length, 0) / cs.length,
  },
  'narrow-range': {
    label: `compositions within a fifth (range ≤ ${NARROW_RANGE_SEMITONES} semitones)`, ideal: 1, format: pct, ofLevel: (v) => (v === 0 ? 1 : 0),
    of: (cs) => cs.filter((c) => (pitchRange(c) ?? 99) <= NARROW_RANGE_SEMITONES).length / cs.length,
  },
};
/** The tonic-ending listener's strong-beat part, reported beside its statistic. */
const strongBeatTonic = (cs: readonly Uint8Array[]) => cs.filter((c) => { const l = lastNote(c); return l !== null && TONIC.has(l.token) && l.step % 8 === 0; }).length / cs.length;

const compositions = (count: number, seed: number) =>
  sampleCompositions([sampler], new Random(seed), { count, numNotes: NUM_NOTES, temperature: 1, priming: { kind: 'random_note' } }).compositions;

interface RunResult {
  listener: ScriptedListenerName;
  answers: number;
  seed: number;
  decided: number;
  heldOut: number;
  heldOutDecided: number;
  heldOutAccuracy: number | null;
  truth: number;
  noteRnn: PolicyEvaluation;
  tuned: PolicyEvaluation;
  /** The least change at the tuned statistic (runs on the most answers only). */
  leastChange?: { evaluation: PolicyEvaluation; klPerNote: number; repeated: number };
  seconds: { train: number; tune: number };
}

const results: RunResult[] = [];
const started = performance.now();
const pools = new Map<number, ReturnType<typeof sampleCompositions>>();
const poolOf = (seed: number) => {
  if (!pools.has(seed)) pools.set(seed, sampleCompositions([sampler], new Random(7000 + seed), { count: POOL, numNotes: NUM_NOTES, temperature: 1, priming: { kind: 'random_note' } }));
  return pools.get(seed)!;
};
for (const listenerName of Object.keys(SCRIPTED_LISTENERS) as ScriptedListenerName[]) {
  const listener = SCRIPTED_LISTENERS[listenerName];
  const fresh = compositions(2 * FRESH_PAIRS, 9001);
  const test = Array.from({ length: FRESH_PAIRS }, (_, i) => ({ a: fresh[2 * i], b: fresh[2 * i + 1] }));
  for (const n of COUNTS) {
    for (const seed of SEEDS) {
      const c = compositions(2 * n, 1000 * seed + n);
      const rng = new Random(seed);
      const listen = noisyListener(listener.utility, NOISE);
      const pairs: PreferencePair[] = Array.from({ length: n }, (_, i) => ({ a: c[2 * i], b: c[2 * i + 1], answer: listen(c[2 * i], c[2 * i + 1], () => rng.float()) }));
      let t0 = performance.now();
      const trained = await trainRewardModel(kernels, pairs, { settings: { seed } });
      const trainSeconds = (performance.now() - t0) / 1000;
      const rm = decodeModel(trained.modelBytes, 'reward model', REWARD_MODEL);
      const scorer = createModel(kernels, rm.config, { maxBatch: 256, maxSteps: NUM_NOTES });
      scorer.importTensors(rm.tensors);
      const truth = rankingAgreement(listener.utility, test, scoreCompositions(scorer, test.map((p) => p.a)), scoreCompositions(scorer, test.map((p) => p.b)));
      t0 = performance.now();
      const config = resolveConfig('default', {
        ...TUNING, trainingSteps: STEPS, numNotes: NUM_NOTES, seed, logEvery: 16_384, evalEvery: 0, checkpointEvery: 0, evalCompositions: 0, sampleCount: 0,
      });
      const tuner = createTuner(kernels, noteRnn, config, { kind: 'random_note' }, undefined, rm);
      await runTuning(tuner);
      const tuneSeconds = (performance.now() - t0) / 1000;
      const { noteRnn: base, tuned } = tuner.compareWithNoteRnn(EVALUATION);
      const r: RunResult = {
        listener: listenerName, answers: n, seed, decided: pairs.filter((p) => p.answer !== 'none').length, heldOut: trained.split.heldOut,
        heldOutDecided: trained.heldOut.decided, heldOutAccuracy: trained.heldOut.accuracy, truth: truth.share ?? NaN, noteRnn: base, tuned,
        seconds: { train: trainSeconds, tune: tuneSeconds },
      };
      const s = STATISTICS[listenerName];
      if (n === COUNTS[COUNTS.length - 1]) {
        const draw = leastChangeDraw(poolOf(seed), listener.utility, s.ofLevel, s.of(tuned.compositions), EVALUATION, new Random(100 + seed));
        r.leastChange = { evaluation: evaluateSample(draw, { numNotes: NUM_NOTES }), klPerNote: draw.klPerComposition / NUM_NOTES, repeated: draw.repeated };
      }
      results.push(r);
      process.stderr.write(`${listenerName} n=${n} seed=${seed}: held-out ${r.heldOutAccuracy === null ? '–' : pct(r.heldOutAccuracy)} of ${r.heldOutDecided}, ` +
        `fresh pairs ${pct(r.truth)}; ${s.label}: Note RNN ${s.format(s.of(base.compositions))} → tuned ${s.format(s.of(tuned.compositions))} ` +
        `(KL ${tuned.klFromPrior.toFixed(3)}) [train ${trainSeconds.toFixed(1)} s, tune ${tuneSeconds.toFixed(1)} s]\n`);
    }
  }
}

// The ceiling for the tonic-ending listener: the same tuning with its statistic itself as the reward (the
// composition term tonic_ending, which is the listener's utility), no reward model.
const ceiling: PolicyEvaluation[] = [];
for (const seed of SEEDS) {
  const config = resolveConfig('default', {
    ...TUNING, weightPreference: 0, weightTonicEnding: 1, trainingSteps: STEPS, numNotes: NUM_NOTES, seed, logEvery: 16_384, evalEvery: 0,
    checkpointEvery: 0, evalCompositions: 0, sampleCount: 0,
  });
  const tuner = createTuner(kernels, noteRnn, config, { kind: 'random_note' });
  await runTuning(tuner);
  ceiling.push(tuner.evaluatePolicy(EVALUATION, -1));
}

// ---- tables -------------------------------------------------------------------------------------------

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Within seed noise: the two [min, max] ranges over the seeds overlap. */
const overlap = (a: number[], b: number[]) => Math.max(Math.min(...a), Math.min(...b)) <= Math.min(Math.max(...a), Math.max(...b));
/** A row's values over the seeds, or null when one is missing or not finite (the row is then not compared). */
const finiteValues = (xs: (number | null)[]): number[] | null => (xs.every((x) => x !== null && Number.isFinite(x)) ? (xs as number[]) : null);
const range = (xs: number[], f: (x: number) => string) => (xs.length > 1 ? `${f(mean(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]` : f(xs[0]));
const lines: string[] = [
  '# The listener in the loop: learning curves with scripted listeners',
  '',
  `Command: \`node dist-bench/bench/prefs_learning_curve.js${quick ? ' --quick' : ''}${flag('--kl') ? ` --kl ${KL}` : ''}${flag('--steps') ? ` --steps ${STEPS}` : ''}${pgKlAt >= 0 ? ` --pg-kl ${PG_KL}` : ''}${outFile ? ` --out ${outFile}` : ''}\` (after \`npm run build && npx tsc -p bench/tsconfig.json\`)`,
  `Pairs of the shipped Note RNN's ${NUM_NOTES}-step compositions; listeners with ${100 * NOISE} % lapses; reward model: trainRewardModel defaults; tuning:`,
  `PREFERENCE_TUNING (pg, GRPO over 8 groups of 8, learning rate ${TUNING.learningRate}, KL β ${TUNING.klCoefficient} in the ${TUNING.pgKl === 'reward' ? 'reward (γ ' + TUNING.gamma + ')' : 'loss'}, ${STEPS.toLocaleString('en')} steps, the reward model alone);`,
  `the least change: π* ∝ p·exp(u/β) drawn from a pool of ${POOL.toLocaleString('en')} Note RNN compositions per seed, at each seed's tuned statistic (src/prefs/least_change.ts);`,
  `${EVALUATION.toLocaleString('en')} compositions per model per evaluation; seeds ${SEEDS.join(', ')} (mean [min–max] over them). Total ${((performance.now() - started) / 60000).toFixed(1)} min.`,
  '',
];
for (const listenerName of Object.keys(SCRIPTED_LISTENERS) as ScriptedListenerName[]) {
  const s = STATISTICS[listenerName];
  const runs = results.filter((r) => r.listener === listenerName);
  const base = runs.map((r) => s.of(r.noteRnn.compositions));
  const baseMean = mean(base);
  const goal = baseMean + (s.ideal - baseMean) / 2;
  lines.push(`## ${listenerName}: ${SCRIPTED_LISTENERS[listenerName].doc}`, '');
  lines.push(`Statistic: ${s.label}. Note RNN ${range(base, s.format)}; ideal ${s.format(s.ideal)}; half the distance: ${s.format(goal)}.`, '');
  lines.push('| answers | with a preference | held-out accuracy (vs answers; pairs deciding) | accuracy on 2,000 fresh pairs (vs the statistic) | statistic after tuning | KL from the Note RNN (nats/note) | reached half the distance |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const n of COUNTS) {
    const rs = runs.filter((r) => r.answers === n);
    const held = rs.filter((r) => r.heldOutAccuracy !== null).map((r) => r.heldOutAccuracy!);
    const after = rs.map((r) => s.of(r.tuned.compositions));
    const reached = s.ideal >= baseMean ? after.filter((x) => x >= goal).length : after.filter((x) => x <= goal).length;
    lines.push(`| ${n} | ${range(rs.map((r) => r.decided), (x) => x.toFixed(0))} | ${held.length ? range(held, pct) : '–'} (${rs.map((r) => r.heldOutDecided).join(', ')}) | ` +
      `${range(rs.map((r) => r.truth), pct)} | ${range(after, s.format)} | ${range(rs.map((r) => r.tuned.klFromPrior), (x) => x.toFixed(3))} | ${reached} of ${rs.length} |`);
  }
  if (listenerName === 'tonic-ending') {
    lines.push('', `The same tuning with the listener's statistic itself as the reward (the composition term tonic_ending, no reward model): ` +
      `${range(ceiling.map((e) => s.of(e.compositions)), s.format)}, KL ${range(ceiling.map((e) => e.klFromPrior), (x) => x.toFixed(3))}; ` +
      `rows beyond seed noise against the Note RNN: ${EVALUATION_ROWS.filter((row) => {
        const a = finiteValues(runs.filter((r) => r.answers === COUNTS[COUNTS.length - 1]).map((r) => row.value(r.noteRnn))), b = finiteValues(ceiling.map((e) => row.value(e)));
        return a !== null && b !== null && !overlap(a, b);
      }).map((row) => row.key).join(', ') || 'none'}.`);
    lines.push('', `Its strong-beat part (the last note in the tonic class on step 0, 8, 16 or 24): Note RNN ${range(runs.map((r) => strongBeatTonic(r.noteRnn.compositions)), pct)}, ` +
      `tuned on ${COUNTS[COUNTS.length - 1]} answers ${range(runs.filter((r) => r.answers === COUNTS[COUNTS.length - 1]).map((r) => strongBeatTonic(r.tuned.compositions)), pct)}.`);
  }
  // Every row of the evaluation table: the tuned runs on the most answers against the Note RNN on the same evaluation seeds.
  const most = runs.filter((r) => r.answers === COUNTS[COUNTS.length - 1]);
  const least = most.map((r) => r.leastChange!);
  lines.push('', `The least change at each seed's tuned statistic: KL ${range(least.map((l) => l.klPerNote), (x) => x.toFixed(3))} nats/note (the tuned models: ` +
    `${range(most.map((r) => r.tuned.klFromPrior), (x) => x.toFixed(3))}); compositions drawn twice for want of enough in a level: ${least.map((l) => l.repeated).join(', ')}.`);
  lines.push('', `Every row, tuned on ${COUNTS[COUNTS.length - 1]} answers, against the Note RNN and against the least change (within seed noise: the ranges over the seeds overlap):`, '');
  lines.push('| row | Note RNN | least change | tuned | tuned within noise of the Note RNN | least change within noise of the Note RNN | tuned within noise of the least change |', '|---|---|---|---|---|---|---|');
  const moved: string[] = [], forced: string[] = [], added: string[] = [];
  const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
  for (const row of EVALUATION_ROWS) {
    const av = finiteValues(most.map((r) => row.value(r.noteRnn))), bv = finiteValues(most.map((r) => row.value(r.tuned)));
    if (av === null || bv === null) continue;
    const lv = finiteValues(least.map((x) => row.value(x.evaluation))); // null for the k3 row: the least change has no per-step estimate
    const tunedOk = overlap(av, bv);
    if (!tunedOk) moved.push(row.key);
    if (lv && !overlap(av, lv)) forced.push(row.key);
    if (lv && !overlap(lv, bv)) added.push(row.key);
    lines.push(`| ${row.label.replace('{count}', EVALUATION.toLocaleString('en')).replace('{block}', '169')} | ${range(av, row.format)} | ${lv ? range(lv, row.format) : '–'} | ` +
      `${range(bv, row.format)} | ${yes(tunedOk)} | ${lv ? yes(overlap(av, lv)) : '–'} | ${lv ? yes(overlap(lv, bv)) : '–'} |`);
  }
  lines.push('', `Rows beyond seed noise of the Note RNN, tuned (${moved.length}): ${moved.length ? moved.join(', ') : 'none'}.`);
  lines.push('', `Rows the least change itself moves beyond the Note RNN's noise (${forced.length}): ${forced.length ? forced.join(', ') : 'none'}.`);
  lines.push('', `Rows where the tuned models are beyond the least change's noise (${added.length}): ${added.length ? added.join(', ') : 'none'}.`, '');
}
const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
if (outFile) writeFileSync(outFile, text);
