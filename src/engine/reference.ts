/**
 * The slow twin of the kernels: a plain float64 TypeScript LSTM stack over logical (unpadded, row-major)
 * tensors, written for clarity. Tests check every kernel against it and check it against finite
 * differences; the benchmarks time it as the plain-TypeScript peer.
 */
import type { LstmStackConfig } from './layout.js';

export interface RefLayer {
  inputSize: number;
  hidden: number;
  wx: Float64Array; // [inputSize][4H], gate blocks i, f, g, o
  wh: Float64Array; // [H][4H]
  b: Float64Array; // [4H] (includes the forget bias)
}

export interface RefParams {
  config: LstmStackConfig;
  layers: RefLayer[];
  ow: Float64Array; // [H_top][O]
  ob: Float64Array; // [O]
}

/**
 * Dropout masks for the reference, logical (unpadded): `input` [T][B][K] multiplies each input entry of
 * layer 0 (K = 1 for a one-hot input: the token's row), `outputs[l]` [T][B][H_l] each unit of layer l's
 * output as the layer above (or the output layer) reads it. Absent: no dropout there.
 */
export interface RefDropout {
  input?: ArrayLike<number>;
  outputs?: (ArrayLike<number> | undefined)[];
}

export interface RefCache {
  B: number;
  T: number;
  inputs: ArrayLike<number>;
  /** Layer 0's input entries per row [T*B][K]: row indices and values (masked under input dropout). */
  entries: { indices: Int32Array; values: Float64Array; K: number };
  /** Per layer: its output as read above, h · mask under output dropout (t = 0..T-1), and the mask (or null). */
  out: Float64Array[][];
  masks: (Float64Array | null)[];
  /** Per layer: c[t], h[t] for t = 0..T (0 = start), gates act[t] (i, f, g, o) for t = 0..T-1. */
  c: Float64Array[][];
  h: Float64Array[][];
  act: Float64Array[][];
  /** [T*B][O] */
  logits: Float64Array;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Reference parameters from logical tensors (as exported by LstmModel.exportTensors). */
export function refParamsFromTensors(
  config: LstmStackConfig, tensors: { name: string; data: Float32Array | Float64Array }[],
): RefParams {
  const get = (name: string) => {
    const t = tensors.find((x) => x.name === name);
    if (!t) throw new Error(`reference: missing tensor ${name}`);
    return Float64Array.from(t.data);
  };
  const layers = config.hiddenSizes.map((hidden, l) => ({
    inputSize: l === 0 ? config.inputSize : config.hiddenSizes[l - 1],
    hidden,
    wx: get(`lstm.${l}.w_x`),
    wh: get(`lstm.${l}.w_h`),
    b: get(`lstm.${l}.b`),
  }));
  return { config, layers, ow: get('output.w'), ob: get('output.b') };
}

/** Flattened views of the reference parameters in export order (for finite differences and Adam). */
export function refParamArrays(p: RefParams): { name: string; data: Float64Array }[] {
  const out: { name: string; data: Float64Array }[] = [];
  p.layers.forEach((L, l) => {
    out.push({ name: `lstm.${l}.w_x`, data: L.wx }, { name: `lstm.${l}.w_h`, data: L.wh }, { name: `lstm.${l}.b`, data: L.b });
  });
  out.push({ name: 'output.w', data: p.ow }, { name: 'output.b', data: p.ob });
  return out;
}

/**
 * Forward over T steps for B rows; inputs [T][B] input ids (a one-hot model's tokens; a sparse input's ids,
 * expanded by config.input); start states rows of the state layout (per layer c then h) or zeros; dropout
 * masks applied where given.
 */
export function refForward(p: RefParams, inputs: ArrayLike<number>, B: number, T: number, start?: ArrayLike<number>, dropout: RefDropout = {}): RefCache {
  const c: Float64Array[][] = [], h: Float64Array[][] = [], act: Float64Array[][] = [], out: Float64Array[][] = [];
  const entries = refInputEntries(p, inputs, B * T, dropout.input);
  const masks = p.layers.map((L, l) => {
    const m = dropout.outputs?.[l];
    if (m === undefined) return null;
    if (m.length !== T * B * L.hidden) throw new Error(`reference: the output mask of layer ${l} has ${m.length} values, expected T·B·H = ${T * B * L.hidden}`);
    return Float64Array.from(m);
  });
  let stateOffset = 0;
  const S = p.layers.reduce((s, L) => s + 2 * L.hidden, 0);
  p.layers.forEach((L, l) => {
    const H = L.hidden;
    const c0 = new Float64Array(B * H), h0 = new Float64Array(B * H);
    if (start) {
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          c0[b * H + j] = start[b * S + stateOffset + j];
          h0[b * H + j] = start[b * S + stateOffset + H + j];
        }
      }
    }
    stateOffset += 2 * H;
    c.push([c0]);
    h.push([h0]);
    act.push([]);
    for (let t = 0; t < T; t++) {
      const pre = new Float64Array(B * 4 * H);
      for (let b = 0; b < B; b++) {
        const row = pre.subarray(b * 4 * H, (b + 1) * 4 * H);
        row.set(L.b);
        if (l === 0) {
          const { indices, values, K } = entries;
          for (let k = 0; k < K; k++) {
            const e = (t * B + b) * K + k;
            for (let n = 0; n < 4 * H; n++) row[n] += values[e] * L.wx[indices[e] * 4 * H + n];
          }
        } else {
          const x = out[l - 1][t];
          for (let k = 0; k < L.inputSize; k++) {
            const xv = x[b * L.inputSize + k];
            for (let n = 0; n < 4 * H; n++) row[n] += xv * L.wx[k * 4 * H + n];
          }
        }
        const hp = h[l][t];
        for (let k = 0; k < H; k++) {
          const hv = hp[b * H + k];
          for (let n = 0; n < 4 * H; n++) row[n] += hv * L.wh[k * 4 * H + n];
        }
      }
      const a = new Float64Array(B * 4 * H), cn = new Float64Array(B * H), hn = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const base = b * 4 * H;
          const i = sigmoid(pre[base + j]);
          const f = sigmoid(pre[base + H + j]);
          const g = Math.tanh(pre[base + 2 * H + j]);
          const o = sigmoid(pre[base + 3 * H + j]);
          a[base + j] = i; a[base + H + j] = f; a[base + 2 * H + j] = g; a[base + 3 * H + j] = o;
          cn[b * H + j] = f * c[l][t][b * H + j] + i * g;
          hn[b * H + j] = o * Math.tanh(cn[b * H + j]);
        }
      }
      act[l].push(a);
      c[l].push(cn);
      h[l].push(hn);
    }
    const mask = masks[l];
    out.push(h[l].slice(1).map((ht, t) => (mask ? ht.map((v, i) => v * mask[t * B * H + i]) : ht)));
  });
  const top = p.layers[p.layers.length - 1];
  const H = top.hidden, O = p.config.outputSize;
  const logits = new Float64Array(T * B * O);
  for (let t = 0; t < T; t++) {
    const ht = out[p.layers.length - 1][t];
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * O;
      for (let o = 0; o < O; o++) {
        let s = p.ob[o];
        for (let k = 0; k < H; k++) s += ht[b * H + k] * p.ow[k * O + o];
        logits[row + o] = s;
      }
    }
  }
  return { B, T, inputs, entries, out, masks, c, h, act, logits };
}

/**
 * Layer 0's input entries of M rows: a one-hot input's token (value 1), or a sparse input's expansion
 * (config.input); each value times the input mask's entry under input dropout.
 */
function refInputEntries(p: RefParams, inputs: ArrayLike<number>, M: number, mask?: ArrayLike<number>): RefCache['entries'] {
  const features = p.config.input;
  const K = features?.entries ?? 1;
  const indices = new Int32Array(M * K);
  const values = new Float64Array(M * K);
  const rowIndices = new Int32Array(K), rowValues = new Float32Array(K);
  for (let m = 0; m < M; m++) {
    if (features) {
      features.expand(inputs[m], rowIndices, rowValues, 0);
      for (let k = 0; k < K; k++) {
        indices[m * K + k] = rowIndices[k];
        values[m * K + k] = rowValues[k];
      }
    } else {
      indices[m] = inputs[m];
      values[m] = 1;
    }
  }
  if (mask) {
    if (mask.length !== M * K) throw new Error(`reference: the input mask has ${mask.length} values, expected T·B·K = ${M * K}`);
    for (let e = 0; e < M * K; e++) values[e] *= mask[e];
  }
  return { indices, values, K };
}

/** Weighted softmax cross-entropy: loss = sum_m w_m * -log p(label_m); dlogits of that loss. */
export function refSoftmaxXent(
  logits: Float64Array, O: number, labels: ArrayLike<number>, weights: ArrayLike<number>,
): { loss: number; dlogits: Float64Array; logp: Float64Array } {
  const M = logits.length / O;
  const dlogits = new Float64Array(logits.length), logp = new Float64Array(M);
  let loss = 0;
  for (let m = 0; m < M; m++) {
    const row = logits.subarray(m * O, (m + 1) * O);
    const mx = Math.max(...row);
    let s = 0;
    for (let j = 0; j < O; j++) s += Math.exp(row[j] - mx);
    const lse = mx + Math.log(s);
    logp[m] = row[labels[m]] - lse;
    const w = weights[m];
    if (w === 0) continue;
    loss -= w * logp[m];
    for (let j = 0; j < O; j++) dlogits[m * O + j] = w * Math.exp(row[j] - lse);
    dlogits[m * O + labels[m]] -= w;
  }
  return { loss, dlogits, logp };
}

/** Squared TD error on the taken action: loss = mean_m (q[m][a_m] - y_m)^2 and its dlogits. */
export function refTdError(
  logits: Float64Array, O: number, actions: ArrayLike<number>, targets: ArrayLike<number>,
): { loss: number; dlogits: Float64Array } {
  const M = logits.length / O;
  const dlogits = new Float64Array(logits.length);
  let loss = 0;
  for (let m = 0; m < M; m++) {
    const d = logits[m * O + actions[m]] - targets[m];
    loss += d * d / M;
    dlogits[m * O + actions[m]] = 2 * d / M;
  }
  return { loss, dlogits };
}

/** Backward through the cached forward: gradients of every parameter (export order), start state excluded. */
export function refBackward(p: RefParams, cache: RefCache, dlogits: Float64Array): { name: string; data: Float64Array }[] {
  const { B, T } = cache;
  const nL = p.layers.length;
  const top = p.layers[nL - 1];
  const O = p.config.outputSize;
  const dow = new Float64Array(p.ow.length), dob = new Float64Array(p.ob.length);
  // dOut[l][t] = gradient w.r.t. layer l's output after step t (as read above: h · mask under dropout);
  // dH[l][t] = gradient w.r.t. its h: dOut · mask, plus the recurrent part added in layer l's own pass.
  const dOut: Float64Array[][] = p.layers.map((L) => Array.from({ length: T }, () => new Float64Array(B * L.hidden)));
  const dH: Float64Array[][] = p.layers.map((L) => Array.from({ length: T }, () => new Float64Array(B * L.hidden)));
  for (let t = 0; t < T; t++) {
    const ht = cache.out[nL - 1][t];
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * O;
      for (let o = 0; o < O; o++) {
        const d = dlogits[row + o];
        dob[o] += d;
        for (let k = 0; k < top.hidden; k++) {
          dow[k * O + o] += ht[b * top.hidden + k] * d;
          dOut[nL - 1][t][b * top.hidden + k] += d * p.ow[k * O + o];
        }
      }
    }
  }
  const grads: { name: string; data: Float64Array }[][] = [];
  for (let l = nL - 1; l >= 0; l--) {
    const L = p.layers[l];
    const H = L.hidden;
    const mask = cache.masks[l];
    for (let t = 0; t < T; t++) dH[l][t].set(mask ? dOut[l][t].map((v, i) => v * mask[t * B * H + i]) : dOut[l][t]);
    const dwx = new Float64Array(L.wx.length), dwh = new Float64Array(L.wh.length), db = new Float64Array(L.b.length);
    let dc = new Float64Array(B * H);
    for (let t = T - 1; t >= 0; t--) {
      const a = cache.act[l][t], cPrev = cache.c[l][t], cNew = cache.c[l][t + 1], hPrev = cache.h[l][t];
      const dpre = new Float64Array(B * 4 * H);
      const dcPrev = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const base = b * 4 * H;
          const i = a[base + j], f = a[base + H + j], g = a[base + 2 * H + j], o = a[base + 3 * H + j];
          const tc = Math.tanh(cNew[b * H + j]);
          const dh = dH[l][t][b * H + j];
          const dct = dc[b * H + j] + dh * o * (1 - tc * tc);
          dpre[base + j] = dct * g * i * (1 - i);
          dpre[base + H + j] = dct * cPrev[b * H + j] * f * (1 - f);
          dpre[base + 2 * H + j] = dct * i * (1 - g * g);
          dpre[base + 3 * H + j] = dh * tc * o * (1 - o);
          dcPrev[b * H + j] = dct * f;
        }
      }
      dc = dcPrev;
      for (let b = 0; b < B; b++) {
        const drow = dpre.subarray(b * 4 * H, (b + 1) * 4 * H);
        for (let n = 0; n < 4 * H; n++) db[n] += drow[n];
        for (let k = 0; k < H; k++) {
          const hv = hPrev[b * H + k];
          let acc = 0;
          for (let n = 0; n < 4 * H; n++) {
            dwh[k * 4 * H + n] += hv * drow[n];
            acc += drow[n] * L.wh[k * 4 * H + n];
          }
          if (t > 0) dH[l][t - 1][b * H + k] += acc;
        }
        if (l === 0) {
          const { indices, values, K } = cache.entries;
          for (let k = 0; k < K; k++) {
            const e = (t * B + b) * K + k;
            for (let n = 0; n < 4 * H; n++) dwx[indices[e] * 4 * H + n] += values[e] * drow[n];
          }
        } else {
          const x = cache.out[l - 1][t];
          for (let k = 0; k < L.inputSize; k++) {
            let acc = 0;
            for (let n = 0; n < 4 * H; n++) {
              dwx[k * 4 * H + n] += x[b * L.inputSize + k] * drow[n];
              acc += drow[n] * L.wx[k * 4 * H + n];
            }
            dOut[l - 1][t][b * L.inputSize + k] += acc;
          }
        }
      }
    }
    grads.unshift([{ name: `lstm.${l}.w_x`, data: dwx }, { name: `lstm.${l}.w_h`, data: dwh }, { name: `lstm.${l}.b`, data: db }]);
  }
  return [...grads.flat(), { name: 'output.w', data: dow }, { name: 'output.b', data: dob }];
}

/** Per-tensor (or global) L2 clipping, in place. */
export function refClip(grads: { data: Float64Array }[], maxNorm: number, mode: 'perTensor' | 'global'): void {
  const norm = (g: Float64Array) => Math.sqrt(g.reduce((s, v) => s + v * v, 0));
  if (mode === 'global') {
    const total = Math.sqrt(grads.reduce((s, g) => s + norm(g.data) ** 2, 0));
    if (total > maxNorm) for (const g of grads) g.data.forEach((v, i) => (g.data[i] = v * maxNorm / total));
    return;
  }
  for (const g of grads) {
    const n = norm(g.data);
    if (n > maxNorm) g.data.forEach((v, i) => (g.data[i] = v * maxNorm / n));
  }
}

/** One Adam step (Kingma & Ba, bias-corrected), in place; t counts from 1. */
export function refAdam(
  params: Float64Array, grads: Float64Array, m: Float64Array, v: Float64Array, t: number,
  lr: number, beta1: number, beta2: number, eps: number,
): void {
  for (let i = 0; i < params.length; i++) {
    m[i] = beta1 * m[i] + (1 - beta1) * grads[i];
    v[i] = beta2 * v[i] + (1 - beta2) * grads[i] * grads[i];
    const mHat = m[i] / (1 - Math.pow(beta1, t));
    const vHat = v[i] / (1 - Math.pow(beta2, t));
    params[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
  }
}
