/**
 * Note RNN model files: safetensors (little-endian f32 tensors behind a JSON header) with metadata that
 * says what the file is: format and version, token order, architecture, how it was trained, and (from
 * version 2) the fingerprints of what it was made from. Loading a file of another format, version or
 * architecture, or a corrupt file, fails with a message that says which and what to do. Version 1 files
 * (no fingerprints; the shipped default model is one) still load. A file's own fingerprint is
 * `sha256Hex(bytes)` of the whole file.
 */
import type { Kernels } from '../engine/kernels.js';
import type { LstmStackConfig } from '../engine/layout.js';
import { createArena } from '../engine/arena.js';
import type { LstmModel, ModelPlan } from '../engine/lstm_model.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
import { NUM_CLASSES } from '../music/encoding.js';
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

/** Serialises a model's weights and description. */
export function encodeModel(model: LstmModel, info: ModelInfo = {}): Uint8Array {
  const metadata: Record<string, string> = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    token_order: TOKEN_ORDER,
    architecture: JSON.stringify({
      kind: 'lstm-stack',
      inputSize: model.config.inputSize,
      hiddenSizes: model.config.hiddenSizes,
      outputSize: model.config.outputSize,
      gateOrder: 'i,f,g,o',
      forgetBias: 'included in lstm.L.b (the reference adds 1.0 at run time instead)',
    }),
  };
  if (info.data !== undefined) metadata.data = JSON.stringify(info.data);
  if (info.training !== undefined) metadata.training = JSON.stringify(info.training);
  if (info.notes !== undefined) metadata.notes = JSON.stringify(info.notes);
  if (info.fingerprints !== undefined) metadata.fingerprints = JSON.stringify(info.fingerprints);
  return encodeSafetensors(model.exportTensors(), metadata);
}

/** Parses and checks a model file without building a model. */
export function decodeModel(bytes: Uint8Array, source = 'model file'): DecodedModel {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, source);
  } catch (e) {
    if (e instanceof SafetensorsError) {
      const json = describeJsonFile(bytes);
      if (json) throw new ModelFileError(`${source}: this is ${json}, not an rltuner model file; convert the checkpoint folder with \`rltuner convert <folder> <model.safetensors>\` (or importMagentaCheckpoint in the library)`);
      throw new ModelFileError(`${e.message}\n  The file is damaged or not a model; retrain with \`rltuner train\` or use the shipped default (omit --model).`);
    }
    throw e;
  }
  const md = decoded.metadata;
  if (md.format !== MODEL_FORMAT) {
    throw new ModelFileError(`${source}: not an rltuner Note RNN (metadata format is ${JSON.stringify(md.format ?? null)}, expected "${MODEL_FORMAT}")`);
  }
  if (!READABLE_MODEL_FORMAT_VERSIONS.includes(md.format_version)) {
    throw new ModelFileError(`${source}: model format version ${md.format_version} is not supported by this rltuner (which reads versions ${READABLE_MODEL_FORMAT_VERSIONS.join(' and ')}); upgrade rltuner or retrain`);
  }
  if (md.token_order !== TOKEN_ORDER) {
    throw new ModelFileError(`${source}: token order "${md.token_order}" differs from rltuner's "${TOKEN_ORDER}"; convert the model first`);
  }
  let arch: { inputSize?: unknown; hiddenSizes?: unknown; outputSize?: unknown };
  try {
    arch = JSON.parse(md.architecture ?? '');
  } catch {
    throw new ModelFileError(`${source}: the architecture metadata is missing or not JSON`);
  }
  const hidden = arch.hiddenSizes;
  if (arch.inputSize !== NUM_CLASSES || arch.outputSize !== NUM_CLASSES || !Array.isArray(hidden) ||
      hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1)) {
    throw new ModelFileError(`${source}: unsupported architecture ${md.architecture} (rltuner models take ${NUM_CLASSES} classes in and out)`);
  }
  const config: LstmStackConfig = { inputSize: NUM_CLASSES, hiddenSizes: hidden as number[], outputSize: NUM_CLASSES };
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
    tensors: decoded.tensors,
    metadata: md,
    info: { data: parse('data'), training: parse('training'), notes: parse('notes'), fingerprints: parseFingerprints(md.fingerprints, source) },
  };
}

/** What a JSON file handed over as a model is (a Magenta/tfjs checkpoint's manifest or config), or null when the bytes are not JSON. */
function describeJsonFile(bytes: Uint8Array): string | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (Array.isArray(value)) return 'a Magenta/tfjs weights manifest (weights_manifest.json)';
  if (typeof value === 'object' && value !== null && 'type' in value) return `a Magenta/tfjs checkpoint's config.json (type ${JSON.stringify((value as { type: unknown }).type)})`;
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
