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
import type { Kernels } from '../engine/kernels.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { encodeModel, MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../io/model_file.js';
import { fileListFingerprint, fingerprintMismatches, type Fingerprints } from '../io/fingerprint.js';
import {
  buildCorpus, formatCorpusMarkdown, formatCorpusSummary, splitByNameHash, type CorpusReport, type Melody, type MelodyInfo, type MidiSource,
} from '../music/corpus.js';
import type { TimingRule, TransposeRule } from '../music/midi_import.js';
import { readMidiSources, readNottinghamSplit } from '../node/corpus_files.js';
import { RunFolder } from '../node/run_folder.js';
import { Random } from '../random.js';
import { formatNgramTable, ngramBaselines, type NgramBaselineRow } from '../train/ngram.js';
import {
  DEFAULT_TRAINING, NoteRnnTrainer, type EpochRecord, type SequenceMetrics, type TrainerCheckpoint, type TrainingSettings,
} from '../train/note_rnn_training.js';
import {
  formatDuration, loadKernelsOnThreads, threadsFlag, threadsHelp, numberFlag, parseFlags, partFlags, PART_FLAGS_HELP, Progress, stopOnSignal, UsageError,
  yieldToEventLoop, type FlagValues, type KernelBuild,
} from './common.js';
import { IMPORT_FLAGS_HELP, importFlags } from './key_flags.js';

export const TRAIN_HELP = `rltuner train: train a Note RNN (LSTM) on monophonic MIDI melodies

Usage:
  rltuner train --nottingham <dir> [options]      the Nottingham set with its standard splits
  rltuner train --data <path> [--valid <path>] [--test <path>] [options]
  rltuner train --out <dir> --resume [--epochs <n>]

Data (a path is a folder of .mid files, one .mid file, or a text file listing .mid paths):
  --nottingham <dir>   folder with melody/ and splits/{train,valid,test}.txt (the repository ships data/nottingham)
  --data <path>        training melodies; without --valid, the files whose name hashes into the lowest tenth
                       are held out for validation (the same files whatever the seed; listed in split.json)
  --valid <path>       validation melodies (chooses the best epoch and stops training)
  --test <path>        test melodies (reported once, with the best model)
${PART_FLAGS_HELP}
${IMPORT_FLAGS_HELP}

Model and training (defaults in brackets):
  --hidden <n[,n..]>   LSTM layer sizes [${DEFAULT_TRAINING.hiddenSizes.join(',')}]
  --epochs <n>         the most passes over the training set [${DEFAULT_TRAINING.epochs}]
  --patience <n>       stop when validation has not improved for this many epochs [${DEFAULT_TRAINING.patience}]
  --batch <n>          melodies trained side by side [${DEFAULT_TRAINING.batchSize}]
  --window <n>         BPTT window in steps (state carries across windows) [${DEFAULT_TRAINING.windowSteps}]
  --lr <x>             Adam learning rate [${DEFAULT_TRAINING.learningRate}]
  --clip <x>           global gradient-norm bound [${DEFAULT_TRAINING.clipNorm}]
  --seed <n>           random seed (same seed, data and build give the same model) [${DEFAULT_TRAINING.seed}]
Numbers are plain decimals (12, 0.5, 1e-3).

Output:
  --out <dir>          run folder [runs/train]: note_rnn.safetensors (best model), checkpoint.safetensors
                       (every epoch), metrics.jsonl, report.md, corpus.md and corpus.json (every file:
                       part, key, meter, what was dropped), split.json. It must be empty or new.
  --resume             continue the run in --out from its checkpoint, with its data and settings: flags
                       left out are taken from it, flags given must match it (only --epochs may
                       change; the data flags are left out together or all given as before)
  --overwrite          replace the previous train run in --out (only its own files are removed)
  --no-baselines       skip the n-gram baselines (fitted on train, reported on valid and test)
  --relaxed-simd       use the relaxed-SIMD kernels where the runtime accepts them
${threadsHelp(2)}
  --quiet              no progress output
  -h, --help           this text
Boolean flags also take =true / =false (e.g. --quiet=false).

Ctrl-C (or SIGTERM) stops at the end of the current epoch, after its checkpoint is written, and exits
with 130 (143); --resume continues from there exactly (weights, Adam moments, random state, history).
The same command, data and kernel build give a byte-identical note_rnn.safetensors.`;

/** The data flags of a run; paths are recorded as given (for reports) and resolved (to compare and load). */
const DATA_FLAGS = ['nottingham', 'data', 'valid', 'test'] as const;
type DataFlag = (typeof DATA_FLAGS)[number];

export interface DataChoice {
  paths: Partial<Record<DataFlag, { given: string; path: string }>>;
  part: { track?: number; channel?: number };
  /**
   * How melodies are transposed: by key (default), by note count (the first importer, which the shipped
   * model was trained with), or kept in their keys. Absent in checkpoints older than this field: those
   * runs imported by note count.
   */
  import?: ImportRecord;
}

/** The import settings a model records (metadata data.import), so `rltuner score` reads new data the same way. */
export interface ImportRecord {
  transposeBy: TransposeRule;
  keepKey: boolean;
  /** How notes were put on the grid; absent in runs from before 'aligned' timing: those used 'nearest'. */
  timing?: TimingRule;
}

/** What a run trained on when its records say nothing of the import: the note-count rule of the first importer. */
export const IMPORT_BEFORE_KEYS: ImportRecord = Object.freeze({ transposeBy: 'note-count', keepKey: false, timing: 'nearest' });
/** The timing of a run whose record names none: the first importer's ('nearest'), which it was trained with. */
export const TIMING_BEFORE_ALIGNED: TimingRule = 'nearest';

export interface Splits {
  train: Uint8Array[];
  valid: Uint8Array[];
  test: Uint8Array[];
  description: Record<string, unknown>;
  reports: Record<string, CorpusReport>;
  /** Fingerprints of the files each split was read from. */
  fingerprints: Pick<Fingerprints, 'trainingData' | 'validationData' | 'testData'>;
  /** The file of each melody of each split, in order. */
  names: { train: string[]; valid: string[]; test: string[] };
}

/**
 * A model's compact record of one melody: [name, key in the file, 's'ignature, 't'ext event or 'e'stimated,
 * transposition, meter, steps per bar, qpm, bar position of the first note (null: bars are not whole steps)].
 */
function melodyRecord(info: MelodyInfo): [string, string, string, number, string, number, number, number | null] {
  return [info.name, info.key, info.keySource === 'signature' ? 's' : info.keySource === 'text' ? 't' : 'e', info.transposition, info.meter, info.stepsPerBar, info.qpm, info.barPosition];
}

/** The corpora of a run (train, valid, test), imported with the run's part and import settings. */
export async function loadSplits(choice: DataChoice): Promise<Splits> {
  const record = choice.import ?? { transposeBy: 'key', keepKey: false };
  const options = { ...choice.part, transposeBy: record.transposeBy, timing: record.timing ?? TIMING_BEFORE_ALIGNED, ...(record.keepKey ? { transpose: false } : {}) };
  const build = (name: string, sources: MidiSource[]) => {
    const { melodies, report } = buildCorpus(sources, options);
    return { melodies: melodies.map((m) => m.tokens), names: melodies.map((m) => m.name), report, name };
  };
  const importDescription = { import: { ...record, ...choice.part } };
  const { nottingham, data, valid, test } = choice.paths;
  if (nottingham) {
    const dir = nottingham.path;
    const [tr, va, te] = await Promise.all((['train', 'valid', 'test'] as const).map((s) => readNottinghamSplit(dir, s)));
    const train = build('train', tr), validSplit = build('valid', va), testSplit = build('test', te);
    return {
      train: train.melodies, valid: validSplit.melodies, test: testSplit.melodies,
      description: {
        corpus: 'Nottingham Music Database (GPLv3)', splits: 'standard train/valid/test', trainFiles: tr.length, validFiles: va.length, testFiles: te.length,
        nottingham: nottingham.given, ...importDescription,
        melodies: { train: train.report.files.map(melodyRecord), valid: validSplit.report.files.map(melodyRecord), test: testSplit.report.files.map(melodyRecord) },
      },
      reports: { train: train.report, valid: validSplit.report, test: testSplit.report },
      fingerprints: { trainingData: fileListFingerprint(tr), validationData: fileListFingerprint(va), testData: fileListFingerprint(te) },
      names: { train: train.names, valid: validSplit.names, test: testSplit.names },
    };
  }
  if (!data) throw new UsageError('no training data: pass --nottingham <dir> or --data <folder|file|list>', 'train');
  const dataSources = await readMidiSources(data.path);
  const fingerprints: Splits['fingerprints'] = { trainingData: fileListFingerprint(dataSources) };
  const { melodies: dataMelodies, report: dataReport } = buildCorpus(dataSources, options);
  const reports: Record<string, CorpusReport> = { data: dataReport };
  let trainMelodies = dataMelodies;
  let validMelodies: Melody[];
  let heldOut: string[] | null = null;
  if (valid) {
    const sources = await readMidiSources(valid.path);
    const v = buildCorpus(sources, options);
    validMelodies = v.melodies;
    reports.valid = v.report;
    fingerprints.validationData = fileListFingerprint(sources);
  } else {
    if (dataMelodies.length < 2) throw new UsageError(`${data.given} gives ${dataMelodies.length} melody; need at least 2 to hold one out for validation (or pass --valid)`, 'train');
    const split = splitByNameHash(dataMelodies, HELD_OUT_SHARE);
    trainMelodies = split.kept;
    validMelodies = split.heldOut;
    heldOut = validMelodies.map((melody) => melody.name);
  }
  let testMelodies: Melody[] = [];
  if (test) {
    const sources = await readMidiSources(test.path);
    const t = buildCorpus(sources, options);
    testMelodies = t.melodies;
    reports.test = t.report;
    fingerprints.testData = fileListFingerprint(sources);
  }
  const records = (melodies: Melody[]) => melodies.map((m) => melodyRecord(m.info!));
  return {
    train: trainMelodies.map((m) => m.tokens), valid: validMelodies.map((m) => m.tokens), test: testMelodies.map((m) => m.tokens),
    description: {
      data: data.given, valid: valid?.given ?? HELD_OUT_DESCRIPTION, test: test?.given ?? null,
      ...(heldOut ? { heldOut } : {}), ...importDescription,
      melodies: { train: records(trainMelodies), valid: records(validMelodies), test: records(testMelodies) },
    },
    reports,
    fingerprints,
    names: { train: trainMelodies.map((m) => m.name), valid: validMelodies.map((m) => m.name), test: testMelodies.map((m) => m.name) },
  };
}

/** Share of --data held out for validation when no --valid is given, and how the model records it. */
export const HELD_OUT_SHARE = 0.1;
export const HELD_OUT_DESCRIPTION = 'the files of --data whose name hashes (FNV-1a) into the lowest tenth (listed in heldOut)';

const CHECKPOINT_FORMAT = 'rltuner-train-checkpoint';
const CHECKPOINT_VERSION = '2';
const CHECKPOINT_FILE = 'checkpoint.safetensors';
const MODEL_FILE = 'note_rnn.safetensors';
const METRICS_FILE = 'metrics.jsonl';

/** What a training checkpoint holds besides the weights. */
interface SavedRun {
  state: TrainerCheckpoint;
  data: DataChoice;
  fingerprints: Fingerprints;
  tensors: Map<string, { data: Float32Array }>;
}

function encodeCheckpoint(trainer: NoteRnnTrainer, bestParams: Float32Array, data: DataChoice, fingerprints: Fingerprints): Uint8Array {
  const m = trainer.model;
  return encodeSafetensors([
    { name: 'raw.params', shape: [m.params.length], data: m.params },
    { name: 'raw.adam_m', shape: [m.adamM.length], data: m.adamM },
    { name: 'raw.adam_v', shape: [m.adamV.length], data: m.adamV },
    { name: 'raw.best_params', shape: [bestParams.length], data: bestParams },
  ], {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    trainer: JSON.stringify(trainer.checkpoint()),
    data: JSON.stringify(data),
    fingerprints: JSON.stringify(fingerprints),
  });
}

function decodeCheckpoint(bytes: Uint8Array, path: string): SavedRun {
  const decoded = decodeSafetensors(bytes, path);
  const md = decoded.metadata;
  if (md.format !== CHECKPOINT_FORMAT) throw new UsageError(`${path} is not a training checkpoint (its format is ${JSON.stringify(md.format ?? null)})`, 'train');
  if (md.format_version !== CHECKPOINT_VERSION || !md.fingerprints || !md.data) {
    throw new UsageError(
      `${path} was written by an older rltuner (checkpoint version ${md.format_version ?? 1}, without fingerprints) and cannot be resumed safely; ` +
        'start a new run with --out <new folder>', 'train');
  }
  const needed = ['raw.params', 'raw.adam_m', 'raw.adam_v', 'raw.best_params'];
  const missing = needed.filter((n) => !decoded.tensors.has(n));
  if (missing.length) throw new UsageError(`${path} lacks ${missing.join(', ')}; the checkpoint is damaged; start a new run with --out <new folder>`, 'train');
  return { state: JSON.parse(md.trainer), data: JSON.parse(md.data), fingerprints: JSON.parse(md.fingerprints), tensors: decoded.tensors };
}

/** The training settings given on the command line (absent: not given). */
function settingsFromFlags(values: FlagValues): Partial<TrainingSettings> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const given: Partial<TrainingSettings> = {};
  if (str('hidden') !== undefined) given.hiddenSizes = str('hidden')!.split(',').map((h) => numberFlag('train', 'hidden', h, 0, 1, 4096, true));
  if (str('epochs') !== undefined) given.epochs = numberFlag('train', 'epochs', str('epochs'), 0, 0, 100000, true);
  if (str('patience') !== undefined) given.patience = numberFlag('train', 'patience', str('patience'), 0, 1, 100000, true);
  if (str('batch') !== undefined) given.batchSize = numberFlag('train', 'batch', str('batch'), 0, 1, 4096, true);
  if (str('window') !== undefined) given.windowSteps = numberFlag('train', 'window', str('window'), 0, 1, 4096, true);
  if (str('lr') !== undefined) given.learningRate = numberFlag('train', 'lr', str('lr'), 0, 1e-7, 1);
  if (str('clip') !== undefined) given.clipNorm = numberFlag('train', 'clip', str('clip'), 0, 1e-6, 1e6);
  if (str('seed') !== undefined) given.seed = numberFlag('train', 'seed', str('seed'), 0, 0, 2 ** 32 - 1, true);
  return given;
}

/** The data flags given on the command line. */
function dataFromFlags(values: FlagValues): DataChoice {
  const paths: DataChoice['paths'] = {};
  for (const flag of DATA_FLAGS) {
    const given = values[flag];
    if (typeof given === 'string') paths[flag] = { given, path: resolve(given) };
  }
  const flags = importFlags('train', values);
  return { paths, part: partFlags('train', values), import: { transposeBy: flags.transposeBy ?? 'key', keepKey: flags.transpose === false, timing: flags.timing ?? 'aligned' } };
}

/** The flag each training setting comes from. */
const SETTING_FLAGS: Record<Exclude<keyof TrainingSettings, 'epochs' | 'patience'>, string> = {
  hiddenSizes: 'hidden', batchSize: 'batch', windowSteps: 'window', learningRate: 'lr', clipNorm: 'clip', seed: 'seed',
};

/**
 * The run a resume continues: the checkpoint's settings and data, checked against the flags given.
 * A setting flag left out takes the checkpoint's value; the data flags (--nottingham, --data, --valid,
 * --test) are one choice: left out together, or given as the run was started. Each differing flag is one
 * line "--<flag>: the checkpoint has <a>, this run has <b>".
 */
function resumedChoice(saved: SavedRun, given: Partial<TrainingSettings>, data: DataChoice): { settings: TrainingSettings; data: DataChoice; mismatches: string[] } {
  const mismatches: string[] = [];
  const shown = (v: unknown) => (v === undefined ? 'none' : Array.isArray(v) ? v.join(',') : String(v));
  for (const [key, flag] of Object.entries(SETTING_FLAGS) as [keyof typeof SETTING_FLAGS, string][]) {
    const a = saved.state.settings[key], b = given[key];
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
  const values = parseFlags('train', args, {
    nottingham: { type: 'string' }, data: { type: 'string' }, valid: { type: 'string' }, test: { type: 'string' },
    hidden: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, window: { type: 'string' },
    lr: { type: 'string' }, clip: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, patience: { type: 'string' },
    track: { type: 'string' }, channel: { type: 'string' }, 'keep-key': { type: 'boolean' }, 'transpose-by': { type: 'string' }, timing: { type: 'string' },
    resume: { type: 'boolean' }, overwrite: { type: 'boolean' }, 'no-baselines': { type: 'boolean' }, 'relaxed-simd': { type: 'boolean' }, threads: { type: 'string' },
    quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${TRAIN_HELP}\n`);
    return;
  }
  const given = settingsFromFlags(values);
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
  const folder = RunFolder.claim(typeof values.out === 'string' ? values.out : 'runs/train', {
    kind: 'train', resume, overwrite: Boolean(values.overwrite), notice,
  });
  try {
    return await train(folder, values, args, given, givenData, progress, notice);
  } finally {
    folder.release();
  }
}

async function train(
  folder: RunFolder, values: FlagValues, args: string[], given: Partial<TrainingSettings>, givenData: DataChoice, progress: Progress,
  notice: (line: string) => void,
): Promise<number | void> {
  const checkpointPath = folder.path(CHECKPOINT_FILE);
  let saved: SavedRun | null = null;
  let settings: TrainingSettings = { ...DEFAULT_TRAINING, hiddenSizes: [...DEFAULT_TRAINING.hiddenSizes], ...given };
  let data = givenData;
  let relaxed = Boolean(values['relaxed-simd']);
  if (values.resume) {
    saved = decodeCheckpoint(folder.readBytes(CHECKPOINT_FILE), checkpointPath);
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
  const threads = threadsFlag(typeof values.threads === 'string' ? values.threads : undefined, 'train', relaxed, 2);
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
  folder: RunFolder, values: FlagValues, args: string[], settings: TrainingSettings, data: DataChoice, saved: SavedRun | null,
  { kernels, build }: { kernels: Kernels; build: KernelBuild }, progress: Progress, notice: (line: string) => void, stop: ReturnType<typeof stopOnSignal>,
): Promise<number | void> {
  const started = performance.now();
  const splits = await loadSplits(data);
  for (const [name, report] of Object.entries(splits.reports)) progress.log(`${name}: ${formatCorpusSummary(report)}`);
  folder.writeAtomic('corpus.md', Object.entries(splits.reports).map(([name, report]) => formatCorpusMarkdown(report).replace(/^# Corpus report/, `# Corpus report: ${name}`)).join('\n'));
  folder.writeAtomic('corpus.json', `${JSON.stringify(splits.reports, null, 1)}\n`);
  folder.writeAtomic('split.json', `${JSON.stringify({ ...splits.names, validChosenBy: splits.description.heldOut ? HELD_OUT_DESCRIPTION : 'the given split' }, null, 1)}\n`);
  progress.log(`corpus report (every file: part, key, meter, notes changed): ${folder.path('corpus.md')}`);
  const steps = (ms: Uint8Array[]) => ms.reduce((s, m) => s + m.length - 1, 0);
  progress.log(`melodies: train ${splits.train.length} (${steps(splits.train)} steps), valid ${splits.valid.length}, test ${splits.test.length}`);

  const fingerprintsOf = (format: string, kernelBuild: KernelBuild): Fingerprints => ({ format, kernelBuild, ...splits.fingerprints });
  const checkpointFingerprints = fingerprintsOf(`${CHECKPOINT_FORMAT}/${CHECKPOINT_VERSION}`, build);
  if (saved) {
    const mismatches = fingerprintMismatches(saved.fingerprints, checkpointFingerprints, 'the checkpoint');
    if (mismatches.length) throw resumeRefusal(folder.path(CHECKPOINT_FILE), mismatches);
  }
  const trainer = new NoteRnnTrainer(kernels, settings);
  const bestParams = Float32Array.from(trainer.model.params);
  if (saved) {
    trainer.model.params.set(saved.tensors.get('raw.params')!.data);
    trainer.model.adamM.set(saved.tensors.get('raw.adam_m')!.data);
    trainer.model.adamV.set(saved.tensors.get('raw.adam_v')!.data);
    bestParams.set(saved.tensors.get('raw.best_params')!.data);
    trainer.restore(saved.state);
    const epoch = trainer.epoch;
    const dropped = folder.truncateJsonLines(METRICS_FILE, (r) => !(typeof r.epoch === 'number' && r.epoch > epoch));
    if (dropped) notice(`dropped ${dropped} line${dropped === 1 ? '' : 's'} of ${folder.path(METRICS_FILE)} past the checkpoint's epoch ${epoch}`);
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
    const live = Float32Array.from(trainer.model.params);
    trainer.model.params.set(bestParams);
    const bytes = encodeModel(trainer.model, info);
    trainer.model.params.set(live);
    folder.writeAtomic(MODEL_FILE, bytes);
  };

  while (trainer.epoch < settings.epochs) {
    if (stop.requested) break;
    const t0 = performance.now();
    const trainNats = trainer.trainEpoch(splits.train, (done, total, nats) => {
      const elapsed = (performance.now() - t0) / 1000;
      progress.update(`epoch ${trainer.epoch + 1}/${settings.epochs}  ${(100 * done / total).toFixed(0)}%  train ${nats.toFixed(4)} nats/step  ${Math.round(done / elapsed)} steps/s`);
    });
    const valid = trainer.evaluate(splits.valid);
    const seconds = (performance.now() - t0) / 1000;
    const isBest = trainer.record(trainNats, valid, seconds);
    if (isBest) {
      bestParams.set(trainer.model.params);
      writeBestModel();
    }
    // The metrics line first, then the checkpoint that records its epoch: a kill between them leaves a
    // line that the resume drops and writes again, never a checkpoint without its line.
    folder.appendJsonLine(METRICS_FILE, { epoch: trainer.epoch, train_nats: trainNats, valid, seconds });
    folder.writeAtomic(CHECKPOINT_FILE, encodeCheckpoint(trainer, bestParams, data, checkpointFingerprints));
    progress.log(`epoch ${trainer.epoch}/${settings.epochs}: train ${trainNats.toFixed(4)}, valid ${fmt(valid)}${isBest ? '  (best)' : ''}  [${seconds.toFixed(1)} s]`);
    await yieldToEventLoop(); // lets a pending Ctrl-C be seen
    if (trainer.patienceRunOut) break;
  }
  const stoppedEarly = trainer.patienceRunOut && trainer.epoch < settings.epochs;
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
  const live = Float32Array.from(trainer.model.params);
  trainer.model.params.set(bestParams);
  const bestValid = trainer.evaluate(splits.valid);
  const bestTest = splits.test.length ? trainer.evaluate(splits.test) : null;
  trainer.model.params.set(live);
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
    `Epochs run: ${trainer.epoch}${stoppedEarly ? ` (stopped early: no improvement for ${settings.patience} epochs)` : ''}; best epoch by validation loss: ${trainer.bestEpoch}; mean seconds per epoch: ${(trainer.history.reduce((s, h) => s + h.seconds, 0) / Math.max(1, trainer.history.length)).toFixed(2)}`,
    ``,
    `| model | valid nats/step | valid perplexity | valid accuracy | valid accuracy (events) | test nats/step | test perplexity | test accuracy | test accuracy (events) |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| LSTM [${settings.hiddenSizes}] (best epoch) | ${row(bestValid)} | ${bestTest ? row(bestTest) : '– | – | – | –'} |`,
    ...baselines.map((b) => `| ${b.order}-gram (KN, D=${b.discount}) | ${row(b.valid)} | ${bestTest ? row(b.test) : '– | – | – | –'} |`),
    ``,
  ];
  if (baselines.length && bestTest) lines.push('n-gram detail:', '', formatNgramTable(baselines), '');
  folder.writeAtomic('report.md', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`best model: ${folder.path(MODEL_FILE)}  (total ${formatDuration((performance.now() - started) / 1000)})\n`);
}

function row(m: { nats: number; perplexity: number; accuracy: number; accuracyOnEvents: number }): string {
  return `${m.nats.toFixed(4)} | ${m.perplexity.toFixed(3)} | ${(100 * m.accuracy).toFixed(2)}% | ${(100 * m.accuracyOnEvents).toFixed(2)}%`;
}
