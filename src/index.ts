/**
 * rltuner as a library: load the kernels (bundled with no argument, or from bytes, a compiled
 * WebAssembly.Module, a fetch Response or a URL), load a Note RNN (the bundled default, or model-file
 * bytes), generate compositions, tune with a progress callback, evaluate, and write MIDI bytes. Nothing
 * under this entry imports a Node module: it runs in Node, Deno, Bun, browsers, workers and edge runtimes
 * (where compiling at run time is forbidden, the `workerd` entry, index_workerd.ts, supplies a precompiled
 * module). Kernels on more threads, with the bits of one: `KernelThreads.start` over the shared-memory build
 * (`rltuner/wasm-shared`) with a way to start a helper thread (`rltuner/node-threads` in Node; in a browser,
 * a module Worker that passes its message to `runKernelThread`); its `kernels` then go wherever kernels do.
 */
import { createArena } from './engine/arena.js';
import { describeValue, type Kernels } from './engine/kernels.js';
import { bundledNoteRnnBytes } from './engine/bundled_assets.js';
import type { LstmModel } from './engine/lstm_model.js';
import { primingFor, sampleCompositions, type Priming } from './policy/sampling.js';
import { decodeModel, encodeModel, loadModelInto, MODEL_FINGERPRINT_FORMAT, REWARD_MODEL, type DecodedModel } from './io/model_file.js';
import { exportMidi, type ExportOptions } from './music/midi_export.js';
import { barGrid } from './music/encodings.js';
import { Random } from './random.js';
import { resolveConfig, type TunerConfig } from './rl/config.js';
import type { PolicyEvaluation } from './eval/evaluation.js';
import { encodeTunerCheckpoint } from './rl/checkpoint.js';
import { kernelDigest, tuningFingerprints } from './io/fingerprint.js';
import { createTuner, runTuning, type FinalReport, type LogRecord } from './rl/driver.js';
import type { RlTuner } from './rl/tuner.js';
import type { PgTuner } from './rl/pg.js';
import { tunedModelSettings, type TunedModelSettings } from './rl/tuned_model.js';
import { actingPolicy, priorMatch } from './rl/tuned_policy.js';

export {
  loadKernels, kernelsFromModule, acceptsRelaxedBuild, type Kernels, type KernelSource, type WasmModule, type WasmMemory,
  type ResponseLike, type UrlLike,
} from './engine/kernels.js';
export { KernelThreads, runKernelThread, type KernelThreadStart, type StartKernelThread } from './engine/kernel_threads.js';
export { createArena, createModel, cloneModel } from './engine/arena.js';
export { LstmModel, type AdamSettings, type ClipSettings, type ModelPlan, type DropoutSettings, type MaskSource } from './engine/lstm_model.js';
export type { LstmStackConfig, InputFeatures } from './engine/layout.js';
export {
  encodeModel, decodeModel, loadModel, loadModelInto, ModelFileError, MAX_MODEL_FILE_BYTES, MAX_ABS_WEIGHT, NOTE_RNN_MODEL, REWARD_MODEL, type DecodedModel,
  type ModelKind,
} from './io/model_file.js';
export { answerTarget, bradleyTerryLoss, pairAgreement, type PairAnswer } from './prefs/bradley_terry.js';
export {
  RewardModelTrainer, runRewardTraining, scoreCompositions, evaluatePairs, splitPairs, pairName, rewardModelConfig, longestComposition,
  DEFAULT_REWARD_TRAINING, MAX_COMPOSITION_STEPS, IncompatibleNoteRnnError, type PreferencePair, type RewardTrainingSettings, type PairMetrics, type RewardEpochRecord,
} from './prefs/reward_model.js';
export { trainRewardModel, type TrainRewardModelOptions, type TrainRewardModelResult } from './prefs/train_reward_model.js';
export { PreferenceReward, type RewardModelWeights } from './prefs/preference_reward.js';
export {
  readAnswers, readAnswersCsv, readAnswersJsonLines, answersToJsonLines, tokensToField, parseCsv, AnswersFileError, ANSWER_CSV_COLUMNS,
  MAX_ANSWERS_FILE_BYTES, type AnswersRead,
} from './prefs/answers.js';
export { leastChangeDraw, type CompositionPool, type LeastChangeDraw } from './prefs/least_change.js';
export { readSession, sessionToJson, SessionFileError, SESSION_FORMAT, MAX_SESSION_FILE_BYTES, type ListeningSession, type SessionPair } from './prefs/session.js';
export {
  SCRIPTED_LISTENERS, SCRIPTED_LISTENER_NAMES, NARROW_RANGE_SEMITONES, noisyListener, rankingAgreement, type ListenerFunction, type ScriptedListener,
  type ScriptedListenerName,
} from './prefs/listeners.js';
export { tunedModelSettings, UNRECORDED_SETTINGS, type TunedModelSettings } from './rl/tuned_model.js';
export { priorMatch, type PriorMatch } from './rl/tuned_policy.js';
export { sampleCompositions, primingFor, policyProbabilities, type Priming, type SampleOptions, type SampleResult } from './policy/sampling.js';
export * from './music/encoding.js';
export {
  BASIC_ENCODING, LOOKBACK_ENCODING, LOOKBACK_FEATURES, ENCODING_NAMES, encodingNamed, encodingOf, encodingConfig, barGrid, DEFAULT_BAR_GRID,
  MelodyHistories, actionsPlaying, REPEAT_ONE_BAR, REPEAT_TWO_BARS, type MelodyEncoding, type EncodingName, type BarGrid,
} from './music/encodings.js';
export { importMidi, MidiImportError, MAX_MIDI_FILE_BYTES, TRANSPOSE_RULES, type ImportOptions, type ImportResult, type MelodyKey, type MelodyMeter, type TransposeRule } from './music/midi_import.js';
export { keyNamed, keyName, keyOfSignature, signatureOfKey, transpositionToReference, scaleOf, TONIC_NAMES, MODE_NAMES, KeyNameError, type Key, type ModeName } from './music/keys.js';
export { estimateKey, pitchClassDurations, KEY_PROFILES, KEY_PROFILE_NAMES, DEFAULT_KEY_PROFILE, type KeyEstimate, type KeyProfileName } from './music/key_finding.js';
export { keyRuleContext, keyTables, type KeyRuleOptions } from './rules/key_context.js';
export { scoreNoteRnn, type NoteRnnScore, type ScoreOptions } from './train/scoring.js';
export { evaluateNoteRnn, type SequenceMetrics } from './train/note_rnn_training.js';
export { ngramBaselines, fitNgram, evaluateNgram, type NgramMetrics } from './train/ngram.js';
export { exportMidi, MidiExportError, type ExportOptions } from './music/midi_export.js';
export { tokensToNotes, type StepNote } from './music/notes.js';
export { buildCorpus, formatCorpusReport, formatCorpusMarkdown, splitByNameHash, type MidiSource, type Melody, type MelodyInfo, type CorpusReport } from './music/corpus.js';
export { Random, type RandomState } from './random.js';
export { resolveConfig, resolveConfigWithNotes, describeConfig, PRESETS, PRESET_NAMES, DEFAULT_CONFIG, CONFIG_FIELDS, ConfigError, type TunerConfig } from './rl/config.js';
export { PREFERENCE_TUNING } from './rl/preference_tuning.js';
export { RlTuner, TuneDivergedError, type IntervalMetrics } from './rl/tuner.js';
export { KlController } from './rl/kl_controller.js';
export { OnlineAndTarget } from './engine/online_and_target.js';
export { MelodyEnv, type StepOutcome } from './rl/env.js';
export { createTuner, runTuning, finalReport, type AnyTuner, type Tuner, type TuningHooks, type TuningOutcome, type FinalReport, type LogRecord } from './rl/driver.js';
export { PgTuner } from './rl/pg.js';
export { evaluatePolicy, evaluateSample, evaluationMetrics, type PolicyEvaluation } from './eval/evaluation.js';
export { compositionStatistics, statisticsTable, type CompositionStatistics } from './eval/statistics.js';
export {
  dataLikeness, histogramDistances, totalVariation, DURATION_BINS, INTERVAL_BINS, RANGE_BINS, type DataLikeness,
} from './eval/data_likeness.js';
export { cutPieces, dataReference, referenceTunesOf, shippedReference, SHIPPED_REFERENCE_LENGTHS, type DataReference, type ReferenceTune } from './eval/data_reference.js';
export { EVALUATION_ROWS, DATA_ROWS, evaluationTable, type EvaluationRow } from './eval/report.js';
export { GOALS, LONG_PIECE_GOALS, LONG_PIECE_EVALUATION, goalOutcomes, goalMet, goalTable, type Goal, type RunEvaluation } from './eval/goals.js';
export {
  compositionTerms, compositionTermsInto, compositionReward, tonicEndingTerm, rhythmTerm, pitchRangeTerm, pitchRangeModel, phraseRecurrenceTerm,
  durationHistogram, COMPOSITION_TERM_NAMES, NUM_COMPOSITION_TERMS, NOTTINGHAM_COMPOSITION_MODEL, type CompositionModel, type CompositionTermName,
} from './rules/composition.js';
export { hasRecurringWindow } from './music/recurrence.js';
export { musicTheoryReward, RULE_NAMES, C_MAJOR_RULES, type RuleContext } from './rules/rules.js';
export { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint, CheckpointError, type TunerCheckpoint } from './rl/checkpoint.js';
export { lineChart, heatmap } from './report/svg.js';
export { encodeSafetensors, decodeSafetensors, SafetensorsError } from './io/safetensors.js';
export {
  fromNoteSequence, toNoteSequence, NoteSequenceError, type NoteSequence, type NoteSequenceNote, type MusicalKey,
  type FromNoteSequenceOptions, type FromNoteSequenceResult, type ToNoteSequenceOptions,
} from './music/note_sequence.js';
export {
  importMagentaCheckpoint, exportMagentaCheckpoint, MagentaCheckpointError, MUSIC_RNN_CONFIG, MAGENTA_CONFIG_FILE,
  MAGENTA_MANIFEST_FILE, MAGENTA_SHARD_FILE, type MagentaCheckpoint, type MagentaCheckpointFiles, type NoteRnnTensors,
} from './io/magenta_checkpoint.js';

/** Model-file bytes as a Uint8Array (from a Uint8Array, another ArrayBuffer view, or an ArrayBuffer). */
function modelFileBytes(bytes: unknown, caller: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Object.prototype.toString.call(bytes) === '[object ArrayBuffer]') return new Uint8Array(bytes as ArrayBuffer);
  const hint = typeof (bytes as { arrayBuffer?: unknown } | null)?.arrayBuffer === 'function'
    ? ' (for a fetch Response or a Blob, pass new Uint8Array(await response.arrayBuffer()))' : '';
  throw new TypeError(`${caller}: expected the model file's bytes (a Uint8Array or ArrayBuffer); got ${describeValue(bytes)}${hint}; loadDefaultNoteRnn(kernels) loads the shipped model`);
}

/**
 * A policy cannot be loaded as asked: a G-tuned model without its prior, with another Note RNN as its prior,
 * or passed to loadNoteRnn (which loads one network). The message names the model and what to pass.
 */
export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
}

/** How to load a G model, for messages. */
const G_MODEL_HINT = 'load it with loadPolicy(kernels, bytes, { prior: <the bytes of the Note RNN it was tuned from, e.g. await defaultNoteRnnBytes()> }) and pass the policy to generate';

/**
 * A Note RNN (or a Q- or Ψ-tuned network, which acts alone) loaded from model-file bytes, ready to sample
 * (up to `maxBatch` compositions at a time). A G-tuned model is refused: it acts with its Note RNN prior,
 * which loadPolicy pairs with it.
 */
export function loadNoteRnn(kernels: Kernels, bytes: Uint8Array | ArrayBuffer, maxBatch = 64, source = 'model file'): { model: LstmModel; decoded: DecodedModel } {
  const decoded = decodeModel(modelFileBytes(bytes, 'loadNoteRnn'), source);
  if (tunedModelSettings(decoded, source).algorithm === 'g') {
    throw new PolicyLoadError(`${source} is a G-tuned model: it acts with its Note RNN prior (acting scores = G + the prior's logits), and alone would sample the wrong distribution; ${G_MODEL_HINT}`);
  }
  const model = createArena(kernels, { model: { config: decoded.config, maxBatch } }).models.model;
  loadModelInto(model, decoded, source);
  return { model, decoded };
}

/** A model file ready to act: the networks sampled in lockstep (generate takes it), and what it is. */
export interface Policy {
  /** One network, or a G network and its Note RNN prior, whose logits are summed into acting scores. */
  models: LstmModel[];
  algorithm: TunedModelSettings['algorithm'];
  decoded: DecodedModel;
  /** What was taken on trust (a G model from before fingerprints, whose prior cannot be checked). */
  warnings: string[];
}

export interface LoadPolicyOptions {
  /** A G model's Note RNN prior, as model-file bytes: the very Note RNN it was tuned from (checked by its SHA-256). */
  prior?: Uint8Array | ArrayBuffer;
  /** Compositions sampled at a time [64]. */
  maxBatch?: number;
  /** Names of the model and the prior in messages. */
  source?: string;
  priorSource?: string;
}

/**
 * Any model file as a sampling policy: a Note RNN or a Q/Ψ-tuned network alone; a G-tuned network with its
 * prior (`options.prior`), which must be the Note RNN it was tuned from. A G model without a prior, or with
 * another one, is refused naming both fingerprints.
 */
export function loadPolicy(kernels: Kernels, bytes: Uint8Array | ArrayBuffer, options: LoadPolicyOptions = {}): Policy {
  const source = options.source ?? 'model file';
  const priorSource = options.priorSource ?? 'the prior';
  const maxBatch = options.maxBatch ?? 64;
  const decoded = decodeModel(modelFileBytes(bytes, 'loadPolicy'), source);
  const { algorithm } = tunedModelSettings(decoded, source);
  if (algorithm !== 'g') return { ...actingPolicy(kernels, decoded, source, maxBatch), decoded, warnings: [] };
  if (options.prior === undefined) {
    throw new PolicyLoadError(`${source} is a G-tuned model: it acts with its Note RNN prior; pass { prior: <the bytes of the Note RNN it was tuned from> } (for a model tuned from the shipped one, await defaultNoteRnnBytes())`);
  }
  const priorBytes = modelFileBytes(options.prior, 'loadPolicy (prior)');
  const match = priorMatch(decoded, priorBytes);
  if (match.kind === 'other') {
    throw new PolicyLoadError(`${source}: this G model was tuned from the Note RNN ${match.recorded}${match.tunedFrom ? ` (${match.tunedFrom})` : ''}; ${priorSource} is ${match.actual}. A G model acts with the very Note RNN it was tuned from: pass that one as the prior`);
  }
  const warnings = match.kind === 'unrecorded' ? [`${source} records no fingerprint of the Note RNN it was tuned from (an older file); ${priorSource} is taken on trust`] : [];
  const prior = { decoded: decodeModel(priorBytes, priorSource), source: priorSource };
  return { ...actingPolicy(kernels, decoded, source, maxBatch, prior), decoded, warnings };
}

/** The shipped default Note RNN (models/note_rnn.safetensors) as model-file bytes, for tune or loadNoteRnn. */
export function defaultNoteRnnBytes(): Promise<Uint8Array> {
  return bundledNoteRnnBytes();
}

/**
 * The shipped default Note RNN, ready to sample. Its 240 KB travel in a separate module that is imported
 * only by this call (and defaultNoteRnnBytes), so applications that load their own model do not carry it.
 */
export async function loadDefaultNoteRnn(kernels: Kernels, maxBatch = 64): Promise<{ model: LstmModel; decoded: DecodedModel }> {
  return loadNoteRnn(kernels, await bundledNoteRnnBytes(), maxBatch, 'the default Note RNN (models/note_rnn.safetensors)');
}

export interface GenerateOptions {
  count?: number;
  /** Steps (sixteenth notes) per composition. */
  length?: number;
  temperature?: number;
  seed?: number;
  /** Tokens fed before sampling (e.g. importMidi(bytes).tokens); default one random note. */
  primer?: ArrayLike<number>;
  /**
   * Where the compositions' bars fall, for a lookback model: steps per bar (16 in 4/4, 12 in 3/4 and 6/8)
   * and the bar position of the first step (after the primer) [16, 0]. A basic model ignores it.
   */
  meter?: { stepsPerBar: number; barPosition?: number };
}

/** Samples compositions (token arrays) from a model (loadNoteRnn, either encoding) or a policy (loadPolicy: any model file, a G model with its prior). */
export function generate(model: LstmModel | Policy, options: GenerateOptions = {}): Uint8Array[] {
  const priming: Priming = options.primer ? { kind: 'primer', tokens: options.primer } : { kind: 'random_note' };
  const models = 'models' in model ? model.models : [model];
  const meter = options.meter ? barGrid(options.meter.stepsPerBar, options.meter.barPosition ?? 0) : undefined;
  return sampleCompositions(models, new Random(options.seed ?? 1), {
    count: options.count ?? 1, numNotes: options.length ?? 64, temperature: options.temperature ?? 1, priming, ...(meter ? { meter } : {}),
  }).compositions;
}

/** A composition as Standard MIDI File bytes. */
export function compositionToMidi(tokens: ArrayLike<number>, options?: ExportOptions): Uint8Array {
  return exportMidi(tokens, options);
}

export interface TuneProgress {
  step: number;
  totalSteps: number;
  stepsPerSecond: number;
  metrics: LogRecord;
}

export interface TuneOptions {
  /** Preset name ('default', 'library', 'script') and field overrides (camelCase, as TunerConfig). */
  preset?: string;
  config?: Partial<TunerConfig>;
  /** The primer melody (tokens, e.g. importMidi(bytes).tokens) for config.priming 'primer'. */
  primer?: ArrayLike<number>;
  /** Training melodies (tokens) for config.priming 'corpus'. */
  corpus?: readonly Uint8Array[];
  /**
   * A reward model's file bytes (from `rltuner prefs train` or trainRewardModel): the learned preference reward,
   * weighted by config.weightPreference (which must then be positive).
   */
  rewardModel?: Uint8Array | ArrayBuffer;
  /** Called after every logging interval (config.logEvery). */
  onProgress?: (progress: TuneProgress) => void;
  /** Called after every periodic evaluation (config.evalEvery, config.evalCompositions). */
  onEvaluation?: (record: Record<string, number>, evaluation: PolicyEvaluation) => void;
  /** Called with checkpoint bytes every config.checkpointEvery steps, when stopped, and at the end. */
  onCheckpoint?: (bytes: Uint8Array, step: number) => void;
  /** Stops the run between compositions (the result then holds the model as it was there); an AbortSignal. */
  signal?: { readonly aborted: boolean };
  /** Milliseconds of work between yields to the event loop (keeps a worker responsive) [50]. */
  sliceMs?: number;
}

export interface TuneResult {
  config: TunerConfig;
  tuner: RlTuner | PgTuner;
  /**
   * The tuned network as model-file bytes (loadPolicy(kernels, modelBytes, { prior: noteRnnBytes }) makes it
   * a policy for generate; a G network acts with that prior, and loadNoteRnn refuses it), with the Note RNN's
   * data and training notes and the fingerprints of what it was made from, as `rltuner tune` writes.
   */
  modelBytes: Uint8Array;
  /** One record per logging interval. */
  history: LogRecord[];
  /** True when the signal stopped the run early. */
  stopped: boolean;
  /** The final comparison, samples and heat map (null when stopped, or with evalCompositions 0). */
  final: FinalReport | null;
}

/**
 * Tunes a Note RNN (model-file bytes) with RL Tuner, through the same loop and with the same config as
 * `rltuner tune`; async so progress can be shown between slices.
 */
export async function tune(kernels: Kernels, noteRnnBytes: Uint8Array | ArrayBuffer, options: TuneOptions = {}): Promise<TuneResult> {
  const noteRnnFile = modelFileBytes(noteRnnBytes, 'tune');
  const noteRnn = decodeModel(noteRnnFile);
  const config = resolveConfig(options.preset ?? 'default', (options.config ?? {}) as Record<string, unknown>);
  const rewardModelFile = options.rewardModel === undefined ? null : modelFileBytes(options.rewardModel, 'tune (rewardModel)');
  if (rewardModelFile && !(config.weightPreference > 0)) {
    throw new RangeError('tune: a rewardModel counts only with a positive config.weightPreference (it is 0); set weightPreference, e.g. 1');
  }
  const rewardModel = rewardModelFile ? decodeModel(rewardModelFile, 'the reward model', REWARD_MODEL) : null;
  const tuner = createTuner(kernels, noteRnn, config, primingFor(config.priming, options), undefined, rewardModel);
  // What the model is made from, as `rltuner tune` records it (primingFor has checked that the priming's
  // material was given; the thread count is not part of it).
  const primingMaterial = config.priming === 'primer' ? [options.primer!] : config.priming === 'corpus' ? options.corpus! : null;
  const fingerprints = tuningFingerprints(
    MODEL_FINGERPRINT_FORMAT, kernels.relaxed ? 'relaxed' : 'plain', noteRnnFile, primingMaterial, kernels.wasmBytes && kernelDigest(kernels.wasmBytes), rewardModelFile);
  const history: LogRecord[] = [];
  const outcome = await runTuning(tuner, {
    sliceMs: options.sliceMs,
    yieldControl: () => new Promise((r) => setTimeout(r, 0)),
    shouldStop: () => options.signal?.aborted ?? false,
    onLog: (metrics) => {
      history.push(metrics);
      options.onProgress?.({ step: metrics.step, totalSteps: config.trainingSteps, stepsPerSecond: metrics['charts/SPS'], metrics });
    },
    onEvaluation: options.onEvaluation,
    onCheckpoint: options.onCheckpoint && ((t) => options.onCheckpoint!(encodeTunerCheckpoint(t), t.counters.step)),
  });
  const modelBytes = encodeModel(tuner.tunedNetwork, {
    data: noteRnn.info.data, training: noteRnn.info.training, notes: { algorithm: config.algorithm, config: config, steps: tuner.counters.step }, fingerprints,
  });
  return { config, tuner, modelBytes, history, stopped: outcome.stopped, final: outcome.final };
}
