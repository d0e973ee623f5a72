/**
 * Note RNN model files: safetensors (little-endian f32 tensors behind a JSON header) with metadata that
 * says what the file is: format and version, token order, architecture (with its encoding: absent for the
 * basic one, "lookback" for Magenta's Lookback RNN inputs and classes, src/music/encodings.ts), how it was
 * trained, and (from version 2) the fingerprints of what it was made from. Loading a file of another format, version or
 * architecture, or a corrupt file, fails with a message that says which and what to do. Version 1 files
 * (no fingerprints; the shipped default model is one) still load. A file's own fingerprint is
 * `sha256Hex(bytes)` of the whole file.
 */
import type { Kernels } from '../engine/kernels.js';
import { MAX_HIDDEN_UNITS, MAX_LAYERS, planParameters, type LstmStackConfig } from '../engine/layout.js';
import { createArena } from '../engine/arena.js';
import type { LstmModel, ModelPlan } from '../engine/lstm_model.js';
import {
  decodeSafetensorsHeader, decodeSafetensorsTensors, encodeSafetensors, SafetensorsError, type SafetensorsEntry,
} from './safetensors.js';
import { excessiveNestingAt, MAX_JSON_NESTING } from './json_text.js';
import { preview, previewName } from './preview.js';
import { NUM_CLASSES } from '../music/encoding.js';
import { BASIC_ENCODING, encodingConfig, encodingNamed, encodingOf, ENCODING_NAMES, type MelodyEncoding } from '../music/encodings.js';
import { TIMING_RULES, TRANSPOSE_RULES, type TimingRule, type TransposeRule } from '../music/midi_import.js';
import type { Fingerprints } from './fingerprint.js';

export const MODEL_FORMAT = 'rltuner-note-rnn';
/** The version this rltuner writes. */
export const MODEL_FORMAT_VERSION = '2';
/** The versions this rltuner reads: 1 (no fingerprints) and 2. */
export const READABLE_MODEL_FORMAT_VERSIONS: readonly string[] = ['1', '2'];
/** `Fingerprints.format` of a model file written by this rltuner. */
export const MODEL_FINGERPRINT_FORMAT = `${MODEL_FORMAT}/${MODEL_FORMAT_VERSION}`;
/** The token order every rltuner model uses (SPEC §1). */
export const TOKEN_ORDER = '0=NOTE_OFF,1=NO_EVENT,2..37=note-on MIDI 48..83';

/**
 * What a model file holds: the Note RNN (its encoding's inputs and classes: 38 in and out for the basic
 * encoding) or a reward model (the basic encoding's 38 classes in, one score out; src/prefs/reward_model.ts).
 * Each has its format name and versions; a file of the other kind is named as such when handed over in the
 * wrong place.
 */
export interface ModelKind {
  format: string;
  /** The version written. */
  version: string;
  /** The versions read. */
  readable: readonly string[];
  /**
   * Its outputs: null for its encoding's classes (a Note RNN, of any encoding), or a fixed count of scores
   * over the basic encoding's inputs (a reward model: 1).
   */
  outputSize: number | null;
  /** How errors name it ("Note RNN"). */
  what: string;
  /** What to do when a file of this kind is given where another is expected. */
  use: string;
}

export const NOTE_RNN_MODEL: ModelKind = Object.freeze({
  format: MODEL_FORMAT, version: MODEL_FORMAT_VERSION, readable: READABLE_MODEL_FORMAT_VERSIONS, outputSize: null, what: 'Note RNN',
  use: 'a Note RNN or tuned model goes to --model (tune, generate, evaluate)',
});

export const REWARD_MODEL_FORMAT = 'rltuner-reward-model';
export const REWARD_MODEL_FORMAT_VERSION = '1';
/** `Fingerprints.format` of a reward model file written by this rltuner. */
export const REWARD_MODEL_FINGERPRINT_FORMAT = `${REWARD_MODEL_FORMAT}/${REWARD_MODEL_FORMAT_VERSION}`;

export const REWARD_MODEL: ModelKind = Object.freeze({
  format: REWARD_MODEL_FORMAT, version: REWARD_MODEL_FORMAT_VERSION, readable: [REWARD_MODEL_FORMAT_VERSION], outputSize: 1, what: 'reward model',
  use: 'a reward model (written by `rltuner prefs train`) goes to tune --reward-model',
});

const MODEL_KINDS: readonly ModelKind[] = [NOTE_RNN_MODEL, REWARD_MODEL];

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

export interface ModelInfo {
  /** Free-form JSON-able description of the training data (files, split, steps). */
  data?: unknown;
  /** Free-form JSON-able training settings and results (epochs, losses). */
  training?: unknown;
  /** Anything else worth keeping (e.g. the tuning run that produced a tuned model). */
  notes?: unknown;
  /** What the model was made from (absent in version 1 files). */
  fingerprints?: Fingerprints;
}

export interface DecodedModel {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
  info: ModelInfo;
}

/** Serialises a model's weights and description (a Note RNN, or with `kind` REWARD_MODEL a reward model). */
export function encodeModel(model: LstmModel, info: ModelInfo = {}, kind: ModelKind = NOTE_RNN_MODEL): Uint8Array {
  const scores = kind.outputSize !== null;
  if (scores && (model.config.inputSize !== NUM_CLASSES || model.config.input !== undefined || model.config.outputSize !== kind.outputSize)) {
    throw new RangeError(`encodeModel: a ${kind.what} takes ${NUM_CLASSES} classes in and gives ${kind.outputSize} out; this model has ${model.config.inputSize} and ${model.config.outputSize}`);
  }
  // A Note RNN's encoding is that of its network (encodingOf refuses a shape no encoding has).
  const encoding = scores ? BASIC_ENCODING : encodingOf(model.config);
  const metadata: Record<string, string> = {
    format: kind.format,
    format_version: kind.version,
    token_order: TOKEN_ORDER,
    architecture: JSON.stringify({
      kind: 'lstm-stack',
      inputSize: model.config.inputSize,
      hiddenSizes: model.config.hiddenSizes,
      outputSize: model.config.outputSize,
      gateOrder: 'i,f,g,o',
      forgetBias: 'included in lstm.L.b (the reference adds 1.0 at run time instead)',
      // The basic encoding writes no field, so its files read as they always have.
      ...(encoding === BASIC_ENCODING ? {} : { encoding: encoding.name }),
    }),
  };
  if (info.data !== undefined) metadata.data = JSON.stringify(info.data);
  if (info.training !== undefined) metadata.training = JSON.stringify(info.training);
  if (info.notes !== undefined) metadata.notes = JSON.stringify(info.notes);
  if (info.fingerprints !== undefined) metadata.fingerprints = JSON.stringify(info.fingerprints);
  return encodeSafetensors(model.exportTensors(), metadata);
}

/**
 * The largest model file rltuner reads: 2 GiB − 1 byte, the most Node reads into one buffer. It holds a
 * Note RNN of two 4,096-unit layers (0.8 GB in float32); the shipped model is 245 KB. Readers check a
 * file's size against it before reading a byte (the CLI's readModelBytes, the page's model input).
 */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

/**
 * The largest magnitude a weight may have: 1e6. Trained Note RNNs keep their weights within a few units
 * (the shipped model's largest is 3.03) and Adam moves a weight by about the learning rate a step
 * (0.001 by default), so a real model comes nowhere near. Bounded so, no pre-activation or logit can
 * pass 1e6 × (4,096 + 4,096 + 1) ≈ 8.2e9, far inside float32's 3.4e38: a model file cannot make the
 * network overflow into Infinity and NaN (a file of 3e38s once made sampling fail without its name).
 */
export const MAX_ABS_WEIGHT = 1e6;

/** Files up to this size that look like JSON are parsed to say which Magenta file was given instead of a model (16 MiB). */
const MAX_JSON_SNIFF_BYTES = 16 * 1024 * 1024;

/**
 * Parses and checks a model file without building a model. Decided from the header alone, before any
 * value is read: the format, version and token order; the architecture (at most MAX_LAYERS layers of at
 * most MAX_HIDDEN_UNITS units); and that the tensors are exactly those of that architecture, each of its
 * shape, their bytes in the file. Then the checksum, and every weight finite and within ±MAX_ABS_WEIGHT.
 * Every error is a ModelFileError starting with `source`. So what a file makes rltuner allocate later
 * (the model's arena) is bounded by the bytes the file holds.
 */
export function decodeModel(bytes: Uint8Array, source = 'model file', kind: ModelKind = NOTE_RNN_MODEL): DecodedModel {
  const header = readSafetensors(() => decodeSafetensorsHeader(bytes, source), bytes, source);
  const md = header.metadata;
  if (md.format !== kind.format) {
    const other = MODEL_KINDS.find((k) => k.format === md.format);
    if (other) throw new ModelFileError(`${source}: this is an rltuner ${other.what} (metadata format "${other.format}"), not a ${kind.what}; ${other.use}`);
    throw new ModelFileError(`${source}: not an rltuner ${kind.what} (metadata format is ${preview(md.format ?? null)}, expected "${kind.format}")`);
  }
  if (!kind.readable.includes(md.format_version)) {
    throw new ModelFileError(`${source}: model format version ${previewName(md.format_version ?? '(none)')} is not supported by this rltuner (which reads versions ${kind.readable.join(' and ')}); upgrade rltuner or retrain`);
  }
  if (md.token_order !== TOKEN_ORDER) {
    throw new ModelFileError(`${source}: token order "${previewName(md.token_order ?? '(none)')}" differs from rltuner's "${TOKEN_ORDER}"; convert the model first`);
  }
  // Metadata values are JSON text parsed below: none may nest deeply enough to make parsing slow.
  for (const [key, value] of Object.entries(md)) {
    const deep = excessiveNestingAt(value);
    if (deep >= 0) throw new ModelFileError(`${source}: metadata "${previewName(key)}" nests arrays and objects more than ${MAX_JSON_NESTING} deep (at character ${deep}; MAX_JSON_NESTING); the file is damaged`);
  }
  const config = architectureOf(md.architecture, source, kind);
  checkTensorsMatch(header.entries, config, source);
  const tensors = readSafetensors(() => decodeSafetensorsTensors(bytes, header, source), bytes, source);
  checkWeights(tensors, source);
  const parse = (key: string): unknown => {
    if (md[key] === undefined) return undefined;
    try {
      return JSON.parse(md[key]);
    } catch {
      return md[key];
    }
  };
  return {
    config,
    tensors,
    metadata: md,
    info: { data: parse('data'), training: parse('training'), notes: parse('notes'), fingerprints: parseFingerprints(md.fingerprints, source) },
  };
}

/** Runs a safetensors step, turning its errors into ModelFileErrors that say what the file is and what to do. */
function readSafetensors<T>(step: () => T, bytes: Uint8Array, source: string): T {
  try {
    return step();
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    const json = describeJsonFile(bytes);
    if (json) throw new ModelFileError(`${source}: this is ${json}, not an rltuner model file; convert the checkpoint folder with \`rltuner convert <folder> <model.safetensors>\` (or importMagentaCheckpoint in the library)`);
    throw new ModelFileError(`${e.message}\n  The file is damaged or not a model; retrain with \`rltuner train\` or use the shipped default (omit --model).`);
  }
}

/** The LSTM stack the `architecture` metadata claims, within MAX_LAYERS layers of MAX_HIDDEN_UNITS units. */
function architectureOf(text: string | undefined, source: string, kind: ModelKind): LstmStackConfig {
  let arch: { inputSize?: unknown; hiddenSizes?: unknown; outputSize?: unknown; encoding?: unknown };
  try {
    arch = JSON.parse(text ?? '');
  } catch {
    throw new ModelFileError(`${source}: the architecture metadata is missing or not JSON`);
  }
  const hidden = typeof arch === 'object' && arch !== null ? arch.hiddenSizes : undefined;
  let encoding: MelodyEncoding = BASIC_ENCODING;
  if (typeof arch === 'object' && arch !== null && arch.encoding !== undefined) {
    if (typeof arch.encoding !== 'string' || !(ENCODING_NAMES as readonly string[]).includes(arch.encoding)) {
      throw new ModelFileError(`${source}: the architecture names the encoding ${preview(arch.encoding)}, not one rltuner knows (${ENCODING_NAMES.join(', ')}); upgrade rltuner or retrain`);
    }
    encoding = encodingNamed(arch.encoding);
  }
  if (kind.outputSize !== null) {
    // A model that scores (a reward model) reads the basic encoding's events only.
    if (typeof arch !== 'object' || arch === null || encoding !== BASIC_ENCODING || arch.inputSize !== NUM_CLASSES || arch.outputSize !== kind.outputSize || !Array.isArray(hidden) || hidden.length === 0) {
      throw new ModelFileError(`${source}: unsupported architecture ${preview(text)} (an rltuner ${kind.what} is an LSTM stack taking ${NUM_CLASSES} classes in and giving ${kind.outputSize} out)`);
    }
  } else if (typeof arch !== 'object' || arch === null || arch.inputSize !== encoding.inputSize || arch.outputSize !== encoding.outputSize || !Array.isArray(hidden) || hidden.length === 0) {
    throw new ModelFileError(`${source}: unsupported architecture ${preview(text)} (rltuner models are LSTM stacks taking ${NUM_CLASSES} classes in and out, or with "encoding": "lookback" ${encodingNamed('lookback').inputSize} inputs and ${encodingNamed('lookback').outputSize} classes)`);
  }
  if (hidden.length > MAX_LAYERS) {
    throw new ModelFileError(`${source}: the architecture claims ${hidden.length} LSTM layers, above the ${MAX_LAYERS} rltuner supports (MAX_LAYERS); the file is damaged or not an rltuner model`);
  }
  hidden.forEach((h, l) => {
    if (!Number.isInteger(h) || h < 1) throw new ModelFileError(`${source}: the architecture claims layer ${l} has ${preview(h)} hidden units; expected a whole number from 1`);
    if (h > MAX_HIDDEN_UNITS) {
      throw new ModelFileError(`${source}: the architecture claims layer ${l} has ${h} hidden units, above the ${MAX_HIDDEN_UNITS} rltuner supports (MAX_HIDDEN_UNITS); the file is damaged or not an rltuner model`);
    }
  });
  return kind.outputSize !== null
    ? { inputSize: NUM_CLASSES, hiddenSizes: hidden as number[], outputSize: kind.outputSize }
    : encodingConfig(encoding, hidden as number[]);
}

/** The file's tensors must be exactly those of the claimed architecture, each of its shape (from the header alone). */
function checkTensorsMatch(entries: readonly SafetensorsEntry[], config: LstmStackConfig, source: string): void {
  const claimed = `the architecture metadata claims LSTM layers [${config.hiddenSizes.join(', ')}]`;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const expected = planParameters(config).tensors;
  for (const spec of expected) {
    const entry = byName.get(spec.name);
    if (!entry) {
      throw new ModelFileError(`${source}: ${claimed}, but the file has no tensor "${spec.name}" [${spec.shape.join(', ')}]; the file is damaged or its metadata was edited`);
    }
    if (entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])) {
      throw new ModelFileError(`${source}: ${claimed}, which needs tensor "${spec.name}" of shape [${spec.shape.join(', ')}], but the file's is [${entry.shape.join(', ')}]; the file is damaged or its metadata was edited`);
    }
    byName.delete(spec.name);
  }
  if (byName.size > 0) {
    const extra = [...byName.keys()].slice(0, 3).map((name) => `"${previewName(name)}"`).join(', ');
    throw new ModelFileError(`${source}: ${claimed}, but the file also holds ${byName.size} other tensor${byName.size === 1 ? '' : 's'} (${extra}); the file is damaged or not an rltuner model`);
  }
}

/** Every weight finite and within ±MAX_ABS_WEIGHT; the error names the tensor, the element and the value. */
function checkWeights(tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
  for (const [name, tensor] of tensors) {
    const { data } = tensor;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v >= -MAX_ABS_WEIGHT && v <= MAX_ABS_WEIGHT) continue; // false for NaN too
      const problem = Number.isFinite(v) ? `beyond the ±${MAX_ABS_WEIGHT} a weight may have (MAX_ABS_WEIGHT)` : 'not a finite number';
      throw new ModelFileError(`${source}: tensor "${previewName(name)}" holds ${v} at element ${i}, ${problem}; the file is damaged or comes from a run that diverged`);
    }
  }
}

/** How a model's training melodies were imported, as its metadata records it (data.import), each field checked. */
export interface RecordedImport {
  transposeBy?: TransposeRule;
  keepKey?: boolean;
  /** How notes were put on the grid (absent in models from before 'aligned' timing: those used 'nearest'). */
  timing?: TimingRule;
  track?: number;
  channel?: number;
}

/**
 * The import settings a model file records (metadata `data.import`, written by `rltuner train`), or
 * undefined when it records none. A field of the wrong type or out of range is a ModelFileError naming
 * the file, the field and the value, rather than an error about every MIDI file read with it.
 */
export function recordedImport(decoded: DecodedModel, source: string): RecordedImport | undefined {
  const data = decoded.info.data;
  const record = typeof data === 'object' && data !== null ? (data as { import?: unknown }).import : undefined;
  if (record === undefined) return undefined;
  const refuse = (field: string, value: unknown, allowed: string): never => {
    throw new ModelFileError(`${source}: its metadata records data.import${field} = ${preview(value)}, not ${allowed}; the file is damaged or was edited`);
  };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return refuse('', record, 'an object of import settings');
  const { transposeBy, keepKey, track, channel, timing } = record as Record<string, unknown>;
  const out: RecordedImport = {};
  if (timing !== undefined) {
    if (!(TIMING_RULES as readonly unknown[]).includes(timing)) refuse('.timing', timing, TIMING_RULES.join(' or '));
    out.timing = timing as TimingRule;
  }
  if (transposeBy !== undefined) {
    if (!(TRANSPOSE_RULES as readonly unknown[]).includes(transposeBy)) refuse('.transposeBy', transposeBy, TRANSPOSE_RULES.join(' or '));
    out.transposeBy = transposeBy as TransposeRule;
  }
  if (keepKey !== undefined) {
    if (typeof keepKey !== 'boolean') refuse('.keepKey', keepKey, 'true or false');
    out.keepKey = keepKey as boolean;
  }
  if (track !== undefined) {
    if (!(Number.isInteger(track) && (track as number) >= 0 && (track as number) <= 65_535)) refuse('.track', track, 'a track index 0..65535');
    out.track = track as number;
  }
  if (channel !== undefined) {
    if (!(Number.isInteger(channel) && (channel as number) >= 0 && (channel as number) <= 15)) refuse('.channel', channel, 'a channel index 0..15');
    out.channel = channel as number;
  }
  return out;
}

/** What a JSON file handed over as a model is (a Magenta/tfjs checkpoint's manifest or config), or null when the bytes are not JSON. */
function describeJsonFile(bytes: Uint8Array): string | null {
  let first = 0;
  while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first++;
  if (bytes.length > MAX_JSON_SNIFF_BYTES || (bytes[first] !== 0x7b && bytes[first] !== 0x5b)) return null; // '{' or '['
  let value: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (excessiveNestingAt(text) >= 0) return null;
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (Array.isArray(value)) return 'a Magenta/tfjs weights manifest (weights_manifest.json)';
  if (typeof value === 'object' && value !== null && 'type' in value) return `a Magenta/tfjs checkpoint's config.json (type ${preview((value as { type: unknown }).type)})`;
  return 'a JSON file (a Magenta/tfjs checkpoint file?)';
}

/** The `fingerprints` metadata entry, checked: a JSON object whose fields are strings. */
function parseFingerprints(text: string | undefined, source: string): Fingerprints | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  const isRecordOfStrings = typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string');
  const fingerprints = value as Fingerprints;
  if (!isRecordOfStrings || typeof fingerprints.format !== 'string' || (fingerprints.kernelBuild !== 'plain' && fingerprints.kernelBuild !== 'relaxed')) {
    throw new ModelFileError(`${source}: the fingerprints metadata is damaged (${text.slice(0, 120)}); retrain or re-tune to write it again`);
  }
  return fingerprints;
}

/** Loads a model file into `model` (which must have the file's architecture). */
export function loadModelInto(model: LstmModel, decoded: DecodedModel, source = 'model file'): void {
  if (decoded.config.hiddenSizes.join() !== model.config.hiddenSizes.join()) {
    throw new ModelFileError(`${source}: the file holds an LSTM of hidden sizes [${decoded.config.hiddenSizes}], but this model has [${model.config.hiddenSizes}]`);
  }
  const fileEncoding = encodingOf(decoded.config).name, modelEncoding = encodingOf(model.config).name;
  if (fileEncoding !== modelEncoding) {
    throw new ModelFileError(`${source}: the file holds a Note RNN of the ${fileEncoding} encoding, but this model was built for the ${modelEncoding} encoding`);
  }
  try {
    model.importTensors(decoded.tensors, source);
  } catch (e) {
    throw new ModelFileError((e as Error).message);
  }
}

/** A fresh arena holding one model loaded from a file. */
export function loadModel(kernels: Kernels, bytes: Uint8Array, plan: ModelPlan, source = 'model file'): { model: LstmModel; decoded: DecodedModel } {
  const decoded = decodeModel(bytes, source);
  const model = createArena(kernels, { model: { config: decoded.config, ...plan } }).models.model;
  loadModelInto(model, decoded, source);
  return { model, decoded };
}
