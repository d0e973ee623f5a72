/**
 * `rltuner tune`: refines the Note RNN with Q, Ψ or G learning (SPEC §4). Shows progress, writes JSONL
 * metrics, evaluates periodically, checkpoints (resumable exactly with --resume; Ctrl-C writes one and
 * exits), and leaves the tuned model, MIDI samples, SVG plots and an evaluation table in the run folder.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LstmModel } from '../engine/lstm_model.js';
import { primingTokens, type Priming } from '../rl/sampling.js';
import { decodeModel, encodeModel } from '../io/model_file.js';
import { buildCorpus } from '../music/corpus.js';
import { tokenName, NUM_CLASSES } from '../music/encoding.js';
import { exportMidi } from '../music/midi_export.js';
import { importMidi } from '../music/midi_import.js';
import { readMidiSources } from '../node/corpus_files.js';
import { heatmap, lineChart } from '../report/svg.js';
import { checkpointConfig, encodeTunerCheckpoint, restoreTunerCheckpoint } from '../rl/checkpoint.js';
import { CONFIG_FIELDS, ConfigError, describeConfig, resolveConfig, type TunerConfig } from '../rl/config.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { statisticsTable } from '../eval/statistics.js';
import { RlTuner, TuneDivergedError, type IntervalMetrics } from '../rl/tuner.js';
import {
  formatDuration, loadKernelsFromDist, parseFlags, partFlags, PART_FLAGS_HELP, Progress, readInput, readModelBytes, stopOnSignal, UsageError,
  writeFileAtomic, yieldToEventLoop,
} from './common.js';

export const TUNE_HELP = `rltuner tune: refine a Note RNN with reinforcement learning under music-theory rewards

Usage: rltuner tune [--model <note_rnn.safetensors>] [--preset default|library|script] [--config <file.json>]
                    [--<field> <value> ...] [--out <dir>] [--resume]

  --model <file>       the Note RNN to tune [the shipped default, models/note_rnn.safetensors]
  --preset <name>      named settings laid under --config and the flags [default]
  --config <file>      JSON object of fields (camelCase names, below) over the preset
  --out <dir>          run folder [runs/tune-<algorithm>]
  --resume             continue the run in --out from its checkpoint (exactly as if never stopped)
  --primer <file.mid>  the primer melody for --priming primer
  --corpus <path>      MIDI folder/file/list for --priming corpus (windows of 16 steps)
${PART_FLAGS_HELP}
  --quiet              no progress output
  --relaxed-simd       use the relaxed-SIMD kernels where the runtime accepts them
  -h, --help           this text

The run folder receives: config.json (the resolved settings), metrics.jsonl (reward curves, TD loss,
evaluations), checkpoint.safetensors, <algorithm>_tuned.safetensors (the tuned network, usable with
generate and evaluate), samples/*.mid (Note RNN and tuned), rewards.svg, note_probabilities.svg, and
evaluation.md / evaluation.json (the paper's statistics, Note RNN beside the tuned model).
Ctrl-C writes a checkpoint at the end of the current composition and exits; --resume continues it.
`;

function configFlagOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(CONFIG_FIELDS)) {
    out[name.replace(/[A-Z]/g, (l) => `-${l.toLowerCase()}`)] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  }
  return out;
}

export async function tuneCommand(args: string[]): Promise<void> {
  const configFlags = configFlagOptions();
  const v = parseFlags('tune', args, {
    model: { type: 'string' }, preset: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' },
    resume: { type: 'boolean' }, primer: { type: 'string' }, corpus: { type: 'string' }, quiet: { type: 'boolean' },
    track: { type: 'string' }, channel: { type: 'string' },
    'relaxed-simd': { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...configFlags,
  });
  if (v.help) {
    process.stdout.write(`${TUNE_HELP}\n${describeConfig().join('\n')}\n`);
    return;
  }
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const flags: Record<string, string | boolean> = {};
  for (const name of Object.keys(configFlags)) if (v[name] !== undefined) flags[name] = v[name] as string | boolean;
  let json: Record<string, unknown> = {};
  const configPath = s('config');
  if (configPath) {
    const text = new TextDecoder().decode(readInput(resolve(configPath), 'config file', 'Pass a JSON object of tuning fields (see --help).'));
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${configPath} is not valid JSON: ${(e as Error).message}`, 'tune');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`${configPath} must hold a JSON object of fields`, 'tune');
  }
  let config: TunerConfig;
  try {
    config = resolveConfig(s('preset') ?? 'default', json, flags);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message, 'tune');
    throw e;
  }
  const out = resolve(s('out') ?? `runs/tune-${config.algorithm}`);
  const checkpointPath = join(out, 'checkpoint.safetensors');
  let checkpointBytes: Uint8Array | null = null;
  if (v.resume) {
    if (!existsSync(checkpointPath)) throw new UsageError(`--resume: no checkpoint at ${checkpointPath}; start without --resume`, 'tune');
    checkpointBytes = new Uint8Array(readFileSync(checkpointPath));
    const saved = checkpointConfig(checkpointBytes, checkpointPath);
    // The saved settings win; only the length of the run may be extended.
    config = { ...saved, trainingSteps: flags['training-steps'] !== undefined ? config.trainingSteps : saved.trainingSteps };
  } else if (existsSync(checkpointPath)) {
    throw new UsageError(`${out} already holds a run; pass --resume to continue it or --out <new folder>`, 'tune');
  }

  const progress = new Progress(Boolean(v.quiet));
  const kernels = loadKernelsFromDist(Boolean(v['relaxed-simd']));
  const { path: modelFile, bytes } = readModelBytes(s('model'));
  const noteRnn = decodeModel(bytes, modelFile);
  const priming = await primingFor(config, s('primer'), s('corpus'), partFlags('tune', v));
  const tuner = new RlTuner(kernels, noteRnn, config, priming);
  const metricsPath = join(out, 'metrics.jsonl');
  if (checkpointBytes) {
    restoreTunerCheckpoint(tuner, checkpointBytes, checkpointPath);
    truncateMetrics(metricsPath, tuner.counters.step);
    progress.log(`resumed at step ${tuner.counters.step} of ${config.trainingSteps}`);
  } else {
    writeFileAtomic(metricsPath, '');
  }
  writeFileAtomic(join(out, 'config.json'), `${JSON.stringify({ config, model: modelFile, command: `rltuner tune ${args.join(' ')}` }, null, 2)}\n`);

  const writeCheckpoint = () => {
    try {
      writeFileAtomic(checkpointPath, encodeTunerCheckpoint(tuner));
    } catch (e) {
      if (e instanceof TuneDivergedError) throw new Error(`${e.message}\n  The last good checkpoint (${checkpointPath}, if any) was left as it was; lower --learning-rate or --reward-scaler.`);
      throw e;
    }
  };
  const stop = stopOnSignal(() => progress.log('stopping: writing a checkpoint at the end of this composition (Ctrl-C again to quit at once)...'));
  const started = performance.now();
  const startStep = tuner.counters.step;
  const nextMultiple = (step: number, every: number) => (every > 0 ? (Math.floor(step / every) + 1) * every : Infinity);
  let nextLog = nextMultiple(tuner.counters.step, config.logEvery);
  let nextEval = nextMultiple(tuner.counters.step, config.evalEvery);
  let nextCheckpoint = nextMultiple(tuner.counters.step, config.checkpointEvery);
  try {
    while (tuner.counters.step < config.trainingSteps) {
      const limit = Math.min(nextLog, nextEval, nextCheckpoint, config.trainingSteps);
      try {
        tuner.runUntilEpisodeEnd(config.trainingSteps, limit);
      } catch (e) {
        if (e instanceof TuneDivergedError) {
          throw new Error(`${e.message}\n  The last good checkpoint (${checkpointPath}, if any) was left as it was.`);
        }
        throw e;
      }
      const step = tuner.counters.step;
      if (step >= nextLog || step >= config.trainingSteps) {
        const m = tuner.takeInterval();
        appendFileSync(metricsPath, `${JSON.stringify(m)}\n`);
        const sps = (step - startStep) / ((performance.now() - started) / 1000);
        progress.update(`step ${step}/${config.trainingSteps}  ${Math.round(sps)} steps/s  ε ${m['charts/epsilon'].toFixed(2)}  ` +
          `reward ${m['charts/reward_total'].toFixed(2)} (Note RNN ${m['charts/reward_note_rnn'].toFixed(2)}, music theory ${m['charts/reward_music_theory'].toFixed(2)})  TD loss ${m['losses/td_loss'].toFixed(3)}`);
        nextLog = nextMultiple(step, config.logEvery);
      }
      if (step >= nextEval && step < config.trainingSteps) {
        const e = evaluatePolicy(tuner.policyModels(), tuner.reward, tuner.evaluationRandom(step), { count: config.evalCompositions, numNotes: config.numNotes, temperature: config.temperature, priming });
        appendFileSync(metricsPath, `${JSON.stringify(evaluationRecord(step, e))}\n`);
        progress.log(`step ${step}: ${summary(e)}`);
        nextEval = nextMultiple(step, config.evalEvery);
      }
      if (step >= nextCheckpoint) {
        writeCheckpoint();
        nextCheckpoint = nextMultiple(step, config.checkpointEvery);
      }
      await yieldToEventLoop();
      if (stop.requested) {
        writeCheckpoint();
        progress.log(`stopped at step ${tuner.counters.step}; checkpoint written to ${checkpointPath}. Continue with the same command plus --resume.`);
        return;
      }
    }
  } finally {
    stop.dispose();
    progress.done();
  }
  writeCheckpoint();
  const seconds = (performance.now() - started) / 1000;
  progress.log(`trained ${config.trainingSteps - startStep} steps in ${formatDuration(seconds)} (${Math.round((config.trainingSteps - startStep) / seconds)} steps/s)`);
  const tunedPath = join(out, `${config.algorithm}_tuned.safetensors`);
  writeFileAtomic(tunedPath, encodeModel(tuner.q, {
    data: noteRnn.info.data,
    training: noteRnn.info.training,
    notes: { algorithm: config.algorithm, tunedFrom: modelFile, config, steps: tuner.counters.step },
  }));
  finalReport(out, tuner, progress);
  process.stdout.write(`tuned model: ${tunedPath}\nrun folder: ${out}\n`);
}

async function primingFor(
  config: TunerConfig, primer: string | undefined, corpus: string | undefined, part: { track?: number; channel?: number },
): Promise<Priming> {
  if (config.priming === 'primer') {
    if (!primer) throw new UsageError('--priming primer needs --primer <file.mid>', 'tune');
    const bytes = readInput(resolve(primer), 'primer MIDI file', 'Pass a Standard MIDI File with a melody.');
    return { kind: 'primer', tokens: importMidi(bytes, { name: primer, ...part }).tokens };
  }
  if (config.priming === 'corpus') {
    if (!corpus) throw new UsageError('--priming corpus needs --corpus <MIDI folder|file|list>', 'tune');
    const { melodies } = buildCorpus(await readMidiSources(corpus), part);
    return { kind: 'corpus', melodies: melodies.map((m) => m.tokens), length: 16 };
  }
  return { kind: 'random_note' };
}

function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => line && JSON.parse(line).step <= step);
  writeFileSync(path, kept.map((l) => `${l}\n`).join(''));
}

function evaluationRecord(step: number, e: PolicyEvaluation): Record<string, unknown> {
  const s = e.statistics;
  return {
    step,
    'eval/notes_excessively_repeated': s.notesExcessivelyRepeated,
    'eval/notes_not_in_key': s.notesNotInKey,
    'eval/notes_in_motif': s.notesInMotif,
    'eval/notes_in_repeated_motif': s.notesInRepeatedMotif,
    'eval/leaps_resolved': s.leapsResolved,
    'eval/starting_with_tonic': s.startingWithTonic,
    'eval/mean_reward_per_note': s.meanRewardPerNote,
    'eval/mean_log_p_note_rnn': e.meanLogProbNoteRnn,
    'eval/kl_from_prior': e.klFromPrior,
    'eval/distinct_compositions': e.distinctCompositions,
  };
}

function summary(e: PolicyEvaluation): string {
  const s = e.statistics;
  const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  return `repeated ${pct(s.notesExcessivelyRepeated)}, not in key ${pct(s.notesNotInKey)}, in motif ${pct(s.notesInMotif)}, ` +
    `leaps resolved ${pct(s.leapsResolved)}, tonic start ${pct(s.startingWithTonic)}, log p ${e.meanLogProbNoteRnn.toFixed(2)}`;
}

/** Final evaluation, samples, plots. */
function finalReport(out: string, tuner: RlTuner, progress: Progress): void {
  const c = tuner.config;
  progress.log(`evaluating ${c.evalCompositions} compositions per model...`);
  const { noteRnn: base, tuned } = tuner.compareWithNoteRnn(c.evalCompositions);
  const extra = (e: PolicyEvaluation) => ({ 'mean log p under the Note RNN': e.meanLogProbNoteRnn, 'KL from the Note RNN per note (nats)': e.klFromPrior });
  const table = statisticsTable([
    { name: 'Note RNN', stats: base.statistics, extra: extra(base) },
    { name: c.algorithm === 'q' ? 'Q' : c.algorithm === 'psi' ? 'Ψ' : 'G', stats: tuned.statistics, extra: extra(tuned) },
  ]);
  writeFileAtomic(join(out, 'evaluation.md'), `# Evaluation (${c.evalCompositions} compositions per model, temperature ${c.temperature})\n\n${table}\n`);
  writeFileAtomic(join(out, 'evaluation.json'), `${JSON.stringify({ noteRnn: { ...base, compositions: undefined }, tuned: { ...tuned, compositions: undefined } }, null, 2)}\n`);
  process.stdout.write(`${table}\n`);

  for (let i = 0; i < c.sampleCount; i++) {
    writeFileAtomic(join(out, 'samples', `note_rnn_${i + 1}.mid`), exportMidi(base.compositions[i % base.compositions.length]));
    writeFileAtomic(join(out, 'samples', `${c.algorithm}_${i + 1}.mid`), exportMidi(tuned.compositions[i % tuned.compositions.length]));
  }

  // Reward curves from the metrics file.
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as IntervalMetrics);
  const curves = lines.filter((m) => m['charts/reward_total'] !== undefined);
  const series = (key: keyof IntervalMetrics, name: string) => ({ name, points: curves.map((m) => [m.step, m[key] as number] as [number, number]) });
  writeFileAtomic(join(out, 'rewards.svg'), lineChart({
    title: `Reward per step during ${c.algorithm} tuning`, xLabel: 'training step', yLabel: 'mean reward per step',
    series: [series('charts/reward_total', 'total'), series('charts/reward_music_theory', 'music theory'), series('charts/reward_note_rnn', 'Note RNN log p')],
  }));
  // Note probabilities over one composition of the tuned policy.
  const composition = tuned.compositions[0];
  const probs = policyProbabilities(tuner.policyModels(), composition, primingTokens(tuner.priming, tuner.evaluationRandom(-2)));
  writeFileAtomic(join(out, 'note_probabilities.svg'), heatmap({
    title: `${c.algorithm} policy: note probabilities over a composition`,
    rows: Array.from({ length: NUM_CLASSES }, (_, i) => tokenName(NUM_CLASSES - 1 - i)),
    columns: composition.length,
    values: probs,
  }));
}

/** Softmax of the acting scores at every step of `composition` (rows: classes high to low; columns: steps). */
function policyProbabilities(models: LstmModel[], composition: Uint8Array, prime: ArrayLike<number>): Float32Array {
  const steps = composition.length;
  const out = new Float32Array(NUM_CLASSES * steps);
  for (const m of models) m.resetState(1);
  let logits: Float32Array[] = [];
  for (let i = 0; i < prime.length; i++) logits = models.map((m) => m.step([prime[i]], 1));
  for (let t = 0; t < steps; t++) {
    const scores = new Float64Array(NUM_CLASSES);
    for (const l of logits) for (let j = 0; j < NUM_CLASSES; j++) scores[j] += l[j];
    const mx = Math.max(...scores);
    let sum = 0;
    for (let j = 0; j < NUM_CLASSES; j++) sum += Math.exp(scores[j] - mx);
    for (let j = 0; j < NUM_CLASSES; j++) out[(NUM_CLASSES - 1 - j) * steps + t] = Math.exp(scores[j] - mx) / sum;
    logits = models.map((m) => m.step([composition[t]], 1));
  }
  return out;
}
