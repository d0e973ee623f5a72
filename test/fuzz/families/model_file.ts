/**
 * The model-file family: rltuner model files (safetensors) through decodeModel and tunedModelSettings,
 * what every command and the page do before a model is built.
 *
 * Seeds are small valid model files written here (one to three layers, F32 and F16, format versions 1 and
 * 2, with and without tuning notes) and the shipped model. Each input takes a seed apart into its header
 * (the JSON object) and its tensor bytes and changes them where a reader could be misled: the claimed
 * architecture (8 × 4,096 units, zero, fractions, strings), a tensor's dtype (including "constructor"
 * and "__proto__"), shape (huge, negative, many dimensions) and data_offsets, entries added, dropped and
 * renamed, the format fields, the tuning notes (numNotes 2e9, temperature 0), weights set to 3e38, NaN or
 * just over the limit, the tensor bytes cut or extended. Mostly the header length and checksum are then
 * made right again so the change reaches the checks behind them; sometimes not, and sometimes bytes of
 * the header text are flipped.
 *
 * The check: decodeModel and tunedModelSettings return a model whose architecture is within the limits,
 * whose tensors are exactly that architecture's, whose weights are finite and within ±MAX_ABS_WEIGHT, and
 * whose planned arena is within the memory bound for the file's size; or throw a ModelFileError naming the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_HIDDEN_UNITS, MAX_LAYERS, planParameters, type LstmStackConfig } from '../../../src/engine/layout.js';
import { LstmModel } from '../../../src/engine/lstm_model.js';
import { decodeModel, MAX_ABS_WEIGHT, ModelFileError, TOKEN_ORDER } from '../../../src/io/model_file.js';
import { checksumHex, encodeSafetensors, numberToFloat16 } from '../../../src/io/safetensors.js';
import { NUM_CLASSES } from '../../../src/music/encoding.js';
import { Random } from '../../../src/random.js';
import { configFieldProblem } from '../../../src/rl/config.js';
import { tunedModelSettings } from '../../../src/rl/tuned_model.js';
import {
  checkNamedError, errorKind, FuzzFailure, heapBoundBytes, INTERESTING_NUMBERS, interestingJsonValue, isRecord, MAX_INPUT_BYTES, pick,
  type FuzzFamily, type FuzzInput,
} from '../runner.js';

interface Seed {
  name: string;
  bytes: Uint8Array;
}

/** A model file of the given layers written the way encodeModel writes one, with `notes` when given. */
function modelFile(hiddenSizes: number[], random: Random, options: { half?: boolean; version?: '1' | '2'; notes?: unknown } = {}): Uint8Array {
  const config: LstmStackConfig = { inputSize: NUM_CLASSES, hiddenSizes, outputSize: NUM_CLASSES };
  const tensors = planParameters(config).tensors.map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: count }, () => random.float() * 2 - 1);
    return { name: spec.name, shape: spec.shape, data: options.half ? Uint16Array.from(values, numberToFloat16) : values };
  });
  const metadata: Record<string, string> = {
    format: 'rltuner-note-rnn',
    format_version: options.version ?? '2',
    token_order: TOKEN_ORDER,
    architecture: JSON.stringify({ kind: 'lstm-stack', inputSize: NUM_CLASSES, hiddenSizes, outputSize: NUM_CLASSES, gateOrder: 'i,f,g,o' }),
    training: JSON.stringify({ epochs: 1, seed: 1 }),
  };
  if (options.version !== '1') metadata.fingerprints = JSON.stringify({ format: 'rltuner-note-rnn/2', kernelBuild: 'plain', trainingData: 'ab'.repeat(32) });
  if (options.notes !== undefined) metadata.notes = JSON.stringify(options.notes);
  return encodeSafetensors(tensors, metadata);
}

function loadSeeds(repositoryRoot: string): Seed[] {
  const random = new Random(20_251_207);
  return [
    { name: 'h4-v1', bytes: modelFile([4], random, { version: '1' }) },
    { name: 'h6x3-q', bytes: modelFile([6, 3], random, { notes: { algorithm: 'q', steps: 3200, config: { numNotes: 32, temperature: 1 } } }) },
    { name: 'h5-f16-psi', bytes: modelFile([5], random, { half: true, notes: { algorithm: 'psi', steps: 10, config: { numNotes: 64, temperature: 0.5 } } }) },
    { name: 'h2x2x2-g', bytes: modelFile([2, 2, 2], random, { notes: { algorithm: 'g', steps: 1, tunedFrom: 'note_rnn.safetensors', config: { numNotes: 16, temperature: 2 } } }) },
    { name: 'h9', bytes: modelFile([9], random) },
    { name: 'shipped note_rnn.safetensors', bytes: new Uint8Array(readFileSync(join(repositoryRoot, 'models', 'note_rnn.safetensors'))) },
  ];
}

/** A file taken apart: its header object (tensor entries and __metadata__) and its tensor bytes. */
interface Parts {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function takeApart(bytes: Uint8Array): Parts {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), data: bytes.slice(8 + length) };
}

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I32', 'U8', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 4, null];
const WEIGHT_VALUES = [3e38, -3e38, Number.NaN, Infinity, -Infinity, MAX_ABS_WEIGHT, MAX_ABS_WEIGHT * 1.0001, -MAX_ABS_WEIGHT * 2, 1e-45, 0];
const ARCHITECTURES: unknown[] = [
  [4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096], [MAX_HIDDEN_UNITS + 1], [0], [-1], [1.5], ['4'], [], Array(MAX_LAYERS + 1).fill(2),
  [1e9], [2 ** 53], [4], [6, 3], [100], null, 'x',
];

/** Sets an own property, even one named "__proto__" (plain assignment would set the prototype instead). */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

class ModelMutator {
  private index = 0;
  constructor(private readonly seeds: readonly Seed[], private readonly random: Random) {}

  next(): FuzzInput<Uint8Array> {
    const r = this.random;
    // The shipped model is large (245 KB): one input in twenty starts from it.
    const seed = r.int(20) === 0 ? this.seeds[this.seeds.length - 1] : this.seeds[r.int(this.seeds.length - 1)];
    const parts = takeApart(seed.bytes);
    const mutations: string[] = [];
    const changes = 1 + (r.float() < 0.3 ? r.int(3) : 0);
    for (let m = 0; m < changes; m++) this.mutate(parts, mutations);
    const metadata = parts.header.__metadata__ as Record<string, unknown> | undefined;
    const checksum = r.float();
    if (isRecord(metadata)) {
      if (checksum < 0.75) metadata.checksum = checksumHex(parts.data);
      else if (checksum < 0.85) delete metadata.checksum;
      else mutations.push('checksum left as it was');
    }
    let headerBytes = new TextEncoder().encode(JSON.stringify(parts.header));
    if (r.float() < 0.08) {
      headerBytes = headerBytes.slice();
      const at = r.int(headerBytes.length);
      headerBytes[at] = pick(r, [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0xff, 0x80, 0x30 + r.int(10)]);
      mutations.push(`header byte ${at} set to ${headerBytes[at]}`);
    }
    const padded = new Uint8Array(Math.ceil(headerBytes.length / 8) * 8).fill(0x20);
    padded.set(headerBytes);
    const head = new Uint8Array(8);
    let declared = BigInt(padded.length);
    if (r.float() < 0.08) {
      declared = pick(r, [declared + 1n, declared - 1n, 0n, 2n ** 40n, 2n ** 63n, 16n * 1024n * 1024n + 8n, BigInt(padded.length + parts.data.length)]);
      mutations.push(`header length ${padded.length} -> ${declared}`);
    }
    new DataView(head.buffer).setBigUint64(0, declared < 0n ? 0n : declared, true);
    let bytes = new Uint8Array(8 + padded.length + parts.data.length);
    bytes.set(head);
    bytes.set(padded, 8);
    bytes.set(parts.data, 8 + padded.length);
    if (r.float() < 0.05) {
      const at = r.int(bytes.length);
      bytes = bytes.slice(0, at);
      mutations.push(`file cut at ${at}`);
    }
    const index = this.index++;
    return { index, name: `fuzz model ${index}.safetensors`, seedName: seed.name, mutations, value: bytes, size: bytes.length };
  }

  private entries(parts: Parts): string[] {
    return Object.keys(parts.header).filter((k) => k !== '__metadata__');
  }

  private mutate(parts: Parts, log: string[]): void {
    const r = this.random;
    const names = this.entries(parts);
    const given = parts.header.__metadata__;
    const metadata: Record<string, unknown> = isRecord(given) ? given : {};
    if (given === undefined) parts.header.__metadata__ = metadata;
    const entryName = names.length > 0 ? pick(r, names) : null;
    const found = entryName === null ? null : parts.header[entryName];
    const entry = isRecord(found) ? found : null;
    switch (r.int(11)) {
      case 0: {
        const hidden = r.int(3) === 0 ? interestingJsonValue(r) : pick(r, ARCHITECTURES);
        const arch = { kind: 'lstm-stack', inputSize: r.int(10) === 0 ? pick(r, [0, 37, 39, '38']) : NUM_CLASSES, hiddenSizes: hidden, outputSize: NUM_CLASSES };
        metadata.architecture = r.int(12) === 0 ? '{"hiddenSizes": [4' : JSON.stringify(arch);
        log.push(`architecture ${String(metadata.architecture).slice(0, 80)}`);
        return;
      }
      case 1:
        if (!entry) return;
        entry.dtype = pick(r, DTYPES);
        log.push(`${entryName} dtype ${String(entry.dtype)}`);
        return;
      case 2: {
        if (!entry) return;
        const shape = Array.isArray(entry.shape) ? [...(entry.shape as unknown[])] : [];
        const kind = r.int(4);
        if (kind === 0 && shape.length > 0) shape[r.int(shape.length)] = pick(r, INTERESTING_NUMBERS);
        else if (kind === 1) for (let k = 1 + r.int(10); k > 0; k--) shape.push(pick(r, [1, 1, 2, 0, 4096, 2 ** 31]));
        else if (kind === 2) shape.reverse();
        else entry.shape = interestingJsonValue(r);
        if (kind !== 3) entry.shape = shape;
        log.push(`${entryName} shape ${JSON.stringify(entry.shape)?.slice(0, 80)}`);
        return;
      }
      case 3: {
        if (!entry) return;
        const offsets = Array.isArray(entry.data_offsets) ? [...(entry.data_offsets as number[])] : [0, 0];
        const kind = r.int(4);
        if (kind === 0) offsets[r.int(2)] = pick(r, INTERESTING_NUMBERS);
        else if (kind === 1) offsets[1] += pick(r, [-4, -1, 1, 4, 1000]);
        else if (kind === 2) offsets.reverse();
        entry.data_offsets = kind === 3 ? interestingJsonValue(r) : offsets;
        log.push(`${entryName} data_offsets ${JSON.stringify(entry.data_offsets)?.slice(0, 80)}`);
        return;
      }
      case 4: {
        if (!entryName) return;
        const kind = r.int(3);
        if (kind === 0) delete parts.header[entryName];
        else if (kind === 1) setOwn(parts.header, pick(r, ['lstm.9.w_x', 'extra', '__proto__', 'constructor', 'output.w2']), { ...(entry as object) });
        else {
          setOwn(parts.header, `${entryName}.renamed`, entry);
          delete parts.header[entryName];
        }
        log.push(`${entryName}: ${['dropped', 'copied', 'renamed'][kind]}`);
        return;
      }
      case 5: {
        const key = pick(r, ['format', 'format_version', 'token_order', 'training', 'fingerprints', 'data']);
        const value = pick(r, [undefined, '', 'rltuner-note-rnn', '1', '2', '3', 'x', 5, null, '{"format":1}', '{"format":"rltuner-note-rnn/2","kernelBuild":"wasm"}']);
        if (value === undefined) delete metadata[key];
        else metadata[key] = value;
        log.push(`metadata ${key} = ${JSON.stringify(value)}`);
        return;
      }
      case 6:
      case 7: {
        const notes: Record<string, unknown> = { algorithm: pick(r, ['q', 'psi', 'g', 'note_rnn', 'x', 5]), steps: r.int(3) === 0 ? interestingJsonValue(r) : r.int(1000) };
        const config: Record<string, unknown> = {};
        for (const field of ['numNotes', 'temperature'] as const) {
          const k = r.int(4);
          if (k === 0) config[field] = interestingJsonValue(r);
          else if (k === 1) config[field] = field === 'numNotes' ? pick(r, [8, 1024, 1025, 7, 2e9, 32.5]) : pick(r, [1e-300, 100, 100.5, 0, -1]);
          else if (k === 2) config[field] = field === 'numNotes' ? 8 + r.int(1017) : 0.05 + r.float() * 3;
        }
        notes.config = r.int(15) === 0 ? interestingJsonValue(r) : config;
        metadata.notes = r.int(20) === 0 ? 'not json' : JSON.stringify(notes);
        log.push(`notes ${String(metadata.notes).slice(0, 120)}`);
        return;
      }
      case 8: {
        if (parts.data.length < 4) return;
        const view = new DataView(parts.data.buffer, parts.data.byteOffset, parts.data.byteLength);
        for (let k = 1 + r.int(3); k > 0; k--) {
          const at = 4 * r.int(parts.data.length >> 2);
          const value = pick(r, WEIGHT_VALUES);
          view.setFloat32(at, value, true);
          log.push(`f32 at ${at} = ${value}`);
        }
        return;
      }
      case 9: {
        if (r.int(2) === 0) {
          const at = r.int(parts.data.length + 1);
          parts.data = parts.data.slice(0, at);
          log.push(`tensor bytes cut to ${at}`);
        } else {
          const extra = Math.min(1 + r.int(64), MAX_INPUT_BYTES - parts.data.length);
          const grown = new Uint8Array(parts.data.length + Math.max(0, extra));
          grown.set(parts.data);
          parts.data = grown;
          log.push(`tensor bytes extended by ${extra}`);
        }
        return;
      }
      default: {
        const key = pick(r, ['__metadata__', 'lstm.0.b', 'x', '__proto__']);
        setOwn(parts.header, key, interestingJsonValue(r));
        log.push(`header ${key} = ${JSON.stringify(parts.header[key])?.slice(0, 80)}`);
      }
    }
  }
}

/** Kinds of refusal, by the words of the message (after the file name). */
const ERROR_KINDS: readonly (readonly [string, RegExp])[] = [
  ['too-deep', /nests arrays and objects/],
  ['header', /header length|too short|header is not valid|header JSON|__metadata__|^metadata "/],
  ['dtype', /unsupported dtype/],
  ['tensor-layout', /has shape|data_offsets|dimensions, above|overlap|belong to no tensor|trailing bytes|run past|tensors, above/],
  ['corrupt', /corrupt/],
  ['format', /not an rltuner Note RNN|format version|token order|Magenta|a JSON file/],
  ['architecture-limit', /rltuner supports|unsupported architecture|hidden units; expected|missing or not JSON/],
  ['tensors-not-architecture', /the architecture metadata claims/],
  ['weight', /at element \d+/],
  ['fingerprints', /fingerprints/],
  ['recorded-settings', /its metadata records/],
];

export const modelFileFamily: FuzzFamily<Uint8Array> = {
  name: 'model',
  description: 'rltuner model files (safetensors) through decodeModel and tunedModelSettings',
  accepted: 'model',
  inputs(random, repositoryRoot) {
    const mutator = new ModelMutator(loadSeeds(repositoryRoot), random);
    return () => mutator.next();
  },
  check(input) {
    try {
      const decoded = decodeModel(input.value, input.name);
      const settings = tunedModelSettings(decoded, input.name);
      const { hiddenSizes } = decoded.config;
      if (hiddenSizes.length < 1 || hiddenSizes.length > MAX_LAYERS || hiddenSizes.some((h) => !Number.isInteger(h) || h < 1 || h > MAX_HIDDEN_UNITS)) {
        throw new FuzzFailure(input, `accepted an architecture of layers [${hiddenSizes}]`);
      }
      const expected = planParameters(decoded.config).tensors;
      if (expected.length !== decoded.tensors.size) throw new FuzzFailure(input, `accepted ${decoded.tensors.size} tensors for an architecture of ${expected.length}`);
      for (const spec of expected) {
        const t = decoded.tensors.get(spec.name);
        if (!t || t.shape.join() !== spec.shape.join() || t.data.length !== spec.shape.reduce((a, b) => a * b, 1)) throw new FuzzFailure(input, `accepted tensor ${spec.name} not of shape [${spec.shape}]`);
        if (t.data.some((v) => !(Math.abs(v) <= MAX_ABS_WEIGHT))) throw new FuzzFailure(input, `accepted a weight of ${spec.name} beyond ±${MAX_ABS_WEIGHT} or not finite`);
      }
      if (configFieldProblem('numNotes', settings.numNotes) || configFieldProblem('temperature', settings.temperature)) {
        throw new FuzzFailure(input, `accepted settings ${JSON.stringify(settings)}`);
      }
      const arena = LstmModel.planBytes(decoded.config, { maxBatch: 1 });
      if (arena > heapBoundBytes(input.size)) throw new FuzzFailure(input, `a file of ${input.size} bytes plans an arena of ${arena} bytes`);
      return 'model';
    } catch (error) {
      return errorKind(checkNamedError(input, error, ModelFileError, `${input.name}: `), ERROR_KINDS);
    }
  },
  files: (input) => ({ 'input.safetensors': input.value }),
};
