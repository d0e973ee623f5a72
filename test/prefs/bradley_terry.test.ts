// The Bradley–Terry loss of a reward model (src/prefs/bradley_terry.ts) and its gradient, element by element:
// the loss against a plain float64 formula and its gradient against central differences; then the whole
// chain through the model, LstmModel.backwardFromOutputGradient with the loss's gradient at each composition's
// last step, against the float64 reference (src/engine/reference.ts) on ragged shapes of both kernel builds,
// and the reference's chain against finite differences of the loss.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import type { LstmStackConfig } from '../../src/engine/layout.js';
import { refBackward, refForward, refParamArrays, refParamsFromTensors, type RefParams } from '../../src/engine/reference.js';
import { NO_EVENT } from '../../src/music/encoding.js';
import { answerTarget, bradleyTerryLoss, logSigmoid, pairAgreement, sigmoid } from '../../src/prefs/bradley_terry.js';
import { Random } from '../../src/random.js';
import { BUILDS, F32_EPS, expectClose, maxAbs, testKernels, uniform, type Build } from '../engine/support.js';

/** The loss of one pair written the plain way, in float64 (fine for |d| < 30). */
const plainLoss = (d: number, y: number) => -y * Math.log(1 / (1 + Math.exp(-d))) - (1 - y) * Math.log(1 / (1 + Math.exp(d)));

describe('the Bradley–Terry loss', () => {
  const n = 11; // pairs, every kind of target
  const first = Array.from(uniform(n, 3, 21)), second = Array.from(uniform(n, 3, 22));
  const targets = Array.from({ length: n }, (_, i) => [1, 0, 0.5][i % 3]);

  it('equals the plain float64 formula, per pair and as the mean', () => {
    for (let i = 0; i < n; i++) {
      expect(bradleyTerryLoss([first[i]], [second[i]], [targets[i]], 1)).toBeCloseTo(plainLoss(first[i] - second[i], targets[i]), 12);
    }
    const mean = targets.reduce((s, y, i) => s + plainLoss(first[i] - second[i], y), 0) / n;
    expect(bradleyTerryLoss(first, second, targets, n)).toBeCloseTo(mean, 12);
    // A tie is least at equal scores; an answer is won by a wide margin.
    expect(bradleyTerryLoss([0.4], [0.4], [0.5], 1)).toBeCloseTo(Math.LN2, 14);
    expect(bradleyTerryLoss([40], [0], [1], 1)).toBeLessThan(1e-15);
    expect(bradleyTerryLoss([0], [40], [1], 1)).toBeCloseTo(40, 12); // no overflow where exp(40) would lose digits
  });

  it('its gradient matches central differences of the mean loss at every score', () => {
    const dFirst = new Float64Array(n), dSecond = new Float64Array(n);
    bradleyTerryLoss(first, second, targets, n, dFirst, dSecond);
    const h = 1e-6;
    for (const [side, grad] of [[first, dFirst], [second, dSecond]] as const) {
      const numeric = side.map((keep, i) => {
        side[i] = keep + h;
        const up = bradleyTerryLoss(first, second, targets, n);
        side[i] = keep - h;
        const down = bradleyTerryLoss(first, second, targets, n);
        side[i] = keep;
        return (up - down) / (2 * h);
      });
      expectClose(grad, numeric, { atol: 1e-9, rtol: 1e-6 }, 'dloss/dscore');
    }
    // ∂/∂r₁ = (σ(d) − y) / n = −∂/∂r₂
    for (let i = 0; i < n; i++) {
      expect(dFirst[i]).toBeCloseTo((sigmoid(first[i] - second[i]) - targets[i]) / n, 14);
      expect(dSecond[i]).toBe(-dFirst[i]);
    }
  });

  it('stable helpers, targets, agreement and errors', () => {
    expect(logSigmoid(-800)).toBe(-800);
    expect(logSigmoid(800)).toBe(-0);
    expect(sigmoid(-800)).toBe(0);
    expect([answerTarget('A'), answerTarget('B'), answerTarget('none')]).toEqual([1, 0, 0.5]);
    // Ties are left out; equal scores count half.
    expect(pairAgreement([1, 0, 2, 5], [0, 1, 2, 0], [1, 1, 0, 0.5], 4)).toEqual({ agree: 1.5, pairs: 3, share: 0.5 });
    expect(pairAgreement([1], [0], [0.5], 1).share).toBeNull();
    expect(() => bradleyTerryLoss([0], [NaN], [1], 1)).toThrow(/scores of pair 0 \(0, NaN\) are not finite/);
    expect(() => bradleyTerryLoss([0], [0], [2], 1)).toThrow(/target 2 of pair 0 is outside \[0, 1\]/);
  });
});

const I = 38;
const config = (hiddenSizes: number[], outputSize: number): LstmStackConfig => ({ inputSize: I, hiddenSizes, outputSize });

/** Pairs of compositions of ragged lengths, time-major rows (pair i: rows 2i, 2i + 1), padded with NO_EVENT. */
function pairBatch(pairs: number, T: number, seed: number) {
  const rng = new Random(seed);
  const B = 2 * pairs;
  const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + rng.int(T)));
  const inputs = new Array<number>(T * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) inputs[t * B + b] = t < lengths[b] ? rng.int(I) : NO_EVENT;
  const targets = Array.from({ length: pairs }, (_, i) => [1, 0, 0.5][i % 3]);
  return { B, lengths, inputs, targets };
}

/** The Bradley–Terry loss of the float64 reference model on a pair batch (scores: output 0 at each row's last step). */
function referenceLoss(ref: RefParams, batch: ReturnType<typeof pairBatch>, T: number, O: number): { loss: number; dlogits: Float64Array } {
  const { B, lengths, inputs, targets } = batch;
  const logits = refForward(ref, inputs, B, T).logits; // [T*B][O]
  const n = B / 2;
  const score = (b: number) => logits[(lengths[b] - 1) * B * O + b * O];
  const first = Array.from({ length: n }, (_, i) => score(2 * i)), second = Array.from({ length: n }, (_, i) => score(2 * i + 1));
  const dFirst = new Float64Array(n), dSecond = new Float64Array(n);
  const loss = bradleyTerryLoss(first, second, targets, n, dFirst, dSecond);
  const dlogits = new Float64Array(T * B * O);
  for (let i = 0; i < n; i++) {
    dlogits[((lengths[2 * i] - 1) * B + 2 * i) * O] = dFirst[i];
    dlogits[((lengths[2 * i + 1] - 1) * B + 2 * i + 1) * O] = dSecond[i];
  }
  return { loss, dlogits };
}

describe.each(BUILDS)('%s build: the loss through a reward model (backwardFromOutputGradient)', (build: Build) => {
  // Hidden sizes with at least two SIMD iterations and a ragged tail (13: 3 × 4 + 1; 37: 9 × 4 + 1), a stack,
  // the one-unit head and a wider one (3 outputs, the gradient on output 0 only).
  for (const { hidden, O, pairs, T } of [
    { hidden: [13], O: 1, pairs: 3, T: 7 }, { hidden: [37], O: 1, pairs: 5, T: 9 }, { hidden: [13, 9], O: 1, pairs: 4, T: 6 }, { hidden: [9], O: 3, pairs: 2, T: 5 },
  ]) {
    it(`every gradient element against the float64 reference: hidden [${hidden}], ${O} output${O > 1 ? 's' : ''}, ${pairs} pairs of up to ${T} steps`, () => {
      const cfg = config(hidden, O);
      const batch = pairBatch(pairs, T, 100 + hidden[0] + T);
      const model = createModel(testKernels(build), cfg, { maxBatch: batch.B, maxSteps: T, trainable: true });
      model.initialize(new Random(hidden[0] * 7 + pairs), 1.0);
      const ref = refParamsFromTensors(cfg, model.exportTensors());
      const want = referenceLoss(ref, batch, T, O);
      const logits = model.forwardSequence(batch.inputs, batch.B, T);
      // The model's own scores give the loss; its gradient goes in at each row's last step.
      const Q = model.outputStride;
      const n = pairs;
      const score = (b: number) => logits[((batch.lengths[b] - 1) * batch.B + b) * Q];
      const first = Array.from({ length: n }, (_, i) => score(2 * i)), second = Array.from({ length: n }, (_, i) => score(2 * i + 1));
      const dFirst = new Float64Array(n), dSecond = new Float64Array(n);
      const loss = bradleyTerryLoss(first, second, batch.targets, n, dFirst, dSecond);
      expectClose([loss], [want.loss], { atol: 0, rtol: 64 * F32_EPS }, 'loss');
      const d = new Float64Array(T * batch.B * O);
      for (let i = 0; i < n; i++) {
        d[((batch.lengths[2 * i] - 1) * batch.B + 2 * i) * O] = dFirst[i];
        d[((batch.lengths[2 * i + 1] - 1) * batch.B + 2 * i + 1) * O] = dSecond[i];
      }
      model.backwardFromOutputGradient(d, batch.B, T);
      const grads = refBackward(ref, refForward(ref, batch.inputs, batch.B, T), want.dlogits);
      // As for the sequence training step (test/engine/model.test.ts): sums over B·T rows of f32 products, with
      // an absolute floor of 1e-5 of the tensor's largest element. output.b's gradient is Σ of each pair's two
      // opposite terms, exactly 0 in float64: its f32 sum keeps the rounding of its B terms of size |d| at most.
      const floor = 4 * batch.B * maxAbs(d) * F32_EPS;
      for (const g of grads) {
        expectClose(model.exportGradient(g.name), g.data, { atol: Math.max(1e-5 * maxAbs(g.data), floor), rtol: 128 * F32_EPS }, `d${g.name}`);
      }
      expect(maxAbs(grads.find((g) => g.name === 'lstm.0.w_h')!.data)).toBeGreaterThan(0); // the gradient reached the recurrence
    });
  }

  it('refuses a gradient that is short or not finite, and a model planned without gradients', () => {
    const model = createModel(testKernels(build), config([5], 1), { maxBatch: 2, maxSteps: 3, trainable: true });
    model.initialize(new Random(3));
    model.forwardSequence([2, 3, 4, 5, 6, 7], 2, 3);
    expect(() => model.backwardFromOutputGradient([0, 0, 0], 2, 3)).toThrow(/expected 6 values \(3 steps x batch 2 x 1 outputs\), got 3/);
    expect(() => model.backwardFromOutputGradient([0, 0, Infinity, 0, 0, 0], 2, 3)).toThrow(/value Infinity at row 2, output 0 is not finite/);
    const frozen = createModel(testKernels(build), config([5], 1), { maxBatch: 2, maxSteps: 3 });
    expect(() => frozen.backwardFromOutputGradient([0, 0, 0, 0, 0, 0], 2, 3)).toThrow(/planned without gradients/);
  });
});

describe('the reference chain against finite differences of the Bradley–Terry loss', () => {
  it('hidden [5], one output, 3 pairs of ragged lengths: every parameter', () => {
    const T = 4, O = 1;
    const cfg = config([5], O);
    const batch = pairBatch(3, T, 7);
    const model = createModel(testKernels(), cfg, { maxBatch: batch.B, maxSteps: T });
    model.initialize(new Random(5));
    const ref = refParamsFromTensors(cfg, model.exportTensors());
    ref.layers.forEach((L) => L.b.forEach((v, i) => (L.b[i] = v + 0.1 * Math.sin(i))));
    const grads = refBackward(ref, refForward(ref, batch.inputs, batch.B, T), referenceLoss(ref, batch, T, O).dlogits);
    const h = 1e-6;
    refParamArrays(ref).forEach((p, k) => {
      const numeric = new Float64Array(p.data.length);
      for (let i = 0; i < p.data.length; i++) {
        const keep = p.data[i];
        p.data[i] = keep + h;
        const up = referenceLoss(ref, batch, T, O).loss;
        p.data[i] = keep - h;
        const down = referenceLoss(ref, batch, T, O).loss;
        p.data[i] = keep;
        numeric[i] = (up - down) / (2 * h);
      }
      expectClose(grads[k].data, numeric, { atol: 1e-9, rtol: 1e-6 }, `reference d${p.name}`);
    });
  });
});
