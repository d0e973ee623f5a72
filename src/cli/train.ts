/**
 * `rltuner train`: trains a Note RNN on MIDI melodies (SPEC §3), validates after every epoch, keeps the
 * best model by validation loss, checkpoints every epoch (resumable with --resume), and reports test
 * figures beside smoothed n-gram baselines.
 *
 * The run folder is claimed (src/node/run_folder.ts): a new run needs an empty folder (or --overwrite),
 * --resume needs this kind of run's checkpoint, and a lock stops a second run there. The checkpoint and
 * the trained model record fingerprints of the data and the kernel build; --resume refuses different data,
 * build or settings, naming both values. Per epoch the metrics line is appended before the checkpoint that
 * records the epoch (a resume drops lines past the checkpoint), and the model file holds no wall-clock
 * figures, so the same command gives the same bytes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeModel, MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../io/model_file.js';
import { fingerprintMismatches, type Fingerprints } from '../io/fingerprint.js';
import { formatCorpusMarkdown, formatCorpusSummary } from '../music/corpus.js';
import { loadSplits } from '../node/training_data.js';
import { RunFolder } from '../node/run_folder.js';
import {
  decodeTrainingCheckpoint, encodeTrainingCheckpoint, restoreTrainingCheckpoint, TRAIN_CHECKPOINT_FORMAT, TRAIN_CHECKPOINT_VERSION,
  TrainingCheckpointError, type TrainingCheckpoint,
} from '../train/checkpoint.js';
import { formatNgramTable, ngramBaselines, type NgramBaselineRow } from '../train/ngram.js';
import {
  DEFAULT_TRAINING, NoteRnnTrainer, runTraining, TRAINING_LIMITS, type EpochRecord, type SequenceMetrics, type TrainingSettings,
} from '../train/note_rnn_training.js';
import { ENCODING_NAMES, type EncodingName } from '../music/encodings.js';
import {
  DATA_FLAGS, HELD_OUT_DESCRIPTION, IMPORT_BEFORE_KEYS, TIMING_BEFORE_ALIGNED, TrainingDataError, type DataChoice, type Splits,
} from '../train/training_data.js';
import { hiddenSizesProblem, MAX_HIDDEN_UNITS, MAX_LAYERS } from '../engine/layout.js';
import {
  formatDuration, loadKernelsOnThreads, PART_FLAGS, partFlags, Progress, QUIET, RELAXED_SIMD, SEED_RANGE, stopOnSignal, threadsFlag, threadsRow, UsageError,
  yieldToEventLoop, type KernelBuild, type LoadedKernels,
} from './common.js';
import { commandHelp, defineCommand, inGroup, limitedSettingRows, parseCommandLine, type FlagValues } from './flags.js';
import { importFlagRows, importFlags } from './key_flags.js';

/** A training setting's flag: its range (TRAINING_LIMITS) and default (DEFAULT_TRAINING) from src/train (train's and distill's). */
export const trainingSettingRow = limitedSettingRows(TRAINING_LIMITS, DEFAULT_TRAINING);

export const TRAIN = defineCommand({
  name: 'train',
  title: 'train a Note RNN (LSTM) on monophonic MIDI melodies',
  usage: [
    'train --nottingham <dir> [options]      the Nottingham set with its standard splits',
    'train --data <path> [--valid <path>] [--test <path>] [options]',
    'train --out <dir> --resume [--epochs <n>]',
  ],
  flags: [
    ...inGroup('Data (a path is a folder of .mid files, one .mid file, or a text file listing .mid paths)', [
      { name: 'nottingham', kind: 'string', arg: '<dir>', doc: 'folder with melody/ and splits/{train,valid,test}.txt (the repository ships data/nottingham)' },
      {
        name: 'data', kind: 'string', arg: '<path>',
        doc: 'training melodies; without --valid, the files whose name hashes into the lowest tenth are held out for validation (the same files whatever the seed; listed in split.json)',
      },
      { name: 'valid', kind: 'string', arg: '<path>', doc: 'validation melodies (chooses the best epoch and stops training)' },
      { name: 'test', kind: 'string', arg: '<path>', doc: 'test melodies (reported once, with the best model)' },
      ...PART_FLAGS,
      ...importFlagRows(false),
    ]),
    ...inGroup('Model and training', [
      {
        name: 'hidden', field: 'hiddenSizes', kind: 'integers', default: DEFAULT_TRAINING.hiddenSizes, arg: '<n[,n..]>', doc: 'LSTM layer sizes, bottom first',
        allowed: `1 to ${MAX_LAYERS} layers of 1..${MAX_HIDDEN_UNITS} units`, problem: hiddenSizesProblem,
      },
      trainingSettingRow('epochs', 'epochs', '<n>', 'the most passes over the training set'),
      trainingSettingRow('patience', 'patience', '<n>', 'stop when validation has not improved for this many epochs'),
      trainingSettingRow('batch', 'batchSize', '<n>', 'melodies trained side by side'),
      trainingSettingRow('window', 'windowSteps', '<n>', "BPTT window in steps (state carries across a melody's windows; 128 or more trains on whole phrases of a tune at a time)"),
      trainingSettingRow('lr', 'learningRate', '<x>', 'Adam learning rate'),
      trainingSettingRow('clip', 'clipNorm', '<x>', 'global gradient-norm bound'),
      {
        name: 'encoding', field: 'encoding', kind: 'choice', values: ENCODING_NAMES, default: DEFAULT_TRAINING.encoding, arg: '<name>',
        doc: 'basic: the 38 classes in and out; lookback: Magenta\'s Lookback RNN (the events one and two bars back, whether they repeat, where the next step falls in the bar, and two more output classes "repeat the event of one / two bars ago"; bars from each melody\'s meter and pickup); phrase: lookback that also looks four bars back, where phrases come back (rltuner\'s own; no Magenta model has it)',
      },
      trainingSettingRow('dropout', 'dropout', '<p>', "drop each unit of the LSTM layers' outputs with probability p while training (Magenta trains with 0.5); masks come from --seed, evaluation never drops"),
      trainingSettingRow('input-dropout', 'inputDropout', '<p>', "drop each entry of the first layer's input with probability p while training"),
      trainingSettingRow('weight-decay', 'weightDecay', '<x>', 'decoupled weight decay (AdamW): weight matrices shrink by lr·x per step'),
      { name: 'seed', field: 'seed', kind: 'integer', ...SEED_RANGE, default: DEFAULT_TRAINING.seed, doc: 'random seed (same seed, data and build give the same model)' },
    ]),
    ...inGroup('Output', [
      {
        name: 'out', kind: 'string', arg: '<dir>', default: 'runs/train',
        doc: 'run folder: note_rnn.safetensors (best model), checkpoint.safetensors (every epoch), metrics.jsonl, report.md, corpus.md and corpus.json (every file: part, key, meter, what was dropped), split.json. It must be empty or new.',
      },
      {
        name: 'resume', kind: 'boolean',
        doc: 'continue the run in --out from its checkpoint, with its data and settings: flags left out are taken from it, flags given must match it (only --epochs may change; the data flags are left out together or all given as before)',
      },
      {
        name: 'overwrite', kind: 'boolean',
        doc: 'replace the previous train run in --out: only the files its marker lists as written by it are removed; a folder no rltuner train run started is refused, untouched',
      },
      { name: 'no-baselines', kind: 'boolean', doc: 'skip the n-gram baselines (fitted on train, reported on valid and test)' },
      RELAXED_SIMD,
      threadsRow(1),
      QUIET,
    ]),
  ],
  notes: `Numbers are plain decimals (12, 0.5, 1e-3); boolean flags also take =true / =false (e.g. --quiet=false).

Ctrl-C (or SIGTERM) stops at the end of the current epoch, after its checkpoint is written, and exits
with 130 (143); --resume continues from there exactly (weights, Adam moments, random state, history).
The same command, data and kernel build give a byte-identical note_rnn.safetensors.`,
});

type TrainValues = FlagValues<(typeof TRAIN.flags)[number]>;

const CHECKPOINT_FILE = 'checkpoint.safetensors';
const MODEL_FILE = 'note_rnn.safetensors';
const METRICS_FILE = 'metrics.jsonl';

/** The flag of each training setting (from the table). */
const SETTING_FLAGS = Object.fromEntries(
  TRAIN.flags.flatMap((row) => ('field' in row && row.field !== undefined ? [[row.field, row.name]] : [])),
) as Record<keyof TrainingSettings, string>;

/** The training settings given on the command line (absent: not given). */
function settingsFromFlags(values: TrainValues, given: ReadonlySet<string>): Partial<TrainingSettings> {
  const settings: Record<string, unknown> = {};
  for (const [field, flag] of Object.entries(SETTING_FLAGS)) if (given.has(flag)) settings[field] = values[flag as keyof TrainValues];
  return settings as Partial<TrainingSettings>;
}

/** The data flags given on the command line. */
function dataFromFlags(values: TrainValues): DataChoice {
  const paths: DataChoice['paths'] = {};
  for (const flag of DATA_FLAGS) {
    const given = values[flag];
    if (given !== undefined) paths[flag] = { given, path: resolve(given) };
  }
  const flags = importFlags('train', values);
  return { paths, part: partFlags(values), import: { transposeBy: flags.transposeBy ?? 'key', keepKey: flags.transpose === false, timing: flags.timing ?? 'aligned' } };
}

/**
 * The run a resume continues: the checkpoint's settings and data, checked against the flags given.
 * A setting flag left out takes the checkpoint's value; the data flags (--nottingham, --data, --valid,
 * --test) are one choice: left out together, or given as the run was started. Each differing flag is one
 * line "--<flag>: the checkpoint has <a>, this run has <b>".
 */
function resumedChoice(saved: TrainingCheckpoint, given: Partial<TrainingSettings>, data: DataChoice): { settings: TrainingSettings; data: DataChoice; mismatches: string[] } {
  const mismatches: string[] = [];
  const shown = (v: unknown) => (v === undefined ? 'none' : Array.isArray(v) ? v.join(',') : String(v));
  for (const [key, flag] of Object.entries(SETTING_FLAGS) as [keyof TrainingSettings, string][]) {
    if (key === 'epochs' || key === 'patience') continue;
    // Checkpoints from before a setting existed ran with its default.
    const a = saved.state.settings[key] ?? DEFAULT_TRAINING[key], b = given[key];
    if (b !== undefined && shown(a) !== shown(b)) mismatches.push(`--${flag}: the checkpoint has ${shown(a)}, this run has ${shown(b)}`);
  }
  const givenAnyData = Object.keys(data.paths).length > 0;
  if (givenAnyData) {
    for (const flag of DATA_FLAGS) {
      const a = saved.data.paths[flag]?.path, b = data.paths[flag]?.path;
      if (a !== b) mismatches.push(`--${flag}: the checkpoint has ${shown(a)}, this run has ${shown(b)}`);
    }
  }
  for (const flag of ['track', 'channel'] as const) {
    const a = saved.data.part[flag], b = data.part[flag];
    if (b !== undefined && a !== b) mismatches.push(`--${flag}: the checkpoint has ${shown(a)}, this run has ${shown(b)}`);
  }
  if (givenAnyData) {
    const a = saved.data.import ?? IMPORT_BEFORE_KEYS, b = data.import ?? IMPORT_BEFORE_KEYS;
    if (a.transposeBy !== b.transposeBy || a.keepKey !== b.keepKey) {
      mismatches.push(`--transpose-by/--keep-key: the checkpoint has ${a.keepKey ? 'keep-key' : a.transposeBy}, this run has ${b.keepKey ? 'keep-key' : b.transposeBy}`);
    }
    if ((a.timing ?? TIMING_BEFORE_ALIGNED) !== (b.timing ?? TIMING_BEFORE_ALIGNED)) {
      mismatches.push(`--timing: the checkpoint has ${a.timing ?? TIMING_BEFORE_ALIGNED}, this run has ${b.timing ?? TIMING_BEFORE_ALIGNED}`);
    }
  }
  // Runs from before early stopping ran every epoch: they keep doing so unless --patience is given.
  const savedPatience = saved.state.settings.patience ?? 100000;
  const settings = { ...saved.state.settings, epochs: given.epochs ?? saved.state.settings.epochs, patience: given.patience ?? savedPatience };
  return { settings, data: { paths: saved.data.paths, part: saved.data.part, import: saved.data.import ?? IMPORT_BEFORE_KEYS }, mismatches };
}

/** One epoch's record without wall-clock figures (what the model file keeps). */
const withoutSeconds = (history: EpochRecord[]) => history.map(({ epoch, trainNats, valid }) => ({ epoch, trainNats, valid }));

const fmt = (m: SequenceMetrics) =>
  `${m.nats.toFixed(4)} nats/step, perplexity ${m.perplexity.toFixed(3)}, accuracy ${(100 * m.accuracy).toFixed(2)}%, on events ${(100 * m.accuracyOnEvents).toFixed(2)}%`;

export async function trainCommand(args: string[]): Promise<number | void> {
  const { values, given: flagsGiven, help } = parseCommandLine(TRAIN, args);
  if (help) {
    process.stdout.write(commandHelp(TRAIN));
    return;
  }
  const given = settingsFromFlags(values, flagsGiven);
  const givenData = dataFromFlags(values);
  if (givenData.paths.nottingham && (givenData.paths.data || givenData.paths.valid || givenData.paths.test)) {
    throw new UsageError('--nottingham brings its own splits; pass it alone, or --data [--valid] [--test] instead', 'train');
  }
  if (givenData.paths.nottingham) {
    const dir = givenData.paths.nottingham.path;
    if (!existsSync(resolve(dir, 'splits'))) {
      throw new UsageError(`--nottingham ${dir}: no splits/ folder there (expected melody/ and splits/{train,valid,test}.txt)`, 'train');
    }
  }
  const resume = Boolean(values.resume);
  if (!resume && !givenData.paths.nottingham && !givenData.paths.data) {
    throw new UsageError('no training data: pass --nottingham <dir> or --data <folder|file|list> (or --resume to continue a run)', 'train');
  }
  const progress = new Progress(Boolean(values.quiet));
  const notice = (line: string) => process.stderr.write(`note: ${line}\n`);
  const folder = RunFolder.claim(values.out, {
    kind: 'train', resume, overwrite: Boolean(values.overwrite), notice,
  });
  try {
    return await train(folder, values, args, given, givenData, progress, notice);
  } finally {
    folder.release();
  }
}

async function train(
  folder: RunFolder, values: TrainValues, args: string[], given: Partial<TrainingSettings>, givenData: DataChoice, progress: Progress,
  notice: (line: string) => void,
): Promise<number | void> {
  const checkpointPath = folder.path(CHECKPOINT_FILE);
  let saved: TrainingCheckpoint | null = null;
  let settings: TrainingSettings = { ...DEFAULT_TRAINING, hiddenSizes: [...DEFAULT_TRAINING.hiddenSizes], ...given };
  let data = givenData;
  let relaxed = Boolean(values['relaxed-simd']);
  if (values.resume) {
    try {
      saved = decodeTrainingCheckpoint(folder.readBytes(CHECKPOINT_FILE), checkpointPath);
    } catch (e) {
      throw e instanceof TrainingCheckpointError ? new UsageError(e.message, 'train') : e;
    }
    const choice = resumedChoice(saved, given, givenData);
    if (choice.mismatches.length) throw resumeRefusal(checkpointPath, choice.mismatches);
    if (choice.settings.epochs < saved.state.epoch) {
      throw new UsageError(`--epochs ${choice.settings.epochs}: the checkpoint in ${folder.dir} has already run ${saved.state.epoch} epochs; pass --epochs ${saved.state.epoch} or more`, 'train');
    }
    settings = choice.settings;
    data = choice.data;
    if (values['relaxed-simd'] === undefined) relaxed = saved.fingerprints.kernelBuild === 'relaxed';
  }
  // Any thread count computes the same bits, so it is not part of the run (a resume may change it).
  const threads = threadsFlag(values.threads, 'train', relaxed, 1);
  const loaded = await loadKernelsOnThreads(threads, relaxed);
  const stop = stopOnSignal(() => progress.log('stopping at the end of this epoch (Ctrl-C again to quit at once)...'));
  try {
    return await runEpochs(folder, values, args, settings, data, saved, loaded, progress, notice, stop);
  } finally {
    loaded.close();
    stop.dispose();
    progress.done();
  }
}

function resumeRefusal(checkpointPath: string, mismatches: string[]): UsageError {
  return new UsageError(
    `--resume: this run differs from the checkpoint ${checkpointPath}:\n${mismatches.map((m) => `  ${m}`).join('\n')}\n` +
      '  Resume with the run\'s own data, build and settings (flags left out are taken from the checkpoint; only --epochs may change), ' +
      'or start a new run with --out <new folder>', 'train');
}

async function runEpochs(
  folder: RunFolder, values: TrainValues, args: string[], settings: TrainingSettings, data: DataChoice, saved: TrainingCheckpoint | null,
  { kernels, build, digest }: LoadedKernels, progress: Progress, notice: (line: string) => void, stop: ReturnType<typeof stopOnSignal>,
): Promise<number | void> {
  const started = performance.now();
  let splits: Splits;
  try {
    splits = await loadSplits(data);
  } catch (e) {
    throw e instanceof TrainingDataError ? new UsageError(e.message, 'train') : e;
  }
  for (const [name, report] of Object.entries(splits.reports)) progress.log(`${name}: ${formatCorpusSummary(report)}`);
  folder.writeAtomic('corpus.md', Object.entries(splits.reports).map(([name, report]) => formatCorpusMarkdown(report).replace(/^# Corpus report/, `# Corpus report: ${name}`)).join('\n'));
  folder.writeAtomic('corpus.json', `${JSON.stringify(splits.reports, null, 1)}\n`);
  folder.writeAtomic('split.json', `${JSON.stringify({ ...splits.names, validChosenBy: splits.description.heldOut ? HELD_OUT_DESCRIPTION : 'the given split' }, null, 1)}\n`);
  progress.log(`corpus report (every file: part, key, meter, notes changed): ${folder.path('corpus.md')}`);
  const steps = (ms: Uint8Array[]) => ms.reduce((s, m) => s + m.length - 1, 0);
  progress.log(`melodies: train ${splits.train.length} (${steps(splits.train)} steps), valid ${splits.valid.length}, test ${splits.test.length}`);

  const fingerprintsOf = (format: string, kernelBuild: KernelBuild): Fingerprints => ({ format, kernelBuild, kernels: digest, ...splits.fingerprints });
  const checkpointFingerprints = fingerprintsOf(`${TRAIN_CHECKPOINT_FORMAT}/${TRAIN_CHECKPOINT_VERSION}`, build);
  if (saved) {
    const mismatches = fingerprintMismatches(saved.fingerprints, checkpointFingerprints, 'the checkpoint');
    if (mismatches.length) throw resumeRefusal(folder.path(CHECKPOINT_FILE), mismatches);
  }
  const trainer = new NoteRnnTrainer(kernels, settings);
  if (saved) {
    restoreTrainingCheckpoint(trainer, saved);
    const epoch = trainer.epoch;
    const metricsPath = folder.path(METRICS_FILE);
    if (!folder.exists(METRICS_FILE)) {
      throw new UsageError(`--resume: ${metricsPath} is missing, but the checkpoint is at epoch ${epoch}; restore the file, or start the run over (--overwrite)`, 'train');
    }
    const dropped = folder.truncateJsonLines(METRICS_FILE, (r) => !(typeof r.epoch === 'number' && r.epoch > epoch));
    if (dropped) notice(`dropped ${dropped} line${dropped === 1 ? '' : 's'} of ${metricsPath} past the checkpoint's epoch ${epoch}`);
    const epochs = folder.readJsonLines(METRICS_FILE).map((r) => r.epoch);
    if (epochs.length !== epoch || epochs.some((e, i) => e !== i + 1)) {
      throw new UsageError(`--resume: ${metricsPath} holds the records of epochs [${epochs.join(', ')}], but the checkpoint is at epoch ${epoch} ` +
        `(records 1..${epoch} expected): the file was shortened or replaced. Restore it, or start the run over (--overwrite)`, 'train');
    }
    progress.log(`resumed at epoch ${trainer.epoch} (best valid ${trainer.bestValidNats.toFixed(4)} at epoch ${trainer.bestEpoch})`);
  } else {
    folder.writeAtomic(METRICS_FILE, '');
  }

  // The model file: the best weights, the settings and per-epoch losses, fingerprints; no wall-clock figures.
  const writeBestModel = () => {
    const info: ModelInfo = {
      data: splits.description,
      training: {
        ...settings, epochsRun: trainer.epoch, stoppedEarly: trainer.patienceRunOut && trainer.epoch < settings.epochs,
        bestEpoch: trainer.bestEpoch, bestValidNats: trainer.bestValidNats,
        history: withoutSeconds(trainer.history),
      },
      fingerprints: fingerprintsOf(MODEL_FINGERPRINT_FORMAT, build),
    };
    folder.writeAtomic(MODEL_FILE, trainer.withBestParams(() => encodeModel(trainer.model, info)));
  };

  let epochStarted = performance.now();
  // CPU time of the whole process (every thread: the kernel helpers too), beside the wall-clock seconds:
  // on a shared machine the wall clock says little about what a run costs.
  let cpuStarted = process.cpuUsage();
  const cpuSeconds: number[] = [];
  const { stoppedEarly } = await runTraining(trainer, splits, {
    onProgress: (epoch, done, total, nats) => {
      const elapsed = (performance.now() - epochStarted) / 1000;
      // The bar is the epoch's (early stopping makes the run's length unknown); the epoch lines are the plain ones.
      progress.bar(done, total, `epoch ${epoch}/${settings.epochs}, train ${nats.toFixed(4)} nats/step, ${Math.round(done / elapsed)} steps/s`, false);
    },
    onEpoch: async ({ epoch, trainNats, valid, seconds }, isBest) => {
      const cpu = process.cpuUsage(cpuStarted);
      const cpu_seconds = (cpu.user + cpu.system) / 1e6;
      cpuSeconds.push(cpu_seconds);
      if (isBest) writeBestModel();
      // The metrics line first, then the checkpoint that records its epoch: a kill between them leaves a
      // line that the resume drops and writes again, never a checkpoint without its line.
      folder.appendJsonLine(METRICS_FILE, { epoch, train_nats: trainNats, valid, seconds, cpu_seconds });
      folder.writeAtomic(CHECKPOINT_FILE, encodeTrainingCheckpoint(trainer, data, checkpointFingerprints));
      progress.log(`epoch ${epoch}/${settings.epochs}: train ${trainNats.toFixed(4)}, valid ${fmt(valid)}${isBest ? '  (best)' : ''}  [${seconds.toFixed(1)} s, CPU ${cpu_seconds.toFixed(1)} s]`);
      await yieldToEventLoop(); // lets a pending Ctrl-C be seen
      epochStarted = performance.now();
      cpuStarted = process.cpuUsage();
    },
    shouldStop: () => stop.requested,
  });
  if (stoppedEarly) {
    progress.log(`validation has not improved for ${trainer.epochsWithoutImprovement} epochs (best: epoch ${trainer.bestEpoch}); stopping (--patience ${settings.patience}, --epochs ${settings.epochs} is the cap)`);
  }
  if (stop.requested) {
    const where = folder.exists(CHECKPOINT_FILE)
      ? `stopped after epoch ${trainer.epoch}; its checkpoint is written. Continue with the same command plus --resume`
      : 'stopped before the first epoch ended; nothing to resume (run the command again)';
    process.stderr.write(`${where}\n`);
    return stop.exitCode;
  }
  writeBestModel(); // again at the end: the same bytes whether or not the run was stopped and resumed

  // Report: the best model on valid and test, beside the n-gram baselines.
  const { bestValid, bestTest } = trainer.withBestParams(() => ({
    bestValid: trainer.evaluate(splits.valid, splits.grids.valid), bestTest: splits.test.length ? trainer.evaluate(splits.test, splits.grids.test) : null,
  }));
  let baselines: NgramBaselineRow[] = [];
  if (!values['no-baselines']) {
    progress.log('fitting n-gram baselines (orders 1-4)...');
    // Without a test set the rows report valid twice; the table below shows only the valid columns then.
    baselines = ngramBaselines(splits.train, splits.valid, splits.test.length ? splits.test : splits.valid);
  }
  const lines = [
    `# Note RNN training report`,
    ``,
    `Command: \`rltuner train ${args.join(' ')}\``,
    `Settings: ${JSON.stringify(settings)}`,
    `Data: ${JSON.stringify(splits.description)}`,
    `Kernel build: ${build}`,
    `Epochs run: ${trainer.epoch}${stoppedEarly ? ` (stopped early: no improvement for ${settings.patience} epochs)` : ''}; best epoch by validation loss: ${trainer.bestEpoch}; mean seconds per epoch: ${(trainer.history.reduce((s, h) => s + h.seconds, 0) / Math.max(1, trainer.history.length)).toFixed(2)}` +
      (cpuSeconds.length ? ` (CPU ${(cpuSeconds.reduce((a, b) => a + b, 0) / cpuSeconds.length).toFixed(2)} s per epoch of this process, ${cpuSeconds.length} epoch${cpuSeconds.length === 1 ? '' : 's'})` : ''),
    ``,
    `| model | valid nats/step | valid perplexity | valid accuracy | valid accuracy (events) | test nats/step | test perplexity | test accuracy | test accuracy (events) |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| LSTM [${settings.hiddenSizes}]${modelNotes(settings)} (best epoch) | ${row(bestValid)} | ${bestTest ? row(bestTest) : '– | – | – | –'} |`,
    ...baselines.map((b) => `| ${b.order}-gram (KN, D=${b.discount}) | ${row(b.valid)} | ${bestTest ? row(b.test) : '– | – | – | –'} |`),
    ``,
  ];
  if (bestValid.labelNats !== undefined) {
    lines.push(`The ${settings.encoding} encoding's figures are per event (each event's probability sums the classes that play it); its label loss, what training minimises, is ${bestValid.labelNats.toFixed(4)} nats/step on valid${bestTest?.labelNats !== undefined ? ` and ${bestTest.labelNats.toFixed(4)} on test` : ''}.`, '');
  }
  if (baselines.length && bestTest) lines.push('n-gram detail:', '', formatNgramTable(baselines), '');
  folder.writeAtomic('report.md', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`best model: ${folder.path(MODEL_FILE)}  (total ${formatDuration((performance.now() - started) / 1000)})\n`);
}

/** What the report's model row says besides the layer sizes: an encoding other than basic, dropout, weight decay. */
function modelNotes(settings: TrainingSettings): string {
  const notes: string[] = [];
  if ((settings.encoding ?? 'basic') !== 'basic') notes.push(settings.encoding!);
  if (settings.dropout) notes.push(`dropout ${settings.dropout}`);
  if (settings.inputDropout) notes.push(`input dropout ${settings.inputDropout}`);
  if (settings.weightDecay) notes.push(`weight decay ${settings.weightDecay}`);
  return notes.length ? ` ${notes.join(', ')}` : '';
}

function row(m: { nats: number; perplexity: number; accuracy: number; accuracyOnEvents: number }): string {
  return `${m.nats.toFixed(4)} | ${m.perplexity.toFixed(3)} | ${(100 * m.accuracy).toFixed(2)}% | ${(100 * m.accuracyOnEvents).toFixed(2)}%`;
}
