// Kernels on several threads give the bits of one thread: every split kernel against the same kernel
// run whole, on ragged shapes; a two-layer model training (BPTT and the TD update) on 1, 2 and 3 threads;
// a lookback model with dropout on 128-step windows likewise;
// a tuner run on 2 threads against 1, and its exact resume from a checkpoint.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { kernelsFromModule, type KernelExports, type Kernels } from '../../src/engine/kernels.js';
import { cutPoints, KernelThreads, type StartKernelThread } from '../../src/engine/kernel_threads.js';
import { decodeModel, encodeModel } from '../../src/io/model_file.js';
import { DEFAULT_ADAM } from '../../src/engine/lstm_model.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { encodingConfig, LOOKBACK_ENCODING } from '../../src/music/encodings.js';
import { Random } from '../../src/random.js';
import { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint } from '../../src/rl/checkpoint.js';
import { resolveConfig } from '../../src/rl/config.js';
import { PgTuner } from '../../src/rl/pg.js';
import { RlTuner } from '../../src/rl/tuner.js';
import { runIntervals } from '../rl/support.js';
import { testKernels, uniform } from './support.js';

/** Helper threads run the built module (dist/node/kernel_thread.js): a worker cannot load the TypeScript. */
const startDistThread: StartKernelThread = (start) => {
  const worker = new Worker(new URL('../../dist/node/kernel_thread.js', import.meta.url), { workerData: { rltunerKernelThread: start } });
  worker.unref();
  return { terminate: () => worker.terminate() };
};

const sharedBuild = (): Kernels => kernelsFromModule(new WebAssembly.Module(readFileSync(new URL('../../dist/rltuner-shared.wasm', import.meta.url))));

let two: KernelThreads;
let three: KernelThreads;
beforeAll(async () => {
  // alwaysShare: split even when a helper was late (a busy machine), so every test exercises the parts.
  two = await KernelThreads.start(sharedBuild(), 2, startDistThread, 1 << 30, { alwaysShare: true });
  three = await KernelThreads.start(sharedBuild(), 3, startDistThread, 1 << 30, { alwaysShare: true });
});
afterAll(() => {
  two?.close();
  three?.close();
});

describe('cutPoints', () => {
  it('cuts at multiples of the unit, the last part taking the remainder, and never more parts than units', () => {
    expect(cutPoints(32, 2, 4)).toEqual([0, 16, 32]);
    expect(cutPoints(30, 2, 4)).toEqual([0, 16, 30]); // 7 units: 4 + 3, then the 2 leftover rows
    expect(cutPoints(400, 3, 8)).toEqual([0, 136, 264, 400]);
    expect(cutPoints(5, 2, 8)).toEqual([0, 5]);
    expect(cutPoints(12, 4, 4)).toEqual([0, 4, 8, 12]);
    expect(cutPoints(0, 2, 4)).toEqual([0, 0]);
  });
});

describe('split kernels', () => {
  /** Runs `call` through the split exports and through the whole kernel on the same inputs; compares every output byte. */
  function sameAsWhole(threads: KernelThreads, bytes: number, fill: (f: Float32Array, i: Int32Array) => void, call: (k: KernelExports, base: number) => void) {
    const at = threads.claim(bytes);
    const f32 = new Float32Array(threads.memory.buffer, at, bytes / 4);
    const i32 = new Int32Array(threads.memory.buffer, at, bytes / 4);
    fill(f32, i32);
    const before = new Uint8Array(threads.memory.buffer, at, bytes).slice();
    const posted = threads.partsPosted;
    call(threads.exports, at);
    expect(threads.partsPosted, 'the call was split').toBeGreaterThan(posted);
    const split = new Uint8Array(threads.memory.buffer, at, bytes).slice();
    new Uint8Array(threads.memory.buffer, at, bytes).set(before);
    call((threads as unknown as { local: KernelExports }).local, at);
    const whole = new Uint8Array(threads.memory.buffer, at, bytes);
    let differing = 0;
    for (let j = 0; j < bytes; j++) if (split[j] !== whole[j]) differing++;
    expect(differing, 'bytes that differ from the whole call').toBe(0);
  }

  const random = (f: Float32Array, seed: number) => f.set(uniform(f.length, 1.5, seed));

  for (const threadCount of [2, 3]) {
    it(`on ${threadCount} threads, every split kernel writes exactly what the whole kernel writes (ragged shapes)`, () => {
      const t = threadCount === 2 ? two : three;
      const F = 4;
      // gemm: out[M][N] (=, +=, bias +) a[M][K] . W; M = 37 leaves leftover rows, N = 404 a half panel.
      // Cut by rows (M = 203 rows outweigh 41 × 304 weights), and by columns (a 1,000 × 404 W outweighs 37 rows;
      // N = 404 leaves a half panel, M = 37 a leftover row).
      for (const [M, K, N, ldo, lda] of [[203, 41, 304, 304, 44], [37, 1000, 404, 408, 1000]]) for (const op of ['gemm_packed_set', 'gemm_packed_accumulate', 'gemm_packed_bias_set'] as const) {
        const out = 0, a = out + M * ldo * F, w = a + M * lda * F, bias = w + K * N * F, end = bias + N * F;
        sameAsWhole(t, end, (f) => random(f, 11), (k, base) => {
          if (op === 'gemm_packed_bias_set') k.gemm_packed_bias_set(base + out, ldo, base + a, lda, base + w, base + bias, M, K, N);
          else k[op](base + out, ldo, base + a, lda, base + w, M, K, N);
        });
      }
      {
        const M = 65, K = 100, N = 400, lda = 104, ldd = 400; // weight-gradient panels
        const dw = 0, a = dw + K * N * F, d = a + M * lda * F, end = d + M * ldd * F;
        sameAsWhole(t, end, (f) => random(f, 12), (k, base) => {
          k.outer_accumulate(base + dw, base + a, lda, base + d, ldd, M, K, N);
        });
      }
      {
        const M = 203, N = 404, ldo = 404, ldt = 404, rows = 38;
        const out = 0, bias = out + M * ldo * F, table = bias + N * F, tokens = table + rows * ldt * F, d = tokens + M * 4, end = d + M * N * F;
        const fill = (f: Float32Array, i: Int32Array) => {
          random(f, 13);
          for (let m = 0; m < M; m++) i[tokens / 4 + m] = (m * 7) % rows; // repeated tokens
        };
        sameAsWhole(t, end, fill, (k, base) => {
          k.gather_bias_rows(base + out, ldo, base + bias, base + table, ldt, base + tokens, M, N);
        });
        sameAsWhole(t, end, fill, (k, base) => {
          k.scatter_rows_accumulate(base + table, ldt, base + tokens, base + d, N, M, N);
        });
        sameAsWhole(t, end, fill, (k, base) => {
          k.colsum_accumulate(base + bias, base + d, N, M, N);
        });
      }
      {
        // A sparse input's weighted rows (the lookback encoding's 10 entries of 121 rows; some values 0, skipped).
        const M = 203, N = 404, K = 10, ldo = 404, ldt = 404, rows = 121;
        const out = 0, bias = out + M * ldo * F, table = bias + N * F, indices = table + rows * ldt * F, values = indices + M * K * 4;
        const d = values + M * K * F, end = d + M * N * F;
        const fill = (f: Float32Array, i: Int32Array) => {
          random(f, 17);
          for (let e = 0; e < M * K; e++) i[indices / 4 + e] = (e * 7) % rows; // rows shared across entries
          for (let e = 0; e < M * K; e++) f[values / 4 + e] = [1, -1, 0, 2, 0.5][e % 5];
        };
        sameAsWhole(t, end, fill, (k, base) => {
          k.gather_weighted_rows_bias_set(base + out, ldo, base + bias, base + table, ldt, base + indices, base + values, K, M, N);
        });
        sameAsWhole(t, end, fill, (k, base) => {
          k.scatter_weighted_rows_accumulate(base + table, ldt, base + indices, base + values, K, base + d, N, M, N);
        });
      }
      {
        const B = 37, P = 116, G = 4 * P, ldd = G + 16; // dpre rows padded, as a model pads them at G % 256 == 0
        const act = 0, c = act + B * G * F, tanhC = c + B * P * F, h = tanhC + B * P * F, cPrev = h + B * P * F;
        const dpre = cPrev + B * P * F, dcPrev = dpre + B * ldd * F, dh = dcPrev + B * P * F, end = dh + B * P * F;
        sameAsWhole(t, end, (f) => random(f, 14), (k, base) => {
          k.lstm_cell_forward(base + act, base + c, base + tanhC, base + h, base + act, base + cPrev, B, P);
        });
        sameAsWhole(t, end, (f) => random(f, 15), (k, base) => {
          k.lstm_cell_backward_set(base + dpre, base + dcPrev, base + dh, base + dcPrev, base + act, base + cPrev, base + tanhC, B, P, ldd);
        });
      }
      {
        const M = 517, C = 38, ld = 40;
        const logits = 0, logp = logits + M * ld * F, argmax = logp + M * F, labels = argmax + M * 4, weight = labels + M * 4, dlogits = weight + M * F, end = dlogits + M * ld * F;
        const fill = (f: Float32Array, i: Int32Array) => {
          random(f, 16);
          for (let m = 0; m < M; m++) i[labels / 4 + m] = (m * 5) % C;
          for (let m = 0; m < M; m++) f[weight / 4 + m] = m % 7 === 0 ? 0 : 1 / M;
        };
        sameAsWhole(t, end, fill, (k, base) => {
          k.softmax_xent_forward(base + logp, base + argmax, base + logits, ld, base + labels, M, C);
        });
        sameAsWhole(t, end, fill, (k, base) => {
          k.softmax_xent_backward_set(base + dlogits, base + logits, ld, base + labels, base + weight, M, C);
        });
      }
    });
  }
});

describe('a model on several threads', () => {
  it('trains (BPTT and the TD update) to the same bits on 1, 2 and 3 threads', () => {
    const run = (kernels: Kernels) => {
      // Big enough that the first layer's gemms, weight gradients and cells are cut (67 rows × H = 100).
      const model = createModel(kernels, { inputSize: NUM_CLASSES, hiddenSizes: [100, 36], outputSize: NUM_CLASSES }, { maxBatch: 67, maxSteps: 5, trainable: true });
      model.initialize(new Random(5));
      const B = 67, T = 5;
      const inputs = Array.from({ length: B * T }, (_, i) => (i * 7) % NUM_CLASSES);
      const labels = Array.from({ length: B * T }, (_, i) => (i * 5 + 3) % NUM_CLASSES);
      const weights = Array.from({ length: B * T }, (_, i) => (i % 11 === 0 ? 0 : 1));
      const losses = [];
      for (let i = 0; i < 3; i++) losses.push(model.trainSequence(inputs, labels, weights, B, T));
      const states = Float32Array.from(uniform(B * model.stateSize, 0.8, 3));
      const tokens = Array.from({ length: B }, (_, i) => i % NUM_CLASSES);
      const targets = Array.from({ length: B }, (_, i) => Math.cos(i));
      for (let i = 0; i < 3; i++) losses.push(model.tdUpdate(states, tokens, tokens, targets, B));
      return { params: Array.from(model.params), adamV: Array.from(model.adamV), logits: Array.from(model.forwardSequence(inputs, B, T)), losses };
    };
    const one = run(testKernels());
    const postedBefore = two.partsPosted + three.partsPosted;
    const onTwo = run(two.kernels);
    const onThree = run(three.kernels);
    expect(two.partsPosted + three.partsPosted).toBeGreaterThan(postedBefore);
    expect(onTwo).toEqual(one);
    expect(onThree).toEqual(one);
  });
});

describe('a lookback model with dropout on several threads', () => {
  it('trains 128-step windows to the same bits on 1, 2 and 3 threads (masks from the same seed)', () => {
    const run = (kernels: Kernels) => {
      const model = createModel(kernels, encodingConfig(LOOKBACK_ENCODING, [100]), { maxBatch: 16, maxSteps: 128, trainable: true, dropout: true });
      model.initialize(new Random(6));
      const B = 16, T = 128;
      const melody = Array.from({ length: B * T + 1 }, (_, i) => (i % 3 === 0 ? 2 + ((i * 5) % 36) : 1));
      const inputs = Array.from({ length: B * T }, (_, i) => LOOKBACK_ENCODING.inputAt(melody, i, { stepsPerBar: 16, barPosition: 0 }));
      const labels = Array.from({ length: B * T }, (_, i) => LOOKBACK_ENCODING.labelAt(melody, i + 1, { stepsPerBar: 16, barPosition: 0 }));
      const weights = Array.from({ length: B * T }, (_, i) => (i % 11 === 0 ? 0 : 1));
      const masks = new Random(8);
      const losses = [];
      for (let i = 0; i < 2; i++) {
        losses.push(model.trainSequence(inputs, labels, weights, B, T, { ...DEFAULT_ADAM, weightDecay: 0.01 }, { mode: 'global', maxNorm: 5 }, 'carried', { input: 0.1, output: 0.5, source: masks }));
      }
      return { params: Array.from(model.params), adamV: Array.from(model.adamV), logits: Array.from(model.forwardSequence(inputs, B, T)), losses };
    };
    const one = run(testKernels());
    const postedBefore = two.partsPosted + three.partsPosted;
    const onTwo = run(two.kernels);
    const onThree = run(three.kernels);
    expect(two.partsPosted + three.partsPosted).toBeGreaterThan(postedBefore);
    expect(onTwo).toEqual(one);
    expect(onThree).toEqual(one);
  });
});

describe('a tuner on two threads', () => {
  const noteRnn = () => {
    const model = createModel(testKernels(), { inputSize: NUM_CLASSES, hiddenSizes: [100], outputSize: NUM_CLASSES }, { maxBatch: 1 });
    model.initialize(new Random(7));
    return decodeModel(encodeModel(model));
  };
  const config = resolveConfig('g', { trainingSteps: 1280, explorationSteps: 640, replayCapacity: 700, logEvery: 320, evalEvery: 0, checkpointEvery: 0 });
  const run = runIntervals;

  it('runs the same steps as on one thread, and resumes from its checkpoint to the same bits', () => {
    const weights = noteRnn();
    const single = new RlTuner(testKernels(), weights, config);
    const singleMetrics = run(single, 1280);
    const straight = new RlTuner(two.kernels, weights, config);
    const straightMetrics = run(straight, 1280);
    expect(straightMetrics).toEqual(singleMetrics);
    expect(Array.from(straight.q.params)).toEqual(Array.from(single.q.params));

    const first = new RlTuner(two.kernels, weights, config);
    const firstMetrics = run(first, 640);
    const checkpoint = readTunerCheckpoint(encodeTunerCheckpoint(first));
    const resumed = new RlTuner(two.kernels, weights, checkpoint.config);
    restoreTunerCheckpoint(resumed, checkpoint);
    const restMetrics = run(resumed, 1280);
    expect([...firstMetrics, ...restMetrics]).toEqual(straightMetrics);
    expect(Array.from(resumed.q.params)).toEqual(Array.from(straight.q.params));
    expect(Array.from(resumed.target.params)).toEqual(Array.from(straight.target.params));
  });

  it('pg: a policy-gradient run on 2 threads (the large calls of its BPTT split) gives the bits of one thread', () => {
    const shipped = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));
    const pg = resolveConfig('classic', { algorithm: 'pg', pgGroups: 4, pgGroupSize: 8, trainingSteps: 4096, evalCompositions: 0 });
    const single = new PgTuner(testKernels(), shipped, pg);
    const posted = two.partsPosted;
    const split = new PgTuner(two.kernels, shipped, pg);
    for (let u = 0; u < 3; u++) {
      single.trainUnit();
      split.trainUnit();
    }
    expect(two.partsPosted).toBeGreaterThan(posted);
    expect(Array.from(split.policy.params)).toEqual(Array.from(single.policy.params));
    expect(split.takeIntervalMetrics()).toEqual(single.takeIntervalMetrics());
  });

  it('on a lookback prior (the Target network\'s deferred forward reads weighted rows) runs the same steps as on one thread', () => {
    const model = createModel(testKernels(), encodingConfig(LOOKBACK_ENCODING, [100]), { maxBatch: 1 });
    model.initialize(new Random(9));
    const weights = decodeModel(encodeModel(model));
    const lookbackConfig = { ...config, trainingSteps: 640, algorithm: 'g' as const };
    const single = new RlTuner(testKernels(), weights, lookbackConfig);
    const singleMetrics = run(single, 640);
    const onTwo = new RlTuner(two.kernels, weights, lookbackConfig);
    expect(run(onTwo, 640)).toEqual(singleMetrics);
    expect(Array.from(onTwo.q.params)).toEqual(Array.from(single.q.params));
  });
});
