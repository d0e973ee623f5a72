// The tuning loop's SPEC behaviours, each checked against values computed here by hand: the ε schedule,
// what the replay stores, the reward of each algorithm, the soft update, the driver's schedule and
// exact resume under every kind of run.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { evaluatePolicy } from '../../src/eval/evaluation.js';
import { decodeModel, encodeModel } from '../../src/io/model_file.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { Random } from '../../src/random.js';
import { CheckpointCopies, encodeTunerCheckpoint, encodeTunerCheckpointDetached, readTunerCheckpoint, restoreTunerCheckpoint, CheckpointError } from '../../src/rl/checkpoint.js';
import { joinParts } from '../../src/io/safetensors.js';
import { resolveConfig, type TunerConfig } from '../../src/rl/config.js';
import { runTuning, type LogRecord } from '../../src/rl/driver.js';
import { MelodyEnv } from '../../src/rl/env.js';
import { policyProbabilities, primingFor, sampleCompositions, type Priming } from '../../src/policy/sampling.js';
import { logSoftmaxRow } from '../../src/policy/softmax.js';
import { evaluationSeed, RlTuner } from '../../src/rl/tuner.js';
import { C_MAJOR_RULES, intervalsReward, musicTheoryReward, newLeapState } from '../../src/rules/rules.js';
import { compositionTerms } from '../../src/rules/composition.js';
import { testKernels } from '../engine/support.js';

function smallNoteRnn(seed = 3) {
  const model = createModel(testKernels(), { inputSize: NUM_CLASSES, hiddenSizes: [12], outputSize: NUM_CLASSES }, { maxBatch: 1 });
  model.initialize(new Random(seed));
  return decodeModel(encodeModel(model));
}

const config = (overrides: Partial<TunerConfig> = {}): TunerConfig =>
  resolveConfig('classic', {
    trainingSteps: 1280, explorationSteps: 640, replayCapacity: 500, logEvery: 100, evalEvery: 0, checkpointEvery: 0,
    evalCompositions: 0, ...overrides,
  });

function randomMelodies(count: number, length: number, seed: number): Uint8Array[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => Uint8Array.from({ length }, () => rng.int(NUM_CLASSES)));
}

describe('exploration', () => {
  it('ε anneals linearly over training steps only; evaluation actions do not count', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ initialEpsilon: 1, finalEpsilon: 0.1, explorationSteps: 640 }));
    expect(tuner.epsilon()).toBe(1);
    for (let i = 0; i < 320; i++) tuner.step();
    expect(tuner.counters.step).toBe(320);
    expect(tuner.epsilon()).toBeCloseTo(1 - 0.9 * 0.5, 12);
    tuner.evaluatePolicy(50, 320);
    tuner.compareWithNoteRnn(20);
    expect(tuner.counters.step).toBe(320);
    expect(tuner.epsilon()).toBeCloseTo(0.55, 12);
    for (let i = 0; i < 640; i++) tuner.step();
    expect(tuner.epsilon()).toBeCloseTo(0.1, 12);
  });

  it('Boltzmann exploration stores the action it played, which is often not the argmax', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ explorationMode: 'boltzmann', temperature: 2 }));
    let notArgmax = 0;
    for (let i = 0; i < 64; i++) {
      const beat = tuner.env.beat;
      tuner.step();
      const slot = i;
      // The env's composition holds what was played; the replay must hold the same action.
      expect(tuner.replay.action[slot]).toBe(tuner.env.composition[beat]);
      // The next input is the action played.
      if (beat < 31) expect(tuner.env.token).toBe(tuner.replay.action[slot]);
      const before = new Float32Array(tuner.q.stateSize);
      tuner.replay.gatherStates('qBefore', [slot], 1, before);
      const qRow = tuner.q.forwardFrom(before, [tuner.replay.tokenIn[slot]], 1);
      let best = 0;
      for (let j = 1; j < NUM_CLASSES; j++) if (qRow[j] > qRow[best]) best = j;
      if (best !== tuner.replay.action[slot]) notArgmax++;
    }
    expect(notArgmax).toBeGreaterThan(16);
  });
});

describe('what the replay stores for G', () => {
  it("log p(·|s') of each transition: the Reward RNN's after reading a_t, as the env acts on at the next step", () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ algorithm: 'g' }));
    const reference = createModel(testKernels(), tuner.reward.config, { maxBatch: 1 });
    reference.copyWeightsFrom(tuner.reward);
    const S = reference.stateSize;
    const state = new Float32Array(S);
    for (let i = 0; i < 100; i++) {
      // The Reward RNN's state at s_t (after it read x_t), from which reading a_t gives s_{t+1}.
      if (!tuner.env.betweenCompositions) tuner.reward.getStateRow(0, state);
      const atStart = tuner.env.betweenCompositions;
      tuner.step();
      const slot = i;
      if (tuner.replay.terminal[slot]) continue;
      const stored = new Float32Array(NUM_CLASSES);
      tuner.replay.gatherNextLogProbs([slot], 1, stored);
      expect(Array.from(stored)).toEqual(Array.from(tuner.env.logPrior));
      if (atStart) continue;
      // Recompute from the state before the step by hand (batch 1, as the env steps).
      const logits = reference.forwardFrom(state, [tuner.replay.action[slot]], 1);
      const expected = new Float32Array(NUM_CLASSES);
      logSoftmaxRow(logits, 0, NUM_CLASSES, expected);
      expect(Array.from(stored)).toEqual(Array.from(expected));
    }
    // One slot more than the capacity of 500 holds the newest transition's after-state.
    expect(tuner.replay.bytesPerTransition).toBeCloseTo(((7 + 4 * S + 4 * NUM_CLASSES) * 501) / 500, 9);
  });
});

describe('MelodyEnv rewards', () => {
  const noteRnn = smallNoteRnn(5);
  const model = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
  model.importTensors(noteRnn.tensors);
  const actions = [14, 1, 16, 1, 18, 0, 21, 1, 23, 14, 30, 1];

  for (const [algorithm, musicTheoryOnly] of [['q', false], ['psi', false], ['g', false], ['q', true]] as const) {
    it(`${algorithm}${musicTheoryOnly ? ', music theory only' : ''}: r = ${algorithm === 'g' || musicTheoryOnly ? 's·r_MT' : 'log p(a|s) + s·r_MT'}`, () => {
      const env = new MelodyEnv(model, { algorithm, numNotes: 12, rewardScaler: 2.5, musicTheoryOnly, ruleWeights: new Array(9).fill(1) }, { ...C_MAJOR_RULES, numNotes: 12 }, { kind: 'primer', tokens: [14, 1, 18] });
      expect(Array.from(env.startComposition(new Random(1)))).toEqual([14, 1]);
      expect(env.token).toBe(18);
      // The same prefix, stepped by hand, gives the prior's log p.
      const reference = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
      reference.importTensors(noteRnn.tensors);
      reference.resetState(1);
      reference.step([14], 1);
      reference.step([1], 1);
      const leap = newLeapState();
      actions.forEach((a, beat) => {
        const logits = Float64Array.from(reference.step([beat === 0 ? 18 : actions[beat - 1]], 1).subarray(0, NUM_CLASSES));
        const logp = new Float64Array(NUM_CLASSES);
        logSoftmaxRow(logits, 0, NUM_CLASSES, logp);
        // The env's Reward RNN has read this step's input already (at reset, or on the previous step).
        expect(Array.from(env.priorLogits)).toEqual(Array.from(Float32Array.from(logits)));
        for (let c = 0; c < NUM_CLASSES; c++) expect(env.logPrior[c]).toBeCloseTo(logp[c], 5);
        const mt = musicTheoryReward(Uint8Array.from(actions.slice(0, beat)), beat, a, leap, { ...C_MAJOR_RULES, numNotes: 12 }).total;
        const out = env.step(a);
        expect(out.musicTheory).toBeCloseTo(mt, 9);
        expect(out.logProb).toBeCloseTo(logp[a], 5);
        const expected = algorithm === 'g' || musicTheoryOnly ? 2.5 * mt : logp[a] + 2.5 * mt;
        expect(out.reward).toBeCloseTo(expected, 4);
        expect(out.done).toBe(beat === 11);
      });
      expect(env.betweenCompositions).toBe(true);
      expect(() => env.step(1)).toThrow(/call startComposition\(\) to start each composition/);
    });
  }
});

describe('the reward, opened', () => {
  it('rule weights: r_MT = Σ w_i r_i, each rule still logged unweighted', () => {
    const noteRnn = smallNoteRnn(5);
    const model = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
    model.importTensors(noteRnn.tensors);
    const weights = [0, 2, 1, 0.5, 3, 1, 0, 1, 1];
    const env = new MelodyEnv(model, { algorithm: 'q', numNotes: 8, rewardScaler: 1, musicTheoryOnly: true, ruleWeights: weights }, { ...C_MAJOR_RULES, numNotes: 8 }, { kind: 'random_note' });
    env.startComposition(new Random(2));
    const leap = newLeapState();
    const actions = [15, 14, 1, 21, 9, 1, 0, 14];
    actions.forEach((a, beat) => {
      const plain = musicTheoryReward(Uint8Array.from(actions.slice(0, beat)), beat, a, leap, { ...C_MAJOR_RULES, numNotes: 8 });
      const out = env.step(a);
      expect(Array.from(out.perRule)).toEqual(Array.from(plain.perRule));
      expect(out.musicTheory).toBeCloseTo(plain.perRule.reduce((sum, r, i) => sum + weights[i] * r, 0), 12);
    });
  });

  it('composition terms: s·Σ v_j c_j joins the reward of the last step only; each term is reported unweighted', () => {
    const noteRnn = smallNoteRnn(5);
    // One Reward RNN per env: an env steps its model's state.
    const models = [0, 1].map(() => createModel(testKernels(), noteRnn.config, { maxBatch: 1 }));
    for (const m of models) m.importTensors(noteRnn.tensors);
    const ctx = { ...C_MAJOR_RULES, numNotes: 64 };
    // Two bars (a figure, then C4 held for a bar) played twice: the 2-bar window recurs, and the last note,
    // C4 on step 48, is the tonic on a strong beat.
    const half = [16, 1, 18, 1, 21, 1, 1, 1, 18, 1, 16, 1, 18, 1, 16, 1, 14, ...new Array(15).fill(1)];
    const actions = [...half, ...half];
    const weights = [1, 0.5, 2, 1.5];
    const terms = compositionTerms(actions, ctx);
    expect(terms[0]).toBe(3);
    expect(terms[3]).toBe(3);
    for (const algorithm of ['q', 'g'] as const) {
      const env = new MelodyEnv(models[0], { algorithm, numNotes: 64, rewardScaler: 0.5, musicTheoryOnly: false, ruleWeights: new Array(9).fill(1), compositionWeights: weights }, ctx, { kind: 'random_note' });
      const plain = new MelodyEnv(models[1], { algorithm, numNotes: 64, rewardScaler: 0.5, musicTheoryOnly: false, ruleWeights: new Array(9).fill(1) }, ctx, { kind: 'random_note' });
      env.startComposition(new Random(4));
      plain.startComposition(new Random(4));
      actions.forEach((a, beat) => {
        const out = env.step(a); // each env has its own outcome object
        const base = plain.step(a);
        expect(out.done).toBe(beat === 63);
        if (beat < 63) {
          expect(out.reward).toBe(base.reward);
          expect(out.composition).toBe(0);
          expect(Array.from(out.perComposition)).toEqual([0, 0, 0, 0]);
        } else {
          const extra = weights.reduce((sum, w, j) => sum + w * terms[j], 0);
          expect(out.composition).toBeCloseTo(extra, 12);
          expect(Array.from(out.perComposition)).toEqual(Array.from(terms));
          expect(Array.from(base.perComposition)).toEqual(Array.from(terms)); // reported without weights too
          expect(base.composition).toBe(0);
          expect(out.musicTheory).toBeCloseTo(base.musicTheory + extra, 12);
          expect(out.reward).toBeCloseTo(base.reward + 0.5 * extra, 9);
        }
      });
    }
  });

  it('composition weights of 0 add nothing to the reward, not even a 0, while the terms are still reported', () => {
    const noteRnn = smallNoteRnn(5);
    const [model, other] = [0, 1].map(() => createModel(testKernels(), noteRnn.config, { maxBatch: 1 }));
    model.importTensors(noteRnn.tensors);
    other.importTensors(noteRnn.tensors);
    const ctx = { ...C_MAJOR_RULES, numNotes: 16 };
    const settings = { algorithm: 'g' as const, numNotes: 16, rewardScaler: 1, musicTheoryOnly: false, ruleWeights: new Array(9).fill(1) };
    const zero = new MelodyEnv(model, { ...settings, compositionWeights: [0, 0, 0, 0] }, ctx, { kind: 'random_note' });
    const none = new MelodyEnv(other, settings, ctx, { kind: 'random_note' });
    zero.startComposition(new Random(1));
    none.startComposition(new Random(1));
    const actions = [14, 1, 1, 1, 16, 1, 18, 1, 21, 1, 1, 1, 14, 1, 1, 1];
    let last: Float64Array | null = null;
    for (const a of actions) {
      const x = zero.step(a), y = none.step(a);
      expect(Object.is(x.reward, y.reward)).toBe(true);
      last = x.perComposition;
    }
    expect(Array.from(last!)).toEqual(Array.from(compositionTerms(actions, ctx)));
    expect(() => new MelodyEnv(model, { ...settings, compositionWeights: [1, 2] }, ctx, { kind: 'random_note' })).toThrow(/2 composition weights given, 4 composition terms/);
  });

  it("the tonic-dominant bonus scales rule 7's extra for holds and rests after C or G", () => {
    // C4 (14) then a hold: code −2.5, base 0.3 with the bonus, 0.075 (a plain hold) without.
    expect(intervalsReward([14], 1, 1)).toBeCloseTo(5 * 0.3, 12);
    expect(intervalsReward([14], 1, 1, { ...C_MAJOR_RULES, tonicDominantBonus: 0 })).toBeCloseTo(5 * 0.075, 12);
    expect(intervalsReward([14], 1, 0, { ...C_MAJOR_RULES, tonicDominantBonus: 0.5 })).toBeCloseTo(5 * (0.05 + 0.5 * 0.1), 12);
    // After D4 (16) nothing changes.
    expect(intervalsReward([16], 1, 1, { ...C_MAJOR_RULES, tonicDominantBonus: 0 })).toBeCloseTo(5 * 0.075, 12);
  });

  it('adaptive KL: at each adaptation β = 1/s moves by e·n/horizon, e = clip(KL/target − 1, ±0.2)', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ klTarget: 0.05, klHorizon: 1000, rewardScaler: 2 }));
    let s = 2;
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 96; i++) tuner.step();
      const m = tuner.takeIntervalMetrics();
      tuner.adaptRewardScaler();
      expect(m['charts/reward_scaler']).toBeCloseTo(s, 12);
      expect(m['charts/kl']).toBeGreaterThanOrEqual(0);
      const e = Math.min(0.2, Math.max(-0.2, m['charts/kl'] / 0.05 - 1));
      s = 1 / ((1 / s) * (1 + (e * 96) / 1000));
      expect(tuner.env.rewardScaler).toBeCloseTo(s, 12);
    }
    expect(tuner.env.rewardScaler).not.toBe(2);
    expect(() => config({ klTarget: 0.1, rewardScaler: 0 })).toThrow(/klTarget = 0.1 needs a positive rewardScaler/);
  });
});

describe('learning', () => {
  it('every update is followed by the soft target update θ_T ← (1 − η)θ_T + ηθ', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ targetUpdateRate: 0.25 }));
    for (let i = 0; i < 40; i++) tuner.step();
    expect(tuner.counters.updates).toBe(2); // at steps 35 and 40: the multiples of 5 with >= 32 transitions stored
    const before = Float64Array.from(tuner.target.params);
    tuner.learn();
    const q = tuner.q.params;
    const after = tuner.target.params;
    for (let i = 0; i < after.length; i++) expect(Math.abs(after[i] - (0.75 * before[i] + 0.25 * q[i]))).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(before[i])));
    expect(tuner.counters.updates).toBe(3);
  });

  it('the logged mean Q is Q(s, a) of the minibatch before the update', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config());
    for (let i = 0; i < 60; i++) tuner.step();
    tuner.takeIntervalMetrics();
    // Replay the agent's draw with a copy of the random state to know the minibatch.
    const rng = new Random(0);
    rng.setState(tuner.rng.getState());
    const idx = new Int32Array(32);
    tuner.replay.draw(rng, 32, idx);
    const S = tuner.q.stateSize;
    const states = new Float32Array(32 * S);
    tuner.replay.gatherStates('qBefore', idx, 32, states);
    const logits = tuner.q.forwardFrom(states, Array.from(idx, (j) => tuner.replay.tokenIn[j]), 32);
    let sum = 0;
    for (let i = 0; i < 32; i++) sum += logits[i * tuner.q.outputStride + tuner.replay.action[idx[i]]];
    tuner.learn();
    const m = tuner.takeIntervalMetrics();
    expect(m['losses/q_values']).toBeCloseTo(sum / 32, 5);
  });
});

describe('the driver', () => {
  it('logs, evaluates and checkpoints on the config schedule, with steps per second and mean Q', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 640, logEvery: 128, evalEvery: 320, checkpointEvery: 256, evalCompositions: 20, sampleCount: 3 }));
    const events: string[] = [];
    const logs: LogRecord[] = [];
    const outcome = await runTuning(tuner, {
      onLog: (m) => { logs.push(m); events.push(`log ${m.step}`); },
      onEvaluation: (r) => { events.push(`eval ${r.step}`); },
      onCheckpoint: (t) => { events.push(`checkpoint ${t.counters.step}`); },
    });
    expect(events).toEqual(['log 128', 'log 256', 'checkpoint 256', 'eval 320', 'log 384', 'log 512', 'checkpoint 512', 'log 640', 'checkpoint 640']);
    for (const m of logs) {
      expect(m['charts/SPS']).toBeGreaterThan(0);
      expect(Number.isFinite(m['losses/q_values'])).toBe(true);
    }
    expect(outcome.stopped).toBe(false);
    expect(outcome.final?.samples.tuned).toHaveLength(3);
    expect(outcome.final?.noteRnn.compositions).toHaveLength(20);
  });

  it('adapts the reward scaler on its own schedule (klEvery), apart from the logging interval', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 640, logEvery: 128, klEvery: 320, klTarget: 0.05, rewardScaler: 2 }));
    const scalers: number[] = [];
    await runTuning(tuner, { onLog: (m) => { scalers.push(m['charts/reward_scaler']); } });
    // Logged at 128, 256, 384, 512 and 640; the scaler changes only at 320 and at 640 (the end).
    expect(scalers).toHaveLength(5);
    expect(scalers.slice(0, 2)).toEqual([2, 2]);
    expect(scalers[2]).not.toBe(2);
    expect(scalers.slice(3)).toEqual([scalers[2], scalers[2]]);
    expect(tuner.env.rewardScaler).not.toBe(scalers[4]);
  });

  it('stops between compositions when asked, after a checkpoint', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config());
    let checkpoints = 0;
    const outcome = await runTuning(tuner, { shouldStop: () => tuner.counters.step >= 200, onCheckpoint: () => { checkpoints++; } });
    expect(outcome.stopped).toBe(true);
    expect(tuner.counters.step).toBe(224);
    expect(checkpoints).toBe(1);
    expect(outcome.final).toBeNull();
  });

  it('waits for a checkpoint written in the background before training past its data, and before it returns', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 1280, checkpointEvery: 320 }));
    const writes: { at: number; settledAt: number }[] = [];
    const outcome = await runTuning(tuner, {
      onCheckpoint: (t) => {
        const write = { at: t.counters.step, settledAt: -1 };
        writes.push(write);
        // A slow disk: the write settles 30 ms later, by which time the loop could have run far past it.
        const written = new Promise<void>((done) => setTimeout(() => { write.settledAt = tuner.counters.step; done(); }, 30));
        return { written, validForSteps: 64 };
      },
    });
    expect(outcome.stopped).toBe(false);
    expect(writes.map((w) => w.at)).toEqual([320, 640, 960, 1280]);
    for (const w of writes) {
      expect(w.settledAt).toBeGreaterThanOrEqual(w.at);
      // At most the compositions (32 steps) that fit in the 64 valid steps were trained before it settled.
      expect(w.settledAt).toBeLessThanOrEqual(w.at + 64);
    }
  });

  it('reports a background checkpoint that failed', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 640, checkpointEvery: 320 }));
    const run = runTuning(tuner, { onCheckpoint: () => ({ written: Promise.reject(new Error('disk full')), validForSteps: 1000 }) });
    await expect(run).rejects.toThrow('disk full');
  });

  it('the heat map is the policy at the temperature, primed as its composition was', async () => {
    for (const temperature of [1, 0.5]) {
      const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 320, evalCompositions: 8, temperature, priming: 'corpus' }), primingFor('corpus', { corpus: randomMelodies(5, 40, 9) }));
      const { final } = await runTuning(tuner);
      const { composition, probabilities } = final!.heatmap;
      // Σ_t log π(a_t | s_t) from the heat map equals the sampler's own log π of that composition.
      let logPi = 0;
      composition.forEach((a, t) => (logPi += Math.log(probabilities[t * NUM_CLASSES + a])));
      const again = sampleCompositions(tuner.policyModels(), tuner.evaluationRandom(-1), { count: 8, numNotes: 32, temperature, priming: tuner.priming });
      expect(again.compositions[0]).toEqual(composition);
      expect(logPi).toBeCloseTo(again.logProbPolicy[0], 3);
    }
  });
});

describe('evaluation', () => {
  it('the Note RNN against itself: KL = 0; at temperature 0, KL = −mean log p', () => {
    const noteRnn = smallNoteRnn(7);
    const model = createModel(testKernels(), noteRnn.config, { maxBatch: 64 });
    model.importTensors(noteRnn.tensors);
    const options = { count: 100, numNotes: 32, temperature: 1, priming: { kind: 'random_note' } as Priming };
    const self = evaluatePolicy([model], model, new Random(1), options);
    expect(Math.abs(self.klFromPrior)).toBeLessThan(1e-9);
    expect(self.meanLogProbNoteRnn).toBeLessThan(-0.5);
    const greedy = evaluatePolicy([model], model, new Random(1), { ...options, temperature: 0 });
    expect(greedy.klFromPrior).toBeCloseTo(-greedy.meanLogProbNoteRnn, 12);
    expect(greedy.klFromPrior).toBeGreaterThan(0);
  });

  it('the evaluation seed is an exact integer hash of (seed, step), for any seed and step', () => {
    const seen = new Set<number>();
    for (const seed of [0, 1, 2, 4_294_967_295]) {
      for (const step of [-1, 0, 1, 50_000, 2 ** 32, 2 ** 40 + 3, 1e12]) {
        const h = evaluationSeed(seed, step);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
        expect(evaluationSeed(seed, step)).toBe(h);
        seen.add(h);
      }
    }
    expect(seen.size).toBe(28);
  });
});

describe('exact resume', () => {
  const noteRnn = smallNoteRnn(4);
  const corpus = randomMelodies(6, 48, 3);
  const cases: [string, Partial<TunerConfig>, Priming][] = [
    ['q, a wrapped ring, a checkpoint mid logging interval', { replayCapacity: 300, logEvery: 500 }, { kind: 'random_note' }],
    ['g (next-state log-probabilities in the replay)', { algorithm: 'g' }, { kind: 'random_note' }],
    ['g with f16 next-state log-probabilities', { algorithm: 'g', rewardStatePrecision: 'f16' }, { kind: 'random_note' }],
    ['psi with Boltzmann exploration', { algorithm: 'psi', explorationMode: 'boltzmann' }, { kind: 'random_note' }],
    ['primer priming, adaptive KL', { klTarget: 0.2, klHorizon: 500 }, primingFor('primer', { primer: [14, 1, 16, 1, 18] })],
    ['adaptive KL on its own schedule, a checkpoint mid KL window', { klTarget: 0.2, klHorizon: 500, klEvery: 352, logEvery: 500 }, { kind: 'random_note' }],
    ['corpus priming', { priming: 'corpus' }, primingFor('corpus', { corpus })],
    ['64 steps, every composition term weighted', { numNotes: 64, weightTonicEnding: 1, weightRhythm: 1, weightPitchRange: 0.5, weightPhraseRecurrence: 2 }, { kind: 'random_note' }],
  ];
  for (const [name, overrides, priming] of cases) {
    it(name, async () => {
      const c = config({ trainingSteps: 1280, ...overrides });
      const straight = new RlTuner(testKernels(), noteRnn, c, priming);
      const straightLogs: LogRecord[] = [];
      await runTuning(straight, { onLog: (m) => { straightLogs.push(m); } });

      const first = new RlTuner(testKernels(), noteRnn, c, priming);
      const logs: LogRecord[] = [];
      let bytes: Uint8Array | null = null;
      await runTuning(first, { onLog: (m) => { logs.push(m); }, shouldStop: () => first.counters.step >= 600, onCheckpoint: (t) => { bytes = encodeTunerCheckpoint(t); } });
      expect(first.counters.step).toBe(Math.ceil(600 / c.numNotes) * c.numNotes); // the first composition end at or after step 600
      if (name.startsWith('q,')) expect(first.replay.size).toBe(300);
      const checkpoint = readTunerCheckpoint(bytes!);
      const resumed = new RlTuner(testKernels(), noteRnn, checkpoint.config, priming);
      restoreTunerCheckpoint(resumed, checkpoint);
      await runTuning(resumed, { onLog: (m) => { logs.push(m); } });
      const strip = (ms: LogRecord[]) => ms.map(({ 'charts/SPS': _, ...rest }) => rest);
      expect(strip(logs)).toEqual(strip(straightLogs));
      expect(Array.from(resumed.q.params)).toEqual(Array.from(straight.q.params));
      expect(Array.from(resumed.target.params)).toEqual(Array.from(straight.target.params));
      expect(Array.from(resumed.q.adamV)).toEqual(Array.from(straight.q.adamV));
      expect(resumed.rng.getState()).toEqual(straight.rng.getState());
    });
  }
});

describe('a checkpoint written while training goes on', () => {
  // Taken mid-run (ring wrapped, write position mid-ring), then training goes on: the detached parts must
  // still be the checkpoint of that moment for `steps` more steps, and cannot be past them.
  const cases: [string, Partial<TunerConfig>, boolean][] = [
    ['q, a wrapped ring', { replayCapacity: 300 }, true],
    ['g, f32 log-probabilities', { algorithm: 'g', replayCapacity: 300 }, true],
    ['g, f16 log-probabilities', { algorithm: 'g', replayCapacity: 300, rewardStatePrecision: 'f16' }, true],
    // Not yet full: new transitions go to slots past the file's, so every step leaves it valid.
    ['q, a ring not yet full', { replayCapacity: 5000 }, false],
  ];
  for (const [name, overrides, wrapped] of cases) {
    it(name, async () => {
      for (const [steps, extra, same] of [[96, 96, true], [96, 160, !wrapped], [400, 400, true]] as const) {
        const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ trainingSteps: 100_000, ...overrides }));
        await runTuning(tuner, { shouldStop: () => tuner.counters.step >= 700 });
        const atCheckpoint = encodeTunerCheckpoint(tuner);
        const parts = encodeTunerCheckpointDetached(tuner, steps);
        for (let i = 0; i < extra; i++) tuner.step();
        const later = joinParts(parts);
        if (same) expect(later).toEqual(atCheckpoint);
        else expect(later).not.toEqual(atCheckpoint); // the ring slots past the copied ones were overwritten
      }
    });
  }

  it('checkpoints sharing one CheckpointCopies reuse its buffer, each the checkpoint of its moment', async () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), config({ algorithm: 'g', trainingSteps: 100_000, replayCapacity: 300 }));
    const copies = new CheckpointCopies();
    const buffers = new Set<ArrayBufferLike>();
    for (const stopAt of [700, 900, 1100]) {
      await runTuning(tuner, { shouldStop: () => tuner.counters.step >= stopAt });
      const atCheckpoint = encodeTunerCheckpoint(tuner);
      const parts = encodeTunerCheckpointDetached(tuner, 96, {}, null, undefined, copies);
      // parts[1], the Q-network's weights (after the header), is a copy, kept in the shared buffer
      expect(parts[1].byteLength).toBe(tuner.q.params.byteLength);
      expect(parts[1].buffer).not.toBe(tuner.q.params.buffer);
      buffers.add(parts[1].buffer);
      for (let i = 0; i < 96; i++) tuner.step();
      expect(joinParts(parts)).toEqual(atCheckpoint);
    }
    expect(buffers.size).toBe(1);
  });
});

describe('checkpoint validation', () => {
  const tuner = new RlTuner(testKernels(), smallNoteRnn(), config());
  for (let i = 0; i < 64; i++) tuner.step();
  const good = encodeTunerCheckpoint(tuner, { kernelBuild: 'plain' }, { model: 'x' });

  it('reads back what was written', () => {
    const c = readTunerCheckpoint(good, 'run/checkpoint.safetensors');
    expect(c.fingerprints).toEqual({ kernelBuild: 'plain' });
    expect(c.run).toEqual({ model: 'x' });
    expect(c.state.counters.step).toBe(64);
  });

  it('refuses another format version and damaged state, naming the file', () => {
    const text = new TextDecoder('latin1').decode(good);
    const edit = (from: string, to: string) => {
      expect(text.includes(from)).toBe(true);
      // Same length keeps the header size valid.
      expect(to.length).toBe(from.length);
      return new Uint8Array(Array.from(text.replace(from, to), (ch) => ch.charCodeAt(0)));
    };
    expect(() => readTunerCheckpoint(edit('"format_version":"4"', '"format_version":"1"'), 'run/ck')).toThrow(/run\/ck: checkpoint format version "1"; this rltuner reads version 4/);
    // Version 2 kept Reward RNN states in the replay: refused with what to do.
    expect(() => readTunerCheckpoint(edit('"format_version":"4"', '"format_version":"2"'), 'run/ck')).toThrow(
      /run\/ck: checkpoint format version "2"; this rltuner reads version 4\. Start the run anew .*or resume it with the rltuner build that wrote it/,
    );
    expect(() => readTunerCheckpoint(edit('\\"step\\":64', '\\"step\\":-4'), 'run/ck')).toThrow(CheckpointError);
    expect(() => readTunerCheckpoint(edit('\\"step\\":64', '\\"step\\":-4'), 'run/ck')).toThrow(/run\/ck: its state record is damaged \(counters.step = -4\)/);
    expect(() => readTunerCheckpoint(edit('\\"gamma\\":0.7', '\\"gamma\\":7.0'), 'run/ck')).toThrow(/run\/ck: its recorded config is invalid: config: gamma = 7/);
  });
});
