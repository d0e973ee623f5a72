// The LSTM model (kernels composed by TypeScript) against the float64 reference, and the reference
// against finite differences.
import { describe, expect, it } from 'vitest';
import { cloneModel, createArena, createModel } from '../../src/engine/arena.js';
import type { LstmStackConfig } from '../../src/engine/layout.js';
import {
  refAdam, refBackward, refClip, refForward, refParamArrays, refParamsFromTensors, refSoftmaxXent, refTdError,
  type RefParams,
} from '../../src/engine/reference.js';
import { Random } from '../../src/random.js';
import { relativeError, testKernels, uniform } from './support.js';

const I = 38, O = 38;
const config = (hiddenSizes: number[]): LstmStackConfig => ({ inputSize: I, outputSize: O, hiddenSizes });

function tokens(n: number, seed: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => rng.int(I));
}

function startStates(rows: number, size: number, seed: number): Float32Array {
  return Float32Array.from(uniform(rows * size, 0.8, seed));
}

function gradsOf(model: ReturnType<typeof createModel>) {
  return model.layout.tensors.map((t) => ({ name: t.name, data: model.exportGradient(t.name) }));
}

describe('forward and backward against the float64 reference', () => {
  const cases: { hidden: number[]; B: number; T: number }[] = [];
  for (const H of [1, 5, 37, 100, 130]) for (const B of [1, 3, 32]) for (const T of [1, 7]) cases.push({ hidden: [H], B, T });
  cases.push({ hidden: [37, 5], B: 3, T: 7 }, { hidden: [5, 100], B: 32, T: 1 }, { hidden: [12, 9, 6], B: 3, T: 7 });

  for (const { hidden, B, T } of cases) {
    it(`sequence training step: hidden [${hidden}], B=${B}, T=${T}`, () => {
      const cfg = config(hidden);
      const model = createModel(testKernels(), cfg, { maxBatch: B, maxSteps: T, trainable: true });
      model.initialize(new Random(hidden[0] * 100 + B * 10 + T), 1.0);
      const ref = refParamsFromTensors(cfg, model.exportTensors());
      const inputs = tokens(T * B, 1 + B);
      const labels = tokens(T * B, 2 + T);
      const weights = labels.map((_, i) => (i % 5 === 3 ? 0 : 1 + (i % 3)));
      const total = weights.reduce((a, b) => a + b, 0);

      const cache = refForward(ref, inputs, B, T);
      const logits = model.forwardSequence(inputs, B, T);
      const wasmLogits: number[] = [];
      for (let m = 0; m < T * B; m++) for (let o = 0; o < O; o++) wasmLogits.push(logits[m * model.outputStride + o]);
      expect(relativeError(wasmLogits, cache.logits)).toBeLessThan(1e-5);

      const xent = refSoftmaxXent(cache.logits, O, labels, weights.map((w) => w / total));
      const loss = model.trainSequence(inputs, labels, weights, B, T, { learningRate: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { mode: 'none', maxNorm: 1 });
      expect(loss).toBeCloseTo(xent.loss, 4);
      const want = refBackward(ref, cache, xent.dlogits);
      const got = gradsOf(model);
      for (let i = 0; i < want.length; i++) {
        expect(got[i].name).toBe(want[i].name);
        expect(relativeError(got[i].data, want[i].data), want[i].name).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  for (const hidden of [[5], [37], [100], [37, 5]]) {
    for (const B of [1, 3, 32]) {
      it(`TD update from given start states: hidden [${hidden}], B=${B}`, () => {
        const cfg = config(hidden);
        const model = createModel(testKernels(), cfg, { maxBatch: B, trainable: true });
        model.initialize(new Random(B + hidden[0]));
        const ref = refParamsFromTensors(cfg, model.exportTensors());
        const states = startStates(B, model.stateSize, 40 + B);
        const input = tokens(B, 3), actions = tokens(B, 4);
        const targets = Array.from(uniform(B, 2, 9));
        const cache = refForward(ref, input, B, 1, states);
        const td = refTdError(cache.logits, O, actions, targets);
        const loss = model.tdUpdate(states, input, actions, targets, B, { learningRate: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { mode: 'none', maxNorm: 1 });
        expect(loss).toBeCloseTo(td.loss, 4);
        const want = refBackward(ref, cache, td.dlogits);
        const got = gradsOf(model);
        for (let i = 0; i < want.length; i++) {
          expect(relativeError(got[i].data, want[i].data), want[i].name).toBeLessThanOrEqual(1e-4);
        }
      });
    }
  }
});

describe('the reference against finite differences', () => {
  function lossOf(ref: RefParams, inputs: number[], labels: number[], weights: number[], B: number, T: number, states?: Float32Array) {
    return refSoftmaxXent(refForward(ref, inputs, B, T, states).logits, O, labels, weights).loss;
  }
  for (const hidden of [[5], [7, 3]]) {
    it(`hidden [${hidden}]: analytic gradients match central differences`, () => {
      const cfg = config(hidden);
      const model = createModel(testKernels(), cfg, { maxBatch: 3, maxSteps: 4 });
      model.initialize(new Random(7));
      const ref = refParamsFromTensors(cfg, model.exportTensors());
      // nonzero biases so every path is exercised
      ref.layers.forEach((L) => L.b.forEach((v, i) => (L.b[i] = v + 0.1 * Math.sin(i))));
      const B = 3, T = 4;
      const inputs = tokens(B * T, 11), labels = tokens(B * T, 12), weights = labels.map((_, i) => 0.1 + (i % 4) * 0.05);
      const states = startStates(B, model.stateSize, 5);
      const cache = refForward(ref, inputs, B, T, states);
      const grads = refBackward(ref, cache, refSoftmaxXent(cache.logits, O, labels, weights).dlogits);
      const params = refParamArrays(ref);
      const h = 1e-6;
      const rng = new Random(3);
      for (let t = 0; t < params.length; t++) {
        for (let trial = 0; trial < 6; trial++) {
          const data = params[t].data;
          let i = rng.int(data.length);
          if (params[t].name === 'lstm.0.w_x') i = inputs[trial % inputs.length] * (data.length / I) + rng.int(data.length / I);
          const keep = data[i];
          data[i] = keep + h;
          const up = lossOf(ref, inputs, labels, weights, B, T, states);
          data[i] = keep - h;
          const down = lossOf(ref, inputs, labels, weights, B, T, states);
          data[i] = keep;
          const numeric = (up - down) / (2 * h);
          expect(Math.abs(numeric - grads[t].data[i]), `${params[t].name}[${i}]`).toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric));
        }
      }
    });
  }
});

describe('Adam through the model', () => {
  it('50 sequence steps at a high learning rate with clipping track the float64 reference', () => {
    const cfg = config([13]);
    const B = 5, T = 6;
    const model = createModel(testKernels(), cfg, { maxBatch: B, maxSteps: T, trainable: true });
    model.initialize(new Random(99));
    const ref = refParamsFromTensors(cfg, model.exportTensors());
    const params = refParamArrays(ref);
    const m = params.map((p) => new Float64Array(p.data.length)), v = params.map((p) => new Float64Array(p.data.length));
    const adam = { learningRate: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    const before = model.exportTensors();
    for (let step = 1; step <= 50; step++) {
      const inputs = tokens(B * T, 1000 + step), labels = tokens(B * T, 2000 + step), weights = labels.map(() => 1);
      model.trainSequence(inputs, labels, weights, B, T, adam, { mode: 'global', maxNorm: 1 });
      const cache = refForward(ref, inputs, B, T);
      const grads = refBackward(ref, cache, refSoftmaxXent(cache.logits, O, labels, weights.map((w) => w / (B * T))).dlogits);
      refClip(grads, 1, 'global');
      params.forEach((p, i) => refAdam(p.data, grads[i].data, m[i], v[i], step, adam.learningRate, adam.beta1, adam.beta2, adam.epsilon));
    }
    const after = model.exportTensors();
    after.forEach((t, i) => {
      expect(relativeError(t.data, params[i].data), t.name).toBeLessThan(1e-3);
      expect(relativeError(t.data, before[i].data), `${t.name} moved`).toBeGreaterThan(0.01);
    });
  });

  it('per-tensor clipping scales each tensor to the bound', () => {
    const model = createModel(testKernels(), config([20]), { maxBatch: 4, maxSteps: 3, trainable: true });
    model.initialize(new Random(5));
    const inputs = tokens(12, 1), labels = tokens(12, 2);
    model.trainSequence(inputs, labels, labels.map(() => 1), 4, 3, { learningRate: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, { mode: 'perTensor', maxNorm: 1e-3 });
    for (const [name, norm] of model.gradientNorms()) expect(norm, name).toBeLessThanOrEqual(1e-3 * (1 + 1e-5));
  });
});

describe('learning and state handling', () => {
  it('a tiny model learns a toy sequence (loss falls near zero)', () => {
    const pattern = [2, 5, 9, 1, 14, 0, 7, 1, 3];
    const T = 16, B = 4;
    const model = createModel(testKernels(), config([24]), { maxBatch: B, maxSteps: T, trainable: true });
    model.initialize(new Random(1));
    const inputs: number[] = [], labels: number[] = [];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        inputs.push(pattern[(t + b) % pattern.length]);
        labels.push(pattern[(t + b + 1) % pattern.length]);
      }
    }
    const weights = labels.map(() => 1);
    const first = model.trainSequence(inputs, labels, weights, B, T, { ...defaultAdam(), learningRate: 0.02 });
    let last = first;
    for (let i = 0; i < 300; i++) last = model.trainSequence(inputs, labels, weights, B, T, { ...defaultAdam(), learningRate: 0.02 });
    expect(first).toBeGreaterThan(3);
    expect(last).toBeLessThan(0.05);
    const evalStats = model.evaluateSequence(inputs, labels, weights, B, T);
    expect(evalStats.correct / evalStats.weight).toBe(1);
  });

  it('step() carries state: stepping token by token equals a sequence forward', () => {
    const cfg = config([37, 11]);
    const arena = createArena(testKernels(), { a: { config: cfg, maxBatch: 3, maxSteps: 5 }, b: { config: cfg, maxBatch: 3 } });
    arena.models.a.initialize(new Random(2));
    arena.models.b.copyWeightsFrom(arena.models.a);
    const B = 3, T = 5, inputs = tokens(B * T, 8);
    const seq = Float32Array.from(arena.models.a.forwardSequence(inputs, B, T));
    arena.models.b.resetState(B);
    for (let t = 0; t < T; t++) {
      const logits = arena.models.b.step(inputs.slice(t * B, (t + 1) * B), B);
      const want = seq.subarray(t * B * 40, (t + 1) * B * 40);
      expect(relativeError(logits, want)).toBeLessThan(1e-6);
    }
    // get/set of a state row round-trips, and forwardFrom from it reproduces the next step
    const row = new Float32Array(arena.models.b.stateSize);
    arena.models.b.getStateRow(1, row);
    const rows = new Float32Array(arena.models.b.stateSize * 2);
    rows.set(row, arena.models.b.stateSize);
    const next = arena.models.a.forwardFrom(rows, [0, 7], 2).slice(40, 80);
    const stepped = arena.models.b.step([3, 7, 3], 3).slice(40, 80);
    expect(relativeError(next, stepped)).toBeLessThan(1e-6);
  });

  it('a clone has the same weights in its own arena, computes the same, and does not share memory', () => {
    const source = createModel(testKernels(), config([9, 4]), { maxBatch: 2, trainable: true });
    source.initialize(new Random(3));
    const copy = cloneModel(testKernels(), source, { maxBatch: 5 });
    expect(Array.from(copy.params)).toEqual(Array.from(source.params));
    expect(copy.maxBatch).toBe(5);
    expect(copy.trainable).toBe(false);
    source.resetState(2);
    copy.resetState(2);
    expect(Array.from(copy.step([3, 4], 2))).toEqual(Array.from(source.step([3, 4], 2)));
    const kept = copy.params[0];
    source.params[0] += 1;
    expect(copy.params[0]).toBe(kept);
    expect(source.params[0]).not.toBe(kept);
  });

  it('soft target update and weight copy', () => {
    const cfg = config([9]);
    const arena = createArena(testKernels(), { q: { config: cfg, maxBatch: 1 }, target: { config: cfg, maxBatch: 1 } });
    arena.models.q.initialize(new Random(1));
    arena.models.target.initialize(new Random(2));
    const q0 = Float32Array.from(arena.models.q.params), t0 = Float32Array.from(arena.models.target.params);
    arena.models.target.softUpdateFrom(arena.models.q, 0.25);
    arena.models.target.params.forEach((v, i) => expect(v).toBeCloseTo(0.75 * t0[i] + 0.25 * q0[i], 6));
    arena.models.target.copyWeightsFrom(arena.models.q);
    expect(Array.from(arena.models.target.params)).toEqual(Array.from(q0));
  });

  it('export and import of tensors round-trip, and a wrong shape is named', () => {
    const a = createModel(testKernels(), config([6]), { maxBatch: 1 });
    a.initialize(new Random(4));
    const b = createModel(testKernels(), config([6]), { maxBatch: 1 });
    b.importTensors(new Map(a.exportTensors().map((t) => [t.name, t])));
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    const c = createModel(testKernels(), config([7]), { maxBatch: 1 });
    expect(() => c.importTensors(new Map(a.exportTensors().map((t) => [t.name, t])), 'x.safetensors')).toThrow(/x\.safetensors: tensor "lstm\.0\.w_x" has shape \[38,24\], this model needs \[38,28\]/);
  });

  it('shape and value errors are raised before any kernel runs', () => {
    const model = createModel(testKernels(), config([8]), { maxBatch: 4, maxSteps: 2, trainable: true });
    expect(() => model.step([38])).toThrow(/token 38 at position 0 is out of range 0\.\.37/);
    expect(() => model.step([1.5])).toThrow(/token 1\.5/);
    expect(() => model.step([1, 2, 3, 4, 5])).toThrow(/batch 5 is outside 1\.\.4/);
    expect(() => model.forwardSequence([1, 2, 3], 2, 2)).toThrow(/expected 4 tokens/);
    expect(() => model.forwardSequence([1, 2, 3, 4, 5, 6], 2, 3)).toThrow(/steps 3 is outside 1\.\.2/);
    expect(() => model.tdUpdate(new Float32Array(3), [1], [2], [0], 1)).toThrow(/start states: need 1 rows of 16 floats/);
    expect(() => model.tdUpdate(new Float32Array(16), [1], [40], [0], 1)).toThrow(/actions\[0\] = 40/);
    expect(() => model.tdUpdate(new Float32Array(16), [1], [4], [NaN], 1)).toThrow(/targets\[0\] = NaN/);
    expect(() => createModel(testKernels(), config([0]), { maxBatch: 1 })).toThrow(/hiddenSizes\[0\] must be an integer in 1\.\.4096, got 0/);
    const frozen = createModel(testKernels(), config([8]), { maxBatch: 1 });
    expect(() => frozen.tdUpdate(new Float32Array(16), [1], [1], [0], 1)).toThrow(/planned without gradients/);
  });
});

function defaultAdam() {
  return { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
}
