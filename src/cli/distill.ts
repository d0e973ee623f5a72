/**
 * `rltuner distill`: trains a basic Note RNN (the student) on a tuned model's compositions (the teacher),
 * so that what was tuned reaches Magenta.js through `convert` even when the teacher cannot: a phrase or
 * lookback network (Magenta.js has no lookback converter), or a G network (it acts with its prior).
 * src/train/distill.ts samples and measures; src/train/note_rnn_training.ts trains, with early stopping on
 * held-out compositions; KL(teacher ‖ student) is reported on a third set the student never saw, beside
 * the same figure for the shipped basic Note RNN.
 *
 * The run folder is claimed like train's (src/node/run_folder.ts). The best student so far is written after
 * every improving epoch, so a stopped run keeps it; a run is not resumable (run the command again: the same
 * command, teacher and build give the same file).
 */
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeModel, encodeModel, MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../io/model_file.js';
import { sha256Hex } from '../io/sha256.js';
import { barGrid } from '../music/encodings.js';
import { RunFolder } from '../node/run_folder.js';
import { Random } from '../random.js';
import { distillationGap, sampleTeacher, studentMelodies, type DistillationGap, type DistilledFrom, type TeacherSamples } from '../train/distill.js';
import { DEFAULT_TRAINING, NoteRnnTrainer, runTraining, type TrainingSettings } from '../train/note_rnn_training.js';
import { hiddenSizesProblem, MAX_HIDDEN_UNITS, MAX_LAYERS } from '../engine/layout.js';
import {
  BASIC_MODEL_PATH, formatDuration, loadKernelsOnThreads, Progress, QUIET, readModelBytes, SEED_RANGE, stopOnSignal, threadsFlag, threadsRow,
  UsageError, yieldToEventLoop,
} from './common.js';
import { commandHelp, defineCommand, inGroup, parseCommandLine, type FlagValues } from './flags.js';
import { loadPolicy, policyKind } from './policy.js';
import { trainingSettingRow } from './train.js';

export const DISTILL = defineCommand({
  name: 'distill',
  title: "train a basic Note RNN on a tuned model's compositions, for Magenta.js",
  usage: ['distill --tuned <model file> [options]'],
  intro: `  The student is a Note RNN of the basic encoding (38 classes in and out, Magenta's basic_rnn), so
  \`rltuner convert <out>/note_rnn.safetensors <folder>\` exports it for Magenta.js's MusicRNN. It learns
  from the teacher's compositions, each after its priming note, as \`generate\` samples them; how close it
  came is KL(teacher ‖ student) per step on compositions it never saw (report.md, distill.json).`,
  flags: [
    ...inGroup('Teacher', [
      { name: 'tuned', kind: 'string', arg: '<file>', doc: 'the model to distill: a tuned model (pg, q, psi or g) or any Note RNN' },
      { name: 'prior', kind: 'string', arg: '<file>', doc: 'the Note RNN prior of a G-tuned teacher (the very Note RNN it was tuned from)', defaultText: 'the shipped default' },
      { name: 'compositions', kind: 'integer', min: 16, max: 1_000_000, default: 4000, arg: '<n>', doc: "the teacher's compositions the student trains on" },
      { name: 'held-out', kind: 'integer', min: 8, max: 100_000, default: 200, arg: '<n>', doc: 'compositions for validation (early stopping), and as many again, never trained on or validated with, for the KL' },
      { name: 'length', kind: 'integer', min: 2, max: 4096, default: 128, arg: '<steps>', doc: 'sixteenth-note steps per composition (the default tunes on 128)' },
      { name: 'temperature', kind: 'number', min: 0.01, max: 100, default: 1, doc: "the teacher's softmax temperature (1: the distribution it was tuned to)" },
    ]),
    ...inGroup('Student', [
      {
        name: 'hidden', field: 'hiddenSizes', kind: 'integers', default: DEFAULT_TRAINING.hiddenSizes, arg: '<n[,n..]>', doc: 'LSTM layer sizes, bottom first',
        allowed: `1 to ${MAX_LAYERS} layers of 1..${MAX_HIDDEN_UNITS} units`, problem: hiddenSizesProblem,
      },
      { ...trainingSettingRow('epochs', 'epochs', '<n>', 'the most passes over the compositions'), default: 30 },
      trainingSettingRow('patience', 'patience', '<n>', 'stop when the held-out loss has not improved for this many epochs'),
      trainingSettingRow('batch', 'batchSize', '<n>', 'compositions trained side by side'),
      { ...trainingSettingRow('window', 'windowSteps', '<n>', 'BPTT window in steps (the state carries across a composition\'s windows)'), default: 128 },
      trainingSettingRow('lr', 'learningRate', '<x>', 'Adam learning rate'),
      trainingSettingRow('clip', 'clipNorm', '<x>', 'global gradient-norm bound'),
      { name: 'seed', kind: 'integer', ...SEED_RANGE, default: 1, doc: "random seed of the teacher's sampling and the student's training" },
    ]),
    ...inGroup('Output', [
      {
        name: 'out', kind: 'string', arg: '<dir>', default: 'runs/distill',
        doc: 'run folder: note_rnn.safetensors (the student of the best epoch), metrics.jsonl, report.md, distill.json. It must be empty or new',
      },
      {
        name: 'overwrite', kind: 'boolean',
        doc: 'replace the previous distill run in --out: only the files its marker lists as written by it are removed; a folder no rltuner distill run started is refused, untouched',
      },
      threadsRow(1),
      QUIET,
    ]),
  ],
  notes: `Ctrl-C (or SIGTERM) stops at the end of the current epoch; the best student so far is already in --out.
A run does not resume: run the command again (the same command, teacher and kernel build give the same file).`,
});

type DistillValues = FlagValues<(typeof DISTILL.flags)[number]>;

const MODEL_FILE = 'note_rnn.safetensors';
const METRICS_FILE = 'metrics.jsonl';
/** Compositions sampled at a time. */
const SAMPLE_BATCH = 256;

export async function distillCommand(args: string[]): Promise<number | void> {
  const { values: v, help } = parseCommandLine(DISTILL, args);
  if (help) {
    process.stdout.write(commandHelp(DISTILL));
    return;
  }
  if (v.tuned === undefined) throw new UsageError('--tuned <model file> is missing: name the tuned model to distill (e.g. runs/tune/pg_tuned.safetensors)', 'distill');
  // The teacher is read (and its kind checked) before the run folder is claimed: a wrong path leaves nothing behind.
  const teacherFile = readModelBytes(v.tuned);
  policyKind(decodeModel(teacherFile.bytes, teacherFile.path), teacherFile.path);
  const progress = new Progress(Boolean(v.quiet));
  const folder = RunFolder.claim(v.out, { kind: 'distill', resume: false, overwrite: Boolean(v.overwrite), notice: (line) => process.stderr.write(`note: ${line}\n`) });
  try {
    return await distill(folder, v, args, progress, sha256Hex(teacherFile.bytes));
  } finally {
    folder.release();
  }
}

async function distill(folder: RunFolder, v: DistillValues, args: string[], progress: Progress, teacherSha: string): Promise<number | void> {
  const started = performance.now();
  const threads = threadsFlag(v.threads, 'distill', false, 1);
  const loaded = await loadKernelsOnThreads(threads);
  const stop = stopOnSignal(() => progress.log('stopping at the end of this epoch (Ctrl-C again to quit at once)...'));
  try {
    const { kernels, build, digest } = loaded;
    const teacher = loadPolicy(kernels, v.tuned, SAMPLE_BATCH, v.prior);
    // One random source: the three sets are sampled from it in order, then it seeds the student's training.
    const rng = new Random(v.seed);
    const meter = barGrid(16, 0);
    const sample = (count: number, what: string): TeacherSamples => {
      progress.restart();
      return sampleTeacher(teacher.models, rng, {
        count, numNotes: v.length, temperature: v.temperature, priming: { kind: 'random_note' }, meter,
        onProgress: (done, total) => progress.bar(done, total, `sampling the teacher's ${what} compositions`),
      });
    };
    const train = sample(v.compositions, 'training');
    const valid = sample(v['held-out'], 'validation');
    const test = sample(v['held-out'], 'KL');
    progress.log(`teacher ${teacher.path} (${teacher.kind}): ${v.compositions} + ${v['held-out']} + ${v['held-out']} compositions of ${v.length} steps`);
    const settings: TrainingSettings = {
      ...DEFAULT_TRAINING, hiddenSizes: [...v.hidden], epochs: v.epochs, patience: v.patience, batchSize: v.batch, windowSteps: v.window,
      learningRate: v.lr, clipNorm: v.clip, seed: rng.int(2 ** 31), encoding: 'basic',
    };

    const trainer = new NoteRnnTrainer(kernels, settings);
    const distilledFrom: DistilledFrom = {
      teacher: basename(teacher.path), algorithm: teacher.kind, compositions: v.compositions, heldOut: v['held-out'], length: v.length,
      temperature: v.temperature, priming: 'random_note', seed: v.seed,
    };
    const info = (gap?: DistillationGap): ModelInfo => ({
      data: { distilledFrom },
      training: {
        ...settings, epochsRun: trainer.epoch, bestEpoch: trainer.bestEpoch, bestValidNats: trainer.bestValidNats,
        history: trainer.history.map(({ epoch, trainNats, valid: metrics }) => ({ epoch, trainNats, valid: metrics })),
      },
      ...(gap ? { notes: { distillation: gap } } : {}),
      fingerprints: { format: MODEL_FINGERPRINT_FORMAT, kernelBuild: build, kernels: digest, teacher: teacherSha },
    });
    folder.writeAtomic(METRICS_FILE, '');
    let epochStarted = performance.now();
    const { stoppedEarly } = await runTraining(trainer, { train: studentMelodies(train), valid: studentMelodies(valid) }, {
      onProgress: (epoch, done, total, nats) => {
        const elapsed = (performance.now() - epochStarted) / 1000;
        progress.bar(done, total, `epoch ${epoch}/${settings.epochs}, train ${nats.toFixed(4)} nats/step, ${Math.round(done / elapsed)} steps/s`, false);
      },
      onEpoch: async ({ epoch, trainNats, valid: metrics, seconds }, isBest) => {
        if (isBest) folder.writeAtomic(MODEL_FILE, trainer.withBestParams(() => encodeModel(trainer.model, info())));
        folder.appendJsonLine(METRICS_FILE, { epoch, train_nats: trainNats, valid_nats: metrics.nats, valid_accuracy: metrics.accuracy, seconds });
        progress.log(`epoch ${epoch}/${settings.epochs}: train ${trainNats.toFixed(4)}, held-out ${metrics.nats.toFixed(4)} nats/step${isBest ? '  (best)' : ''}  [${seconds.toFixed(1)} s]`);
        await yieldToEventLoop(); // lets a pending Ctrl-C be seen
        epochStarted = performance.now();
      },
      shouldStop: () => stop.requested,
    });
    if (stop.requested) {
      process.stderr.write(`stopped after epoch ${trainer.epoch}; the best student so far is ${folder.path(MODEL_FILE)} (a distill run does not resume)\n`);
      return stop.exitCode;
    }
    if (stoppedEarly) progress.log(`the held-out loss has not improved for ${trainer.epochsWithoutImprovement} epochs (best: epoch ${trainer.bestEpoch}); stopping`);

    progress.log('measuring KL(teacher ‖ student) on compositions the student never saw...');
    const gap = trainer.withBestParams(() => distillationGap(teacher.models, trainer.model, test, v.temperature, meter));
    folder.writeAtomic(MODEL_FILE, trainer.withBestParams(() => encodeModel(trainer.model, info(gap))));
    // For scale: the shipped basic Note RNN (trained on the tunes, not on the teacher) on the same compositions.
    const basic = loadPolicy(kernels, BASIC_MODEL_PATH, 1);
    const basicGap = distillationGap(teacher.models, basic.models[0], test, v.temperature, meter);
    const row = (name: string, g: DistillationGap) =>
      `| ${name} | ${g.klPerStep.toFixed(4)} | ${g.studentLogProb.toFixed(4)} |`;
    const lines = [
      '# Distillation report',
      '',
      `Command: \`rltuner distill ${args.join(' ')}\``,
      `Teacher: ${teacher.path} (${teacher.kind}; SHA-256 ${teacherSha})`,
      `Student: LSTM [${settings.hiddenSizes}], basic encoding; ${v.compositions} training and ${v['held-out']} validation compositions of ${v.length} steps; ` +
        `epochs run ${trainer.epoch}${stoppedEarly ? ` (stopped early: no improvement for ${settings.patience} epochs)` : ''}, best ${trainer.bestEpoch} (held-out ${trainer.bestValidNats.toFixed(4)} nats/step)`,
      `Kernel build: ${build}`,
      '',
      `On ${v['held-out']} more of the teacher's compositions (${gap.steps} steps; the teacher's own log π of what it played: ${gap.teacherLogProb.toFixed(4)} nats/step):`,
      '',
      '| model | KL(teacher ‖ model), nats/step | log q of the teacher\'s events, nats/step |',
      '|---|---|---|',
      row('the student (this run)', gap),
      row(`the shipped basic Note RNN (${basename(BASIC_MODEL_PATH)})`, basicGap),
      '',
      `Export for Magenta.js: \`rltuner convert ${folder.path(MODEL_FILE)} <folder>\``,
      '',
    ];
    folder.writeAtomic('report.md', lines.join('\n'));
    folder.writeAtomic('distill.json', `${JSON.stringify({ distilledFrom, teacherSha256: teacherSha, student: gap, shippedBasicNoteRnn: basicGap, epochsRun: trainer.epoch, bestEpoch: trainer.bestEpoch }, null, 1)}\n`);
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(`student: ${folder.path(MODEL_FILE)}  (total ${formatDuration((performance.now() - started) / 1000)})\n`);
  } finally {
    loaded.close();
    stop.dispose();
    progress.done();
  }
}
