/**
 * `rltuner tune`: refines the Note RNN with Q, Ψ or G learning (SPEC §4) through the one tuning loop
 * (src/rl/driver.ts), with hooks that write the run folder: metrics.jsonl, evaluations, checkpoints,
 * and at the end the tuned model, MIDI samples, SVG plots and the evaluation table. A run folder holds
 * one run: it is locked while in use, resumes exactly (--resume) from what it was started with or not at
 * all, and a stopped run (Ctrl-C, SIGTERM) checkpoints and exits 130 / 143.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { EVALUATION_ROWS, evaluationTable } from '../eval/report.js';
import type { PolicyEvaluation } from '../eval/evaluation.js';
import { fingerprintMismatches, tuningFingerprints, type Fingerprints } from '../io/fingerprint.js';
import { encodeModel, decodeModel, MODEL_FINGERPRINT_FORMAT, ModelFileError, REWARD_MODEL, type DecodedModel } from '../io/model_file.js';
import { crc32, type Crc32 } from '../io/safetensors.js';
import { buildCorpus } from '../music/corpus.js';
import { tokenName, NUM_CLASSES } from '../music/encoding.js';
import { exportMidi } from '../music/midi_export.js';
import { importMidi } from '../music/midi_import.js';
import { keyNamed } from '../music/keys.js';
import { readMidiSources } from '../node/corpus_files.js';
import { RunFolder } from '../node/run_folder.js';
import { heatmap, lineChart } from '../report/svg.js';
import { CheckpointCopies, encodeTunerCheckpointDetached, readTunerCheckpoint, restoreTunerCheckpoint, TUNE_CHECKPOINT_FORMAT, TUNE_CHECKPOINT_VERSION, type TunerCheckpoint } from '../rl/checkpoint.js';
import {
  ALGORITHM_LABELS, ConfigError, ConfigFileError, configOverridesFromText, MAX_CONFIG_FILE_BYTES, PRESET_NAMES, resolveConfigWithNotes, type TunerConfig,
} from '../rl/config.js';
import { createTuner, heatmapRows, runTuning, type AnyTuner, type BackgroundCheckpoint, type FinalReport, type LogRecord } from '../rl/driver.js';
import { primingFor, type Priming } from '../policy/sampling.js';
import { TuneDivergedError } from '../rl/tuner.js';
import {
  formatDuration, loadKernelsOnThreads, MIDI_FILE_LIMIT, MODEL_FILE_LIMIT, PART_FLAGS, partFlags, Progress, QUIET, readInput, readModelBytes, RELAXED_SIMD, stopOnSignal,
  threadsFlag, threadsRow, UsageError, yieldToEventLoop,
} from './common.js';
import { commandHelp, defineCommand, parseCommandLine, type FlagValues } from './flags.js';

export const TUNE = defineCommand({
  name: 'tune',
  title: 'refine a Note RNN with reinforcement learning under music-theory rewards',
  usage: [
    `tune [--model <note_rnn.safetensors>] [--preset ${PRESET_NAMES.join('|')}] [--config <file.json>]`,
    '               [--<field> <value> ...] [--out <dir>] [--resume | --overwrite]',
  ],
  configFields: true,
  flags: [
    {
      name: 'model', kind: 'string', arg: '<file>', doc: 'the Note RNN to tune',
      defaultText: 'the shipped default, models/note_rnn.safetensors; at --resume, the model the run was started with',
    },
    { name: 'preset', kind: 'choice', values: PRESET_NAMES, arg: '<name>', default: 'default', doc: 'named settings laid under --config and the flags (listed below)' },
    { name: 'config', kind: 'string', arg: '<file>', doc: 'JSON object of fields (camelCase names, below) over the preset; never written to' },
    { name: 'out', kind: 'string', arg: '<dir>', doc: 'run folder; it must be new or empty, or hold this kind of run', defaultText: 'runs/tune-<algorithm>' },
    {
      name: 'resume', kind: 'boolean',
      doc: "continue the run in --out from its checkpoint, exactly as if never stopped; only --training-steps may differ from the run's settings (to extend it)",
    },
    {
      name: 'overwrite', kind: 'boolean',
      doc: 'replace the earlier run in --out: only the files its marker lists as written by it are removed; a folder no rltuner tune run started is refused, untouched',
    },
    { name: 'primer', kind: 'string', arg: '<file.mid>', doc: 'the primer melody for --priming primer' },
    { name: 'corpus', kind: 'string', arg: '<path>', doc: 'MIDI folder/file/list for --priming corpus (windows of 16 steps)' },
    {
      name: 'reward-model', kind: 'string', arg: '<file>',
      doc: 'a reward model from `rltuner prefs train` (its reward_model.safetensors, or the run folder holding it): the learned preference reward, '
        + 'weighted by --weight-preference (pg: w·R(composition) in each return; q, psi, g: potential-based shaping w·(R(s\') − R(s)) each step); '
        + "recorded in config.json, fingerprinted, and at --resume the run's own",
    },
    ...PART_FLAGS,
    QUIET,
    RELAXED_SIMD,
    threadsRow(1),
  ],
  notes: `The run folder receives: config.json (the resolved settings and what the run started from),
metrics.jsonl (reward curves, TD loss, mean Q, each rule (rules/<name>) and composition term
(composition/<name>, the mean per finished composition, whatever its weight), steps per second,
evaluations with eval/, listener/ and data/ rows), checkpoint.safetensors, <algorithm>_tuned.safetensors
(the tuned network, usable with generate and evaluate), samples/*.mid (Note RNN and tuned), rewards.svg,
note_probabilities.svg, and evaluation.md / evaluation.json (the paper's statistics, the listener's and
the data rows, Note RNN beside the tuned model and the data reference at 32, 64 or 128 steps).
The composition terms (--weight-tonic-ending, --weight-rhythm, --weight-pitch-range,
--weight-phrase-recurrence; 0 by default) reward the finished composition at its last step; --num-notes
64 or 128 tunes longer pieces (phrase recurrence needs at least 64).
Ctrl-C (or SIGTERM) writes a checkpoint at the end of the current composition and exits with code 130
(143); the same command plus --resume continues it. A second Ctrl-C quits at once.`,
});

type TuneValues = FlagValues<(typeof TUNE.flags)[number]>;

/**
 * Training steps a checkpoint's data stays valid for while it is written in the background: the ring
 * slots they write are copied aside (16,385 slots, 16 MB for G at H = 100); a run that gets this far
 * before the write is done waits for it, so a slow disk costs time, never a checkpoint.
 */
const CHECKPOINT_WRITE_STEPS = 16_384;

/**
 * The checkpoint's CRC-32: Node's native one (zlib.crc32, Node >= 20.15), the same values as the portable
 * one and several times faster (bench/crc32_speed.ts measures both); the portable one where it is missing.
 */
const nativeCrc32: Crc32 = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32;

/** What a tuning run records about itself in config.json and its checkpoints, besides the config. */
interface RunRecord {
  /** Paths as given when the run started (resolved), to find them again at --resume. */
  model: string;
  primer?: string;
  corpus?: string;
  part?: { track?: number; channel?: number };
  /** The reward model file of the learned preference reward (resolved), when the run has one. */
  rewardModel?: string;
  /** Records metrics.jsonl held when the checkpoint was taken (in checkpoints only): a resume finds them all or refuses. */
  metricsRecords?: number;
}

/** What embeds the command can add: a stop request besides SIGINT/SIGTERM (the sweep's worker threads). */
export interface TuneCommandOptions {
  shouldStop?: () => boolean;
}

export async function tuneCommand(args: string[], options: TuneCommandOptions = {}): Promise<number> {
  const { values: v, given, config: flags, help } = parseCommandLine(TUNE, args);
  if (help) {
    process.stdout.write(commandHelp(TUNE));
    return 0;
  }
  if (v.resume && v.overwrite) throw new UsageError('--resume continues the run in --out and --overwrite replaces it; pass one of them', 'tune');
  const configPath = v.config === undefined ? undefined : resolve(v.config);
  const requested = resolveRequestedConfig(v.preset, configPath, flags);
  const threads = threadsFlag(v.threads, 'tune', Boolean(v['relaxed-simd']), 1);
  const out = v.out ?? `runs/tune-${requested.algorithm}`;
  const progress = new Progress(Boolean(v.quiet));
  const notice = (line: string) => process.stderr.write(`${line}\n`);
  const folder = RunFolder.claim(out, { kind: 'tune', resume: Boolean(v.resume), overwrite: Boolean(v.overwrite), notice, protect: configPath ? [configPath] : [] });
  let closeThreads = (): void => {};
  try {
    const checkpoint = v.resume ? readTunerCheckpoint(folder.readBytes('checkpoint.safetensors'), folder.path('checkpoint.safetensors')) : null;
    const record: RunRecord = checkpoint ? recordedRun(checkpoint) : {
      model: v.model === undefined ? readModelBytes(undefined).path : resolve(v.model),
      primer: v.primer && resolve(v.primer),
      corpus: v.corpus && resolve(v.corpus),
      part: partFlags(v),
      ...(v['reward-model'] !== undefined ? { rewardModel: rewardModelPath(v['reward-model']) } : {}),
    };
    const config = checkpoint ? configForResume(checkpoint, requested, given, flags) : requested;
    if (checkpoint) checkSameInputs(checkpoint, record, v);
    if (config.weightPreference > 0 && !record.rewardModel) {
      throw new UsageError(`--weight-preference ${config.weightPreference} weighs a learned preference reward: pass its reward model with --reward-model <file> (from \`rltuner prefs train\`)`, 'tune');
    }
    if (record.rewardModel && !(config.weightPreference > 0)) {
      throw new UsageError(`--reward-model ${record.rewardModel} counts only with a positive --weight-preference (it is 0): pass --weight-preference <w>, e.g. 1`, 'tune');
    }

    // The thread count is not part of the run: every count computes the same bits, so a resume may change it.
    const loaded = await loadKernelsOnThreads(threads, Boolean(v['relaxed-simd']));
    closeThreads = loaded.close;
    const { kernels, build, digest } = loaded;
    const model = readModelBytes(checkpoint ? record.model : v.model);
    const noteRnn = decodeModel(model.bytes, model.path);
    const { priming, tokens: primingMaterial } = await loadPriming(config, record);
    const rewardModel = record.rewardModel ? readRewardModel(record.rewardModel) : null;
    const fingerprints = tuningFingerprints(`${TUNE_CHECKPOINT_FORMAT}/${TUNE_CHECKPOINT_VERSION}`, build, model.bytes, primingMaterial, digest, rewardModel?.bytes);
    if (checkpoint) {
      const mismatches = fingerprintMismatches(checkpoint.fingerprints as Partial<Fingerprints>, fingerprints, 'the run');
      if (mismatches.length) {
        throw new UsageError(`--resume: ${folder.dir} was started from something else:\n  ${mismatches.join('\n  ')}\n  Resume with what the run started from, or start a new run in another folder.`, 'tune');
      }
    }

    const tuner = createTuner(kernels, noteRnn, config, priming, undefined, rewardModel?.decoded ?? null);
    let metricsRecords = 0;
    if (checkpoint) {
      restoreTunerCheckpoint(tuner, checkpoint);
      metricsRecords = checkedMetricsAtResume(folder, checkpoint, tuner.counters.step);
      progress.log(`resumed at step ${tuner.counters.step} of ${config.trainingSteps}`);
    } else {
      folder.writeAtomic('metrics.jsonl', '');
    }
    if (!checkpoint || config.trainingSteps !== checkpoint.config.trainingSteps) {
      folder.writeAtomic('config.json', `${JSON.stringify({ config: config, run: record, fingerprints, command: `rltuner tune ${args.join(' ')}` }, null, 2)}\n`);
    }

    // Checkpoints are written in the background; training goes on for up to CHECKPOINT_WRITE_STEPS steps
    // meanwhile (the driver then waits), with the ring slots those steps write copied aside. The driver
    // waits for one checkpoint's write before it asks for the next, so they share the copies' memory.
    const checkpointCopies = new CheckpointCopies();
    const writeCheckpoint = (t: AnyTuner): BackgroundCheckpoint => ({
      written: folder.writeAtomicInBackground(
        'checkpoint.safetensors', encodeTunerCheckpointDetached(t, CHECKPOINT_WRITE_STEPS, fingerprints, { ...record, metricsRecords }, nativeCrc32, checkpointCopies)),
      validForSteps: CHECKPOINT_WRITE_STEPS,
    });
    const stop = stopOnSignal(() => progress.log('stopping: writing a checkpoint at the end of this composition (Ctrl-C again to quit at once)...'));
    let outcome;
    try {
      // Records are appended and fsynced by the I/O threads; a checkpoint reaches the disk only after the
      // records before it.
      outcome = await runTuning(tuner, {
        onLog: (m: LogRecord) => {
          folder.appendJsonLineInBackground('metrics.jsonl', m);
          metricsRecords++;
          progress.bar(m.step, config.trainingSteps, `step ${m.step}/${config.trainingSteps}  ${Math.round(m['charts/SPS'])} steps/s  ${progressFigures(config, m)}`);
        },
        onEvaluation: (rec, e) => {
          folder.appendJsonLineInBackground('metrics.jsonl', rec);
          metricsRecords++;
          progress.log(`step ${rec.step}: ${summary(e)}`);
        },
        onCheckpoint: (t) => {
          progress.log(`checkpoint at step ${t.counters.step}`);
          return writeCheckpoint(t);
        },
        shouldStop: () => stop.requested || (options.shouldStop?.() ?? false),
        yieldControl: yieldToEventLoop,
        sliceMs: 20,
      });
    } catch (e) {
      if (e instanceof TuneDivergedError) {
        throw new Error(`${e.message}\n  The last good checkpoint (${folder.path('checkpoint.safetensors')}, if any) was left as it was.`);
      }
      throw e;
    } finally {
      // A checkpoint still being written when the run failed is finished (or its own failure ignored: the
      // run's failure is the one to report, and the checkpoint before it is then left as it was).
      await folder.settle().catch(() => {});
      stop.dispose();
      progress.done();
    }
    await folder.settle(); // the records appended in the background, and the last checkpoint, are on disk
    if (outcome.stopped) {
      progress.log(`stopped at step ${tuner.counters.step}; checkpoint written to ${folder.path('checkpoint.safetensors')}. Continue with the same command plus --resume.`);
      return stop.requested ? stop.exitCode : 130;
    }
    progress.log(`trained ${outcome.steps} steps in ${formatDuration(outcome.seconds)} (${Math.round(outcome.steps / Math.max(1e-9, outcome.seconds))} steps/s)`);
    const tunedName = `${config.algorithm}_tuned.safetensors`;
    folder.writeAtomic(tunedName, encodeModel(tuner.tunedNetwork, {
      data: noteRnn.info.data,
      training: noteRnn.info.training,
      notes: { algorithm: config.algorithm, tunedFrom: model.path, config: config, steps: tuner.counters.step, ...(record.rewardModel ? { rewardModel: record.rewardModel } : {}) },
      fingerprints: { ...fingerprints, format: MODEL_FINGERPRINT_FORMAT },
    }));
    if (outcome.final) writeFinalReport(folder, tuner, outcome.final);
    process.stdout.write(`tuned model: ${folder.path(tunedName)}\nrun folder: ${folder.dir}\n`);
    return 0;
  } finally {
    closeThreads();
    folder.release();
  }
}

/** The config asked for on the command line: preset, then the --config file, then the flags. */
function resolveRequestedConfig(preset: string, configPath: string | undefined, flags: Record<string, string | boolean>): TunerConfig {
  try {
    let json: Record<string, unknown> = {};
    if (configPath) {
      const bytes = readInput(configPath, 'config file', 'Pass a JSON object of tuning fields (see --help).', { bytes: MAX_CONFIG_FILE_BYTES, name: 'MAX_CONFIG_FILE_BYTES' });
      json = configOverridesFromText(new TextDecoder().decode(bytes), configPath);
    }
    const { config, notes } = resolveConfigWithNotes(preset, json, flags, configPath);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    return config;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ConfigFileError) throw new UsageError(e.message, 'tune');
    throw e;
  }
}

function recordedRun(checkpoint: TunerCheckpoint): RunRecord {
  const run = checkpoint.run as RunRecord | null;
  if (typeof run !== 'object' || run === null || typeof run.model !== 'string') {
    throw new UsageError(`--resume: ${checkpoint.source} does not record what the run started from`, 'tune');
  }
  const { metricsRecords: _, ...inputs } = run;
  return inputs;
}

/**
 * metrics.jsonl at --resume: records past the checkpoint's step are dropped (they are written again), and
 * every record up to it must be there — a missing, shortened or replaced file is refused, since the run
 * would otherwise finish with a record that lies. Returns the records kept.
 */
function checkedMetricsAtResume(folder: RunFolder, checkpoint: TunerCheckpoint, step: number): number {
  const path = folder.path('metrics.jsonl');
  const expected = (checkpoint.run as RunRecord).metricsRecords;
  if (!folder.exists('metrics.jsonl')) {
    throw new UsageError(`--resume: ${path} is missing, but the checkpoint at step ${step} was taken after ${expected ?? 'some'} records of it; ` +
      'restore the file, or start the run over (--overwrite)', 'tune');
  }
  folder.truncateJsonLines('metrics.jsonl', (m) => typeof m.step === 'number' && m.step <= step);
  const kept = folder.readJsonLines('metrics.jsonl').length;
  if (typeof expected === 'number' && kept !== expected) {
    throw new UsageError(`--resume: ${path} holds ${kept} records up to step ${step}, but the checkpoint was taken after ${expected}: ` +
      'the file was shortened or replaced. Restore it, or start the run over (--overwrite)', 'tune');
  }
  return kept;
}

/**
 * The saved config, with --training-steps extended if given. Any other setting given (flag, --config or
 * --preset) must equal the saved one: a resume cannot honour a change, so it refuses it.
 */
function configForResume(checkpoint: TunerCheckpoint, requested: TunerConfig, flagsGiven: ReadonlySet<string>, flags: Record<string, string | boolean>): TunerConfig {
  const saved = checkpoint.config;
  const given = flagsGiven.has('config') || flagsGiven.has('preset') ? Object.keys(saved) : Object.keys(flags).map((f) => f.replace(/-([a-z])/g, (_, l: string) => l.toUpperCase()));
  const changed = given
    .filter((field) => field !== 'trainingSteps')
    .filter((field) => requested[field as keyof TunerConfig] !== saved[field as keyof TunerConfig])
    .map((field) => `${field}: the run has ${JSON.stringify(saved[field as keyof TunerConfig])}, the command asks for ${JSON.stringify(requested[field as keyof TunerConfig])}`);
  if (changed.length) {
    throw new UsageError(`--resume cannot change a run's settings (only --training-steps can extend it):\n  ${changed.join('\n  ')}\n  Drop those flags, or start a new run in another folder.`, 'tune');
  }
  const trainingSteps = flags['training-steps'] !== undefined ? requested.trainingSteps : saved.trainingSteps;
  const step = checkpoint.state.counters.step;
  if (trainingSteps < step) {
    throw new UsageError(`--resume --training-steps ${trainingSteps}: the checkpoint in ${checkpoint.source} is already at step ${step}; ` +
      `pass --training-steps ${step} or more (or leave it out to finish the run's own ${saved.trainingSteps})`, 'tune');
  }
  return { ...saved, trainingSteps };
}

/** --model / --primer / --corpus / --reward-model / --track / --channel given at --resume must name what the run used. */
function checkSameInputs(checkpoint: TunerCheckpoint, record: RunRecord, v: TuneValues): void {
  const differs: string[] = [];
  const path = (flag: 'model' | 'primer' | 'corpus') => {
    const given = v[flag];
    if (given !== undefined && resolve(given) !== record[flag]) differs.push(`--${flag}: the run used ${record[flag] ?? 'none'}, the command gives ${resolve(given)}`);
  };
  path('model');
  path('primer');
  path('corpus');
  const rewardModel = v['reward-model'];
  if (rewardModel !== undefined && rewardModelPath(rewardModel) !== record.rewardModel) {
    differs.push(`--reward-model: the run used ${record.rewardModel ?? 'none'}, the command gives ${rewardModelPath(rewardModel)}`);
  }
  const part = partFlags(v);
  for (const key of ['track', 'channel'] as const) {
    if (part[key] !== undefined && part[key] !== record.part?.[key]) differs.push(`--${key}: the run used ${record.part?.[key] ?? 'the default'}, the command gives ${part[key]}`);
  }
  if (differs.length) throw new UsageError(`--resume: ${checkpoint.source}:\n  ${differs.join('\n  ')}\n  Drop those flags (the run remembers its inputs), or start a new run in another folder.`, 'tune');
}

/** The reward model file --reward-model names: the file, or in a run folder of `prefs train` its reward_model.safetensors. */
function rewardModelPath(given: string): string {
  const path = resolve(given);
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'reward_model.safetensors') : path;
}

/** The reward model file's bytes (read within MAX_MODEL_FILE_BYTES) and its checked contents; problems name the file. */
function readRewardModel(path: string): { bytes: Uint8Array; decoded: DecodedModel } {
  const bytes = readInput(path, 'reward model file', 'Pass the reward_model.safetensors written by `rltuner prefs train` (or its run folder).', MODEL_FILE_LIMIT);
  try {
    return { bytes, decoded: decodeModel(bytes, path, REWARD_MODEL) };
  } catch (e) {
    throw e instanceof ModelFileError ? new UsageError(e.message, 'tune') : e;
  }
}

/** The priming the config asks for, loaded from the recorded primer or corpus; and the tokens fingerprinted. */
async function loadPriming(config: TunerConfig, record: RunRecord): Promise<{ priming: Priming; tokens: ArrayLike<number>[] | null }> {
  if (config.priming === 'primer') {
    if (!record.primer) throw new UsageError('--priming primer needs --primer <file.mid>', 'tune');
    const bytes = readInput(record.primer, 'primer MIDI file', 'Pass a Standard MIDI File with a melody.', MIDI_FILE_LIMIT);
    const primer = importMidi(bytes, { name: record.primer, ...record.part }).tokens;
    return { priming: primingFor('primer', { primer }), tokens: [primer] };
  }
  if (config.priming === 'corpus') {
    if (!record.corpus) throw new UsageError('--priming corpus needs --corpus <MIDI folder|file|list>', 'tune');
    const { melodies } = buildCorpus(await readMidiSources(record.corpus), record.part ?? {});
    const corpus = melodies.map((m) => m.tokens);
    try {
      return { priming: primingFor('corpus', { corpus }), tokens: corpus };
    } catch (e) {
      throw new UsageError(`--corpus ${record.corpus}: ${(e as Error).message}`, 'tune');
    }
  }
  return { priming: primingFor('random_note'), tokens: null };
}

/** A logging interval's figures for the progress line: what the algorithm learns from. */
function progressFigures(config: TunerConfig, m: LogRecord): string {
  const f = (key: string, digits: number) => (typeof m[key] === 'number' && Number.isFinite(m[key]) ? m[key].toFixed(digits) : '–');
  if (config.algorithm === 'pg') {
    return `return ${f('charts/return', 2)}  log p ${f('charts/reward_note_rnn', 2)}  KL ${f('charts/kl', 3)}  β ${f('charts/kl_coefficient', 3)}  loss ${f('losses/policy_loss', 3)}`;
  }
  return `ε ${f('charts/epsilon', 2)}  reward ${f('charts/reward_total', 2)} (Note RNN ${f('charts/reward_note_rnn', 2)}, music theory ${f('charts/reward_music_theory', 2)})  ` +
    `TD loss ${f('losses/td_loss', 3)}  mean Q ${f('losses/q_values', 2)}`;
}

function summary(e: PolicyEvaluation): string {
  const s = e.statistics;
  const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  const row = (key: string) => EVALUATION_ROWS.find((r) => r.key === key)!.value(e);
  const tv = (x: number | null) => (x === null ? '–' : x.toFixed(2));
  return `repeated ${pct(s.notesExcessivelyRepeated)}, not in key ${pct(s.notesNotInKey)}, in motif ${pct(s.notesInMotif)}, ` +
    `leaps resolved ${pct(s.leapsResolved)}, tonic start ${pct(s.startingWithTonic)}, log p ${e.meanLogProbNoteRnn.toFixed(2)}, ` +
    `duration TV ${tv(row('note_duration_tv'))}, ends on tonic ${pct(row('last_note_on_tonic'))}`;
}

/** Evaluation table, samples and plots of a finished run. */
function writeFinalReport(folder: RunFolder, tuner: AnyTuner, final: FinalReport): void {
  const c = tuner.config;
  const { noteRnn: base, tuned } = final;
  const table = evaluationTable([
    { name: 'Note RNN', evaluations: [base] },
    { name: ALGORITHM_LABELS[c.algorithm], evaluations: [tuned] },
  ]);
  folder.writeAtomic('evaluation.md', `# Evaluation (${c.evalCompositions} compositions per model, temperature ${c.temperature})\n\n${table}\n`);
  const plain = (e: PolicyEvaluation) => ({ ...e, compositions: undefined, primers: undefined });
  folder.writeAtomic('evaluation.json', `${JSON.stringify({ noteRnn: plain(base), tuned: plain(tuned) }, null, 2)}\n`);
  process.stdout.write(`${table}\n`);

  // The tuned model's samples carry the key the rules rewarded (the key of its notes), the Note RNN's the
  // C major its training melodies were moved to (as \`generate\` writes them); both 4/4, the bars the
  // rules count in.
  const meter = { numerator: 4, denominator: 4 };
  final.samples.noteRnn.forEach((m, i) => folder.writeAtomic(`samples/note_rnn_${i + 1}.mid`, exportMidi(m, { key: { tonic: 0, mode: 'major' }, timeSignature: meter })));
  final.samples.tuned.forEach((m, i) => folder.writeAtomic(`samples/${c.algorithm}_${i + 1}.mid`, exportMidi(m, { key: keyNamed(c.key, c.mode), timeSignature: meter })));

  const curves = folder.readJsonLines('metrics.jsonl').filter((m) => typeof m['charts/reward_total'] === 'number');
  const series = (key: string, name: string) => ({ name, points: curves.map((m) => [m.step as number, m[key] as number] as [number, number]) });
  folder.writeAtomic('rewards.svg', lineChart({
    title: `Reward per step during ${c.algorithm} tuning`, xLabel: 'training step', yLabel: 'mean reward per step',
    series: [series('charts/reward_total', 'total'), series('charts/reward_music_theory', 'music theory'), series('charts/reward_note_rnn', 'Note RNN log p')],
  }));
  const { composition, probabilities } = final.heatmap;
  folder.writeAtomic('note_probabilities.svg', heatmap({
    title: `${c.algorithm} policy: note probabilities over a composition (temperature ${c.temperature})`,
    rows: Array.from({ length: NUM_CLASSES }, (_, i) => tokenName(NUM_CLASSES - 1 - i)),
    columns: composition.length,
    values: heatmapRows(probabilities, composition.length),
  }));
}
