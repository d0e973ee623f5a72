// Sparse inputs (the lookback encoding's weighted rows of W_x) and dropout, kernels and model of both
// builds against the float64 reference element by element with the same masks, and the reference against
// finite differences.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import type { InputFeatures, LstmStackConfig } from '../../src/engine/layout.js';
import type { DropoutSettings, LstmModel } from '../../src/engine/lstm_model.js';
import {
  refAdam, refBackward, refForward, refParamArrays, refParamsFromTensors, refSoftmaxXent, type RefDropout, type RefParams,
} from '../../src/engine/reference.js';
import { LOOKBACK_ENCODING, LOOKBACK_FEATURES } from '../../src/music/encodings.js';
import { Random } from '../../src/random.js';
import { BUILDS, F32_EPS, RawArena, expectClose, maxAbs, testKernels, uniform, type Build, type Tolerance } from './support.js';

const f = Math.fround;
const NO_UPDATE = { learningRate: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const NO_CLIP = { mode: 'none', maxNorm: 1 } as const;

/** A made-up sparse input of 23 rows: 3 entries per id, one of them sometimes 0, values ±1 and fractions. */
const TOY_FEATURES: InputFeatures = {
  name: 'toy', entries: 3, ids: 50,
  expand(id, indices, values, at) {
    indices[at] = id % 23; values[at] = 1;
    indices[at + 1] = (id * 7 + 3) % 23; values[at + 1] = id % 3 === 0 ? 0 : -0.75;
    indices[at + 2] = (id * 5 + 1) % 23; values[at + 2] = 1.5;
  },
};

type InputKind = 'one-hot' | 'toy' | 'lookback';
function configOf(kind: InputKind, hiddenSizes: number[]): LstmStackConfig {
  if (kind === 'lookback') return { inputSize: LOOKBACK_ENCODING.inputSize, hiddenSizes, outputSize: LOOKBACK_ENCODING.outputSize, input: LOOKBACK_FEATURES };
  if (kind === 'toy') return { inputSize: 23, hiddenSizes, outputSize: 11, input: TOY_FEATURES };
  return { inputSize: 38, hiddenSizes, outputSize: 38 };
}

/** Input ids: lookback ids encoded from a random melody (so they are real inputs), else uniform ids. */
function inputsOf(kind: InputKind, n: number, seed: number): number[] {
  const rng = new Random(seed);
  if (kind === 'lookback') {
    const melody = Array.from({ length: n + 1 }, () => (rng.float() < 0.4 ? 1 : rng.int(38)));
    for (let i = 20; i < melody.length; i++) if (rng.float() < 0.5) melody[i] = melody[i - 16]; // repeats, so the flags are set
    return Array.from({ length: n }, (_, p) => LOOKBACK_ENCODING.inputAt(melody, p, { stepsPerBar: 16, barPosition: 3 }));
  }
  const ids = kind === 'toy' ? TOY_FEATURES.ids : 38;
  return Array.from({ length: n }, () => rng.int(ids));
}

function labelsOf(O: number, n: number, seed: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => rng.int(O));
}

/** The engine's padded masks [T][B][P] as the reference's logical [T][B][H]. */
function logicalMask(mask: Float32Array, rows: number, H: number, P: number): Float64Array {
  const out = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) for (let u = 0; u < H; u++) out[r * H + u] = mask[r * P + u];
  return out;
}

function masksOf(model: LstmModel, B: number, T: number, dropout: { input: number; output: number }): RefDropout {
  const drawn = model.dropoutMasks(B, T);
  return {
    input: dropout.input > 0 ? Float64Array.from(drawn.input) : undefined,
    outputs: dropout.output > 0 ? model.layout.layers.map((d, l) => logicalMask(drawn.outputs[l], B * T, d.hidden, d.padded)) : undefined,
  };
}

function validLogits(logits: Float32Array, M: number, stride: number, O: number): Float32Array {
  const out = new Float32Array(M * O);
  for (let m = 0; m < M; m++) out.set(logits.subarray(m * stride, m * stride + O), m * O);
  return out;
}

/** As in model.test.ts: logits carry the SIMD activations' error through a few roundings. */
const LOGITS: Tolerance = { atol: 16 * F32_EPS, rtol: 16 * F32_EPS };
const gradientTolerance = (want: ArrayLike<number>): Tolerance => ({ atol: 1e-5 * maxAbs(want), rtol: 128 * F32_EPS });

describe.each(BUILDS)('%s build', (build: Build) => {
  describe('kernels', () => {
    it('gather_weighted_rows_bias_set and scatter_weighted_rows_accumulate match float64 per element (zero values skipped)', () => {
      for (const N of [4, 8, 12, 44]) {
        for (const K of [1, 3, 10]) {
          const arena = new RawArena(build);
          const rows = 19, M = 7;
          const table = arena.f32(rows * N, uniform(rows * N, 1, 3 + N));
          const bias = arena.f32(N, uniform(N, 1, 4 + K));
          const rng = new Random(N * 100 + K);
          const idx = Array.from({ length: M * K }, () => rng.int(rows));
          idx[K] = idx[0]; // two rows share a table row
          const vals = Array.from({ length: M * K }, (_, i) => [1, -1, 0, 2, f(0.3)][i % 5]);
          const indices = arena.i32(M * K, idx), values = arena.f32(M * K, vals);
          const out = arena.f32(M * N);
          arena.k.gather_weighted_rows_bias_set(out.ptr, N, bias.ptr, table.ptr, N, indices.ptr, values.ptr, K, M, N);
          const want = new Float64Array(M * N);
          for (let m = 0; m < M; m++) {
            for (let n = 0; n < N; n++) {
              let s = bias.view[n];
              for (let k = 0; k < K; k++) s += vals[m * K + k] * table.view[idx[m * K + k] * N + n];
              want[m * N + n] = s;
            }
          }
          expectClose(out.view, want, { atol: (K + 1) * 4 * F32_EPS, rtol: (K + 1) * F32_EPS }, `gather N=${N} K=${K}`);
          const d = arena.f32(M * N, uniform(M * N, 1, 9));
          const before = Float64Array.from(table.view);
          arena.k.scatter_weighted_rows_accumulate(table.ptr, N, indices.ptr, values.ptr, K, d.ptr, N, M, N);
          const wantTable = Float64Array.from(before);
          for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) wantTable[idx[m * K + k] * N + n] += vals[m * K + k] * d.view[m * N + n];
          expectClose(table.view, wantTable, { atol: 2 * M * K * 4 * F32_EPS, rtol: M * K * F32_EPS }, `scatter N=${N} K=${K}`);
        }
      }
    });

    it('multiply_set multiplies every element exactly, in place too, nothing past the end', () => {
      for (let n = 1; n <= 13; n++) {
        const arena = new RawArena(build);
        const a = arena.f32(n + 4, uniform(n + 4, 3, n)), b = arena.f32(n + 4, uniform(n + 4, 3, 50 + n));
        const out = arena.f32(n + 4, new Array(n + 4).fill(7));
        arena.k.multiply_set(out.ptr, a.ptr, b.ptr, n);
        for (let i = 0; i < n; i++) expect(out.view[i]).toBe(f(a.view[i] * b.view[i]));
        for (let i = n; i < n + 4; i++) expect(out.view[i]).toBe(7);
        const want = Array.from(a.view, (x, i) => (i < n ? f(x * b.view[i]) : x));
        arena.k.multiply_set(a.ptr, a.ptr, b.ptr, n);
        expect(Array.from(a.view)).toEqual(want);
      }
    });
  });

  describe('the model against the float64 reference with the same masks', () => {
    const cases: { kind: InputKind; hidden: number[]; B: number; T: number; input: number; output: number }[] = [
      { kind: 'lookback', hidden: [37], B: 3, T: 7, input: 0, output: 0 },
      { kind: 'lookback', hidden: [37], B: 3, T: 7, input: 0.3, output: 0.5 },
      { kind: 'toy', hidden: [9, 6], B: 5, T: 4, input: 0.25, output: 0.5 },
      { kind: 'one-hot', hidden: [37, 5], B: 3, T: 7, input: 0.2, output: 0.5 },
      { kind: 'one-hot', hidden: [64], B: 5, T: 4, input: 0, output: 0.5 },
      { kind: 'lookback', hidden: [64, 64], B: 3, T: 3, input: 0.5, output: 0.5 },
    ];
    for (const c of cases) {
      const what = `${c.kind} input, hidden [${c.hidden}], B=${c.B}, T=${c.T}, dropout in ${c.input} out ${c.output}`;
      it(what, () => {
        const cfg = configOf(c.kind, c.hidden);
        const dropping = c.input > 0 || c.output > 0;
        const model = createModel(testKernels(build), cfg, { maxBatch: c.B, maxSteps: c.T, trainable: true, dropout: dropping });
        model.initialize(new Random(c.hidden[0] + c.B), 1.0);
        const ref = refParamsFromTensors(cfg, model.exportTensors());
        const M = c.B * c.T;
        const inputs = inputsOf(c.kind, M, 5 + c.T);
        const labels = labelsOf(cfg.outputSize, M, 6 + c.B);
        const weights: number[] = labels.map((_, i) => (i % 4 === 1 ? 0 : 1));
        const total = weights.reduce((a, b) => a + b, 0);
        const dropout: DropoutSettings | undefined = dropping ? { input: c.input, output: c.output, source: new Random(77) } : undefined;

        const logits = model.forwardSequence(inputs, c.B, c.T, 'zero', dropout);
        const masks = masksOf(model, c.B, c.T, c);
        const cache = refForward(ref, inputs, c.B, c.T, undefined, masks);
        expectClose(validLogits(logits, M, model.outputStride, cfg.outputSize), cache.logits, LOGITS, `logits ${what}`);

        const loss = model.trainSequence(inputs, labels, weights, c.B, c.T, NO_UPDATE, NO_CLIP, 'zero', dropping ? { ...dropout!, source: new Random(77) } : undefined);
        const again = masksOf(model, c.B, c.T, c);
        expect(again).toEqual(masks); // the same seed draws the same masks
        const xent = refSoftmaxXent(cache.logits, cfg.outputSize, labels, weights.map((w) => w / total));
        expectClose([loss], [xent.loss], { atol: 0, rtol: 16 * F32_EPS }, `loss ${what}`);
        const want = refBackward(ref, cache, xent.dlogits);
        for (const g of want) expectClose(model.exportGradient(g.name), g.data, gradientTolerance(g.data), `d${g.name} ${what}`);
      });
    }

    it('masks: rate 0.5 keeps about half at 2, drops the rest to 0, pads with 0; another seed draws others; off again without dropout', () => {
      const cfg = configOf('one-hot', [37, 5]);
      const B = 8, T = 16;
      const model = createModel(testKernels(build), cfg, { maxBatch: B, maxSteps: T, trainable: true, dropout: true });
      model.initialize(new Random(3));
      const inputs = inputsOf('one-hot', B * T, 1);
      const plain = Float32Array.from(model.forwardSequence(inputs, B, T));
      model.forwardSequence(inputs, B, T, 'zero', { input: 0.5, output: 0.5, source: new Random(1) });
      const first = model.dropoutMasks(B, T);
      const out0 = first.outputs[0];
      let kept = 0;
      for (let r = 0; r < B * T; r++) {
        for (let u = 0; u < 40; u++) {
          const v = out0[r * 40 + u];
          if (u >= 37) expect(v).toBe(0);
          else expect([0, 2]).toContain(v);
          if (v === 2) kept++;
        }
      }
      expect(kept / (B * T * 37)).toBeGreaterThan(0.45);
      expect(kept / (B * T * 37)).toBeLessThan(0.55);
      const saved = Float32Array.from(out0);
      model.forwardSequence(inputs, B, T, 'zero', { input: 0.5, output: 0.5, source: new Random(2) });
      expect(Array.from(model.dropoutMasks(B, T).outputs[0])).not.toEqual(Array.from(saved));
      // Without dropout the next pass reads h itself: the bits of a pass that never saw a mask.
      expect(Array.from(model.forwardSequence(inputs, B, T))).toEqual(Array.from(plain));
      expect(() => createModel(testKernels(build), cfg, { maxBatch: 1, dropout: true })).toThrow(/dropout needs a trainable plan/);
      const unplanned = createModel(testKernels(build), cfg, { maxBatch: B, maxSteps: T, trainable: true });
      expect(() => unplanned.forwardSequence(inputs, B, T, 'zero', { input: 0, output: 0.5, source: new Random(1) })).toThrow(/planned without dropout masks/);
    });

    it('decoupled weight decay (AdamW) scales the weight matrices, not the biases, before the Adam step', () => {
      const cfg = configOf('lookback', [13]);
      const B = 3, T = 5;
      const model = createModel(testKernels(build), cfg, { maxBatch: B, maxSteps: T, trainable: true });
      model.initialize(new Random(8));
      const ref = refParamsFromTensors(cfg, model.exportTensors());
      const params = refParamArrays(ref);
      const inputs = inputsOf('lookback', B * T, 2), labels = labelsOf(cfg.outputSize, B * T, 3), weights = labels.map(() => 1);
      const adam = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.5 };
      model.trainSequence(inputs, labels, weights, B, T, adam, NO_CLIP);
      const cache = refForward(ref, inputs, B, T);
      const grads = refBackward(ref, cache, refSoftmaxXent(cache.logits, cfg.outputSize, labels, weights.map((w) => w / (B * T))).dlogits);
      params.forEach((p, i) => {
        if (!p.name.endsWith('.b')) p.data.forEach((v, j) => (p.data[j] = v * (1 - adam.learningRate * adam.weightDecay)));
        refAdam(p.data, grads[i].data, new Float64Array(p.data.length), new Float64Array(p.data.length), 1, adam.learningRate, adam.beta1, adam.beta2, adam.epsilon);
      });
      const after = model.exportTensors();
      after.forEach((t, i) => expectClose(t.data, params[i].data, { atol: 2e-6, rtol: 1e-5 }, `${t.name} after one AdamW step`));
    });
  });
});

describe('the reference with sparse inputs and dropout masks against finite differences', () => {
  for (const kind of ['toy', 'lookback'] as const) {
    it(`${kind} input, hidden [5, 3], input and output masks: analytic gradients match central differences`, () => {
      const cfg = configOf(kind, [5, 3]);
      const model = createModel(testKernels(), cfg, { maxBatch: 2, maxSteps: 3 });
      model.initialize(new Random(4));
      const ref: RefParams = refParamsFromTensors(cfg, model.exportTensors());
      ref.layers.forEach((L) => L.b.forEach((v, i) => (L.b[i] = v + 0.1 * Math.sin(i))));
      const B = 2, T = 3, M = B * T;
      const inputs = inputsOf(kind, M, 9), labels = labelsOf(cfg.outputSize, M, 10), weights = labels.map((_, i) => 0.2 + 0.1 * (i % 3));
      const rng = new Random(12);
      const K = cfg.input!.entries;
      const masks: RefDropout = {
        input: Array.from({ length: M * K }, () => (rng.float() < 0.7 ? 1 / 0.7 : 0)),
        outputs: cfg.hiddenSizes.map((H) => Array.from({ length: M * H }, () => (rng.float() < 0.5 ? 2 : 0))),
      };
      const lossOf = () => refSoftmaxXent(refForward(ref, inputs, B, T, undefined, masks).logits, cfg.outputSize, labels, weights).loss;
      const cache = refForward(ref, inputs, B, T, undefined, masks);
      const grads = refBackward(ref, cache, refSoftmaxXent(cache.logits, cfg.outputSize, labels, weights).dlogits);
      const h = 1e-6;
      refParamArrays(ref).forEach((p, t) => {
        const numeric = new Float64Array(p.data.length);
        for (let i = 0; i < p.data.length; i++) {
          const keep = p.data[i];
          p.data[i] = keep + h;
          const up = lossOf();
          p.data[i] = keep - h;
          const down = lossOf();
          p.data[i] = keep;
          numeric[i] = (up - down) / (2 * h);
        }
        expectClose(grads[t].data, numeric, { atol: 1e-8, rtol: 1e-6 }, `reference d${p.name} (${kind})`);
        if (p.name === 'lstm.0.w_x') expect(maxAbs(numeric)).toBeGreaterThan(1e-3);
      });
    });
  }
});
