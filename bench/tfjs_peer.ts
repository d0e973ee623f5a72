/**
 * The TensorFlow.js peer: the same one-layer LSTM on the wasm backend (SIMD on, one thread; threads do not
 * work in Node). Dev-only: never imported from src/.
 *
 * Same math as the kernels: gates i, f, g, o from pre = x·W_x + h·W_h + b; c' = f·c + i·g; h' = o·tanh(c');
 * logits = h'·W_o + b_o. The batch-1 step looks the input up with tf.gather (a row of W_x). The training
 * workloads multiply by a one-hot instead, because gather's gradient needs UnsortedSegmentSum, which the
 * wasm backend does not implement (tfjs 4.22). For BPTT the input contribution of all T steps is one
 * matMul and the output layer one matMul over all T·B rows (the same batching rltuner uses).
 * No gradient clipping here (rltuner and the reference clip), so TF.js does slightly less work.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  I, O, SEQ_BATCH, SEQ_STEPS, TD_BATCH, type LogicalTensor, type WorkloadCases, type WorkloadData,
} from './workloads.js';

export interface TfjsInfo {
  version: string;
  backend: string;
  simd: boolean;
  threads: boolean;
}

/** Selects the wasm backend, loading its .wasm files from node_modules as file paths. */
export async function initTfjsWasm(): Promise<TfjsInfo> {
  const require = createRequire(import.meta.url);
  const simdWasm = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  setWasmPaths(dirname(simdWasm) + '/');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'wasm') throw new Error(`TF.js: could not select the wasm backend (got ${tf.getBackend()})`);
  return {
    version: tf.version.tfjs,
    backend: tf.getBackend(),
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
  };
}

export const tfTensorCount = (): number => tf.memory().numTensors;

/** variableGrads returns a map by variable name; the optimizer takes a list of named gradients. */
type NamedGradients = { name: string; tensor: tf.Tensor }[];
const asList = (grads: tf.NamedTensorMap): NamedGradients => Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));

interface State {
  c: tf.Tensor2D;
  h: tf.Tensor2D;
}

/** One LSTM layer and its output layer as TF.js variables. */
export class TfLstm {
  readonly H: number;
  readonly wx: tf.Variable<tf.Rank.R2>; // [I][4H]
  readonly wh: tf.Variable<tf.Rank.R2>; // [H][4H]
  readonly b: tf.Variable<tf.Rank.R1>; // [4H]
  readonly wo: tf.Variable<tf.Rank.R2>; // [H][O]
  readonly bo: tf.Variable<tf.Rank.R1>; // [O]

  constructor(H: number, tensors: LogicalTensor[]) {
    this.H = H;
    const get = (name: string) => {
      const t = tensors.find((x) => x.name === name);
      if (!t) throw new Error(`TF.js peer: missing tensor ${name}`);
      return t;
    };
    const v2 = (name: string) => { const t = get(name); return tf.variable(tf.tensor2d(t.data, [t.shape[0], t.shape[1]])); };
    const v1 = (name: string) => tf.variable(tf.tensor1d(get(name).data));
    this.wx = v2('lstm.0.w_x');
    this.wh = v2('lstm.0.w_h');
    this.b = v1('lstm.0.b');
    this.wo = v2('output.w');
    this.bo = v1('output.b');
  }

  get variables(): tf.Variable[] {
    return [this.wx, this.wh, this.b, this.wo, this.bo];
  }

  /** One cell step; `xw` [B][4H] is the input's contribution x·W_x. */
  cell(xw: tf.Tensor2D, s: State): State {
    const pre = tf.add(tf.add(xw, tf.matMul(s.h, this.wh)), this.b) as tf.Tensor2D;
    const [pi, pf, pg, po] = tf.split(pre, 4, 1);
    const i = tf.sigmoid(pi), f = tf.sigmoid(pf), g = tf.tanh(pg), o = tf.sigmoid(po);
    const c = tf.add(tf.mul(f, s.c), tf.mul(i, g)) as tf.Tensor2D;
    const h = tf.mul(o, tf.tanh(c)) as tf.Tensor2D;
    return { c, h };
  }

  logits(h: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(h, this.wo), this.bo);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Logits of one batch-1 step from the zero state (for the cross-check between implementations). */
export function tfjsFirstLogits(m: TfLstm, token: number): Float32Array {
  return tf.tidy(() => {
    const zero = tf.zeros([1, m.H]) as tf.Tensor2D;
    const xw = tf.gather(m.wx, tf.tensor1d([token], 'int32')) as tf.Tensor2D;
    return m.logits(m.cell(xw, { c: zero, h: zero }).h).dataSync() as Float32Array;
  });
}

export function tfjsCases(m: TfLstm, d: WorkloadData): { cases: WorkloadCases; dispose: () => void } {
  const H = m.H;
  const vars = m.variables;
  const tdOptimizer = tf.train.adam(0.001);
  const seqOptimizer = tf.train.adam(0.001);
  const adamOptimizer = tf.train.adam(0.001);
  const fixedGrads: NamedGradients = vars.map((v) => ({
    name: v.name, tensor: tf.tidy(() => tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 1), 1e-3)),
  }));

  // Batch-1 step: the carried state lives in tensors, the logits are read back (a caller picks a note).
  let state: State = { c: tf.zeros([1, H]), h: tf.zeros([1, H]) };
  const step = () => {
    const next = tf.tidy(() => {
      const xw = tf.gather(m.wx, tf.tensor1d([d.stepToken], 'int32')) as tf.Tensor2D;
      const s = m.cell(xw, state);
      return { ...s, logits: m.logits(s.h) };
    });
    next.logits.dataSync();
    next.logits.dispose();
    state.c.dispose();
    state.h.dispose();
    state = { c: next.c, h: next.h };
  };

  // One-step update: mean squared TD error on the taken action, from given start states.
  const tdUpdate = () => {
    const loss = tf.tidy(() => {
      const states = tf.tensor2d(d.tdStates, [TD_BATCH, 2 * H]);
      const start: State = { c: tf.slice(states, [0, 0], [TD_BATCH, H]), h: tf.slice(states, [0, H], [TD_BATCH, H]) };
      const x = tf.oneHot(tf.tensor1d(d.tdTokens, 'int32'), I, 1, 0, 'float32') as tf.Tensor2D;
      const taken = tf.oneHot(tf.tensor1d(d.tdActions, 'int32'), O, 1, 0, 'float32');
      const targets = tf.tensor1d(d.tdTargets);
      const { value, grads } = tf.variableGrads(() => {
        const s = m.cell(tf.matMul(x, m.wx), start);
        const q = tf.sum(tf.mul(m.logits(s.h), taken), 1);
        return tf.mean(tf.square(tf.sub(q, targets))) as tf.Scalar;
      }, vars);
      tdOptimizer.applyGradients(asList(grads));
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };

  // BPTT: T steps unrolled from the zero state, softmax cross-entropy over all T·B rows.
  const bptt = () => {
    const loss = tf.tidy(() => {
      const x = tf.oneHot(tf.tensor1d(d.seqInputs, 'int32'), I, 1, 0, 'float32') as tf.Tensor2D; // [T*B][I]
      const y = tf.oneHot(tf.tensor1d(d.seqLabels, 'int32'), O, 1, 0, 'float32') as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => {
        const xw = tf.split(tf.matMul(x, m.wx), SEQ_STEPS, 0) as tf.Tensor2D[];
        let s: State = { c: tf.zeros([SEQ_BATCH, H]), h: tf.zeros([SEQ_BATCH, H]) };
        const hs: tf.Tensor2D[] = [];
        for (let t = 0; t < SEQ_STEPS; t++) {
          s = m.cell(xw[t], s);
          hs.push(s.h);
        }
        return tf.losses.softmaxCrossEntropy(y, m.logits(tf.concat(hs, 0))) as tf.Scalar;
      }, vars);
      seqOptimizer.applyGradients(asList(grads));
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };

  const adam = () => { adamOptimizer.applyGradients(fixedGrads); };

  const dispose = () => {
    state.c.dispose();
    state.h.dispose();
    for (const g of fixedGrads) g.tensor.dispose();
    tdOptimizer.dispose();
    seqOptimizer.dispose();
    adamOptimizer.dispose();
  };
  return { cases: { step, tdUpdate, bptt, adam }, dispose };
}
