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
 * Tensors (H = hidden units of layer l, X = its input width: 38 for layer 0, H of the layer below above):
 *   rnn/multi_rnn_cell/cell_{l}/basic_lstm_cell/kernel  [X + H, 4H]  rows: input x, then h; gate column
 *                                                        blocks i, j (the candidate, our g), f, o
 *   rnn/multi_rnn_cell/cell_{l}/basic_lstm_cell/bias    [4H]         TF adds forget_bias 1.0 to f at run time
 *   fully_connected/weights                             [H_top, 38]
 *   fully_connected/biases                              [38]
 * Magenta's melody classes are 0 = NO_EVENT, 1 = NOTE_OFF, 2.. = MIDI 48..; ours swap 0 and 1 (SPEC §1).
 *
 * Import (Magenta → rltuner): dequantize (q·scale + min), split the kernel into our w_x and w_h, reorder
 * the gates i, j, f, o → i, f, g, o, fold the forget bias +1.0 into our f-gate bias, swap classes 0 and 1
 * (rows of layer 0's w_x, columns of output.w, entries of output.b). Export is the inverse, in float32.
 * Because TF's forget bias is added at run time, our f-gate bias b is written as b − 1 (in float32):
 * ours → Magenta → ours returns every tensor bit for bit except f-gate biases outside [0.5, 2], which come
 * back within float32 rounding of the ±1 shift (one unit in the last place of numbers near 1).
 *
 * Only the one-hot `basic_rnn` melody input of 38 classes maps onto rltuner's Note RNN: checkpoints that
 * condition on chords, take auxiliary inputs, use attention, another pitch range or another converter are
 * refused, naming the file and the field. Pure (no Node import): the library core uses it; the CLI
 * (`rltuner convert`) reads and writes the files.
 */
import type { LstmStackConfig } from '../engine/layout.js';
import { MAX_PITCH, MIN_PITCH, NUM_CLASSES } from '../music/encoding.js';
import type { DecodedModel, ModelInfo } from './model_file.js';
import { float16ToNumber, joinParts } from './safetensors.js';

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

const cellName = (l: number, part: 'kernel' | 'bias') => `rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/${part}`;
const FC_WEIGHTS = 'fully_connected/weights';
const FC_BIASES = 'fully_connected/biases';
const ATTENTION_PREFIX = 'rnn/attention_cell_wrapper/';
/** Gate blocks: ours are i, f, g, o; TF's are i, j (= g), f, o. Index by our block, get TF's (and back). */
const TF_GATE_BLOCK = [0, 2, 1, 3];
const F_GATE = 1; // our block index of the forget gate
/** Magenta's class of our class k (and back): 0 and 1 swap, pitches stay. */
const swapClass = (k: number): number => (k === 0 ? 1 : k === 1 ? 0 : k);
/** Bytes per stored value of a dtype in a manifest. */
const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

// ---------------------------------------------------------------- import

/**
 * Reads a Magenta.js MusicRNN checkpoint as an rltuner Note RNN: the same shape decodeModel returns, so
 * loadModelInto / createArena take it. `source` (the folder) prefixes every message.
 */
export function importMagentaCheckpoint(files: MagentaCheckpointFiles, source = 'checkpoint'): DecodedModel {
  const configFile = `${source}/${MAGENTA_CONFIG_FILE}`;
  const manifestFile = `${source}/${MAGENTA_MANIFEST_FILE}`;
  const config = parseJson(files.config, configFile);
  checkMusicRnnConfig(config, configFile);
  const weights = readWeights(parseJson(files.manifest, manifestFile), files.shards, manifestFile, source);

  if ([...weights.keys()].some((n) => n.startsWith(ATTENTION_PREFIX))) {
    throw new MagentaCheckpointError(`${manifestFile}: the weights include attention (${ATTENTION_PREFIX}...); rltuner's Note RNN has no attention, so this checkpoint cannot be converted`);
  }
  const hiddenSizes: number[] = [];
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (let l = 0; weights.has(cellName(l, 'kernel')); l++) {
    const kernel = needWeight(weights, cellName(l, 'kernel'), manifestFile);
    const bias = needWeight(weights, cellName(l, 'bias'), manifestFile);
    if (bias.shape.length !== 1 || bias.shape[0] % 4 !== 0 || bias.shape[0] === 0) {
      throw new MagentaCheckpointError(`${manifestFile}: ${cellName(l, 'bias')} has shape [${bias.shape}]; an LSTM bias is [4·hidden]`);
    }
    const H = bias.shape[0] / 4;
    const X = l === 0 ? NUM_CLASSES : hiddenSizes[l - 1];
    if (kernel.shape.length !== 2 || kernel.shape[0] !== X + H || kernel.shape[1] !== 4 * H) {
      const what = l === 0
        ? `the ${NUM_CLASSES}-class one-hot melody input (basic_rnn) of ${X} plus ${H} hidden units`
        : `the ${X} units of layer ${l - 1} plus ${H} hidden units`;
      throw new MagentaCheckpointError(`${manifestFile}: ${cellName(l, 'kernel')} has shape [${kernel.shape}], expected [${X + H}, ${4 * H}] (${what}); another input encoding (lookback, chords, aux inputs) cannot be converted`);
    }
    hiddenSizes.push(H);
    for (const [name, t] of Object.entries(splitKernelAndBias(kernel.data, bias.data, X, H, l === 0))) tensors.set(`lstm.${l}.${name}`, t);
  }
  if (hiddenSizes.length === 0) {
    const names = [...weights.keys()].slice(0, 8).join(', ');
    throw new MagentaCheckpointError(`${manifestFile}: no ${cellName(0, 'kernel')}; a MusicRNN checkpoint of TF BasicLSTMCells names its layers so (found: ${names || 'no weights'})`);
  }
  const top = hiddenSizes[hiddenSizes.length - 1];
  const fcW = needWeight(weights, FC_WEIGHTS, manifestFile);
  const fcB = needWeight(weights, FC_BIASES, manifestFile);
  if (fcW.shape.join() !== `${top},${NUM_CLASSES}` || fcB.shape.join() !== `${NUM_CLASSES}`) {
    throw new MagentaCheckpointError(`${manifestFile}: ${FC_WEIGHTS} [${fcW.shape}] and ${FC_BIASES} [${fcB.shape}] should be [${top}, ${NUM_CLASSES}] and [${NUM_CLASSES}] (${NUM_CLASSES} melody classes out)`);
  }
  const outW = new Float32Array(top * NUM_CLASSES);
  const outB = new Float32Array(NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    outB[k] = fcB.data[swapClass(k)];
    for (let r = 0; r < top; r++) outW[r * NUM_CLASSES + k] = fcW.data[r * NUM_CLASSES + swapClass(k)];
  }
  tensors.set('output.w', { shape: [top, NUM_CLASSES], data: outW });
  tensors.set('output.b', { shape: [NUM_CLASSES], data: outB });
  for (const [name, t] of tensors) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new MagentaCheckpointError(`${manifestFile}: a weight behind rltuner's ${name} holds ${t.data[bad]}; the checkpoint is damaged`);
  }
  const info: ModelInfo = { notes: { importedFrom: 'Magenta.js MusicRNN checkpoint', source, magentaConfig: config } };
  return {
    config: { inputSize: NUM_CLASSES, hiddenSizes, outputSize: NUM_CLASSES },
    tensors,
    metadata: { format: 'magenta-music-rnn', source },
    info,
  };
}

/** Our w_x, w_h, b of one layer from TF's kernel [X + H, 4H] and bias [4H]. */
function splitKernelAndBias(kernel: Float32Array, bias: Float32Array, X: number, H: number, oneHotInput: boolean) {
  const G = 4 * H;
  const wx = new Float32Array(X * G);
  const wh = new Float32Array(H * G);
  const b = new Float32Array(G);
  for (let gate = 0; gate < 4; gate++) {
    const tfCol = TF_GATE_BLOCK[gate] * H;
    for (let u = 0; u < H; u++) {
      const col = gate * H + u;
      for (let r = 0; r < X; r++) wx[r * G + col] = kernel[(oneHotInput ? swapClass(r) : r) * G + tfCol + u];
      for (let r = 0; r < H; r++) wh[r * G + col] = kernel[(X + r) * G + tfCol + u];
      b[col] = gate === F_GATE ? bias[tfCol + u] + TF_FORGET_BIAS : bias[tfCol + u];
    }
  }
  return { w_x: { shape: [X, G], data: wx }, w_h: { shape: [H, G], data: wh }, b: { shape: [G], data: b } };
}

function parseJson(value: unknown, file: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new MagentaCheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses every MusicRNN spec but the one-hot melody model of MIDI 48..83, naming the field. */
function checkMusicRnnConfig(config: unknown, file: string): void {
  if (!isObject(config)) throw new MagentaCheckpointError(`${file}: expected a JSON object (the MusicRNN spec), got ${JSON.stringify(config)?.slice(0, 80)}`);
  if (config.type !== 'MusicRNN') {
    throw new MagentaCheckpointError(`${file}: "type" is ${JSON.stringify(config.type ?? null)}; only MusicRNN checkpoints (melody models) convert to an rltuner Note RNN`);
  }
  const converter = config.dataConverter;
  if (!isObject(converter) || converter.type !== 'MelodyConverter') {
    const type = isObject(converter) ? JSON.stringify(converter.type ?? null) : 'missing';
    throw new MagentaCheckpointError(`${file}: "dataConverter.type" is ${type}; rltuner's Note RNN reads melodies, which Magenta.js encodes with "MelodyConverter" (basic_rnn); drum and other encodings cannot be converted`);
  }
  const args = isObject(converter.args) ? converter.args : {};
  if (args.minPitch !== MIN_PITCH || args.maxPitch !== MAX_PITCH) {
    throw new MagentaCheckpointError(`${file}: "dataConverter.args" has minPitch ${JSON.stringify(args.minPitch ?? null)} and maxPitch ${JSON.stringify(args.maxPitch ?? null)}; rltuner's 38 classes are MIDI ${MIN_PITCH}..${MAX_PITCH} (minPitch ${MIN_PITCH}, maxPitch ${MAX_PITCH})`);
  }
  for (const [field, what] of [['chordEncoder', 'conditions on chords'], ['auxInputs', 'takes auxiliary inputs'], ['attentionLength', 'uses attention']] as const) {
    if (config[field] !== undefined && config[field] !== null) {
      throw new MagentaCheckpointError(`${file}: "${field}" is ${JSON.stringify(config[field])}: this model ${what}, which rltuner's Note RNN (the one-hot basic_rnn melody input) cannot represent`);
    }
  }
}

function needWeight(weights: Map<string, { shape: number[]; data: Float32Array }>, name: string, file: string) {
  const w = weights.get(name);
  if (!w) throw new MagentaCheckpointError(`${file}: the weight ${name} is missing`);
  return w;
}

/** Decodes every float32 weight of every group (the others are skipped over), dequantizing. */
function readWeights(manifest: unknown, shards: Map<string, Uint8Array>, file: string, source: string): Map<string, { shape: number[]; data: Float32Array }> {
  if (!Array.isArray(manifest)) throw new MagentaCheckpointError(`${file}: expected a list of weight groups ({paths, weights}), got ${JSON.stringify(manifest)?.slice(0, 80)}`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  manifest.forEach((group: unknown, g) => {
    const where = `${file}: group ${g}`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights) || group.paths.some((p) => typeof p !== 'string')) {
      throw new MagentaCheckpointError(`${where} is not {paths: [file names], weights: [specs]}`);
    }
    const bytes = concatShards(group.paths as string[], shards, where, source);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (const spec of group.weights as unknown[]) {
      const w = checkWeightSpec(spec, where);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      if (w.dtype === 'string') {
        for (let i = 0; i < count; i++) { // length-prefixed values, not needed
          if (offset + 4 > bytes.length) throw new MagentaCheckpointError(`${where}: the shards end inside the string weight ${w.name}; a shard is truncated`);
          offset += 4 + view.getUint32(offset, true);
        }
        continue;
      }
      const size = count * BYTES_PER_VALUE[q ? q.dtype : w.dtype];
      if (offset + size > bytes.length) {
        throw new MagentaCheckpointError(`${where}: the shards ${JSON.stringify(group.paths)} hold ${bytes.length} bytes, but ${w.name} needs bytes ${offset}..${offset + size}; a shard is truncated or missing`);
      }
      if (w.dtype === 'float32') out.set(w.name, { shape: w.shape, data: decodeFloats(view, offset, count, w) });
      offset += size;
    }
  });
  return out;
}

function checkWeightSpec(spec: unknown, where: string): MagentaWeightSpec {
  const name = isObject(spec) && typeof spec.name === 'string' ? spec.name : null;
  if (!isObject(spec) || name === null || !Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isInteger(d) || d < 0) || typeof spec.dtype !== 'string') {
    throw new MagentaCheckpointError(`${where}: weight ${JSON.stringify(spec)?.slice(0, 120)} is not {name, shape, dtype}`);
  }
  if (!(spec.dtype in BYTES_PER_VALUE) && spec.dtype !== 'string') throw new MagentaCheckpointError(`${where}: weight ${name} has dtype ${JSON.stringify(spec.dtype)}, which tfjs does not write`);
  const q = spec.quantization;
  if (q !== undefined) {
    const ok = isObject(q) && (q.dtype === 'float16' || ((q.dtype === 'uint8' || q.dtype === 'uint16') && Number.isFinite(q.scale) && Number.isFinite(q.min)));
    if (!ok) throw new MagentaCheckpointError(`${where}: weight ${name} has quantization ${JSON.stringify(q)}; expected {dtype: "uint8" or "uint16", scale, min} or {dtype: "float16"}`);
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

/** A group's shards back to back, in the manifest's order; a missing shard is named. */
function concatShards(paths: string[], shards: Map<string, Uint8Array>, where: string, source: string): Uint8Array {
  const pieces = paths.map((p) => {
    const bytes = shards.get(p);
    if (!bytes) throw new MagentaCheckpointError(`${where}: the shard ${source}/${p} is missing (the manifest lists ${paths.join(', ')})`);
    return bytes;
  });
  return pieces.length === 1 ? pieces[0] : joinParts(pieces);
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
  if (config.inputSize !== NUM_CLASSES || config.outputSize !== NUM_CLASSES) {
    throw new MagentaCheckpointError(`${source}: takes ${config.inputSize} classes in and ${config.outputSize} out; a MusicRNN basic_rnn melody model has ${NUM_CLASSES}`);
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
    const X = l === 0 ? NUM_CLASSES : config.hiddenSizes[l - 1];
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
        for (let r = 0; r < X; r++) kernel[(l === 0 ? swapClass(r) : r) * G + tfCol + u] = wx[r * G + col];
        for (let r = 0; r < H; r++) kernel[(X + r) * G + tfCol + u] = wh[r * G + col];
        bias[tfCol + u] = gate === F_GATE ? b[col] - TF_FORGET_BIAS : b[col];
      }
    }
    specs.push({ name: cellName(l, 'kernel'), shape: [X + H, G], dtype: 'float32' }, { name: cellName(l, 'bias'), shape: [G], dtype: 'float32' });
    values.push(kernel, bias);
  });
  const top = config.hiddenSizes[config.hiddenSizes.length - 1];
  const outW = need('output.w', [top, NUM_CLASSES]);
  const outB = need('output.b', [NUM_CLASSES]);
  const fcW = new Float32Array(top * NUM_CLASSES);
  const fcB = new Float32Array(NUM_CLASSES);
  for (let k = 0; k < NUM_CLASSES; k++) {
    fcB[swapClass(k)] = outB[k];
    for (let r = 0; r < top; r++) fcW[r * NUM_CLASSES + swapClass(k)] = outW[r * NUM_CLASSES + k];
  }
  specs.push({ name: FC_WEIGHTS, shape: [top, NUM_CLASSES], dtype: 'float32' }, { name: FC_BIASES, shape: [NUM_CLASSES], dtype: 'float32' });
  values.push(fcW, fcB);

  const shard = new Uint8Array(values.reduce((s, v) => s + 4 * v.length, 0));
  const view = new DataView(shard.buffer);
  let at = 0;
  for (const v of values) {
    for (let i = 0; i < v.length; i++, at += 4) view.setFloat32(at, v[i], true);
  }
  return {
    config: `${JSON.stringify(MUSIC_RNN_CONFIG, null, 2)}\n`,
    manifest: `${JSON.stringify([{ paths: [MAGENTA_SHARD_FILE], weights: specs }], null, 2)}\n`,
    shards: new Map([[MAGENTA_SHARD_FILE, shard]]),
  };
}
