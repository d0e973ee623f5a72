/**
 * Magenta.js MusicRNN checkpoints in and out: the folder Magenta.js's `new mm.MusicRNN(url)` loads.
 *
 *   config.json            {"type": "MusicRNN", "dataConverter": {"type": "MelodyConverter",
 *                            "args": {"minPitch": 48, "maxPitch": 83}}}  (the `basic_rnn` melody model)
 *   weights_manifest.json  tfjs weights manifest: a list of groups {paths: [shard files], weights:
 *                          [{name, shape, dtype, quantization?: {dtype: 'uint8'|'uint16'|'float16',
 *                          scale, min}}]}; a group's weights lie back to back across its shards, in order
 *   group1-shard1of1.bin   the weight bytes (little-endian)
 *
 * Tensors (H = hidden units of layer l, X = its input width: 38 for layer 0 (121 for lookback_rnn), H of the
 * layer below above):
 *   rnn/multi_rnn_cell/cell_{l}/basic_lstm_cell/kernel  [X + H, 4H]  rows: input x, then h; gate column
 *                                                        blocks i, j (the candidate, our g), f, o
 *   rnn/multi_rnn_cell/cell_{l}/basic_lstm_cell/bias    [4H]         TF adds forget_bias 1.0 to f at run time
 *   fully_connected/weights                             [H_top, 38]   (40 for lookback_rnn)
 *   fully_connected/biases                              [38]          (40)
 * Magenta's melody classes are 0 = NO_EVENT, 1 = NOTE_OFF, 2.. = MIDI 48..; ours swap 0 and 1 (SPEC §1).
 *
 * Import (Magenta → rltuner): dequantize (q·scale + min), split the kernel into our w_x and w_h, reorder
 * the gates i, j, f, o → i, f, g, o, fold the forget bias +1.0 into our f-gate bias, swap classes 0 and 1
 * (rows of layer 0's w_x, columns of output.w, entries of output.b). Export is the inverse, in float32.
 * Because TF's forget bias is added at run time, our f-gate bias b is written as b − 1 (in float32):
 * ours → Magenta → ours returns every tensor bit for bit except f-gate biases outside [0.5, 2], which come
 * back within float32 rounding of the ±1 shift (one unit in the last place of numbers near 1).
 *
 * Two melody models map onto rltuner's Note RNN: the one-hot `basic_rnn` of 38 classes, and Magenta's
 * `lookback_rnn` (LookbackEventSequenceEncoderDecoder over the same 38 classes, lookback distances 16
 * and 32, a 5-bit counter: rltuner's lookback encoding, src/music/encodings.ts). A lookback checkpoint's
 * layer-0 kernel has 121 input rows ([0, 114): three one-hot blocks of 38, each with classes 0 and 1
 * swapped as above; then the counter bits and the two repeat flags, as ours) and its output 40 classes
 * (the repeat classes 38 and 39 as ours). Magenta.js has no lookback data converter, so an export's
 * config.json names the encoder-decoder itself (LOOKBACK_CONFIG below, which Magenta.js cannot run);
 * an import takes that config, or a plain MelodyConverter config whose kernel and output have the
 * lookback shapes (a tfjs conversion of a Python lookback_rnn checkpoint). Checkpoints that condition on
 * chords, take auxiliary inputs, use attention, another pitch range or another converter are refused,
 * naming the file and the field. Pure (no Node import): the library core uses it; the CLI (`rltuner
 * convert`) reads and writes the files.
 */
import { MAX_HIDDEN_UNITS, MAX_LAYERS, type LstmStackConfig } from '../engine/layout.js';
import { MAX_PITCH, MIN_PITCH, NUM_CLASSES } from '../music/encoding.js';
import {
  BASIC_ENCODING, COUNTER_BITS, encodingConfig, encodingOf, LOOKBACK_BARS, LOOKBACK_ENCODING, LOOKBACK_INPUT, type MelodyEncoding,
} from '../music/encodings.js';
import { MAX_ABS_WEIGHT, type DecodedModel, type ModelInfo } from './model_file.js';
import { float16ToNumber, joinParts } from './safetensors.js';
import { excessiveNestingAt, MAX_JSON_NESTING } from './json_text.js';
import { preview, previewName } from './preview.js';

export const MAGENTA_CONFIG_FILE = 'config.json';
export const MAGENTA_MANIFEST_FILE = 'weights_manifest.json';
/** The one shard an export writes. */
export const MAGENTA_SHARD_FILE = 'group1-shard1of1.bin';
/** TF's BasicLSTMCell adds this to the f-gate pre-activation at run time; rltuner stores it in the bias. */
export const TF_FORGET_BIAS = 1.0;

/** A checkpoint that cannot be read or a model that cannot be written; the message names the file and the field. */
export class MagentaCheckpointError extends Error {
  override readonly name = 'MagentaCheckpointError';
}

/** The files of a checkpoint folder: the two JSON files (text or parsed) and the shard bytes by manifest path. */
export interface MagentaCheckpointFiles {
  /** config.json: its text, or the parsed value. */
  config: unknown;
  /** weights_manifest.json: its text, or the parsed value. */
  manifest: unknown;
  /** Shard bytes by the path the manifest lists them under. */
  shards: Map<string, Uint8Array>;
}

/** A tfjs weights manifest entry. */
export interface MagentaWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

/** The tensors of an rltuner Note RNN: as from decodeModel, or from an LstmModel's exportTensors(). */
export interface NoteRnnTensors {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }> | { name: string; shape: number[]; data: Float32Array }[];
}

/** The `config.json` an export writes: the MusicRNN `basic_rnn` melody spec. */
export const MUSIC_RNN_CONFIG = {
  type: 'MusicRNN',
  dataConverter: { type: 'MelodyConverter', args: { minPitch: MIN_PITCH, maxPitch: MAX_PITCH } },
} as const;

/** The Python class of Magenta's lookback encoding, as a lookback export's config.json names it. */
export const LOOKBACK_ENCODER_DECODER = 'LookbackEventSequenceEncoderDecoder';

/**
 * The `config.json` a lookback export writes: the melody spec plus the encoder-decoder it was trained with
 * (Magenta's lookback_rnn: lookback distances 16 and 32 steps, 5 counter bits). Magenta.js has no such
 * converter: the field says what the weights expect.
 */
export const LOOKBACK_CONFIG = {
  ...MUSIC_RNN_CONFIG,
  encoderDecoder: { type: LOOKBACK_ENCODER_DECODER, lookbackDistances: LOOKBACK_BARS.map((bars) => 16 * bars), binaryCounterBits: COUNTER_BITS },
} as const;

const cellName = (l: number, part: 'kernel' | 'bias') => `rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/${part}`;
const FC_WEIGHTS = 'fully_connected/weights';
const FC_BIASES = 'fully_connected/biases';
const ATTENTION_PREFIX = 'rnn/attention_cell_wrapper/';
/** Gate blocks: ours are i, f, g, o; TF's are i, j (= g), f, o. Index by our block, get TF's (and back). */
const TF_GATE_BLOCK = [0, 2, 1, 3];
const F_GATE = 1; // our block index of the forget gate
/** Magenta's class of our class k (and back): 0 and 1 swap, pitches stay (and the lookback repeat classes 38, 39). */
const swapClass = (k: number): number => (k === 0 ? 1 : k === 1 ? 0 : k);
/**
 * Magenta's layer-0 input row of our row r (and back): within each one-hot block of 38 (the basic input;
 * the lookback input's event and two lookback blocks) classes 0 and 1 swap; the counter and flags stay.
 */
function magentaInputRow(encoding: MelodyEncoding, r: number): number {
  const oneHotRows = encoding === BASIC_ENCODING ? NUM_CLASSES : LOOKBACK_INPUT.counter;
  if (r >= oneHotRows) return r;
  const block = Math.floor(r / NUM_CLASSES);
  return block * NUM_CLASSES + swapClass(r % NUM_CLASSES);
}
/** Bytes per stored value of each dtype a manifest may name (tfjs's dtypes, and its quantized ones); read with Object.hasOwn. */
const BYTES_PER_VALUE: Readonly<Record<string, number>> = Object.freeze({ float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 });

// ---------------------------------------------------------------- import

/**
 * Reads a Magenta.js MusicRNN checkpoint as an rltuner Note RNN: the same shape decodeModel returns, so
 * loadModelInto / createArena take it. `source` (the folder) prefixes every message.
 */
export function importMagentaCheckpoint(files: MagentaCheckpointFiles, source = 'checkpoint'): DecodedModel {
  const configFile = `${source}/${MAGENTA_CONFIG_FILE}`;
  const manifestFile = `${source}/${MAGENTA_MANIFEST_FILE}`;
  const config = parseJson(files.config, configFile);
  const declared = checkMusicRnnConfig(config, configFile);
  const weights = readWeights(parseJson(files.manifest, manifestFile), files.shards, manifestFile, source);

  if ([...weights.keys()].some((n) => n.startsWith(ATTENTION_PREFIX))) {
    throw new MagentaCheckpointError(`${manifestFile}: the weights include attention (${ATTENTION_PREFIX}...); rltuner's Note RNN has no attention, so this checkpoint cannot be converted`);
  }
  const hiddenSizes: number[] = [];
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  let encoding: MelodyEncoding = declared ?? BASIC_ENCODING;
  for (let l = 0; weights.has(cellName(l, 'kernel')); l++) {
    const kernel = needWeight(weights, cellName(l, 'kernel'), manifestFile);
    const bias = needWeight(weights, cellName(l, 'bias'), manifestFile);
    if (bias.shape.length !== 1 || bias.shape[0] % 4 !== 0 || bias.shape[0] === 0) {
      throw new MagentaCheckpointError(`${manifestFile}: ${cellName(l, 'bias')} has shape [${bias.shape}]; an LSTM bias is [4·hidden]`);
    }
    const H = bias.shape[0] / 4;
    if (l >= MAX_LAYERS) throw new MagentaCheckpointError(`${manifestFile}: the checkpoint has more than ${MAX_LAYERS} LSTM layers, above what rltuner supports (MAX_LAYERS)`);
    if (H > MAX_HIDDEN_UNITS) {
      throw new MagentaCheckpointError(`${manifestFile}: ${cellName(l, 'bias')} has shape [${bias.shape}], a layer of ${H} hidden units, above the ${MAX_HIDDEN_UNITS} rltuner supports (MAX_HIDDEN_UNITS)`);
    }
    // Without a declared encoder-decoder, the lookback_rnn's input shape says it is one.
    if (l === 0 && declared === null && kernel.shape.length === 2 && kernel.shape[0] === LOOKBACK_ENCODING.inputSize + H) encoding = LOOKBACK_ENCODING;
    const X = l === 0 ? encoding.inputSize : hiddenSizes[l - 1];
    if (kernel.shape.length !== 2 || kernel.shape[0] !== X + H || kernel.shape[1] !== 4 * H) {
      const what = l === 0
        ? (encoding === BASIC_ENCODING
          ? `the ${NUM_CLASSES}-class one-hot melody input (basic_rnn) of ${X} plus ${H} hidden units`
          : `the lookback_rnn input of ${X} plus ${H} hidden units`)
        : `the ${X} units of layer ${l - 1} plus ${H} hidden units`;
      throw new MagentaCheckpointError(`${manifestFile}: ${cellName(l, 'kernel')} has shape [${kernel.shape}], expected [${X + H}, ${4 * H}] (${what}); only the basic_rnn and lookback_rnn melody inputs convert (not chords or aux inputs)`);
    }
    hiddenSizes.push(H);
    const rowOf = l === 0 ? (r: number) => magentaInputRow(encoding, r) : (r: number) => r;
    for (const [name, t] of Object.entries(splitKernelAndBias(kernel.data, bias.data, X, H, rowOf))) tensors.set(`lstm.${l}.${name}`, t);
  }
  if (hiddenSizes.length === 0) {
    const names = previewName([...weights.keys()].slice(0, 8).join(', '), 300);
    throw new MagentaCheckpointError(`${manifestFile}: no ${cellName(0, 'kernel')}; a MusicRNN checkpoint of TF BasicLSTMCells names its layers so (found: ${names || 'no weights'})`);
  }
  const top = hiddenSizes[hiddenSizes.length - 1];
  const fcW = needWeight(weights, FC_WEIGHTS, manifestFile);
  const fcB = needWeight(weights, FC_BIASES, manifestFile);
  const O = encoding.outputSize;
  if (fcW.shape.join() !== `${top},${O}` || fcB.shape.join() !== `${O}`) {
    throw new MagentaCheckpointError(`${manifestFile}: ${FC_WEIGHTS} [${fcW.shape}] and ${FC_BIASES} [${fcB.shape}] should be [${top}, ${O}] and [${O}] (${O} melody classes out, as the ${encoding === BASIC_ENCODING ? 'basic_rnn' : 'lookback_rnn'} input says)`);
  }
  const outW = new Float32Array(top * O);
  const outB = new Float32Array(O);
  for (let k = 0; k < O; k++) {
    outB[k] = fcB.data[swapClass(k)];
    for (let r = 0; r < top; r++) outW[r * O + k] = fcW.data[r * O + swapClass(k)];
  }
  tensors.set('output.w', { shape: [top, O], data: outW });
  tensors.set('output.b', { shape: [O], data: outB });
  for (const [name, t] of tensors) {
    const bad = t.data.findIndex((v) => !(v >= -MAX_ABS_WEIGHT && v <= MAX_ABS_WEIGHT)); // NaN too
    if (bad >= 0) {
      const limit = Number.isFinite(t.data[bad]) ? `, beyond the ±${MAX_ABS_WEIGHT} a weight may have (MAX_ABS_WEIGHT)` : '';
      throw new MagentaCheckpointError(`${manifestFile}: a weight behind rltuner's ${name} holds ${t.data[bad]}${limit}; the checkpoint is damaged`);
    }
  }
  const info: ModelInfo = { notes: { importedFrom: 'Magenta.js MusicRNN checkpoint', source, magentaConfig: config } };
  return {
    config: encodingConfig(encoding, hiddenSizes),
    tensors,
    metadata: { format: 'magenta-music-rnn', source },
    info,
  };
}

/** Our w_x, w_h, b of one layer from TF's kernel [X + H, 4H] and bias [4H]; `rowOf` gives TF's input row of ours. */
function splitKernelAndBias(kernel: Float32Array, bias: Float32Array, X: number, H: number, rowOf: (r: number) => number) {
  const G = 4 * H;
  const wx = new Float32Array(X * G);
  const wh = new Float32Array(H * G);
  const b = new Float32Array(G);
  for (let gate = 0; gate < 4; gate++) {
    const tfCol = TF_GATE_BLOCK[gate] * H;
    for (let u = 0; u < H; u++) {
      const col = gate * H + u;
      for (let r = 0; r < X; r++) wx[r * G + col] = kernel[rowOf(r) * G + tfCol + u];
      for (let r = 0; r < H; r++) wh[r * G + col] = kernel[(X + r) * G + tfCol + u];
      b[col] = gate === F_GATE ? bias[tfCol + u] + TF_FORGET_BIAS : bias[tfCol + u];
    }
  }
  return { w_x: { shape: [X, G], data: wx }, w_h: { shape: [H, G], data: wh }, b: { shape: [G], data: b } };
}

function parseJson(value: unknown, file: string): unknown {
  if (typeof value !== 'string') return value;
  if (value.length > MAX_MAGENTA_JSON_BYTES) {
    throw new MagentaCheckpointError(`${file}: ${value.length} characters, above the ${MAX_MAGENTA_JSON_BYTES} a checkpoint's JSON file may have (MAX_MAGENTA_JSON_BYTES)`);
  }
  const deep = excessiveNestingAt(value);
  if (deep >= 0) throw new MagentaCheckpointError(`${file}: nests arrays and objects more than ${MAX_JSON_NESTING} deep (at character ${deep}; MAX_JSON_NESTING); the file is damaged`);
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new MagentaCheckpointError(`${file}: not valid JSON (${previewName((e as Error).message, 160)})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Refuses every MusicRNN spec but the melody models of MIDI 48..83, naming the field; returns the
 * lookback encoding when the spec names Magenta's lookback encoder-decoder (as LOOKBACK_CONFIG), else null.
 */
function checkMusicRnnConfig(config: unknown, file: string): MelodyEncoding | null {
  if (!isObject(config)) throw new MagentaCheckpointError(`${file}: expected a JSON object (the MusicRNN spec), got ${preview(config)}`);
  if (config.type !== 'MusicRNN') {
    throw new MagentaCheckpointError(`${file}: "type" is ${preview(config.type ?? null)}; only MusicRNN checkpoints (melody models) convert to an rltuner Note RNN`);
  }
  const converter = config.dataConverter;
  if (!isObject(converter) || converter.type !== 'MelodyConverter') {
    const type = isObject(converter) ? preview(converter.type ?? null) : 'missing';
    throw new MagentaCheckpointError(`${file}: "dataConverter.type" is ${type}; rltuner's Note RNN reads melodies, which Magenta.js encodes with "MelodyConverter" (basic_rnn); drum and other encodings cannot be converted`);
  }
  const args = isObject(converter.args) ? converter.args : {};
  if (args.minPitch !== MIN_PITCH || args.maxPitch !== MAX_PITCH) {
    throw new MagentaCheckpointError(`${file}: "dataConverter.args" has minPitch ${preview(args.minPitch ?? null)} and maxPitch ${preview(args.maxPitch ?? null)}; rltuner's 38 classes are MIDI ${MIN_PITCH}..${MAX_PITCH} (minPitch ${MIN_PITCH}, maxPitch ${MAX_PITCH})`);
  }
  for (const [field, what] of [['chordEncoder', 'conditions on chords'], ['auxInputs', 'takes auxiliary inputs'], ['attentionLength', 'uses attention']] as const) {
    if (config[field] !== undefined && config[field] !== null) {
      throw new MagentaCheckpointError(`${file}: "${field}" is ${preview(config[field])}: this model ${what}, which rltuner's Note RNN (the basic_rnn or lookback_rnn melody input) cannot represent`);
    }
  }
  const coder = config.encoderDecoder;
  if (coder === undefined || coder === null) return null;
  const expected = LOOKBACK_CONFIG.encoderDecoder;
  if (!isObject(coder) || coder.type !== LOOKBACK_ENCODER_DECODER || JSON.stringify(coder.lookbackDistances) !== JSON.stringify(expected.lookbackDistances) || coder.binaryCounterBits !== expected.binaryCounterBits) {
    throw new MagentaCheckpointError(`${file}: "encoderDecoder" is ${preview(coder)}; rltuner reads Magenta's lookback_rnn encoding only: ${JSON.stringify(expected)}`);
  }
  return LOOKBACK_ENCODING;
}

function needWeight(weights: Map<string, { shape: number[]; data: Float32Array }>, name: string, file: string) {
  const w = weights.get(name);
  if (!w) throw new MagentaCheckpointError(`${file}: the weight ${name} is missing`); // `name` is one of ours, not the file's
  return w;
}

/**
 * The most shard bytes a checkpoint may hold: 1 GiB. A basic_rnn of two 4,096-unit layers (the largest
 * rltuner runs) is 0.81 GB in float32; Magenta's released melody checkpoints are tens of MB. Checked
 * (with the other limits here) before a shard's bytes are read or copied.
 */
export const MAX_CHECKPOINT_BYTES = 1024 * 1024 * 1024;
/**
 * The most float values the float32 weights may hold in all: 2^28 (1 GiB as float32), so a checkpoint
 * quantized to uint8 cannot dequantize into four times its bytes beyond what rltuner could load.
 */
export const MAX_CHECKPOINT_VALUES = 2 ** 28;
/** The most weights a manifest may list: 10,000 (a MusicRNN lists 2 per layer and 2 more). */
export const MAX_MANIFEST_WEIGHTS = 10_000;
/** The most shard files a manifest may list: 4,096 (tfjs writes 4 MB shards: 1 GiB is 256 of them). */
export const MAX_MANIFEST_SHARDS = 4096;
/** The most dimensions a weight's shape may have: 8 (a MusicRNN's have 1 or 2). */
export const MAX_WEIGHT_DIMENSIONS = 8;
/** The largest config.json or weights_manifest.json read: 16 MiB (Magenta's are a few KB). */
export const MAX_MAGENTA_JSON_BYTES = 16 * 1024 * 1024;

/** A weight checked against the manifest's rules, with where its bytes lie in its group's shards. */
interface PlacedWeight {
  spec: MagentaWeightSpec;
  count: number;
  offset: number;
}

/**
 * Decodes every float32 weight of every group (the others are skipped over), dequantizing. Everything the
 * manifest claims is checked before a value is decoded: dtypes from the list tfjs writes, shapes of
 * non-negative integers, each group's byte counts against its shards, every shard listed once, and the
 * totals against MAX_CHECKPOINT_BYTES and MAX_CHECKPOINT_VALUES.
 */
function readWeights(manifest: unknown, shards: Map<string, Uint8Array>, file: string, source: string): Map<string, { shape: number[]; data: Float32Array }> {
  if (!Array.isArray(manifest)) throw new MagentaCheckpointError(`${file}: expected a list of weight groups ({paths, weights}), got ${preview(manifest)}`);
  const groups: { paths: string[]; weights: unknown[]; where: string }[] = [];
  const listedIn = new Map<string, number>();
  let weightCount = 0;
  manifest.forEach((group: unknown, g) => {
    const where = `${file}: group ${g}`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || group.paths.some((p) => typeof p !== 'string')) {
      throw new MagentaCheckpointError(`${where} is not {paths: [file names], weights: [specs]}`);
    }
    for (const path of group.paths as string[]) {
      const earlier = listedIn.get(path);
      if (earlier !== undefined) {
        throw new MagentaCheckpointError(`${where} lists the shard ${previewName(path)} again (first in group ${earlier}); a tfjs manifest lists each shard once, so the manifest is damaged`);
      }
      listedIn.set(path, g);
    }
    if (listedIn.size > MAX_MANIFEST_SHARDS) throw new MagentaCheckpointError(`${file}: lists more than ${MAX_MANIFEST_SHARDS} shard files (MAX_MANIFEST_SHARDS)`);
    weightCount += group.weights.length;
    if (weightCount > MAX_MANIFEST_WEIGHTS) throw new MagentaCheckpointError(`${file}: lists more than ${MAX_MANIFEST_WEIGHTS} weights (MAX_MANIFEST_WEIGHTS); a MusicRNN lists 2 per layer and 2 more`);
    groups.push({ paths: group.paths as string[], weights: group.weights, where });
  });
  let totalBytes = 0;
  for (const path of listedIn.keys()) totalBytes += shards.get(path)?.length ?? 0;
  if (totalBytes > MAX_CHECKPOINT_BYTES) {
    throw new MagentaCheckpointError(`${file}: the shards hold ${totalBytes} bytes, above the ${MAX_CHECKPOINT_BYTES} a checkpoint may have (MAX_CHECKPOINT_BYTES)`);
  }

  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let totalValues = 0;
  for (const group of groups) {
    const pieces = shardsOf(group.paths, shards, group.where, source);
    const available = pieces.reduce((n, p) => n + p.length, 0);
    // Every weight placed and checked against the shards' bytes before any is decoded.
    const placed: PlacedWeight[] = [];
    let offset = 0;
    for (const spec of group.weights) {
      const w = checkWeightSpec(spec, group.where);
      const count = elementCount(w, group.where);
      if (w.dtype === 'string') {
        offset = skipStrings(pieces, offset, count, available, w, group.where); // length-prefixed values, not needed
        continue;
      }
      const size = count * BYTES_PER_VALUE[w.quantization ? w.quantization.dtype : w.dtype];
      if (offset + size > available) {
        throw new MagentaCheckpointError(`${group.where}: the shards ${preview(group.paths)} hold ${available} bytes, but ${previewName(w.name)} needs bytes ${offset}..${offset + size}; a shard is truncated or missing`);
      }
      if (w.dtype === 'float32') {
        totalValues += count;
        if (totalValues > MAX_CHECKPOINT_VALUES) {
          throw new MagentaCheckpointError(`${group.where}: the float32 weights up to ${previewName(w.name)} hold ${totalValues} values, above the ${MAX_CHECKPOINT_VALUES} a checkpoint may have (MAX_CHECKPOINT_VALUES)`);
        }
        placed.push({ spec: w, count, offset });
      }
      offset += size;
    }
    if (placed.length === 0) continue;
    const bytes = pieces.length === 1 ? pieces[0] : joinParts(pieces);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const { spec, count, offset: at } of placed) out.set(spec.name, { shape: spec.shape, data: decodeFloats(view, at, count, spec) });
  }
  return out;
}

/** A weight's element count from its checked shape; a count beyond 2^53 (a shape of absurd dimensions) is refused. */
function elementCount(w: MagentaWeightSpec, where: string): number {
  let count = 1;
  for (const d of w.shape) count *= d;
  if (!Number.isSafeInteger(count)) throw new MagentaCheckpointError(`${where}: weight ${previewName(w.name)} has shape [${w.shape.join(', ')}], ${count} values; the manifest is damaged`);
  return count;
}

/** Skips `count` length-prefixed strings starting at `offset` of the group's shards; returns the offset after them. */
function skipStrings(pieces: Uint8Array[], offset: number, count: number, available: number, w: MagentaWeightSpec, where: string): number {
  for (let i = 0; i < count; i++) {
    if (offset + 4 > available) throw new MagentaCheckpointError(`${where}: the shards end inside the string weight ${previewName(w.name)}; a shard is truncated`);
    offset += 4 + readUint32At(pieces, offset);
  }
  return offset;
}

/** The little-endian u32 at `offset` of the shards laid back to back. */
function readUint32At(pieces: Uint8Array[], offset: number): number {
  let value = 0;
  for (let k = 0; k < 4; k++) {
    let at = offset + k;
    let piece = 0;
    while (at >= pieces[piece].length) at -= pieces[piece++].length;
    value += pieces[piece][at] * 2 ** (8 * k);
  }
  return value;
}

function checkWeightSpec(spec: unknown, where: string): MagentaWeightSpec {
  const name = isObject(spec) && typeof spec.name === 'string' ? spec.name : null;
  if (isObject(spec) && Array.isArray(spec.shape) && spec.shape.length > MAX_WEIGHT_DIMENSIONS) {
    throw new MagentaCheckpointError(`${where}: weight ${previewName(name ?? '?')} has ${spec.shape.length} dimensions, above the ${MAX_WEIGHT_DIMENSIONS} a weight may have (MAX_WEIGHT_DIMENSIONS)`);
  }
  if (!isObject(spec) || name === null || !Array.isArray(spec.shape) || typeof spec.dtype !== 'string') {
    throw new MagentaCheckpointError(`${where}: weight ${preview(spec, 120)} is not {name, shape, dtype}`);
  }
  const badDimension = spec.shape.find((d) => !Number.isSafeInteger(d) || d < 0);
  if (badDimension !== undefined) {
    throw new MagentaCheckpointError(`${where}: weight ${previewName(name)} has shape ${preview(spec.shape)}: dimension ${typeof badDimension === 'number' ? String(badDimension) : preview(badDimension)} is not a whole number from 0 to 2^53 − 1; the manifest is damaged`);
  }
  if (!Object.hasOwn(BYTES_PER_VALUE, spec.dtype) && spec.dtype !== 'string') {
    throw new MagentaCheckpointError(`${where}: weight ${previewName(name)} has dtype ${preview(spec.dtype)}, which tfjs does not write (a manifest's dtypes: ${[...Object.keys(BYTES_PER_VALUE), 'string'].join(', ')})`);
  }
  const q = spec.quantization;
  if (q !== undefined) {
    const ok = isObject(q) && (q.dtype === 'float16' || ((q.dtype === 'uint8' || q.dtype === 'uint16') && Number.isFinite(q.scale) && Number.isFinite(q.min)));
    if (!ok) throw new MagentaCheckpointError(`${where}: weight ${previewName(name)} has quantization ${preview(q)}; expected {dtype: "uint8" or "uint16", scale, min} or {dtype: "float16"}`);
  }
  return spec as unknown as MagentaWeightSpec;
}

/** Float32 values of one weight: stored as float32, or quantized (uint8/uint16: q·scale + min; float16). */
function decodeFloats(view: DataView, offset: number, count: number, w: MagentaWeightSpec): Float32Array {
  const data = new Float32Array(count);
  const q = w.quantization;
  if (!q) {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  } else if (q.dtype === 'uint8') {
    for (let i = 0; i < count; i++) data[i] = view.getUint8(offset + i) * q.scale! + q.min!;
  } else if (q.dtype === 'uint16') {
    for (let i = 0; i < count; i++) data[i] = view.getUint16(offset + 2 * i, true) * q.scale! + q.min!;
  } else {
    for (let i = 0; i < count; i++) data[i] = float16ToNumber(view.getUint16(offset + 2 * i, true));
  }
  return data;
}

/** A group's shards in the manifest's order; a missing shard is named. */
function shardsOf(paths: string[], shards: Map<string, Uint8Array>, where: string, source: string): Uint8Array[] {
  return paths.map((p) => {
    const bytes = shards.get(p);
    if (!bytes) throw new MagentaCheckpointError(`${where}: the shard ${source}/${previewName(p)} is missing (the manifest lists ${previewName(paths.join(', '), 200)})`);
    return bytes;
  });
}

// ---------------------------------------------------------------- export

/** The files of a MusicRNN checkpoint folder, as importMagentaCheckpoint takes them. */
export interface MagentaCheckpoint {
  /** config.json text. */
  config: string;
  /** weights_manifest.json text. */
  manifest: string;
  /** One shard, MAGENTA_SHARD_FILE, in float32. */
  shards: Map<string, Uint8Array>;
}

/**
 * Writes a Note RNN or a Q/Ψ-tuned network as a Magenta.js MusicRNN checkpoint (float32). A G-tuned
 * network (info.notes.algorithm 'g') is refused: it acts with its Note RNN prior, which a MusicRNN
 * cannot hold. `source` names the model in messages.
 */
export function exportMagentaCheckpoint(model: NoteRnnTensors, info: ModelInfo = {}, source = 'model'): MagentaCheckpoint {
  const algorithm = isObject(info.notes) ? info.notes.algorithm : undefined;
  if (algorithm === 'g') {
    throw new MagentaCheckpointError(`${source}: a G-tuned model acts with its Note RNN prior (acting scores G + prior logits, SPEC §4.4); a MusicRNN plays one network's logits, so it cannot be exported. Export a Note RNN or a Q- or Ψ-tuned model`);
  }
  const { config } = model;
  let encoding: MelodyEncoding;
  try {
    encoding = encodingOf(config);
  } catch {
    throw new MagentaCheckpointError(`${source}: takes ${config.inputSize} classes in and ${config.outputSize} out; a MusicRNN basic_rnn melody model has ${NUM_CLASSES} and ${NUM_CLASSES}, a lookback_rnn ${LOOKBACK_ENCODING.inputSize} inputs and ${LOOKBACK_ENCODING.outputSize} classes`);
  }
  if (encoding !== BASIC_ENCODING && encoding !== LOOKBACK_ENCODING) {
    throw new MagentaCheckpointError(`${source}: uses rltuner's ${encoding.name} encoding (it also looks back four bars), which no Magenta model has; only basic and lookback models convert`);
  }
  const tensors = model.tensors instanceof Map ? model.tensors : new Map(model.tensors.map((t) => [t.name, t]));
  const need = (name: string, shape: number[]) => {
    const t = tensors.get(name);
    if (!t) throw new MagentaCheckpointError(`${source}: the tensor ${name} is missing`);
    if (t.shape.join() !== shape.join() || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new MagentaCheckpointError(`${source}: the tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    return t.data;
  };
  const specs: MagentaWeightSpec[] = [];
  const values: Float32Array[] = [];
  config.hiddenSizes.forEach((H, l) => {
    const X = l === 0 ? encoding.inputSize : config.hiddenSizes[l - 1];
    const G = 4 * H;
    const wx = need(`lstm.${l}.w_x`, [X, G]);
    const wh = need(`lstm.${l}.w_h`, [H, G]);
    const b = need(`lstm.${l}.b`, [G]);
    const kernel = new Float32Array((X + H) * G);
    const bias = new Float32Array(G);
    for (let gate = 0; gate < 4; gate++) {
      const tfCol = TF_GATE_BLOCK[gate] * H;
      for (let u = 0; u < H; u++) {
        const col = gate * H + u;
        for (let r = 0; r < X; r++) kernel[(l === 0 ? magentaInputRow(encoding, r) : r) * G + tfCol + u] = wx[r * G + col];
        for (let r = 0; r < H; r++) kernel[(X + r) * G + tfCol + u] = wh[r * G + col];
        bias[tfCol + u] = gate === F_GATE ? b[col] - TF_FORGET_BIAS : b[col];
      }
    }
    specs.push({ name: cellName(l, 'kernel'), shape: [X + H, G], dtype: 'float32' }, { name: cellName(l, 'bias'), shape: [G], dtype: 'float32' });
    values.push(kernel, bias);
  });
  const top = config.hiddenSizes[config.hiddenSizes.length - 1];
  const O = encoding.outputSize;
  const outW = need('output.w', [top, O]);
  const outB = need('output.b', [O]);
  const fcW = new Float32Array(top * O);
  const fcB = new Float32Array(O);
  for (let k = 0; k < O; k++) {
    fcB[swapClass(k)] = outB[k];
    for (let r = 0; r < top; r++) fcW[r * O + swapClass(k)] = outW[r * O + k];
  }
  specs.push({ name: FC_WEIGHTS, shape: [top, O], dtype: 'float32' }, { name: FC_BIASES, shape: [O], dtype: 'float32' });
  values.push(fcW, fcB);

  const shard = new Uint8Array(values.reduce((s, v) => s + 4 * v.length, 0));
  const view = new DataView(shard.buffer);
  let at = 0;
  for (const v of values) {
    for (let i = 0; i < v.length; i++, at += 4) view.setFloat32(at, v[i], true);
  }
  return {
    config: `${JSON.stringify(encoding === BASIC_ENCODING ? MUSIC_RNN_CONFIG : LOOKBACK_CONFIG, null, 2)}\n`,
    manifest: `${JSON.stringify([{ paths: [MAGENTA_SHARD_FILE], weights: specs }], null, 2)}\n`,
    shards: new Map([[MAGENTA_SHARD_FILE, shard]]),
  };
}
