/**
 * `npm run bench` (full) and `npm run bench:quick` (`--quick`, under two minutes): times the four workloads
 * at H = 100, 256, 512 for rltuner (plain SIMD128 build, and the relaxed build when the runtime accepts it),
 * TensorFlow.js on its wasm backend, and the plain TypeScript reference, all in this one process. Prints a
 * Markdown table, checks the issue's targets and writes dist-bench/bench-results.json.
 *
 * Flags: --quick; --h=100,256 to run only some hidden sizes; --no-tfjs, --no-reference to leave peers out.
 */
import { readFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { measure, type Mode } from './measure.js';
import {
  loadBuilds, makeRltunerModel, measurePeak, measureSqrtDivRate, rltunerCases, rltunerFirstLogits, type KernelBuild,
} from './rltuner_cases.js';
import { makeReferenceParams, referenceCases, referenceFirstLogits } from './reference_peer.js';
import { TfLstm, initTfjsWasm, tfTensorCount, tfjsCases, tfjsFirstLogits } from './tfjs_peer.js';
import {
  checkTargets, derive, formatTime, markdownTable, targetLines, writeJson, type CaseResult, type Impl, type RunInfo,
} from './report.js';
import { benchTuneLoop, tuneLoopTable } from './tune_loop.js';
import { benchTuneStepParts, tuneStepPartsTable } from './tune_step_parts.js';
import { benchCrossCore, crossCoreTable } from './cross_core.js';
import { benchConcurrentTuneLoops, concurrentTuneLoopsTable } from './concurrent_tune_loops.js';
import { benchWeightGradient, weightGradientTable } from './weight_gradient.js';
import { benchTdUpdateParts, shareBound, tdUpdatePartsTable } from './td_update_parts.js';
import { KernelThreads } from '../src/engine/kernel_threads.js';
import { kernelsFromModule } from '../src/engine/kernels.js';
import { startNodeKernelThread } from '../src/node/kernel_thread.js';
import {
  HIDDEN_SIZES, WORKLOADS, WORKLOAD_LABEL, makeWorkloadData, type Workload, type WorkloadCases,
} from './workloads.js';

const args = process.argv.slice(2);
const mode: Mode = args.includes('--quick') ? 'quick' : 'full';
const hArg = args.find((a) => a.startsWith('--h='));
const sizes = hArg ? hArg.slice(4).split(',').map(Number) : [...HIDDEN_SIZES];
for (const H of sizes) {
  if (!(HIDDEN_SIZES as readonly number[]).includes(H)) throw new Error(`--h: ${H} is not one of ${HIDDEN_SIZES.join(', ')}`);
}
const withTfjs = !args.includes('--no-tfjs');
const withReference = !args.includes('--no-reference');

/** Reference BPTT calls take ~4 s (H=256) and ~17 s (H=512): quick mode leaves them out. */
const skipInQuick = (impl: Impl, w: Workload, H: number): string | null =>
  mode === 'quick' && impl === 'reference' && w === 'bptt' && H > 100 ? 'quick mode' : null;

const distDir = new URL('../../dist/', import.meta.url); // dist-bench/bench/run.js -> dist/
const resultsFile = new URL('../bench-results.json', import.meta.url); // dist-bench/bench-results.json

const SEED = 1;
const NOISE_NOTE = 'Figures on these VMs vary ±5–10 % (±30 % for µs calls): compare the ratios within one run, '
  + 'not against numbers from another day.';

/** Idles for a second, so that background work of the runtime is done before timing. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1000));
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const { builds, relaxedNote } = loadBuilds(distDir);
  // The plain build's arithmetic on two threads: the shared-memory build with one helper thread.
  const sharedBuild = kernelsFromModule(new WebAssembly.Module(readFileSync(new URL('rltuner-shared.wasm', distDir))));
  const twoThreads = await KernelThreads.start(sharedBuild, 2, startNodeKernelThread);
  const info: RunInfo = {
    mode,
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, v8: process.versions.v8, platform: platform(),
    },
    tfjs: { version: '-', backend: '-', simd: false, threads: false },
    ceilings: {},
    notes: [NOISE_NOTE],
  };
  console.log(`rltuner benchmarks (${mode} mode)`);
  console.log(`machine: ${info.machine.cpu}, ${info.machine.cores} cores, Node ${info.machine.node} (V8 ${info.machine.v8})`);
  console.log(NOISE_NOTE);
  if (relaxedNote) {
    console.log(`relaxed SIMD build: not benched (${relaxedNote})`);
    info.notes.push(`relaxed SIMD build not benched: ${relaxedNote}`);
  }
  for (const b of builds) {
    info.ceilings[b.name] = measurePeak(b.kernels, mode === 'quick' ? 3 : 7);
    console.log(`ceiling (peak_madd, ${b.name} build): ${info.ceilings[b.name]!.toFixed(1)} GFLOP/s`);
  }
  info.sqrtDivNsPerPair = measureSqrtDivRate(builds[0].kernels, mode === 'quick' ? 3 : 7);
  console.log(`square root and division (peak_sqrt_div, ${builds[0].name} build): ${info.sqrtDivNsPerPair.toFixed(3)} ns per f32x4 pair`);
  if (withTfjs) {
    info.tfjs = await initTfjsWasm();
    console.log(`TF.js ${info.tfjs.version}, backend ${info.tfjs.backend}, SIMD ${info.tfjs.simd}, threads ${info.tfjs.threads}`);
    info.notes.push('TF.js trains with a one-hot matMul for the input (gather has no gradient on the wasm backend) and does not clip gradients; rltuner and the reference clip.');
  }
  if (mode === 'quick' && withReference) info.notes.push('quick mode: reference BPTT at H = 256 and 512 skipped (4 s and 17 s a call).');
  info.notes.push('FLOPs are those the kernels perform (bench/workloads.ts): forward 2B(4H² + HO); backward 2B(2HO + 4H²); dh through W_h 2B·4H² on all but the first step of a window; the one-hot input is a gather. TF.js and the reference are credited with the same count.');

  const results: CaseResult[] = [];
  const record = (impl: Impl, w: Workload, H: number, fn: (() => void) | undefined, tfjsCount = false) => {
    const skipped = skipInQuick(impl, w, H);
    if (!fn || skipped) {
      results.push({ impl, workload: w, H, skipped: skipped ?? 'not implemented' });
      console.log(`  H=${H} ${WORKLOAD_LABEL[w].padEnd(22)} ${impl.padEnd(16)} skipped (${skipped ?? 'not implemented'})`);
      return;
    }
    // TF.js: live tensors are counted after the warm-up (which creates Adam's slot variables) and at the end.
    let before = 0;
    const timing = measure(`${impl} ${w} H=${H}`, fn, mode, tfjsCount ? () => { before = tfTensorCount(); } : undefined);
    const r = derive({ impl, workload: w, H, timing }, info.ceilings);
    if (tfjsCount) r.tensorGrowth = tfTensorCount() - before;
    results.push(r);
    const rate = r.nsPerParam !== undefined ? `${r.nsPerParam.toFixed(2)} ns/param`
      : `${r.gflops!.toFixed(1)} GFLOP/s${r.ceilingFraction !== undefined ? `, ${(100 * r.ceilingFraction).toFixed(0)}% of ceiling` : ''}`;
    const growth = r.tensorGrowth !== undefined ? `, tensors ${r.tensorGrowth === 0 ? 'flat' : `+${r.tensorGrowth} (LEAK)`}` : '';
    console.log(`  H=${H} ${WORKLOAD_LABEL[w].padEnd(22)} ${impl.padEnd(16)} ${formatTime(timing.meanMs).padStart(9)} ±${timing.rme.toFixed(1)}% `
      + `(median ${formatTime(timing.medianMs)}, n=${timing.samples}; ${rate}${growth})`);
  };
  const runAll = (impl: Impl, H: number, cases: WorkloadCases, tfjsCount = false) => {
    for (const w of WORKLOADS) record(impl, w, H, cases[w], tfjsCount);
  };

  for (const H of sizes) {
    console.log(`\nH = ${H}`);
    const data = makeWorkloadData(H);
    const models = builds.map((b: KernelBuild) => ({ build: b, model: makeRltunerModel(b.kernels, H, SEED) }));
    const tensors = models[0].model.exportTensors();
    const refParams = makeReferenceParams(H, tensors);
    const tfModel = withTfjs ? new TfLstm(H, tensors) : null;

    // Cross-check before timing: every implementation computes the same first-step logits.
    const refLogits = referenceFirstLogits(refParams, data.stepToken);
    const maxDiff = (x: ArrayLike<number>) => Array.from(refLogits, (v, i) => Math.abs(v - x[i])).reduce((a, b) => Math.max(a, b), 0);
    const checks: [string, number][] = models.map(({ build, model }) => [`rltuner-${build.name}`, maxDiff(rltunerFirstLogits(model, data.stepToken))]);
    if (tfModel) checks.push(['tfjs-wasm', maxDiff(tfjsFirstLogits(tfModel, data.stepToken))]);
    console.log(`  first-step logits vs reference, max |diff|: ${checks.map(([n, d]) => `${n} ${d.toExponential(1)}`).join(', ')}`);
    for (const [n, d] of checks) if (!(d < 1e-3)) throw new Error(`${n} disagrees with the reference at H=${H} (max |diff| ${d})`);

    // Let compilation running on the other core (V8 tiers up the kernels and TF.js's wasm in the background)
    // finish before the first timing: left to run, it slowed the first case measured in some runs.
    await settle();
    for (const { build, model } of models) runAll(`rltuner-${build.name}`, H, rltunerCases(model, data));
    runAll('rltuner-simd-2t', H, rltunerCases(makeRltunerModel(twoThreads.kernels, H, SEED), data));
    if (tfModel) {
      const tf = tfjsCases(tfModel, data);
      runAll('tfjs-wasm', H, tf.cases, true);
      tf.dispose();
      tfModel.dispose();
    }
    if (withReference) runAll('reference', H, referenceCases(refParams, data));
  }

  console.log('\nThe weight-gradient kernel alone (B = 64)');
  const weightGradient = benchWeightGradient(builds[0].kernels, info.ceilings[builds[0].name]!, mode, sizes);
  console.log('\nThe TD update taken apart (B = 32, each kernel call alone)');
  const tdUpdateParts = benchTdUpdateParts(builds[0].kernels, mode, sizes, info.sqrtDivNsPerPair);
  const wholeUpdate = new Map(results.filter((r) => r.impl === `rltuner-${builds[0].name}` && r.workload === 'tdUpdate' && r.timing).map((r) => [r.H, r.timing!.meanMs * 1000]));
  const partsTable = tdUpdatePartsTable(tdUpdateParts, info.ceilings[builds[0].name]!, wholeUpdate);

  console.log('\nTune loop (H = 100, the shipped Note RNN, default preset)');
  const modelUrl = new URL('../../models/note_rnn.safetensors', import.meta.url);
  const tuneLoop = [...benchTuneLoop(builds[0].kernels, modelUrl, mode), ...benchTuneLoop(twoThreads.kernels, modelUrl, mode)];
  console.log('\nWhere a tune step goes (G, one and two threads)');
  const stepParts = [builds[0].kernels, twoThreads.kernels].map((k) => benchTuneStepParts(k, modelUrl, mode === 'quick' ? 50_000 : 200_000));
  console.log('\nCross-core hand-off (the H = 100 parameter block)');
  const crossCore = benchCrossCore(twoThreads, mode);
  twoThreads.close();
  console.log('\nTwo independent tune loops at once (worker threads)');
  const concurrent = await benchConcurrentTuneLoops(mode === 'quick' ? 20_000 : 60_000);

  const table = markdownTable(results, builds.length > 1);
  const targets = checkTargets(results, info.ceilings, new Map(tdUpdateParts.map((r) => [r.H, shareBound(r, info.ceilings[builds[0].name]!)])));
  console.log(`\n## Results (${mode} mode; mean ± relative margin of error; GFLOP/s counted as in bench/workloads.ts; ratios = how many times faster rltuner SIMD128 is)\n`);
  console.log(`Machine: ${info.machine.cpu}, Node ${info.machine.node}. Ceiling: ${
    Object.entries(info.ceilings).map(([k, v]) => `${k} ${v!.toFixed(1)} GFLOP/s`).join(', ')}. ${NOISE_NOTE}\n`);
  console.log(table);
  console.log(`\nTune loop, plain SIMD build (2 threads: the same arithmetic shared with a helper thread):\n\n${tuneLoopTable(tuneLoop)}`);
  console.log(`\nWhere a step of the tune loop goes (bench/tune_step_parts.ts: each call of the TD update timed in the loop, plain build):\n\n${tuneStepPartsTable(stepParts)}`);
  console.log(`\nThe weight-gradient kernel alone, plain build (bench/weight_gradient.ts: B = 64, dW_h of BPTT):\n\n${weightGradientTable(weightGradient)}`);
  console.log(`\nThe one-step TD update taken apart, plain build (bench/td_update_parts.ts: each kernel call alone at the update's shapes; counted: the multiplies bench/workloads.ts counts as FLOPs):\n\n${partsTable}`);
  console.log(`\nMoving data between the two cores (bench/cross_core.ts: a block the caller just rewrote, read by a soft update on the caller or on the helper):\n\n${crossCoreTable(crossCore)}`);
  console.log(`\nTwo independent copies of the tune loop at once (bench/concurrent_tune_loops.ts: the most two cores give this workload here):\n\n${concurrentTuneLoopsTable(concurrent)}`);
  console.log(`\nTargets (plain SIMD build):\n${targetLines(targets)}`);
  for (const r of tuneLoop) {
    console.log(`${r.stepsPerSecond >= 8000 ? 'PASS' : 'MISS'}  tune loop (${r.algorithm}, ${r.threads} thread${r.threads > 1 ? 's' : ''}), H=100: ${Math.round(r.stepsPerSecond)} env steps/s (target ≥ 8000)`);
  }
  for (const n of info.notes.slice(1)) console.log(`note: ${n}`);
  writeJson(resultsFile, info, results, targets, `${table}\n\n${tuneLoopTable(tuneLoop)}\n\n${tuneStepPartsTable(stepParts)}\n\n${crossCoreTable(crossCore)}\n\n${concurrentTuneLoopsTable(concurrent)}\n\n${weightGradientTable(weightGradient)}\n\n${partsTable}`, { tuneLoop, stepParts, crossCore, concurrent, weightGradient, tdUpdateParts });
  console.log(`\nwrote ${resultsFile.pathname} (${((performance.now() - startedAt) / 1000).toFixed(0)} s)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
