/**
 * Memory planning for LSTM stacks in one wasm arena (llm.c style: sizes from the config, one block per
 * role, named views laid into it once). Nothing here touches wasm; `arena.ts` turns a plan into views.
 *
 * Dimension letters: I input classes (38), H hidden units, P = H padded to a multiple of 4, G = 4P gate
 * rows (blocks i, f, g, o), O output classes (38), Q = O padded to a multiple of 8, B batch rows, T steps.
 *
 * Parameter tensors of layer l (must match assembly/lstm.ts and assembly/matrix.ts):
 *   lstm.l.w_x  layer 0: rows layout [I][G] (one-hot input: a row lookup; sparse input: a weighted sum of
 *               rows); l > 0: panel-packed P_{l-1} x G
 *   lstm.l.w_h  panel-packed P x G
 *   lstm.l.b    [G] (the forget bias lives here, so pre_f = W x + b with b_f = forget_bias at init)
 *   output.w    panel-packed P_last x Q
 *   output.b    [Q]
 * Padding (units H..P-1, classes O..Q-1) is zero in every parameter and stays zero through training.
 */

export interface LstmStackConfig {
  /** Width of the input: the number of input classes of a one-hot input, or the rows of W_x that `input` expands into. */
  inputSize: number;
  /**
   * How a step's input id becomes rows of W_x when the input is not one-hot (absent: the id is the one
   * class of a one-hot input, and layer 0's input is a row lookup).
   */
  input?: InputFeatures;
  /** Hidden units per LSTM layer, bottom first. */
  hiddenSizes: number[];
  /** Number of output classes (logits). */
  outputSize: number;
}

/**
 * A sparse input: each step's input id expands into `entries` (row, value) pairs, and the input part of
 * the gate pre-activations is Σ value · W_x[row] (a weighted gather of rows, its gradient a weighted
 * scatter). The engine knows nothing of what the rows mean: src/music/lookback.ts's lookback encoding
 * (one-hot blocks, counter bits and flags) is one such input.
 */
export interface InputFeatures {
  /** Names the input in messages and model files (e.g. "lookback"). */
  readonly name: string;
  /** (row, value) entries per input, 1..MAX_INPUT_ENTRIES. */
  readonly entries: number;
  /** Input ids run 0 .. ids − 1. */
  readonly ids: number;
  /** Writes the entries of input `id` to indices[at .. at + entries) (rows below inputSize) and values[at ..]. */
  expand(id: number, indices: Int32Array, values: Float32Array, at: number): void;
}

/** The most (row, value) entries a sparse input may expand into per step. */
export const MAX_INPUT_ENTRIES = 64;

export type TensorLayout = 'rows' | 'panel' | 'vector';

export interface TensorSpec {
  name: string;
  layout: TensorLayout;
  /** Logical (unpadded) shape as exported: [rows, cols] or [n]. */
  shape: number[];
  /** Padded storage shape: [K, N] for rows/panel, [N] for vector. */
  storage: number[];
  /** Offset in floats within the parameter block (multiple of 4). */
  offset: number;
  /** Size in floats (multiple of 4). */
  size: number;
}

export interface LayerDims {
  /** Logical input width (I for layer 0, H of the layer below otherwise). */
  inputSize: number;
  /** Padded input width as stored (I for layer 0, P of the layer below otherwise). */
  inputStride: number;
  hidden: number;
  padded: number;
  gates: number;
}

export interface ParameterLayout {
  config: LstmStackConfig;
  layers: LayerDims[];
  outputPadded: number;
  tensors: TensorSpec[];
  /** Total floats in the parameter block (also the size of gradients and each Adam moment). */
  size: number;
  /** Logical parameter count (no padding). */
  count: number;
  /** Floats in one network state row: sum over layers of 2H (c then h, per layer, unpadded). */
  stateSize: number;
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * The most LSTM layers a stack may have: 8. The paper's Note RNN has one; deeper melody LSTMs gain nothing
 * past two or three. Model files claiming more are refused by name (src/io/model_file.ts).
 */
export const MAX_LAYERS = 8;
/**
 * The most hidden units a layer may have: 4,096 (a 4,096-unit layer alone holds 4,096 × 16,384 recurrent
 * weights, 268 MB in float32; the shipped model has 100). Also the most input and output classes.
 */
export const MAX_HIDDEN_UNITS = 4096;

/**
 * Why `hiddenSizes` cannot be an LSTM stack's layer sizes (1 to MAX_LAYERS layers of 1 to MAX_HIDDEN_UNITS
 * units), or null when it can: the one check of the limits, for the engine, the trainer and the CLI.
 */
export function hiddenSizesProblem(hiddenSizes: unknown): string | null {
  if (!Array.isArray(hiddenSizes) || hiddenSizes.length < 1 || hiddenSizes.length > MAX_LAYERS) {
    return `hiddenSizes must list 1 to ${MAX_LAYERS} layer sizes, got ${JSON.stringify(hiddenSizes)}`;
  }
  const l = hiddenSizes.findIndex((h) => !(Number.isInteger(h) && h >= 1 && h <= MAX_HIDDEN_UNITS));
  return l < 0 ? null : `hiddenSizes[${l}] must be an integer in 1..${MAX_HIDDEN_UNITS}, got ${hiddenSizes[l]}`;
}

function validateConfig(config: LstmStackConfig): void {
  const intIn = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!intIn(config.inputSize, 1, MAX_HIDDEN_UNITS)) {
    throw new RangeError(`LSTM config: inputSize must be an integer in 1..${MAX_HIDDEN_UNITS}, got ${config.inputSize}`);
  }
  if (!intIn(config.outputSize, 1, MAX_HIDDEN_UNITS)) {
    throw new RangeError(`LSTM config: outputSize must be an integer in 1..${MAX_HIDDEN_UNITS}, got ${config.outputSize}`);
  }
  const problem = hiddenSizesProblem(config.hiddenSizes);
  if (problem !== null) throw new RangeError(`LSTM config: ${problem}`);
  const input = config.input;
  if (input !== undefined) {
    if (!intIn(input.entries, 1, MAX_INPUT_ENTRIES)) {
      throw new RangeError(`LSTM config: input "${input.name}" expands into ${input.entries} entries per step; expected an integer in 1..${MAX_INPUT_ENTRIES}`);
    }
    if (!intIn(input.ids, 1, 2 ** 31 - 1)) throw new RangeError(`LSTM config: input "${input.name}" has ${input.ids} ids; expected an integer in 1..2^31 − 1`);
  }
}

export function planParameters(config: LstmStackConfig): ParameterLayout {
  validateConfig(config);
  const tensors: TensorSpec[] = [];
  let offset = 0;
  let count = 0;
  const add = (name: string, layout: TensorLayout, shape: number[], storage: number[]) => {
    const size = roundUp(storage.reduce((a, b) => a * b, 1), 4);
    tensors.push({ name, layout, shape, storage, offset, size });
    offset += size;
    count += shape.reduce((a, b) => a * b, 1);
  };
  const layers: LayerDims[] = [];
  config.hiddenSizes.forEach((hidden, l) => {
    const padded = roundUp(hidden, 4);
    const gates = 4 * padded;
    const below = l === 0 ? null : layers[l - 1];
    const inputSize = below ? below.hidden : config.inputSize;
    const inputStride = below ? below.padded : config.inputSize;
    layers.push({ inputSize, inputStride, hidden, padded, gates });
    add(`lstm.${l}.w_x`, l === 0 ? 'rows' : 'panel', [inputSize, 4 * hidden], [inputStride, gates]);
    add(`lstm.${l}.w_h`, 'panel', [hidden, 4 * hidden], [padded, gates]);
    add(`lstm.${l}.b`, 'vector', [4 * hidden], [gates]);
  });
  const top = layers[layers.length - 1];
  const outputPadded = roundUp(config.outputSize, 8);
  add('output.w', 'panel', [top.hidden, config.outputSize], [top.padded, outputPadded]);
  add('output.b', 'vector', [config.outputSize], [outputPadded]);
  const stateSize = layers.reduce((s, d) => s + 2 * d.hidden, 0);
  return { config, layers, outputPadded, tensors, size: offset, count, stateSize };
}

/**
 * Index (in floats, relative to the tensor's offset) of logical element (r, c) of a matrix tensor, or of
 * element c of a vector. Gate columns: logical column c = gate * H + unit maps to stored gate * P + unit.
 */
export function storageIndex(spec: TensorSpec, hidden: number, padded: number, r: number, c: number): number {
  const isGateMatrix = spec.name.startsWith('lstm.');
  const col = isGateMatrix ? Math.floor(c / hidden) * padded + (c % hidden) : c;
  if (spec.layout === 'vector') return col;
  const N = spec.storage[1];
  if (spec.layout === 'rows') return r * N + col;
  const K = spec.storage[0];
  const full = N & ~7;
  if (col < full) return (col & ~7) * K + r * 8 + (col & 7);
  return full * K + r * 4 + (col - full);
}
