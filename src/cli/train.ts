/**
 * `rltuner train`: trains a Note RNN on MIDI melodies (SPEC §3), validates after every epoch, keeps the
 * best model by validation loss, checkpoints every epoch (resumable with --resume), and reports test
 * figures beside smoothed n-gram baselines.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { decodeModel, encodeModel } from '../io/model_file.js';
import { buildCorpus, formatCorpusSummary, type CorpusReport, type MidiSource } from '../music/corpus.js';
import { readMidiSources, readNottinghamSplit } from '../node/corpus_files.js';
import { Random } from '../random.js';
import { formatNgramTable, ngramBaselines, type NgramBaselineRow } from '../train/ngram.js';
import {
  DEFAULT_TRAINING, NoteRnnTrainer, type SequenceMetrics, type TrainerCheckpoint, type TrainingSettings,
} from '../train/note_rnn_training.js';
import {
  formatDuration, loadKernelsFromDist, numberFlag, parseFlags, partFlags, PART_FLAGS_HELP, Progress, stopOnSignal, UsageError,
  writeFileAtomic, yieldToEventLoop, type FlagValues,
} from './common.js';

export const TRAIN_HELP = `rltuner train: train a Note RNN (LSTM) on monophonic MIDI melodies

Usage:
  rltuner train --nottingham <dir> [options]      the Nottingham set with its standard splits
  rltuner train --data <path> [--valid <path>] [--test <path>] [options]

Data (a path is a folder of .mid files, one .mid file, or a text file listing .mid paths):
  --nottingham <dir>   folder with melody/ and splits/{train,valid,test}.txt (the repository ships data/nottingham)
  --data <path>        training melodies; without --valid, 10% of them (by seed) are held out for validation
  --valid <path>       validation melodies (chooses the best epoch)
  --test <path>        test melodies (reported once, with the best model)
${PART_FLAGS_HELP}

Model and training (defaults in brackets):
  --hidden <n[,n..]>   LSTM layer sizes [${DEFAULT_TRAINING.hiddenSizes.join(',')}]
  --epochs <n>         passes over the training set [${DEFAULT_TRAINING.epochs}]
  --batch <n>          melodies trained side by side [${DEFAULT_TRAINING.batchSize}]
  --window <n>         BPTT window in steps (state carries across windows) [${DEFAULT_TRAINING.windowSteps}]
  --lr <x>             Adam learning rate [${DEFAULT_TRAINING.learningRate}]
  --clip <x>           global gradient-norm bound [${DEFAULT_TRAINING.clipNorm}]
  --seed <n>           random seed (same seed, data and build give the same model) [${DEFAULT_TRAINING.seed}]

Output:
  --out <dir>          run folder [runs/train]: note_rnn.safetensors (best model), checkpoint.safetensors
                       (every epoch), metrics.jsonl, report.md
  --resume             continue the run in --out from its checkpoint (same data and settings)
  --no-baselines       skip the n-gram baselines
  --relaxed-simd       use the relaxed-SIMD kernels where the runtime accepts them
  --quiet              no progress output
  -h, --help           this text

Ctrl-C stops at the end of the current epoch, after its checkpoint is written; --resume continues
from there exactly (weights, Adam moments, random state, history).`;

interface Splits {
  train: Uint8Array[];
  valid: Uint8Array[];
  test: Uint8Array[];
  description: Record<string, unknown>;
  reports: Record<string, CorpusReport>;
}

async function loadSplits(values: FlagValues, seed: number): Promise<Splits> {
  const part = partFlags('train', values);
  const build = (name: string, sources: MidiSource[]) => {
    const { melodies, report } = buildCorpus(sources, part);
    return { melodies: melodies.map((m) => m.tokens), report, name };
  };
  if (typeof values.nottingham === 'string') {
    const dir = resolve(values.nottingham);
    if (!existsSync(join(dir, 'splits'))) {
      throw new UsageError(`--nottingham ${dir}: no splits/ folder there (expected melody/ and splits/{train,valid,test}.txt)`, 'train');
    }
    const [tr, va, te] = await Promise.all((['train', 'valid', 'test'] as const).map((s) => readNottinghamSplit(dir, s)));
    const train = build('train', tr), valid = build('valid', va), test = build('test', te);
    return {
      train: train.melodies, valid: valid.melodies, test: test.melodies,
      description: { corpus: 'Nottingham Music Database (GPLv3)', splits: 'standard train/valid/test', trainFiles: tr.length, validFiles: va.length, testFiles: te.length },
      reports: { train: train.report, valid: valid.report, test: test.report },
    };
  }
  if (typeof values.data !== 'string') {
    throw new UsageError('no training data: pass --nottingham <dir> or --data <folder|file|list>', 'train');
  }
  const train = build('train', await readMidiSources(values.data));
  let validMelodies: Uint8Array[];
  let trainMelodies = train.melodies;
  const reports: Record<string, CorpusReport> = { train: train.report };
  if (typeof values.valid === 'string') {
    const v = build('valid', await readMidiSources(values.valid));
    validMelodies = v.melodies;
    reports.valid = v.report;
  } else {
    if (trainMelodies.length < 2) throw new UsageError('need at least 2 melodies to hold one out for validation (or pass --valid)', 'train');
    const rng = new Random(seed ^ 0x5eed);
    const order = [...trainMelodies.keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const nValid = Math.max(1, Math.round(order.length * 0.1));
    validMelodies = order.slice(0, nValid).map((i) => trainMelodies[i]);
    trainMelodies = order.slice(nValid).map((i) => trainMelodies[i]);
  }
  let testMelodies: Uint8Array[] = [];
  if (typeof values.test === 'string') {
    const t = build('test', await readMidiSources(values.test));
    testMelodies = t.melodies;
    reports.test = t.report;
  }
  return {
    train: trainMelodies, valid: validMelodies, test: testMelodies,
    description: { data: values.data, valid: values.valid ?? 'held out 10% of --data', test: values.test ?? null },
    reports,
  };
}

const CHECKPOINT_FORMAT = 'rltuner-train-checkpoint';

function writeCheckpoint(path: string, trainer: NoteRnnTrainer): void {
  const m = trainer.model;
  const bytes = encodeSafetensors([
    { name: 'raw.params', shape: [m.params.length], data: m.params },
    { name: 'raw.adam_m', shape: [m.adamM.length], data: m.adamM },
    { name: 'raw.adam_v', shape: [m.adamV.length], data: m.adamV },
  ], { format: CHECKPOINT_FORMAT, trainer: JSON.stringify(trainer.checkpoint()) });
  writeFileAtomic(path, bytes);
}

function readCheckpoint(path: string): { state: TrainerCheckpoint; tensors: Map<string, { data: Float32Array }> } {
  const decoded = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
  if (decoded.metadata.format !== CHECKPOINT_FORMAT) throw new UsageError(`${path} is not a training checkpoint`, 'train');
  return { state: JSON.parse(decoded.metadata.trainer), tensors: decoded.tensors };
}

const fmt = (m: SequenceMetrics) =>
  `${m.nats.toFixed(4)} nats/step, perplexity ${m.perplexity.toFixed(3)}, accuracy ${(100 * m.accuracy).toFixed(2)}%, on events ${(100 * m.accuracyOnEvents).toFixed(2)}%`;

export async function trainCommand(args: string[]): Promise<void> {
  const values = parseFlags('train', args, {
    nottingham: { type: 'string' }, data: { type: 'string' }, valid: { type: 'string' }, test: { type: 'string' },
    hidden: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' }, window: { type: 'string' },
    lr: { type: 'string' }, clip: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
    track: { type: 'string' }, channel: { type: 'string' },
    resume: { type: 'boolean' }, 'no-baselines': { type: 'boolean' }, 'relaxed-simd': { type: 'boolean' },
    quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${TRAIN_HELP}\n`);
    return;
  }
  const hidden = typeof values.hidden === 'string'
    ? values.hidden.split(',').map((h) => numberFlag('train', 'hidden', h, 0, 1, 4096, true))
    : DEFAULT_TRAINING.hiddenSizes;
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  let settings: TrainingSettings = {
    hiddenSizes: hidden,
    epochs: numberFlag('train', 'epochs', str('epochs'), DEFAULT_TRAINING.epochs, 0, 100000, true),
    batchSize: numberFlag('train', 'batch', str('batch'), DEFAULT_TRAINING.batchSize, 1, 4096, true),
    windowSteps: numberFlag('train', 'window', str('window'), DEFAULT_TRAINING.windowSteps, 1, 4096, true),
    learningRate: numberFlag('train', 'lr', str('lr'), DEFAULT_TRAINING.learningRate, 1e-7, 1),
    clipNorm: numberFlag('train', 'clip', str('clip'), DEFAULT_TRAINING.clipNorm, 1e-6, 1e6),
    seed: numberFlag('train', 'seed', str('seed'), DEFAULT_TRAINING.seed, 0, 2 ** 32 - 1, true),
  };
  const out = resolve(str('out') ?? 'runs/train');
  const checkpointPath = join(out, 'checkpoint.safetensors');
  const bestPath = join(out, 'note_rnn.safetensors');
  const metricsPath = join(out, 'metrics.jsonl');
  const progress = new Progress(Boolean(values.quiet));

  let resumed: ReturnType<typeof readCheckpoint> | null = null;
  if (values.resume) {
    if (!existsSync(checkpointPath)) throw new UsageError(`--resume: no checkpoint at ${checkpointPath}; start without --resume`, 'train');
    resumed = readCheckpoint(checkpointPath);
    settings = { ...resumed.state.settings, epochs: settings.epochs };
  } else if (existsSync(checkpointPath)) {
    throw new UsageError(`${out} already holds a run; pass --resume to continue it or --out <new folder>`, 'train');
  }

  const started = performance.now();
  const splits = await loadSplits(values, settings.seed);
  for (const [name, report] of Object.entries(splits.reports)) progress.log(`${name}: ${formatCorpusSummary(report)}`);
  const steps = (ms: Uint8Array[]) => ms.reduce((s, m) => s + m.length - 1, 0);
  progress.log(`melodies: train ${splits.train.length} (${steps(splits.train)} steps), valid ${splits.valid.length}, test ${splits.test.length}`);

  const kernels = loadKernelsFromDist(Boolean(values['relaxed-simd']));
  const trainer = new NoteRnnTrainer(kernels, settings);
  const bestParams = new Float32Array(trainer.model.params.length);
  if (resumed) {
    trainer.model.params.set(resumed.tensors.get('raw.params')!.data);
    trainer.model.adamM.set(resumed.tensors.get('raw.adam_m')!.data);
    trainer.model.adamV.set(resumed.tensors.get('raw.adam_v')!.data);
    trainer.restore(resumed.state);
    progress.log(`resumed at epoch ${trainer.epoch} (best valid ${trainer.bestValidNats.toFixed(4)} at epoch ${trainer.bestEpoch})`);
  } else {
    mkdirSync(out, { recursive: true });
    writeFileSync(metricsPath, '');
  }
  if (existsSync(bestPath) && resumed) {
    // The best model so far, unpacked through the live model (whose restored weights are put back).
    const live = Float32Array.from(trainer.model.params);
    trainer.model.importTensors(decodeModel(new Uint8Array(readFileSync(bestPath)), bestPath).tensors, bestPath);
    bestParams.set(trainer.model.params);
    trainer.model.params.set(live);
  } else {
    bestParams.set(trainer.model.params);
  }

  const info = () => ({
    data: splits.description,
    training: { ...settings, epochsRun: trainer.epoch, bestEpoch: trainer.bestEpoch, bestValidNats: trainer.bestValidNats, history: trainer.history },
  });
  const stop = stopOnSignal(() => progress.log('stopping at the end of this epoch (Ctrl-C again to quit at once)...'));
  try {
    while (trainer.epoch < settings.epochs) {
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
        writeFileAtomic(bestPath, encodeModel(trainer.model, info()));
      }
      writeCheckpoint(checkpointPath, trainer);
      appendFileSync(metricsPath, `${JSON.stringify({ epoch: trainer.epoch, train_nats: trainNats, valid, seconds })}\n`);
      progress.log(`epoch ${trainer.epoch}/${settings.epochs}: train ${trainNats.toFixed(4)}, valid ${fmt(valid)}${isBest ? '  (best)' : ''}  [${seconds.toFixed(1)} s]`);
      await yieldToEventLoop(); // lets a pending Ctrl-C be seen
      if (stop.requested) {
        progress.log(`stopped after epoch ${trainer.epoch}; continue with the same command plus --resume`);
        return;
      }
    }
  } finally {
    stop.dispose();
    progress.done();
  }

  // Report: the best model on valid and test, beside the n-gram baselines.
  const live = Float32Array.from(trainer.model.params);
  trainer.model.params.set(bestParams);
  const bestValid = trainer.evaluate(splits.valid);
  const bestTest = splits.test.length ? trainer.evaluate(splits.test) : null;
  trainer.model.params.set(live);
  let baselines: NgramBaselineRow[] = [];
  if (!values['no-baselines'] && splits.test.length) {
    progress.log('fitting n-gram baselines (orders 1-4)...');
    baselines = ngramBaselines(splits.train, splits.valid, splits.test);
  }
  const lines = [
    `# Note RNN training report`,
    ``,
    `Command: \`rltuner train ${args.join(' ')}\``,
    `Settings: ${JSON.stringify(settings)}`,
    `Data: ${JSON.stringify(splits.description)}`,
    `Epochs run: ${trainer.epoch}; best epoch by validation loss: ${trainer.bestEpoch}; mean seconds per epoch: ${(trainer.history.reduce((s, h) => s + h.seconds, 0) / Math.max(1, trainer.history.length)).toFixed(2)}`,
    ``,
    `| model | valid nats/step | valid perplexity | valid accuracy | valid accuracy (events) | test nats/step | test perplexity | test accuracy | test accuracy (events) |`,
    `|---|---|---|---|---|---|---|---|---|`,
    `| LSTM [${settings.hiddenSizes}] (best epoch) | ${row(bestValid)} | ${bestTest ? row(bestTest) : '– | – | – | –'} |`,
    ...baselines.map((b) => `| ${b.order}-gram (KN, D=${b.discount}) | ${row(b.valid)} | ${row(b.test)} |`),
    ``,
  ];
  if (baselines.length) lines.push('n-gram detail:', '', formatNgramTable(baselines), '');
  writeFileAtomic(join(out, 'report.md'), lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`best model: ${bestPath}  (total ${formatDuration((performance.now() - started) / 1000)})\n`);
}

function row(m: { nats: number; perplexity: number; accuracy: number; accuracyOnEvents: number }): string {
  return `${m.nats.toFixed(4)} | ${m.perplexity.toFixed(3)} | ${(100 * m.accuracy).toFixed(2)}% | ${(100 * m.accuracyOnEvents).toFixed(2)}%`;
}
