/**
 * `rltuner prefs`: the listener in the loop.
 *
 *   prefs pairs   writes a listening session: pairs of compositions of two models (MIDI files and the
 *                 tokens, session.json, which the listening page loads); with --listener, a scripted
 *                 listener answers them (answers.jsonl), for tests and benchmarks
 *   prefs train   trains a reward model on answers (the page's CSV, or JSON lines) with the Bradley–Terry
 *                 loss, in a run folder as `train` does: a held-out tenth by hash chooses the best epoch,
 *                 checkpoints every epoch (--resume), fingerprints of the answers and the kernels
 *
 * `tune --reward-model <file> --weight-preference <w>` then tunes on the reward model (src/cli/tune.ts).
 */
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { decodeModel, encodeModel, REWARD_MODEL, REWARD_MODEL_FINGERPRINT_FORMAT, type ModelInfo } from '../io/model_file.js';
import { fileListFingerprint, fingerprintMismatches, type Fingerprints } from '../io/fingerprint.js';
import { sha256Hex } from '../io/sha256.js';
import { exportMidi } from '../music/midi_export.js';
import { keyNamed, KeyNameError, type Key } from '../music/keys.js';
import { sampleCompositions } from '../policy/sampling.js';
import { Random } from '../random.js';
import { RunFolder } from '../node/run_folder.js';
import { AnswersFileError, answersToJsonLines, MAX_ANSWERS_FILE_BYTES, readAnswers } from '../prefs/answers.js';
import type { PairAnswer } from '../prefs/bradley_terry.js';
import {
  decodeRewardCheckpoint, encodeRewardCheckpoint, PREFS_CHECKPOINT_FORMAT, PREFS_CHECKPOINT_VERSION, restoreRewardCheckpoint, RewardCheckpointError,
  type AnswersChoice, type RewardCheckpoint,
} from '../prefs/checkpoint.js';
import { noisyListener, SCRIPTED_LISTENER_NAMES, SCRIPTED_LISTENERS, type ListenerFunction, type ScriptedListenerName } from '../prefs/listeners.js';
import {
  DEFAULT_REWARD_TRAINING, HELD_OUT_PAIRS_DESCRIPTION, IncompatibleNoteRnnError, longestComposition, MAX_COMPOSITION_STEPS, REWARD_TRAINING_LIMITS,
  RewardModelTrainer, runRewardTraining, splitPairs, type PairMetrics, type PreferencePair, type RewardTrainingSettings,
} from '../prefs/reward_model.js';
import { SESSION_FORMAT, SESSION_VERSION, sessionToJson, type ListeningSession, type SessionPair } from '../prefs/session.js';
import { tunedModelSettings } from '../rl/tuned_model.js';
import { hiddenSizesProblem, MAX_HIDDEN_UNITS, MAX_LAYERS } from '../engine/layout.js';
import {
  BASIC_MODEL_PATH, formatDuration, loadKernelBuildFromDist, Progress, QUIET, readInput, readModelBytes, RELAXED_SIMD, stopOnSignal, UsageError, yieldToEventLoop,
  type KernelBuild,
} from './common.js';
import { commandHelp, defineCommand, limitedSettingRows, nearestName, parseCommandLine, type CommandSpec, type FlagValues } from './flags.js';
import { loadPolicy, type Policy } from './policy.js';

/** The seed range of both subcommands. */
const SEED = { min: REWARD_TRAINING_LIMITS.seed.min, max: REWARD_TRAINING_LIMITS.seed.max } as const;

export const PREFS_PAIRS = defineCommand({
  name: 'prefs pairs',
  title: 'a listening session of pairs, one composition of each model per pair',
  usage: ['prefs pairs --models <a>,<b> [--count <n>] [--out <dir>] [options]'],
  flags: [
    {
      name: 'models', kind: 'string', arg: '<a>,<b>',
      doc: 'two model files (note-rnn: the shipped Note RNN); the same model twice gives pairs of two of its compositions (what a reward model learns from), two models a blind A/B test',
    },
    { name: 'count', kind: 'integer', min: 1, max: 5000, default: 20, doc: 'pairs' },
    {
      name: 'out', kind: 'string', arg: '<dir>', default: 'runs/prefs-pairs',
      doc: 'session folder: session.json (the pairs\' tokens; the listening page loads it), pairs/<n>-a.mid and <n>-b.mid, and with --listener answers.jsonl',
    },
    { name: 'seed', kind: 'integer', ...SEED, default: 1, doc: 'seed of the pairs and of which model plays first' },
    { name: 'num-notes', kind: 'integer', min: 1, max: MAX_COMPOSITION_STEPS, doc: 'steps per composition', defaultText: "the tuned model's, else 32" },
    { name: 'temperature', kind: 'number', min: 0.01, max: 100, doc: 'sampling temperature of both models', defaultText: "each model's recorded one, else 1" },
    { name: 'prior', kind: 'string', arg: '<file>', doc: 'the Note RNN a G-tuned model acts with (the very Note RNN it was tuned from)', defaultText: 'the shipped default' },
    {
      name: 'listener', kind: 'string', arg: '<name|module>',
      doc: `answer the pairs with a scripted listener, for tests and benchmarks only: ${SCRIPTED_LISTENER_NAMES.join(', ')}, or an ES module whose default export is `
        + "(a, b, random) => 'A' | 'B' | 'none' (a, b: Uint8Array tokens; random(): [0, 1))",
    },
    { name: 'listener-noise', kind: 'number', min: 0, max: 0.5, default: 0.2, doc: "a built-in listener's chance of answering against its statistic" },
    { name: 'overwrite', kind: 'boolean', doc: 'replace an earlier session in --out (only the files it wrote)' },
    QUIET,
  ],
});

/** A reward training setting's flag: its range (REWARD_TRAINING_LIMITS) and default (DEFAULT_REWARD_TRAINING) from src/prefs. */
const settingRow = limitedSettingRows(REWARD_TRAINING_LIMITS, DEFAULT_REWARD_TRAINING);

export const PREFS_TRAIN = defineCommand({
  name: 'prefs train',
  title: 'a reward model trained on A/B answers with the Bradley–Terry loss',
  usage: [
    'prefs train <answers.csv|answers.jsonl ...> [--out <dir>] [options]',
    'prefs train --out <dir> --resume [--epochs <n>]',
  ],
  intro: `The reward model is an LSTM over the tokens with a one-unit output read at the last step.
  <answers ...>  the listening page's CSV export (columns answer, tokens_a, tokens_b) or JSON lines
                 ({"a": [tokens], "b": [tokens], "answer": "A" | "B" | "none"} per line); "none" answers
                 count as ties`,
  positionals: 'the answers files',
  flags: [
    {
      name: 'out', kind: 'string', arg: '<dir>', default: 'runs/prefs',
      doc: 'run folder: reward_model.safetensors (the best epoch\'s), checkpoint.safetensors, metrics.jsonl, report.md, split.json. It must be empty or new.',
    },
    {
      name: 'hidden', field: 'hiddenSizes', kind: 'integers', default: DEFAULT_REWARD_TRAINING.hiddenSizes, arg: '<n[,n..]>', doc: 'LSTM layer sizes',
      defaultText: "with --init note-rnn the Note RNN's", allowed: `1 to ${MAX_LAYERS} layers of 1..${MAX_HIDDEN_UNITS} units`, problem: hiddenSizesProblem,
    },
    {
      name: 'init', field: 'init', kind: 'choice', values: ['random', 'note-rnn'], default: DEFAULT_REWARD_TRAINING.init, arg: '<how>',
      doc: "random, or note-rnn: the LSTM layers start from the Note RNN's weights (a Note RNN of the basic encoding)",
    },
    { name: 'model', kind: 'string', arg: '<file>', doc: 'the Note RNN for --init note-rnn (of the basic encoding: a reward model reads the notes played)', defaultText: 'the shipped basic Note RNN, models/note_rnn_basic.safetensors' },
    settingRow('epochs', 'epochs', '<n>', 'the most passes over the training pairs'),
    settingRow('patience', 'patience', '<n>', 'stop when the held-out loss has not improved for this many epochs'),
    settingRow('batch', 'batchPairs', '<n>', 'pairs per update'),
    settingRow('lr', 'learningRate', '<x>', 'Adam learning rate'),
    settingRow('clip', 'clipNorm', '<x>', 'global gradient-norm bound'),
    settingRow('seed', 'seed', '<n>', 'random seed'),
    { name: 'resume', kind: 'boolean', doc: 'continue the run in --out from its checkpoint (flags left out are taken from it; only --epochs may change)' },
    { name: 'overwrite', kind: 'boolean', doc: 'replace the previous prefs train run in --out (only the files it wrote)' },
    RELAXED_SIMD,
    QUIET,
  ],
});

export const PREFS: CommandSpec = {
  name: 'prefs',
  title: 'learn a reward from A/B answers (the listener in the loop)',
  usage: [
    ...PREFS_PAIRS.usage,
    ...PREFS_TRAIN.usage,
  ],
  intro: 'Then: rltuner tune --reward-model <dir>/reward_model.safetensors --weight-preference <w> [...]',
  flags: [],
  subcommands: [PREFS_PAIRS, PREFS_TRAIN],
  notes: `prefs train holds out a tenth of the answers to choose the best epoch by its loss, and reports its
accuracy (the share of its pairs with a preference that the model orders as answered) with the loss. Held out:
${HELD_OUT_PAIRS_DESCRIPTION}.
Ctrl-C (SIGTERM) stops prefs train after the current epoch's checkpoint; --resume continues it exactly.`,
};

type PairsValues = FlagValues<(typeof PREFS_PAIRS.flags)[number]>;
type TrainValues = FlagValues<(typeof PREFS_TRAIN.flags)[number]>;

/** `rltuner prefs <subcommand>`: each resolves to its exit code. */
const SUBCOMMANDS = new Map<string, (args: string[]) => Promise<number | void>>([
  ['pairs', (args) => prefsPairs(args)],
  ['train', (args) => prefsTrain(args)],
]);

export async function prefsCommand(args: string[]): Promise<number | void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(commandHelp(PREFS));
    return sub === undefined ? 2 : 0;
  }
  const run = SUBCOMMANDS.get(sub);
  if (!run) {
    const names = [...SUBCOMMANDS.keys()];
    const near = nearestName(sub, names);
    throw new UsageError(`unknown subcommand "${sub}"; ${near ? `did you mean ${near}? ` : ''}the subcommands are ${names.join(' and ')}`, 'prefs');
  }
  return run(rest);
}


// ---- prefs pairs ------------------------------------------------------------------------------------

/** A listener for --listener: a built-in scripted listener by name, or an ES module's default export. */
async function listenerFor(spec: string, noise: number): Promise<{ listen: ListenerFunction; name: string }> {
  if ((SCRIPTED_LISTENER_NAMES as string[]).includes(spec)) {
    const l = SCRIPTED_LISTENERS[spec as ScriptedListenerName];
    return { listen: noisyListener(l.utility, noise), name: `${spec} (noise ${noise})` };
  }
  const path = resolve(spec);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`--listener ${spec}: not a built-in listener (${SCRIPTED_LISTENER_NAMES.join(', ')}), and ${path} could not be imported as an ES module (${(e as Error).message})`, 'prefs');
  }
  if (typeof module.default !== 'function') {
    throw new UsageError(`--listener ${path}: its default export is ${typeof module.default}, not a function (a, b, random) => 'A' | 'B' | 'none'`, 'prefs');
  }
  const f = module.default as (a: Uint8Array, b: Uint8Array, random: () => number) => unknown;
  return {
    name: path,
    listen: (a, b, random) => {
      const answer = f(a, b, random);
      if (answer !== 'A' && answer !== 'B' && answer !== 'none') {
        throw new UsageError(`--listener ${path} answered ${JSON.stringify(answer)}; a listener answers 'A', 'B' or 'none'`, 'prefs');
      }
      return answer;
    },
  };
}

async function prefsPairs(args: string[]): Promise<number> {
  const { values: v, given, help } = parseCommandLine(PREFS_PAIRS, args);
  if (help) {
    process.stdout.write(commandHelp(PREFS_PAIRS));
    return 0;
  }
  const models = v.models?.split(',').map((m) => m.trim());
  if (!models || models.length !== 2 || models.some((m) => m === '')) {
    throw new UsageError('prefs pairs needs --models <a>,<b>: two model files (note-rnn for the shipped Note RNN), e.g. --models note-rnn,runs/tune-pg/pg_tuned.safetensors', 'prefs');
  }
  const { count, seed } = v;
  if (given.has('listener-noise') && v.listener === undefined) throw new UsageError('--listener-noise is for a --listener; pass --listener <name>', 'prefs');
  const listener = v.listener !== undefined ? await listenerFor(v.listener, v['listener-noise']) : null;
  const progress = new Progress(Boolean(v.quiet));
  const { kernels } = loadKernelBuildFromDist();
  const same = resolveModelName(models[0]) === resolveModelName(models[1]);
  const loaded = models.map((m) => loadPolicy(kernels, m === 'note-rnn' ? undefined : m, 2, v.prior));
  const names = models.map((m, i) => (m === 'note-rnn' ? 'note-rnn' : basename(loaded[i].path)));
  if (!same && names[0] === names[1]) names[1] = `${names[1]} (model 2)`;
  const settings = loaded.map((p) => tunedModelSettings(p.decoded, p.path));
  const numNotes = v['num-notes'] ?? settings.find((s) => s.algorithm !== 'note_rnn')?.numNotes ?? 32;
  const temperatures = settings.map((s) => v.temperature ?? s.temperature);

  const folder = RunFolder.claim(v.out, { kind: 'prefs pairs', resume: false, overwrite: Boolean(v.overwrite), notice: (l) => process.stderr.write(`note: ${l}\n`) });
  try {
    const rng = new Random(seed);
    const listenerRandom = new Random(rng.nextU32());
    const sample = (policy: Policy, temperature: number, pairSeed: number, n: number) => sampleCompositions(policy.models, new Random(pairSeed), {
      count: n, numNotes, temperature, priming: { kind: 'random_note' },
    }).compositions;
    const pairs: SessionPair[] = [];
    const answers: (PreferencePair & Record<string, unknown>)[] = [];
    for (let i = 0; i < count; i++) {
      const pairSeed = rng.nextU32();
      // Two models: both from the pair's seed (the same first note), in an order drawn at random. One model:
      // two of its compositions from the pair's seed.
      const first = rng.int(2);
      const [x, y] = same ? sample(loaded[0], temperatures[0], pairSeed, 2) : [sample(loaded[first], temperatures[first], pairSeed, 1)[0], sample(loaded[1 - first], temperatures[1 - first], pairSeed, 1)[0]];
      const modelA = same ? names[0] : names[first], modelB = same ? names[1] : names[1 - first];
      const n = String(i + 1).padStart(3, '0');
      const keyA = recordedKeyOf(same ? loaded[0] : loaded[first]), keyB = recordedKeyOf(same ? loaded[1] : loaded[1 - first]);
      folder.writeAtomic(`pairs/${n}-a.mid`, exportMidi(x, { key: keyA }));
      folder.writeAtomic(`pairs/${n}-b.mid`, exportMidi(y, { key: keyB }));
      pairs.push({ trial: i + 1, seed: pairSeed, modelA, modelB, a: x, b: y, midiA: `pairs/${n}-a.mid`, midiB: `pairs/${n}-b.mid` });
      if (listener) {
        const answer: PairAnswer = listener.listen(x, y, () => listenerRandom.float());
        answers.push({ trial: i + 1, seed: pairSeed, modelA, modelB, a: x, b: y, answer });
      }
    }
    const session: ListeningSession = { format: SESSION_FORMAT, version: SESSION_VERSION, seed, models: [names[0], names[1]], numNotes, pairs };
    folder.writeAtomic('session.json', sessionToJson(session));
    if (listener) folder.writeAtomic('answers.jsonl', answersToJsonLines(answers));
    const tally = (a: string) => answers.filter((x) => x.answer === a).length;
    progress.log(`${count} pairs of ${names[0]} and ${names[1]} (${numNotes} steps, seed ${seed}) in ${folder.dir}: session.json and pairs/*.mid`);
    if (listener) progress.log(`answered by ${listener.name}: A ${tally('A')}, B ${tally('B')}, no preference ${tally('none')} -> ${folder.path('answers.jsonl')}`);
    process.stdout.write(`session: ${folder.path('session.json')}\n${listener ? `answers: ${folder.path('answers.jsonl')}\n` : ''}`);
    return 0;
  } finally {
    folder.release();
  }
}

/** The file a --models entry names ('note-rnn': the shipped one), to tell whether both entries are one model. */
function resolveModelName(m: string): string {
  return m === 'note-rnn' ? readModelBytes(undefined).path : resolve(m);
}

// ---- prefs train ------------------------------------------------------------------------------------

const CHECKPOINT_FILE = 'checkpoint.safetensors';
const MODEL_FILE = 'reward_model.safetensors';
const METRICS_FILE = 'metrics.jsonl';

/** The flag of each reward training setting (from the table). */
const SETTING_FLAGS = Object.fromEntries(
  PREFS_TRAIN.flags.flatMap((row) => ('field' in row && row.field !== undefined ? [[row.field, row.name]] : [])),
) as Record<keyof RewardTrainingSettings, string>;

/** The training settings given on the command line (absent: not given). */
function settingsFromFlags(values: TrainValues, given: ReadonlySet<string>): Partial<RewardTrainingSettings> {
  const settings: Record<string, unknown> = {};
  for (const [field, flag] of Object.entries(SETTING_FLAGS)) if (given.has(flag)) settings[field] = values[flag as keyof TrainValues];
  return settings as Partial<RewardTrainingSettings>;
}

/** The answers files read: their pairs (in file order), the rows skipped, and each file's bytes for the fingerprint. */
function readAnswerFiles(paths: { given: string; path: string }[], notice: (line: string) => void): { pairs: PreferencePair[]; files: { name: string; bytes: Uint8Array }[] } {
  const pairs: PreferencePair[] = [];
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const { given, path } of paths) {
    const bytes = readInput(path, 'answers file', 'Pass the listening page\'s CSV export or a JSON-lines file of answers (see --help).', { bytes: MAX_ANSWERS_FILE_BYTES, name: 'MAX_ANSWERS_FILE_BYTES' });
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new UsageError(`${given}: not UTF-8 text; an answers file is the listening page's CSV or JSON lines`, 'prefs');
    }
    try {
      const read = readAnswers(text, given);
      if (read.skipped.length) notice(`${given}: ${read.skipped.length} answer${read.skipped.length === 1 ? '' : 's'} skipped (line ${read.skipped.slice(0, 5).map((s) => s.line).join(', ')}${read.skipped.length > 5 ? ', ...' : ''}): ${read.skipped[0].reason}`);
      pairs.push(...read.pairs);
    } catch (e) {
      throw e instanceof AnswersFileError ? new UsageError(e.message, 'prefs') : e;
    }
    files.push({ name: basename(path), bytes });
  }
  return { pairs, files };
}

async function prefsTrain(args: string[]): Promise<number | void> {
  const { values: v, given: flagsGiven, positionals, help } = parseCommandLine(PREFS_TRAIN, args);
  if (help) {
    process.stdout.write(commandHelp(PREFS_TRAIN));
    return;
  }
  const given = settingsFromFlags(v, flagsGiven);
  const answerPaths = positionals.map((p) => ({ given: p, path: resolve(p) }));
  const resume = Boolean(v.resume);
  if (resume && v.overwrite) throw new UsageError('--resume continues the run in --out and --overwrite replaces it; pass one of them', 'prefs');
  if (!resume && answerPaths.length === 0) {
    throw new UsageError('no answers: pass the listening page\'s CSV export or a JSON-lines file (rltuner prefs train answers.csv --out runs/prefs), or --resume', 'prefs');
  }
  const progress = new Progress(Boolean(v.quiet));
  const notice = (line: string) => process.stderr.write(`note: ${line}\n`);
  const folder = RunFolder.claim(v.out, { kind: 'prefs train', resume, overwrite: Boolean(v.overwrite), notice });
  const stop = stopOnSignal(() => progress.log('stopping at the end of this epoch (Ctrl-C again to quit at once)...'));
  try {
    return await train(folder, v, args, given, answerPaths, progress, notice, stop);
  } finally {
    stop.dispose();
    progress.done();
    folder.release();
  }
}

function resumeRefusal(path: string, mismatches: string[]): UsageError {
  return new UsageError(
    `--resume: this run differs from the checkpoint ${path}:\n${mismatches.map((m) => `  ${m}`).join('\n')}\n` +
      '  Resume with the run\'s own answers, build and settings (flags left out are taken from the checkpoint; only --epochs may change), ' +
      'or start a new run with --out <new folder>', 'prefs');
}

async function train(
  folder: RunFolder, v: TrainValues, args: string[], given: Partial<RewardTrainingSettings>, answerPaths: { given: string; path: string }[],
  progress: Progress, notice: (line: string) => void, stop: ReturnType<typeof stopOnSignal>,
): Promise<number | void> {
  const started = performance.now();
  const checkpointPath = folder.path(CHECKPOINT_FILE);
  let saved: RewardCheckpoint | null = null;
  let settings: RewardTrainingSettings = { ...DEFAULT_REWARD_TRAINING, hiddenSizes: [...DEFAULT_REWARD_TRAINING.hiddenSizes], ...given };
  let data: AnswersChoice = { answers: answerPaths };
  if (v.resume) {
    try {
      saved = decodeRewardCheckpoint(folder.readBytes(CHECKPOINT_FILE), checkpointPath);
    } catch (e) {
      throw e instanceof RewardCheckpointError ? new UsageError(e.message, 'prefs') : e;
    }
    const mismatches: string[] = [];
    const shown = (x: unknown) => (x === undefined ? 'none' : Array.isArray(x) ? x.join(',') : String(x));
    for (const [key, flag] of Object.entries(SETTING_FLAGS) as [keyof RewardTrainingSettings, string][]) {
      if (key === 'epochs') continue; // the one setting a resume may change
      const a = saved.state.settings[key], b = given[key];
      if (b !== undefined && shown(a) !== shown(b)) mismatches.push(`--${flag}: the checkpoint has ${shown(a)}, this run has ${shown(b)}`);
    }
    if (answerPaths.length && answerPaths.map((p) => p.path).join('\n') !== saved.data.answers.map((p) => p.path).join('\n')) {
      mismatches.push(`answers: the checkpoint has ${saved.data.answers.map((p) => p.path).join(', ')}, this run has ${answerPaths.map((p) => p.path).join(', ')}`);
    }
    if (typeof v.model === 'string' && resolve(v.model) !== saved.data.noteRnn) mismatches.push(`--model: the checkpoint has ${saved.data.noteRnn ?? 'none'}, this run has ${resolve(v.model)}`);
    if (mismatches.length) throw resumeRefusal(checkpointPath, mismatches);
    settings = { ...saved.state.settings, epochs: given.epochs ?? saved.state.settings.epochs };
    if (settings.epochs < saved.state.epoch) {
      throw new UsageError(`--epochs ${settings.epochs}: the checkpoint in ${folder.dir} has already run ${saved.state.epoch} epochs; pass --epochs ${saved.state.epoch} or more`, 'prefs');
    }
    data = saved.data;
  }
  const relaxed = v['relaxed-simd'] === undefined && saved ? saved.fingerprints.kernelBuild === 'relaxed' : Boolean(v['relaxed-simd']);
  const { kernels, build, digest } = loadKernelBuildFromDist(relaxed);

  const { pairs, files } = readAnswerFiles(data.answers, notice);
  if (pairs.length < 2) throw new UsageError(`${pairs.length} answer${pairs.length === 1 ? '' : 's'} with tokens in ${data.answers.map((a) => a.given).join(', ')}; a reward model needs at least 2 (20 to 50 is a start)`, 'prefs');
  const split = splitPairs(pairs);
  const decided = (ps: PreferencePair[]) => ps.filter((p) => p.answer !== 'none').length;
  progress.log(`answers: ${pairs.length} (${decided(pairs)} with a preference, ${pairs.length - decided(pairs)} ties); train ${split.train.length}, held out ${split.heldOut.length} (${decided(split.heldOut)} with a preference)`);
  folder.writeAtomic('split.json', `${JSON.stringify({ train: split.train.length, heldOut: split.heldOut.length, heldOutChosenBy: HELD_OUT_PAIRS_DESCRIPTION, answers: data.answers.map((a) => a.given) }, null, 1)}\n`);

  let noteRnn: { path: string; bytes: Uint8Array } | null = null;
  if (settings.init === 'note-rnn') {
    noteRnn = readModelBytes(saved ? saved.data.noteRnn : (v.model ?? BASIC_MODEL_PATH));
    data = { ...data, noteRnn: noteRnn.path };
    if (!given.hiddenSizes && !saved) settings.hiddenSizes = [...decodeModel(noteRnn.bytes, noteRnn.path).config.hiddenSizes];
  } else if (typeof v.model === 'string') {
    throw new UsageError('--model is the Note RNN a reward model starts from with --init note-rnn; pass --init note-rnn, or leave --model out', 'prefs');
  }
  const fingerprintsOf = (format: string, kernelBuild: KernelBuild): Fingerprints => ({
    format, kernelBuild, kernels: digest, answers: fileListFingerprint(files), ...(noteRnn ? { noteRnn: sha256Hex(noteRnn.bytes) } : {}),
  });
  const checkpointFingerprints = fingerprintsOf(`${PREFS_CHECKPOINT_FORMAT}/${PREFS_CHECKPOINT_VERSION}`, build);
  if (saved) {
    const mismatches = fingerprintMismatches(saved.fingerprints, checkpointFingerprints, 'the checkpoint');
    if (mismatches.length) throw resumeRefusal(checkpointPath, mismatches);
  }
  const maxSteps = saved ? saved.state.maxSteps : longestComposition(pairs);
  if (longestComposition(pairs) > maxSteps) throw new UsageError(`the answers hold a composition longer than the ${maxSteps} steps the checkpoint was planned for; the answers files changed`, 'prefs');
  let trainer: RewardModelTrainer;
  try {
    trainer = new RewardModelTrainer(kernels, settings, maxSteps, noteRnn ? decodeModel(noteRnn.bytes, noteRnn.path) : null);
  } catch (e) {
    if (e instanceof IncompatibleNoteRnnError) throw new UsageError(`${noteRnn!.path}: ${e.message}`, 'prefs');
    throw e instanceof RangeError ? new UsageError(e.message, 'prefs') : e;
  }
  if (saved) {
    restoreRewardCheckpoint(trainer, saved, checkpointPath);
    const epoch = trainer.epoch;
    if (!folder.exists(METRICS_FILE)) throw new UsageError(`--resume: ${folder.path(METRICS_FILE)} is missing, but the checkpoint is at epoch ${epoch}; restore the file, or start over (--overwrite)`, 'prefs');
    const dropped = folder.truncateJsonLines(METRICS_FILE, (r) => !(typeof r.epoch === 'number' && r.epoch > epoch));
    if (dropped) notice(`dropped ${dropped} line${dropped === 1 ? '' : 's'} of ${folder.path(METRICS_FILE)} past the checkpoint's epoch ${epoch}`);
    const epochs = folder.readJsonLines(METRICS_FILE).map((r) => r.epoch);
    if (epochs.length !== epoch || epochs.some((e, i) => e !== i + 1)) {
      throw new UsageError(`--resume: ${folder.path(METRICS_FILE)} holds the records of epochs [${epochs.join(', ')}], but the checkpoint is at epoch ${epoch}; restore it, or start over (--overwrite)`, 'prefs');
    }
    progress.log(`resumed at epoch ${epoch} (best held-out loss ${trainer.bestLoss.toFixed(4)} at epoch ${trainer.bestEpoch})`);
  } else {
    folder.writeAtomic(METRICS_FILE, '');
  }

  const description = {
    answers: data.answers.map((a) => a.given), pairs: pairs.length, withPreference: decided(pairs), train: split.train.length, heldOut: split.heldOut.length,
    heldOutChosenBy: HELD_OUT_PAIRS_DESCRIPTION,
  };
  const writeBestModel = () => {
    const info: ModelInfo = {
      data: description,
      training: {
        ...settings, epochsRun: trainer.epoch, bestEpoch: trainer.bestEpoch, bestHeldOut: trainer.history.find((h) => h.epoch === trainer.bestEpoch)?.heldOut ?? null,
        history: trainer.history.map(({ epoch, trainLoss, heldOut }) => ({ epoch, trainLoss, heldOut })),
      },
      fingerprints: fingerprintsOf(REWARD_MODEL_FINGERPRINT_FORMAT, build),
    };
    folder.writeAtomic(MODEL_FILE, trainer.withBestParams(() => encodeModel(trainer.model, info, REWARD_MODEL)));
  };
  const { stoppedEarly } = await runRewardTraining(trainer, split, {
    onProgress: (epoch, done, total, loss) => progress.update(`epoch ${epoch}/${settings.epochs}  ${Math.round((100 * done) / total)}%  train loss ${loss.toFixed(4)}`),
    onEpoch: async (r, isBest) => {
      if (isBest) writeBestModel();
      folder.appendJsonLine(METRICS_FILE, { epoch: r.epoch, train_loss: r.trainLoss, held_out: r.heldOut, seconds: r.seconds });
      folder.writeAtomic(CHECKPOINT_FILE, encodeRewardCheckpoint(trainer, data, checkpointFingerprints));
      progress.log(`epoch ${r.epoch}/${settings.epochs}: train loss ${r.trainLoss.toFixed(4)}, held out ${formatMetrics(r.heldOut)}${isBest ? '  (best)' : ''}  [${r.seconds.toFixed(1)} s]`);
      await yieldToEventLoop();
    },
    shouldStop: () => stop.requested,
  });
  if (stop.requested) {
    process.stderr.write(folder.exists(CHECKPOINT_FILE) ? `stopped after epoch ${trainer.epoch}; continue with the same command plus --resume\n` : 'stopped before the first epoch ended; nothing to resume\n');
    return stop.exitCode;
  }
  writeBestModel();
  const best = trainer.withBestParams(() => ({ train: trainer.evaluate(split.train), heldOut: trainer.evaluate(split.heldOut) }));
  const lines = [
    '# Reward model training report',
    '',
    `Command: \`rltuner prefs train ${args.join(' ')}\``,
    `Settings: ${JSON.stringify(settings)}`,
    `Answers: ${pairs.length} from ${data.answers.map((a) => a.given).join(', ')} (${decided(pairs)} with a preference, ${pairs.length - decided(pairs)} ties); ` +
      `held out ${split.heldOut.length} (${HELD_OUT_PAIRS_DESCRIPTION})`,
    `Kernel build: ${build}`,
    `Epochs run: ${trainer.epoch}${stoppedEarly ? ` (stopped early: the held-out loss did not improve for ${settings.patience} epochs)` : ''}; best epoch by held-out loss: ${trainer.bestEpoch}`,
    '',
    '| pairs | count | with a preference | loss (nats/pair) | accuracy |',
    '|---|---|---|---|---|',
    `| train | ${best.train.pairs} | ${best.train.decided} | ${best.train.loss.toFixed(4)} | ${percent(best.train.accuracy)} |`,
    `| held out | ${best.heldOut.pairs} | ${best.heldOut.decided} | ${Number.isFinite(best.heldOut.loss) ? best.heldOut.loss.toFixed(4) : '–'} | ${percent(best.heldOut.accuracy)} |`,
    '',
    'Accuracy: the share of the pairs with a preference that the model orders as answered (a coin scores 50 %); the loss',
    `of a model that knows nothing is ln 2 = ${Math.LN2.toFixed(4)}. With few held-out pairs both are rough: ${best.heldOut.decided} decide it here.`,
    '',
  ];
  folder.writeAtomic('report.md', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`reward model: ${folder.path(MODEL_FILE)}  (total ${formatDuration((performance.now() - started) / 1000)})\n` +
    `tune on it: rltuner tune --reward-model ${folder.path(MODEL_FILE)} --weight-preference 1 --algorithm pg\n`);
}

function percent(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(1)}%`;
}

function formatMetrics(m: PairMetrics): string {
  return m.pairs === 0 ? 'none' : `loss ${m.loss.toFixed(4)}, accuracy ${percent(m.accuracy)} of ${m.decided}`;
}

/** The key of a policy's notes: a tuned model's recorded tuning key (as `tune` writes its samples), else C major. */
function recordedKeyOf(policy: Policy): Key {
  const notes = policy.decoded.info.notes as { config?: { key?: unknown; mode?: unknown } } | undefined;
  const key = notes?.config?.key ?? 'C', mode = notes?.config?.mode ?? 'major';
  try {
    if (typeof key !== 'string' || typeof mode !== 'string') throw new KeyNameError(`key ${JSON.stringify(key)} / mode ${JSON.stringify(mode)}`);
    return keyNamed(key, mode);
  } catch (e) {
    if (!(e instanceof KeyNameError)) throw e;
    throw new UsageError(`${policy.path}: its metadata records a tuning key rltuner does not know (${e.message}); the file is damaged or was edited`, 'prefs');
  }
}
