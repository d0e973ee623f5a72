/**
 * An LSTM stack (one-hot input -> LSTM layers -> linear output) whose parameters, gradients, Adam moments
 * and activations live in one planned wasm arena. Views are built once; memory never grows.
 *
 * Dimension letters (as in layout.ts): I input classes, P padded hidden size of a layer, G = 4P gate rows,
 * X the padded input width of a layer (P of the layer below), Q padded output classes; B the batch and T
 * the steps of the current call, up to maxBatch and maxSteps. Traces are time-major: step t of a call is
 * one [B][width] block at `trace.at(t, B)`, so all T steps are one contiguous [T][B][width] block.
 *
 * Buffers (floats unless noted):
 *   params, grads, adamM, adamV   the parameter block and its twins (layout.ts)
 *   per LSTM layer, saved by forward for backward:
 *     c, h            [T+1][B][P]  slot 0 = start state, slot t+1 = after step t
 *     act             [T][B][G]    gate pre-activations, activated in place (i, f, g, o)
 *     tanhC           [T][B][P]    tanh(c) of each step
 *   per LSTM layer, carried between step() calls: cCarried, hCarried [maxB][P]
 *   per LSTM layer, backward (trainable only):
 *     dh              [T][B][P]    gradient w.r.t. h of each step
 *     dc              [B][P]       gradient w.r.t. c flowing back one step
 *     dpre            [B][G]       gradient w.r.t. the gate pre-activations of one step
 *     whT, wxT        W_h^T (G x P) and, above layer 0, W_x^T (G x X), panel-packed
 *   tokens (i32) [T][B]: the input ids (a one-hot model's classes); labels (i32), weights, logp, argmax
 *     (i32) [T*B]; actions (i32), targets [B]
 *   a sparse input (config.input) or input dropout: entryIndices (i32), entryValues [T][B][K], K entries per
 *     input (a one-hot input under dropout uses tokens as its indices, K = 1)
 *   dropout (plan.dropout): inputMask [T][B][K]; per LSTM layer outMask [T][B][P] and hOut [T][B][P], the
 *     layer's output h · mask that the layer above and the output layer read while dropout is on
 *   logits, dlogits [T][B][Q]; outT = W_out^T (Q x P_top, panel-packed)
 */
import type { KernelExports, WasmMemory } from './kernels.js';
import {
  planParameters, storageIndex, type LstmStackConfig, type ParameterLayout, type TensorSpec,
} from './layout.js';

/** A source of uniform floats in [0, 1) for initialisation (src/random.ts's Random is one). */
export interface UniformSource {
  float(): number;
}

export interface ModelPlan {
  /** Largest batch any call will use. */
  maxBatch: number;
  /** Longest BPTT window (1 for stepping and one-step updates). */
  maxSteps?: number;
  /** Whether gradients and Adam moments are allocated. */
  trainable?: boolean;
  /** Whether dropout masks are allocated (training with dropout; needs trainable). */
  dropout?: boolean;
}

export interface AdamSettings {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /**
   * Decoupled weight decay λ (AdamW, Loshchilov & Hutter): each weight matrix (not the biases) is scaled
   * by 1 − learningRate·λ before the Adam step. Absent or 0: plain Adam.
   */
  weightDecay?: number;
}

/** Where dropout masks come from: uniform 32-bit integers (src/random.ts's Random is one). */
export interface MaskSource {
  nextU32(): number;
}

/**
 * Dropout for one forward pass and the backward pass after it (training only; inference never drops). Each
 * kept element is scaled by 1 / (1 − rate), so the expected activation is unchanged. The masks are drawn
 * from `source` in a fixed order (the input mask, then each layer's output mask, time-major), so the same
 * seed gives the same masks.
 */
export interface DropoutSettings {
  /** Probability of dropping each input entry of layer 0 (a one-hot input's whole token). */
  input: number;
  /** Probability of dropping each unit of each LSTM layer's output (what the layer above and the output layer read; not the recurrent state). */
  output: number;
  source: MaskSource;
}

export interface ClipSettings {
  /** 'perTensor': each tensor's gradient to L2 norm maxNorm (the reference); 'global': all together. */
  mode: 'perTensor' | 'global' | 'none';
  maxNorm: number;
}

/** Where a sequence starts: the zero state, or the carried state (which then receives the final state). */
export type StartState = 'zero' | 'carried';

export const DEFAULT_ADAM: AdamSettings = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export interface SequenceStats {
  /** Sum over weighted rows of -weight * log p(label). */
  loss: number;
  /** Sum of weights. */
  weight: number;
}

/** Byte-address allocator used while planning an arena. */
export interface Allocator {
  (bytes: number): number;
}

/** Bytes per element of every arena buffer (f32 and i32). */
const F32 = 4;

const NO_DROPOUT = Object.freeze({ input: false, output: false });

/**
 * Row stride (floats) of dpre, one step's gate gradients: G = 4P, plus 16 when G is a multiple of 256. Rows
 * 1 KB apart (or a multiple of that) fall into a few L1 cache sets, and the weight gradient walks them row
 * by row (bench/weight_gradient.ts measures both strides). The arithmetic is the same either way.
 */
export function dpreStride(G: number): number {
  return G % 256 === 0 ? G + 16 : G;
}

/** A network softly updated towards a trained one after each Adam step: θ ← (1 − η)θ + η·θ_trained. */
export interface TrailingNetwork {
  model: LstmModel;
  eta: number;
}

/** A time-major buffer [steps][B][width] of 4-byte elements, B being the batch of the current call. */
class Trace {
  constructor(readonly ptr: number, readonly width: number) {}

  /** Byte address of step t's [B][width] block. */
  at(t: number, B: number): number {
    return this.ptr + t * B * this.width * F32;
  }
}

/** One LSTM layer's activations (shapes in the file comment). */
interface LstmLayerBuffers {
  c: Trace; h: Trace; act: Trace; tanhC: Trace;
  cCarried: number; hCarried: number;
  dh: Trace; dc: number; dpre: number; dpreStride: number; whT: number; wxT: number;
  outMask: Trace; hOut: Trace;
}

/** Byte addresses of one LSTM layer's tensors in the parameter block or in the gradient block. */
interface LstmLayerTensors {
  wx: number; // layer 0: rows [I][G]; above: panel-packed X x G
  wh: number; // panel-packed P x G
  b: number; // [G]
}

/** Byte addresses of the output layer's tensors in the parameter block or in the gradient block. */
interface OutputTensors {
  w: number; // panel-packed P_top x Q
  b: number; // [Q]
}

export class LstmModel {
  readonly config: LstmStackConfig;
  readonly layout: ParameterLayout;
  readonly maxBatch: number;
  readonly maxSteps: number;
  readonly trainable: boolean;
  /** Row stride of logits (output classes padded to a multiple of 8). */
  readonly outputStride: number;
  /** Floats in one network state row (per layer: c then h, unpadded). */
  readonly stateSize: number;
  /** Adam steps taken (for bias correction). */
  adamStep = 0;

  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly adamM: Float32Array;
  readonly adamV: Float32Array;

  private readonly k: KernelExports;
  private readonly memory: WasmMemory;
  private readonly paramsPtr: number;
  private readonly gradsPtr: number;
  private readonly adamMPtr: number;
  private readonly adamVPtr: number;
  private readonly layers: LstmLayerBuffers[];
  private readonly lstmParams: LstmLayerTensors[];
  private readonly lstmGrads: LstmLayerTensors[];
  private readonly outputParams: OutputTensors;
  private readonly outputGrads: OutputTensors;
  private readonly tokens: Trace;
  private readonly labelsPtr: number;
  private readonly weightsPtr: number;
  private readonly logpPtr: number;
  private readonly argmaxPtr: number;
  private readonly actionsPtr: number;
  private readonly targetsPtr: number;
  private readonly logits: Trace;
  private readonly dlogits: Trace;
  private readonly outTPtr: number;
  private readonly tokensView: Int32Array;
  private readonly labelsView: Int32Array;
  private readonly weightsView: Float32Array;
  private readonly logpView: Float32Array;
  private readonly argmaxView: Int32Array;
  private readonly actionsView: Int32Array;
  private readonly targetsView: Float32Array;
  private readonly logitsView: Float32Array;
  private readonly dlogitsView: Float32Array;
  private readonly stateViews: { c: Float32Array; h: Float32Array; c0: Float32Array; h0: Float32Array }[];
  /** Entries per input (config.input's, 1 for a one-hot input). */
  private readonly K: number;
  private readonly entryIndicesPtr: number;
  private readonly entryValuesPtr: number;
  private readonly inputMaskPtr: number;
  private readonly entryIndicesView: Int32Array;
  private readonly entryValuesView: Float32Array;
  private readonly inputMaskView: Float32Array;
  private readonly outMaskViews: Float32Array[];
  /** Whether dropout masks are planned. */
  readonly dropoutPlanned: boolean;
  /** The dropout of the last forward pass (what the backward pass must mirror); none after any other call. */
  private dropping: { readonly input: boolean; readonly output: boolean } = NO_DROPOUT;

  /** Bytes a model of this config and plan needs in an arena (for planning a shared memory). */
  static planBytes(config: LstmStackConfig, plan: ModelPlan): number {
    let total = 0;
    LstmModel.allocate(config, plan, (bytes) => {
      const at = total;
      total += Math.ceil(bytes / 64) * 64;
      return at;
    });
    return total;
  }

  private static allocate(config: LstmStackConfig, plan: ModelPlan, alloc: Allocator) {
    const layout = planParameters(config);
    const B = plan.maxBatch;
    const T = plan.maxSteps ?? 1;
    const train = plan.trainable ?? false;
    const drop = train && (plan.dropout ?? false);
    const Q = layout.outputPadded;
    const K = config.input?.entries ?? 1;
    const entries = Math.ceil((T * B * K) / 4) * 4; // [T][B][K], rounded up to whole vectors of 4 floats
    const params = alloc(layout.size * F32);
    const grads = train ? alloc(layout.size * F32) : 0;
    const adamM = train ? alloc(layout.size * F32) : 0;
    const adamV = train ? alloc(layout.size * F32) : 0;
    const layers: LstmLayerBuffers[] = layout.layers.map((d, l) => ({
      c: new Trace(alloc((T + 1) * B * d.padded * F32), d.padded),
      h: new Trace(alloc((T + 1) * B * d.padded * F32), d.padded),
      act: new Trace(alloc(T * B * d.gates * F32), d.gates),
      tanhC: new Trace(alloc(T * B * d.padded * F32), d.padded),
      cCarried: alloc(B * d.padded * F32),
      hCarried: alloc(B * d.padded * F32),
      dh: new Trace(train ? alloc(T * B * d.padded * F32) : 0, d.padded),
      dc: train ? alloc(B * d.padded * F32) : 0,
      dpre: train ? alloc(B * dpreStride(d.gates) * F32) : 0,
      dpreStride: dpreStride(d.gates),
      whT: train ? alloc(d.gates * d.padded * F32) : 0,
      wxT: train && l > 0 ? alloc(d.gates * d.inputStride * F32) : 0,
      outMask: new Trace(drop ? alloc(T * B * d.padded * F32) : 0, d.padded),
      hOut: new Trace(drop ? alloc(T * B * d.padded * F32) : 0, d.padded),
    }));
    const top = layout.layers[layout.layers.length - 1];
    return {
      layout, params, grads, adamM, adamV, layers,
      tokens: new Trace(alloc(T * B * 4), 1),
      labels: alloc(T * B * 4),
      weights: alloc(T * B * F32),
      logp: alloc(T * B * F32),
      argmax: alloc(T * B * 4),
      actions: alloc(B * 4),
      targets: alloc(B * F32),
      logits: new Trace(alloc(T * B * Q * F32), Q),
      dlogits: new Trace(train ? alloc(T * B * Q * F32) : 0, Q),
      outT: train ? alloc(Q * top.padded * F32) : 0,
      entryIndices: config.input ? alloc(entries * 4) : 0,
      entryValues: config.input || drop ? alloc(entries * F32) : 0,
      inputMask: drop ? alloc(entries * F32) : 0,
      entries,
    };
  }

  /** Builds the model inside an arena; `alloc` hands out byte addresses in `memory` (see arena.ts). */
  constructor(
    kernels: KernelExports, memory: WasmMemory, config: LstmStackConfig, plan: ModelPlan, alloc: Allocator,
  ) {
    if (!Number.isInteger(plan.maxBatch) || plan.maxBatch < 1) {
      throw new RangeError(`LstmModel: maxBatch must be a positive integer, got ${plan.maxBatch}`);
    }
    const maxSteps = plan.maxSteps ?? 1;
    if (!Number.isInteger(maxSteps) || maxSteps < 1) {
      throw new RangeError(`LstmModel: maxSteps must be a positive integer, got ${plan.maxSteps}`);
    }
    if (plan.dropout && !plan.trainable) throw new RangeError('LstmModel: dropout needs a trainable plan (dropout is for training only)');
    const a = LstmModel.allocate(config, plan, alloc);
    this.k = kernels;
    this.memory = memory;
    this.config = { ...config, hiddenSizes: [...config.hiddenSizes] };
    this.K = config.input?.entries ?? 1;
    this.dropoutPlanned = (plan.trainable ?? false) && (plan.dropout ?? false);
    this.layout = a.layout;
    this.maxBatch = plan.maxBatch;
    this.maxSteps = maxSteps;
    this.trainable = plan.trainable ?? false;
    this.outputStride = a.layout.outputPadded;
    this.stateSize = a.layout.stateSize;
    this.paramsPtr = a.params;
    this.gradsPtr = a.grads;
    this.adamMPtr = a.adamM;
    this.adamVPtr = a.adamV;
    this.layers = a.layers;
    const tensorAt = (block: number, name: string) => block + a.layout.tensors.find((t) => t.name === name)!.offset * F32;
    const lstmTensors = (block: number) => a.layout.layers.map((_, l) => ({
      wx: tensorAt(block, `lstm.${l}.w_x`), wh: tensorAt(block, `lstm.${l}.w_h`), b: tensorAt(block, `lstm.${l}.b`),
    }));
    this.lstmParams = lstmTensors(a.params);
    this.lstmGrads = lstmTensors(a.grads);
    this.outputParams = { w: tensorAt(a.params, 'output.w'), b: tensorAt(a.params, 'output.b') };
    this.outputGrads = { w: tensorAt(a.grads, 'output.w'), b: tensorAt(a.grads, 'output.b') };
    this.tokens = a.tokens;
    this.labelsPtr = a.labels;
    this.weightsPtr = a.weights;
    this.logpPtr = a.logp;
    this.argmaxPtr = a.argmax;
    this.actionsPtr = a.actions;
    this.targetsPtr = a.targets;
    this.logits = a.logits;
    this.dlogits = a.dlogits;
    this.outTPtr = a.outT;

    const buf = memory.buffer;
    const n = a.layout.size;
    const B = plan.maxBatch;
    const T = maxSteps;
    this.params = new Float32Array(buf, a.params, n);
    this.grads = this.trainable ? new Float32Array(buf, a.grads, n) : new Float32Array(0);
    this.adamM = this.trainable ? new Float32Array(buf, a.adamM, n) : new Float32Array(0);
    this.adamV = this.trainable ? new Float32Array(buf, a.adamV, n) : new Float32Array(0);
    this.tokensView = new Int32Array(buf, a.tokens.ptr, T * B);
    this.labelsView = new Int32Array(buf, a.labels, T * B);
    this.weightsView = new Float32Array(buf, a.weights, T * B);
    this.logpView = new Float32Array(buf, a.logp, T * B);
    this.argmaxView = new Int32Array(buf, a.argmax, T * B);
    this.actionsView = new Int32Array(buf, a.actions, B);
    this.targetsView = new Float32Array(buf, a.targets, B);
    this.logitsView = new Float32Array(buf, a.logits.ptr, T * B * this.outputStride);
    this.dlogitsView = this.trainable ? new Float32Array(buf, a.dlogits.ptr, T * B * this.outputStride) : new Float32Array(0);
    this.stateViews = a.layout.layers.map((d, l) => ({
      c: new Float32Array(buf, a.layers[l].cCarried, B * d.padded),
      h: new Float32Array(buf, a.layers[l].hCarried, B * d.padded),
      c0: new Float32Array(buf, a.layers[l].c.ptr, B * d.padded),
      h0: new Float32Array(buf, a.layers[l].h.ptr, B * d.padded),
    }));
    this.entryIndicesPtr = a.entryIndices;
    this.entryValuesPtr = a.entryValues;
    this.inputMaskPtr = a.inputMask;
    this.entryIndicesView = a.entryIndices ? new Int32Array(buf, a.entryIndices, a.entries) : new Int32Array(0);
    this.entryValuesView = a.entryValues ? new Float32Array(buf, a.entryValues, a.entries) : new Float32Array(0);
    this.inputMaskView = a.inputMask ? new Float32Array(buf, a.inputMask, a.entries) : new Float32Array(0);
    this.outMaskViews = a.layers.map((L, l) => (L.outMask.ptr ? new Float32Array(buf, L.outMask.ptr, T * B * a.layout.layers[l].padded) : new Float32Array(0)));
    this.params.fill(0);
  }

  get parameterCount(): number {
    return this.layout.count;
  }

  // ---------------------------------------------------------------- parameters

  /** Random initialisation: Glorot-uniform weights, zero biases, forget-gate bias `forgetBias`. */
  initialize(rng: UniformSource, forgetBias = 1.0): void {
    this.params.fill(0);
    for (const spec of this.layout.tensors) {
      const [rows, cols] = spec.shape.length === 2 ? spec.shape : [1, spec.shape[0]];
      const { hidden, padded } = this.tensorDims(spec);
      const base = spec.offset;
      if (spec.layout === 'vector') {
        if (spec.name.startsWith('lstm.')) {
          for (let u = 0; u < hidden; u++) this.params[base + storageIndex(spec, hidden, padded, 0, hidden + u)] = forgetBias;
        }
        continue;
      }
      const fanOut = spec.name.startsWith('lstm.') ? cols / 4 : cols;
      const limit = Math.sqrt(6 / (rows + fanOut));
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          this.params[base + storageIndex(spec, hidden, padded, r, c)] = (2 * rng.float() - 1) * limit;
        }
      }
    }
    this.resetOptimizer();
  }

  /** The logical (unpadded, row-major) tensors, named as in model files. */
  exportTensors(): { name: string; shape: number[]; data: Float32Array }[] {
    return this.layout.tensors.map((spec) => {
      const [rows, cols] = spec.shape.length === 2 ? spec.shape : [1, spec.shape[0]];
      const { hidden, padded } = this.tensorDims(spec);
      const data = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) data[r * cols + c] = this.params[spec.offset + storageIndex(spec, hidden, padded, r, c)];
      }
      return { name: spec.name, shape: [...spec.shape], data };
    });
  }

  /** Loads logical tensors (as from exportTensors); every tensor must be present with its exact shape. */
  importTensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, source = 'tensors'): void {
    for (const spec of this.layout.tensors) {
      const t = tensors.get(spec.name);
      if (!t) throw new Error(`${source}: missing tensor "${spec.name}" for an LSTM of hidden sizes [${this.config.hiddenSizes}]`);
      if (t.shape.length !== spec.shape.length || t.shape.some((v, i) => v !== spec.shape[i])) {
        throw new Error(`${source}: tensor "${spec.name}" has shape [${t.shape}], this model needs [${spec.shape}] (another architecture?)`);
      }
    }
    this.params.fill(0);
    for (const spec of this.layout.tensors) {
      const t = tensors.get(spec.name)!;
      const [rows, cols] = spec.shape.length === 2 ? spec.shape : [1, spec.shape[0]];
      const { hidden, padded } = this.tensorDims(spec);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = t.data[r * cols + c];
          if (!Number.isFinite(v)) throw new Error(`${source}: tensor "${spec.name}" holds a non-finite value ${v} at [${r}, ${c}]`);
          this.params[spec.offset + storageIndex(spec, hidden, padded, r, c)] = v;
        }
      }
    }
  }

  /** Copies all weights from a model of the same architecture (may live in another arena). */
  copyWeightsFrom(other: LstmModel): void {
    this.assertSameArchitecture(other);
    if (other.memory === this.memory) this.k.copy_bytes(this.paramsPtr, other.paramsPtr, this.params.length * F32);
    else this.params.set(other.params);
  }

  /** Soft target update θ ← (1 − η)θ + η·θ_other; both models must share the arena. */
  softUpdateFrom(other: LstmModel, eta: number): void {
    this.assertSameArchitecture(other);
    if (other.memory !== this.memory) throw new Error('softUpdateFrom: both models must live in the same arena');
    if (!(eta >= 0 && eta <= 1)) throw new RangeError(`softUpdateFrom: eta must be in [0, 1], got ${eta}`);
    this.k.soft_update(this.paramsPtr, other.paramsPtr, this.params.length, eta);
  }

  /** Zeroes Adam's moments and step count. */
  resetOptimizer(): void {
    this.adamStep = 0;
    this.adamM.fill(0);
    this.adamV.fill(0);
  }

  // ---------------------------------------------------------------- state

  /** Zeroes the carried state of rows 0..batch-1. */
  resetState(batch = this.maxBatch): void {
    this.checkBatch(batch);
    for (let l = 0; l < this.layers.length; l++) {
      const P = this.layout.layers[l].padded;
      this.stateViews[l].c.fill(0, 0, batch * P);
      this.stateViews[l].h.fill(0, 0, batch * P);
    }
  }

  /** Zeroes carried-state row b. */
  resetStateRow(b: number): void {
    this.checkRow(b);
    for (let l = 0; l < this.layers.length; l++) {
      const P = this.layout.layers[l].padded;
      this.stateViews[l].c.fill(0, b * P, (b + 1) * P);
      this.stateViews[l].h.fill(0, b * P, (b + 1) * P);
    }
  }

  /** Writes carried-state row b into out[offset ..] (per layer: c then h, unpadded; stateSize floats). */
  getStateRow(b: number, out: Float32Array, offset = 0): void {
    this.checkRow(b);
    let o = offset;
    for (let l = 0; l < this.layers.length; l++) {
      const { hidden: H, padded: P } = this.layout.layers[l];
      const v = this.stateViews[l];
      for (let j = 0; j < H; j++) out[o + j] = v.c[b * P + j];
      for (let j = 0; j < H; j++) out[o + H + j] = v.h[b * P + j];
      o += 2 * H;
    }
  }

  /** Sets carried-state row b from src[offset ..] (layout of getStateRow). */
  setStateRow(b: number, src: ArrayLike<number>, offset = 0): void {
    this.checkRow(b);
    if (src.length - offset < this.stateSize) {
      throw new RangeError(`setStateRow: need ${this.stateSize} floats from offset ${offset}, got ${src.length - offset}`);
    }
    let o = offset;
    for (let l = 0; l < this.layers.length; l++) {
      const { hidden: H, padded: P } = this.layout.layers[l];
      const v = this.stateViews[l];
      for (let j = 0; j < H; j++) v.c[b * P + j] = src[o + j];
      for (let j = 0; j < H; j++) v.h[b * P + j] = src[o + H + j];
      o += 2 * H;
    }
  }

  // ---------------------------------------------------------------- forward

  /**
   * One step for rows 0..batch-1 from the carried state: consumes `tokens`, updates the state, and returns
   * the logits as a view of [batch][outputStride] (valid until the next call on this model).
   */
  step(tokens: ArrayLike<number>, batch = tokens.length): Float32Array {
    this.checkBatch(batch);
    this.writeTokens(tokens, batch, 1, 'step');
    this.copyCarriedState(batch, 0, 'load');
    this.forward(batch, 1);
    this.copyCarriedState(batch, 1, 'store');
    return this.logitsView.subarray(0, batch * this.outputStride);
  }

  /**
   * This model (the same memory, weights and state) with its kernel calls going to `kernels`: e.g. a
   * kernel thread pool's `deferred` recorder, to run a forward pass on a helper thread. Only for calls
   * that change no field of the model object (step, forwardFrom).
   */
  withKernels(kernels: KernelExports): LstmModel {
    const view = Object.create(this) as LstmModel;
    (view as unknown as { k: KernelExports }).k = kernels;
    return view;
  }

  /** The logits of the last forward pass (step, forwardFrom, tdUpdate): a view of [batch][outputStride]. */
  lastLogits(batch: number): Float32Array {
    this.checkBatch(batch);
    return this.logitsView.subarray(0, batch * this.outputStride);
  }

  /** The logits of the last sequence pass (forwardSequence, evaluateSequence, trainSequence): a view of [steps][batch][outputStride]. */
  lastSequenceLogits(batch: number, steps: number): Float32Array {
    this.checkBatch(batch);
    this.checkSteps(steps);
    return this.logitsView.subarray(0, steps * batch * this.outputStride);
  }

  /**
   * One step from given start states (rows of stateSize floats in `states`), leaving the carried state
   * alone: the Target network and Reward RNN in a TD update. Returns logits [batch][outputStride].
   */
  forwardFrom(states: Float32Array, tokens: ArrayLike<number>, batch = tokens.length): Float32Array {
    this.checkBatch(batch);
    this.writeTokens(tokens, batch, 1, 'forwardFrom');
    this.writeStartStates(states, batch);
    this.forward(batch, 1);
    return this.logitsView.subarray(0, batch * this.outputStride);
  }

  /**
   * Forward over `steps` steps; inputs are [steps][batch] input ids (time-major; a one-hot model's token
   * classes). From the zero state, or with start 'carried' from the carried state, which then receives the
   * final state (truncated BPTT over consecutive windows). With `dropout` (a model planned for it), masks
   * are drawn and applied, and the next backward pass mirrors them. Returns logits [steps*batch][outputStride].
   */
  forwardSequence(inputs: ArrayLike<number>, batch: number, steps: number, start: StartState = 'zero', dropout?: DropoutSettings): Float32Array {
    this.checkBatch(batch);
    this.checkSteps(steps);
    this.writeTokens(inputs, batch, steps, 'forwardSequence');
    if (dropout) this.drawDropoutMasks(dropout, batch, steps);
    if (start === 'carried') this.copyCarriedState(batch, 0, 'load');
    else this.zeroStartStates(batch);
    this.forward(batch, steps);
    if (start === 'carried') this.copyCarriedState(batch, steps, 'store');
    return this.logitsView.subarray(0, steps * batch * this.outputStride);
  }

  /**
   * Loss and accuracy of next-step prediction without updating: inputs and labels are [steps][batch];
   * weights (same shape) mask rows (0 = ignore). Returns sums (divide by the weight); `events` and
   * `correctOnEvents` count only rows whose label is not `excludedLabel` (the melody trainer passes
   * NO_EVENT; the default -1 excludes nothing).
   */
  evaluateSequence(
    inputs: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number>, batch: number, steps: number,
    start: StartState = 'zero', excludedLabel = -1,
  ): SequenceStats & { correct: number; correctOnEvents: number; events: number } {
    this.forwardSequence(inputs, batch, steps, start);
    this.writeLabels(labels, weights, batch * steps);
    const M = batch * steps;
    this.k.softmax_xent_forward(this.logpPtr, this.argmaxPtr, this.logits.ptr, this.outputStride, this.labelsPtr, M, this.config.outputSize);
    let loss = 0, weight = 0, correct = 0, correctOnEvents = 0, events = 0;
    for (let m = 0; m < M; m++) {
      const w = this.weightsView[m];
      if (w === 0) continue;
      loss -= w * this.logpView[m];
      weight += w;
      const hit = this.argmaxView[m] === this.labelsView[m] ? w : 0;
      correct += hit;
      if (this.labelsView[m] !== excludedLabel) {
        events += w;
        correctOnEvents += hit;
      }
    }
    return { loss, weight, correct, correctOnEvents, events };
  }

  // ---------------------------------------------------------------- training

  /**
   * One BPTT step on a window: forward from the zero (or carried) state (under `dropout` when given), softmax
   * cross-entropy averaged over the weighted rows, backward through time, clipping, Adam. Returns the mean
   * loss (nats per weighted row).
   */
  trainSequence(
    inputs: ArrayLike<number>, labels: ArrayLike<number>, weights: ArrayLike<number>, batch: number, steps: number,
    adam: AdamSettings = DEFAULT_ADAM, clip: ClipSettings = { mode: 'global', maxNorm: 5 }, start: StartState = 'zero',
    dropout?: DropoutSettings,
  ): number {
    this.checkTrainable('trainSequence');
    this.forwardSequence(inputs, batch, steps, start, dropout);
    const M = batch * steps;
    this.writeLabels(labels, weights, M);
    let total = 0;
    for (let m = 0; m < M; m++) total += this.weightsView[m];
    if (!(total > 0)) throw new RangeError('trainSequence: all weights are zero; nothing to learn from');
    const C = this.config.outputSize;
    this.k.softmax_xent_forward(this.logpPtr, this.argmaxPtr, this.logits.ptr, this.outputStride, this.labelsPtr, M, C);
    let loss = 0;
    for (let m = 0; m < M; m++) {
      loss -= this.weightsView[m] * this.logpView[m];
      this.weightsView[m] /= total;
    }
    this.k.softmax_xent_backward_set(this.dlogits.ptr, this.logits.ptr, this.outputStride, this.labelsPtr, this.weightsPtr, M, C);
    this.k.zero_bytes(this.gradsPtr, this.params.length * F32);
    this.backward(batch, steps);
    this.adamUpdate(adam, clip);
    return loss / total;
  }

  /**
   * log softmax(logits)[label] for every row of the last forwardSequence over `steps` × `batch` rows (labels
   * [steps][batch], time-major like the inputs; a negative label masks its row, which gets 0), as a view valid
   * until the next call. The labels are kept for policyGradientStep.
   */
  labelLogProbs(labels: ArrayLike<number>, batch: number, steps: number): Float32Array {
    this.checkBatch(batch);
    this.checkSteps(steps);
    const M = batch * steps;
    if (labels.length < M) throw new RangeError(`labelLogProbs: expected ${M} labels, got ${labels.length}`);
    const O = this.config.outputSize;
    for (let m = 0; m < M; m++) {
      const y = labels[m];
      if (!Number.isInteger(y) || y >= O) throw new RangeError(`labelLogProbs: label ${y} at row ${m} is not a class in 0..${O - 1} (or negative to mask the row)`);
      this.labelsView[m] = y < 0 ? -1 : y;
    }
    this.k.softmax_xent_forward(this.logpPtr, this.argmaxPtr, this.logits.ptr, this.outputStride, this.labelsPtr, M, O);
    return this.logpView.subarray(0, M);
  }

  /**
   * A policy-gradient step through the last forwardSequence and labelLogProbs: the loss Σ_m c_m · (−log π(label_m))
   * with the given per-row coefficients c (any sign; masked rows ignored), i.e. ∂loss/∂logits_m = c_m ·
   * (softmax_m − onehot(label_m)); then backward through time, clipping and Adam. A score-function loss
   * −A·log π and a KL term whose gradient is k·(softmax − onehot) both take this form (src/rl/pg.ts).
   */
  policyGradientStep(
    coefficients: ArrayLike<number>, batch: number, steps: number, adam: AdamSettings = DEFAULT_ADAM,
    clip: ClipSettings = { mode: 'perTensor', maxNorm: 5 },
  ): void {
    this.checkTrainable('policyGradientStep');
    this.checkBatch(batch);
    this.checkSteps(steps);
    const M = batch * steps;
    if (coefficients.length < M) throw new RangeError(`policyGradientStep: expected ${M} coefficients, got ${coefficients.length}`);
    for (let m = 0; m < M; m++) {
      const c = coefficients[m];
      if (!Number.isFinite(c)) throw new RangeError(`policyGradientStep: coefficient ${c} at row ${m} is not finite`);
      this.weightsView[m] = this.labelsView[m] < 0 ? 0 : c;
    }
    this.k.softmax_xent_backward_set(this.dlogits.ptr, this.logits.ptr, this.outputStride, this.labelsPtr, this.weightsPtr, M, this.config.outputSize);
    this.k.zero_bytes(this.gradsPtr, this.params.length * F32);
    this.backward(batch, steps);
    this.adamUpdate(adam, clip);
  }

  /**
   * Backward through the last forwardSequence from a gradient given for its outputs, for a loss computed in
   * TypeScript on them (a reward model's Bradley–Terry loss, src/prefs/bradley_terry.ts): dOutputs[m·O + j] =
   * ∂loss/∂output_j of row m, rows [steps][batch] time-major like the inputs, O = outputSize (unpadded). The
   * gradient block is overwritten with ∂loss/∂θ; clip and step with adamUpdate.
   */
  backwardFromOutputGradient(dOutputs: ArrayLike<number>, batch: number, steps: number): void {
    this.checkTrainable('backwardFromOutputGradient');
    this.checkBatch(batch);
    this.checkSteps(steps);
    const M = batch * steps, O = this.config.outputSize, Q = this.outputStride;
    if (dOutputs.length < M * O) throw new RangeError(`backwardFromOutputGradient: expected ${M * O} values (${steps} steps x batch ${batch} x ${O} outputs), got ${dOutputs.length}`);
    const d = this.dlogitsView;
    for (let m = 0; m < M; m++) {
      for (let j = 0; j < O; j++) {
        const v = dOutputs[m * O + j];
        if (!Number.isFinite(v)) throw new RangeError(`backwardFromOutputGradient: value ${v} at row ${m}, output ${j} is not finite`);
        d[m * Q + j] = v;
      }
      d.fill(0, m * Q + O, (m + 1) * Q);
    }
    this.k.zero_bytes(this.gradsPtr, this.params.length * F32);
    this.backward(batch, steps);
  }

  /**
   * The DQN update (SPEC §4.3): from start states (rows of stateSize floats), consume `tokens`, read the
   * value of `actions`, loss = mean (Q(s, a) − y)², backward through this one step (the start state is a
   * constant), clip, Adam. Returns the loss before the update.
   */
  tdUpdate(
    states: Float32Array, tokens: ArrayLike<number>, actions: ArrayLike<number>, targets: ArrayLike<number>, batch: number,
    adam: AdamSettings = DEFAULT_ADAM, clip: ClipSettings = { mode: 'perTensor', maxNorm: 5 },
  ): number {
    this.checkTrainable('tdUpdate');
    this.forwardFrom(states, tokens, batch);
    return this.tdBackward(actions, targets, batch, adam, clip);
  }

  /**
   * The rest of tdUpdate after its forward pass (`forwardFrom` on the same rows, just before): the loss,
   * the backward pass, clipping and Adam. Returns the loss before the update.
   */
  tdBackward(
    actions: ArrayLike<number>, targets: ArrayLike<number>, batch: number,
    adam: AdamSettings = DEFAULT_ADAM, clip: ClipSettings = { mode: 'perTensor', maxNorm: 5 },
    /** A network trailing this one (the Target network): softly updated towards the new weights in Adam's pass. */
    trailing?: TrailingNetwork,
  ): number {
    const loss = this.squaredErrorOnActions(actions, targets, batch);
    this.backwardOneStep(batch);
    this.adamUpdate(adam, clip, trailing);
    return loss;
  }

  /**
   * The squared error of the last one-step forward pass (`forwardFrom`, `step`) on one output per row:
   * loss = mean_b (logits[b][a_b] − y_b)², returned, and its gradient ∂loss/∂logits (2 (logits[b][a_b] − y_b) / B
   * at the chosen output, 0 elsewhere) set for `backwardOneStep`.
   */
  squaredErrorOnActions(actions: ArrayLike<number>, targets: ArrayLike<number>, batch: number): number {
    this.checkTrainable('squaredErrorOnActions');
    this.checkBatch(batch);
    const O = this.config.outputSize;
    for (let b = 0; b < batch; b++) {
      const a = actions[b];
      if (!Number.isInteger(a) || a < 0 || a >= O) throw new RangeError(`tdUpdate: actions[${b}] = ${a} is not a class in 0..${O - 1}`);
      const y = targets[b];
      if (!Number.isFinite(y)) throw new RangeError(`tdUpdate: targets[${b}] = ${y} is not finite`);
      this.actionsView[b] = a;
      this.targetsView[b] = y;
    }
    return this.k.td_squared_error_backward_set(this.dlogits.ptr, this.logits.ptr, this.outputStride, this.actionsPtr, this.targetsPtr, batch) / batch;
  }

  /**
   * The gradient of the loss set last (squaredErrorOnActions) with respect to every parameter, through the
   * one step of the last forward pass from its start states (a constant: no BPTT), into the gradient block.
   */
  backwardOneStep(batch: number): void {
    this.checkTrainable('backwardOneStep');
    this.checkBatch(batch);
    this.k.zero_bytes(this.gradsPtr, this.params.length * F32);
    this.backward(batch, 1);
  }

  /** True when every parameter is finite (one kernel pass; NaN or ±Inf make the sum of squares non-finite). */
  parametersFinite(): boolean {
    return Number.isFinite(this.k.sum_squares(this.paramsPtr, this.params.length));
  }

  /** L2 norm of each tensor's gradient, by name. */
  gradientNorms(): Map<string, number> {
    const out = new Map<string, number>();
    for (const spec of this.layout.tensors) {
      out.set(spec.name, Math.sqrt(this.k.sum_squares(this.gradsPtr + spec.offset * F32, spec.size)));
    }
    return out;
  }

  /** Clips the gradient block in place: per tensor, or by the global norm. Kernels sum; this decides. */
  clipGradients(clip: ClipSettings): void {
    const scales = this.clipScales(clip);
    this.layout.tensors.forEach((spec, i) => {
      if (scales[i] !== 1) this.k.scale_array(this.gradsPtr + spec.offset * F32, spec.size, scales[i]);
    });
  }

  /**
   * The factor each tensor's gradient is clipped by (1: left alone): maxNorm / norm where the norm, the
   * tensor's own (perTensor) or the whole block's (global), exceeds maxNorm.
   */
  private clipScales(clip: ClipSettings): number[] {
    const scales = this.layout.tensors.map(() => 1);
    if (clip.mode === 'none') return scales;
    if (!(clip.maxNorm > 0)) throw new RangeError(`clip.maxNorm must be positive, got ${clip.maxNorm}`);
    if (clip.mode === 'global') {
      const norm = Math.sqrt(this.k.sum_squares(this.gradsPtr, this.params.length));
      return norm > clip.maxNorm ? scales.fill(clip.maxNorm / norm) : scales;
    }
    this.layout.tensors.forEach((spec, i) => {
      const norm = Math.sqrt(this.k.sum_squares(this.gradsPtr + spec.offset * F32, spec.size));
      if (norm > clip.maxNorm) scales[i] = clip.maxNorm / norm;
    });
    return scales;
  }

  /**
   * One Adam step over the whole parameter block with the current gradients, clipped first when `clip`
   * says so (the gradient block then holds the clipped gradients, as after clipGradients), and the soft
   * update of a `trailing` network towards the new weights after it: one pass over the block, with the
   * bits of clipGradients, Adam and softUpdateFrom run one after another.
   */
  adamUpdate(adam: AdamSettings, clip: ClipSettings = { mode: 'none', maxNorm: 0 }, trailing?: TrailingNetwork): void {
    this.checkTrainable('adamUpdate');
    if (trailing) this.checkTrailing(trailing);
    const scales = this.clipScales(clip);
    const decay = adam.weightDecay ?? 0;
    if (decay !== 0) this.decayWeights(adam.learningRate * decay);
    this.adamStep++;
    const t = this.adamStep;
    const stepSize = adam.learningRate / (1 - Math.pow(adam.beta1, t));
    const vScale = 1 / Math.sqrt(1 - Math.pow(adam.beta2, t));
    const target = trailing ? trailing.model.paramsPtr : 0;
    const eta = trailing ? trailing.eta : 0;
    // Runs of tensors clipped alike go in one call (the whole block when nothing is clipped).
    const tensors = this.layout.tensors;
    for (let i = 0; i < tensors.length;) {
      let j = i + 1;
      while (j < tensors.length && scales[j] === scales[i]) j++;
      const at = tensors[i].offset * F32;
      const size = tensors[j - 1].offset + tensors[j - 1].size - tensors[i].offset;
      this.k.adam_update(this.paramsPtr + at, this.gradsPtr + at, this.adamMPtr + at, this.adamVPtr + at, size,
        stepSize, adam.beta1, adam.beta2, adam.epsilon, vScale, scales[i], target ? target + at : 0, eta);
      i = j;
    }
  }

  /** Decoupled weight decay: every weight matrix (not the biases) scaled by 1 − `amount` (one f32 multiply each). */
  private decayWeights(amount: number): void {
    if (!(amount >= 0 && amount < 1)) throw new RangeError(`adamUpdate: learningRate · weightDecay must be in [0, 1), got ${amount}`);
    for (const spec of this.layout.tensors) {
      if (spec.layout !== 'vector') this.k.scale_array(this.paramsPtr + spec.offset * F32, spec.size, 1 - amount);
    }
  }

  private checkTrailing(trailing: TrailingNetwork): void {
    trailing.model.assertSameArchitecture(this);
    if (trailing.model.memory !== this.memory) throw new Error('adamUpdate: the trailing network must live in the same arena');
    if (!(trailing.eta >= 0 && trailing.eta <= 1)) throw new RangeError(`adamUpdate: the trailing network's eta must be in [0, 1], got ${trailing.eta}`);
  }

  /** Gradient of one tensor as a logical (unpadded) array, for tests. */
  exportGradient(name: string): Float32Array {
    const spec = this.layout.tensors.find((t) => t.name === name);
    if (!spec) throw new Error(`no tensor named ${name}`);
    const [rows, cols] = spec.shape.length === 2 ? spec.shape : [1, spec.shape[0]];
    const { hidden, padded } = this.tensorDims(spec);
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c] = this.grads[spec.offset + storageIndex(spec, hidden, padded, r, c)];
    }
    return out;
  }

  // ---------------------------------------------------------------- layers: forward and backward pairs

  /**
   * The stack forward over T steps: the LSTM layers bottom up, then the output layer. Under output dropout
   * each layer's output is masked (hOut = h · mask) before the layer above reads it.
   */
  private forward(B: number, T: number): void {
    for (let l = 0; l < this.layers.length; l++) {
      this.lstmForward(l, B, T);
      if (this.dropping.output) this.dropoutForward(l, B, T);
    }
    this.outputForward(B, T);
  }

  /**
   * The stack backward over T steps, top down; dlogits must be filled and grads zeroed. Under output dropout
   * the gradient arriving at a layer's output is masked (the mirror of dropoutForward) before the layer's
   * own backward adds the recurrent part, which dropout does not touch.
   */
  private backward(B: number, T: number): void {
    this.outputBackward(B, T);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      if (this.dropping.output) this.dropoutBackward(l, B, T);
      this.lstmBackward(l, B, T);
    }
  }

  /** Output dropout of layer l forward. In: h (slots 1..T), outMask [T][B][P]. Out: hOut [T][B][P] = h · mask. */
  private dropoutForward(l: number, B: number, T: number): void {
    const L = this.layers[l];
    this.k.multiply_set(L.hOut.at(0, B), L.h.at(1, B), L.outMask.at(0, B), T * B * this.layout.layers[l].padded);
  }

  /** Output dropout of layer l backward. In: dh [T][B][P] w.r.t. hOut (set by the layer above). Out: dh · mask, in place. */
  private dropoutBackward(l: number, B: number, T: number): void {
    const L = this.layers[l];
    this.k.multiply_set(L.dh.at(0, B), L.dh.at(0, B), L.outMask.at(0, B), T * B * this.layout.layers[l].padded);
  }

  /** Byte address of step t's [B][P] output block of layer l as the layer above reads it: h (slot t + 1), or hOut under dropout. */
  private layerOutput(l: number, t: number, B: number): number {
    const L = this.layers[l];
    return this.dropping.output ? L.hOut.at(t, B) : L.h.at(t + 1, B);
  }

  /**
   * Layer 0's input rows when they are weighted (a sparse input, or input dropout): the entry indices (a
   * one-hot input's tokens) and values (under input dropout, times the mask) of [T][B][K].
   */
  private weightedInput(): { indices: number; values: number } | null {
    if (this.config.input) return { indices: this.entryIndicesPtr, values: this.entryValuesPtr };
    if (this.dropping.input) return { indices: this.tokens.ptr, values: this.inputMaskPtr };
    return null;
  }

  /**
   * LSTM layer l forward over T steps.
   * In: the input x (layer 0: tokens [T][B], or the weighted entries [T][B][K]; above: the output of the
   * layer below, [T][B][X]) and the start state c, h (slot 0). Out: c, h (slots 1..T). Saved for backward:
   * act (i, f, g, o), tanhC.
   */
  private lstmForward(l: number, B: number, T: number): void {
    const k = this.k;
    const { padded: P, gates: G, inputStride: X } = this.layout.layers[l];
    const L = this.layers[l];
    const W = this.lstmParams[l];
    // The input part of every step's pre-activations at once: act[t] = b + x[t] . W_x.
    const weighted = l === 0 ? this.weightedInput() : null;
    if (weighted) k.gather_weighted_rows_bias_set(L.act.at(0, B), G, W.b, W.wx, G, weighted.indices, weighted.values, this.K, T * B, G);
    else if (l === 0) k.gather_bias_rows(L.act.at(0, B), G, W.b, W.wx, G, this.tokens.at(0, B), T * B, G);
    else k.gemm_packed_bias_set(L.act.at(0, B), G, this.layerOutput(l - 1, 0, B), X, W.wx, W.b, T * B, X, G);
    for (let t = 0; t < T; t++) {
      const act = L.act.at(t, B); // [B][G]
      const cPrev = L.c.at(t, B); // [B][P]
      const hPrev = L.h.at(t, B); // [B][P]
      const c = L.c.at(t + 1, B); // [B][P]
      const h = L.h.at(t + 1, B); // [B][P]
      const tanhC = L.tanhC.at(t, B); // [B][P]
      k.gemm_packed_accumulate(act, G, hPrev, P, W.wh, B, P, G); // act += hPrev . W_h
      k.lstm_cell_forward(act, c, tanhC, h, act, cPrev, B, P);
    }
  }

  /**
   * LSTM layer l backward over T steps, the mirror of lstmForward.
   * In: dh [T][B][P] (from the layer above or the output layer), the saved act, c, tanhC, h and the input.
   * Out: dW_x, dW_h, db (accumulated); above layer 0, the dh of the layer below (set).
   */
  private lstmBackward(l: number, B: number, T: number): void {
    const k = this.k;
    const { padded: P, gates: G, inputStride: X } = this.layout.layers[l];
    const L = this.layers[l];
    const W = this.lstmParams[l];
    const dW = this.lstmGrads[l];
    const below = l > 0 ? this.layers[l - 1] : null;
    const weighted = l === 0 ? this.weightedInput() : null;
    const K = this.K;
    const dc = L.dc; // [B][P] in: dc of step t; out: dc of step t-1
    const dpre = L.dpre; // [B][G], rows D apart
    const D = L.dpreStride;
    k.zero_bytes(dc, B * P * F32); // nothing flows into c after the last step
    if (T > 1) k.pack_transpose(L.whT, W.wh, P, G);
    if (below) k.pack_transpose(L.wxT, W.wx, X, G);
    for (let t = T - 1; t >= 0; t--) {
      const dh = L.dh.at(t, B); // [B][P]
      const act = L.act.at(t, B); // [B][G]
      const cPrev = L.c.at(t, B); // [B][P]
      const hPrev = L.h.at(t, B); // [B][P]
      const tanhC = L.tanhC.at(t, B); // [B][P]
      k.lstm_cell_backward_set(dpre, dc, dh, dc, act, cPrev, tanhC, B, P, D);
      k.outer_accumulate(dW.wh, hPrev, P, dpre, D, B, P, G); // dW_h += hPrev^T . dpre
      k.colsum_accumulate(dW.b, dpre, D, B, G); // db += sum over rows of dpre
      if (below) {
        const x = this.layerOutput(l - 1, t, B); // [B][X]
        const dx = below.dh.at(t, B); // [B][X]
        k.outer_accumulate(dW.wx, x, X, dpre, D, B, X, G); // dW_x += x^T . dpre
        k.gemm_packed_set(dx, X, dpre, D, L.wxT, B, G, X); // dx = dpre . W_x^T (its first contribution)
      } else if (weighted) {
        const at = t * B * K * 4; // bytes to step t's [B][K] entries
        k.scatter_weighted_rows_accumulate(dW.wx, G, weighted.indices + at, weighted.values + at, K, dpre, D, B, G); // dW_x[row] += value · dpre
      } else {
        k.scatter_rows_accumulate(dW.wx, G, this.tokens.at(t, B), dpre, D, B, G); // dW_x[token] += dpre
      }
      if (t > 0) k.gemm_packed_accumulate(L.dh.at(t - 1, B), P, dpre, D, L.whT, B, G, P); // dhPrev += dpre . W_h^T
    }
  }

  /** Output layer forward. In: the top layer's output (h, slots 1..T; hOut under dropout). Out: logits [T][B][Q] = b + h . W. */
  private outputForward(B: number, T: number): void {
    const P = this.layout.layers[this.layers.length - 1].padded;
    const Q = this.outputStride;
    const W = this.outputParams;
    this.k.gemm_packed_bias_set(this.logits.at(0, B), Q, this.layerOutput(this.layers.length - 1, 0, B), P, W.w, W.b, T * B, P, Q);
  }

  /**
   * Output layer backward. In: dlogits [T][B][Q], the saved output of the top layer.
   * Out: dW, db (accumulated); the top layer's dh [T][B][P] (set; w.r.t. its output).
   */
  private outputBackward(B: number, T: number): void {
    const k = this.k;
    const top = this.layers[this.layers.length - 1];
    const P = this.layout.layers[this.layers.length - 1].padded;
    const Q = this.outputStride;
    const W = this.outputParams;
    const dW = this.outputGrads;
    for (let t = 0; t < T; t++) {
      const h = this.layerOutput(this.layers.length - 1, t, B); // [B][P]
      const dlogits = this.dlogits.at(t, B); // [B][Q]
      k.outer_accumulate(dW.w, h, P, dlogits, Q, B, P, Q); // dW += h^T . dlogits
    }
    k.colsum_accumulate(dW.b, this.dlogits.at(0, B), Q, T * B, Q);
    k.pack_transpose(this.outTPtr, W.w, P, Q);
    k.gemm_packed_set(top.dh.at(0, B), P, this.dlogits.at(0, B), Q, this.outTPtr, T * B, Q, P); // dh = dlogits . W^T
  }

  // ---------------------------------------------------------------- internals

  private tensorDims(spec: TensorSpec): { hidden: number; padded: number } {
    const m = /^lstm\.(\d+)\./.exec(spec.name);
    const d = m ? this.layout.layers[Number(m[1])] : this.layout.layers[this.layout.layers.length - 1];
    return { hidden: d.hidden, padded: d.padded };
  }

  /**
   * Writes the input ids of `steps` × `batch` rows (a sparse input's expanded into its entries) and turns
   * dropout off: only forwardSequence with dropout turns it on again, after this.
   */
  private writeTokens(tokens: ArrayLike<number>, batch: number, steps: number, what: string): void {
    const n = batch * steps;
    if (tokens.length < n) throw new RangeError(`${what}: expected ${n} tokens (${steps} steps x batch ${batch}), got ${tokens.length}`);
    this.dropping = NO_DROPOUT;
    const input = this.config.input;
    const ids = input ? input.ids : this.config.inputSize;
    const view = this.tokensView;
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      if (!(t >= 0 && t < ids) || !Number.isInteger(t)) {
        throw new RangeError(`${what}: ${input ? `input id` : 'token'} ${t} at position ${i} is out of range 0..${ids - 1}`);
      }
      view[i] = t;
    }
    if (!input) return;
    const K = this.K, I = this.config.inputSize;
    const indices = this.entryIndicesView, values = this.entryValuesView;
    for (let i = 0; i < n; i++) input.expand(view[i], indices, values, i * K);
    for (let j = 0; j < n * K; j++) {
      if (!(indices[j] >= 0 && indices[j] < I)) throw new RangeError(`${what}: input "${input.name}" expanded id ${view[Math.floor(j / K)]} into row ${indices[j]}, outside 0..${I - 1} (internal error)`);
    }
  }

  /**
   * Draws the dropout masks of one forward pass from `dropout.source` (the input mask [T][B][K], then each
   * layer's output mask [T][B][P], padded units 0) and turns dropout on for it and the next backward pass.
   * A kept element's mask is 1 / (1 − rate), a dropped one's 0; a rate of 0 draws nothing and drops nothing.
   */
  private drawDropoutMasks(dropout: DropoutSettings, batch: number, steps: number): void {
    const { input, output, source } = dropout;
    for (const [name, rate] of [['input', input], ['output', output]] as const) {
      if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout: the ${name} rate must be in [0, 1), got ${rate}`);
    }
    if ((input > 0 || output > 0) && !this.dropoutPlanned) {
      throw new Error('dropout: this model was planned without dropout masks (plan.dropout: true)');
    }
    // An element is kept when a uniform u32 falls below (1 − rate) · 2^32; its mask is then 1 / (1 − rate).
    const threshold = (rate: number) => Math.floor((1 - rate) * 4294967296);
    const n = batch * steps;
    if (input > 0) {
      const mask = this.inputMaskView, below = threshold(input), kept = 1 / (1 - input);
      for (let j = 0; j < n * this.K; j++) mask[j] = source.nextU32() < below ? kept : 0;
      if (this.config.input) this.k.multiply_set(this.entryValuesPtr, this.entryValuesPtr, this.inputMaskPtr, n * this.K);
    }
    if (output > 0) {
      const below = threshold(output), kept = 1 / (1 - output);
      this.layout.layers.forEach(({ hidden: H, padded: P }, l) => {
        const mask = this.outMaskViews[l];
        for (let r = 0; r < n; r++) {
          const row = r * P;
          for (let u = 0; u < H; u++) mask[row + u] = source.nextU32() < below ? kept : 0;
          for (let u = H; u < P; u++) mask[row + u] = 0;
        }
      });
    }
    this.dropping = { input: input > 0, output: output > 0 };
  }

  /**
   * The masks of the last forward pass with dropout, for tests: the input mask [T][B][K] and each layer's
   * output mask [T][B][P] of `batch` × `steps` rows (views, valid until the next call).
   */
  dropoutMasks(batch: number, steps: number): { input: Float32Array; outputs: Float32Array[] } {
    const n = batch * steps;
    return {
      input: this.inputMaskView.subarray(0, n * this.K),
      outputs: this.outMaskViews.map((v, l) => v.subarray(0, n * this.layout.layers[l].padded)),
    };
  }

  private writeLabels(labels: ArrayLike<number>, weights: ArrayLike<number>, n: number): void {
    if (labels.length < n || weights.length < n) {
      throw new RangeError(`expected ${n} labels and weights, got ${labels.length} and ${weights.length}`);
    }
    const O = this.config.outputSize;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${w} at position ${i} must be finite and >= 0`);
      const y = labels[i];
      if (w > 0 && (!Number.isInteger(y) || y < 0 || y >= O)) {
        throw new RangeError(`label ${y} at position ${i} is out of range 0..${O - 1}`);
      }
      this.labelsView[i] = w > 0 ? y : -1;
      this.weightsView[i] = w;
    }
  }

  private writeStartStates(states: Float32Array, batch: number): void {
    const S = this.stateSize;
    if (states.length < batch * S) {
      throw new RangeError(`start states: need ${batch} rows of ${S} floats, got ${states.length} floats`);
    }
    for (let l = 0, o = 0; l < this.layers.length; l++) {
      const { hidden: H, padded: P } = this.layout.layers[l];
      const v = this.stateViews[l];
      for (let b = 0; b < batch; b++) {
        const src = b * S + o;
        v.c0.set(states.subarray(src, src + H), b * P);
        v.h0.set(states.subarray(src + H, src + 2 * H), b * P);
      }
      o += 2 * H;
    }
  }

  /** Carried state rows 0..batch-1 to trace slot 0 ('load'), or trace slot `slot` to the carried state. */
  private copyCarriedState(batch: number, slot: number, direction: 'load' | 'store'): void {
    for (let l = 0; l < this.layers.length; l++) {
      const bytes = batch * this.layout.layers[l].padded * F32;
      const L = this.layers[l];
      if (direction === 'load') {
        this.k.copy_bytes(L.c.at(0, batch), L.cCarried, bytes);
        this.k.copy_bytes(L.h.at(0, batch), L.hCarried, bytes);
      } else {
        this.k.copy_bytes(L.cCarried, L.c.at(slot, batch), bytes);
        this.k.copy_bytes(L.hCarried, L.h.at(slot, batch), bytes);
      }
    }
  }

  private zeroStartStates(batch: number): void {
    for (let l = 0; l < this.layers.length; l++) {
      const P = this.layout.layers[l].padded;
      this.k.zero_bytes(this.layers[l].c.at(0, batch), batch * P * F32);
      this.k.zero_bytes(this.layers[l].h.at(0, batch), batch * P * F32);
    }
  }

  private checkBatch(batch: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > this.maxBatch) {
      throw new RangeError(`batch ${batch} is outside 1..${this.maxBatch} (the model was planned for at most ${this.maxBatch} rows)`);
    }
  }

  private checkSteps(steps: number): void {
    if (!Number.isInteger(steps) || steps < 1 || steps > this.maxSteps) {
      throw new RangeError(`steps ${steps} is outside 1..${this.maxSteps} (the model was planned for windows of at most ${this.maxSteps})`);
    }
  }

  private checkRow(b: number): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.maxBatch) throw new RangeError(`state row ${b} is outside 0..${this.maxBatch - 1}`);
  }

  private checkTrainable(what: string): void {
    if (!this.trainable) throw new Error(`${what}: this model was planned without gradients (trainable: false)`);
  }

  /** Throws unless `other` has this model's input, hidden and output sizes. */
  assertSameArchitecture(other: LstmModel): void {
    const a = this.config, b = other.config;
    if (a.inputSize !== b.inputSize || a.outputSize !== b.outputSize || a.hiddenSizes.join() !== b.hiddenSizes.join() || a.input?.name !== b.input?.name) {
      const describe = (c: LstmStackConfig) => `[${c.hiddenSizes}] (${c.input ? `${c.input.name} input` : 'one-hot input'} of ${c.inputSize}, ${c.outputSize} out)`;
      throw new Error(`models differ in architecture: ${describe(a)} vs ${describe(b)}`);
    }
  }
}
