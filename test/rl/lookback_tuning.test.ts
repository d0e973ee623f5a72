// Tuning on a lookback Note RNN: the Q-network shares its encoding (40 actions), the environment decodes
// each action to the event the rules see and reads the encoding's input, the replay keeps the input ids
// at s and s', G's target uses the prior's 40 log-probabilities, and a run resumes exactly.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel } from '../../src/io/model_file.js';
import { NO_EVENT, NUM_CLASSES } from '../../src/music/encoding.js';
import { encodingConfig, LOOKBACK_ENCODING, PHRASE_ENCODING, REPEAT_ONE_BAR, REPEAT_TWO_BARS } from '../../src/music/encodings.js';
import { policyProbabilities, primingFor, sampleCompositions, type Priming } from '../../src/policy/sampling.js';
import { logSoftmaxRow } from '../../src/policy/softmax.js';
import { Random } from '../../src/random.js';
import { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint } from '../../src/rl/checkpoint.js';
import { resolveConfig, type TunerConfig } from '../../src/rl/config.js';
import { runTuning, type LogRecord } from '../../src/rl/driver.js';
import { MelodyEnv } from '../../src/rl/env.js';
import { RlTuner } from '../../src/rl/tuner.js';
import { PgTuner } from '../../src/rl/pg.js';
import { C_MAJOR_RULES, musicTheoryReward, newLeapState } from '../../src/rules/rules.js';
import { generate, loadNoteRnn, tune } from '../../src/index.js';
import { encodingOf } from '../../src/music/encodings.js';
import { testKernels } from '../engine/support.js';

function lookbackNoteRnn(seed = 3, encoding = LOOKBACK_ENCODING) {
  const model = createModel(testKernels(), encodingConfig(encoding, [12]), { maxBatch: 1 });
  model.initialize(new Random(seed));
  return decodeModel(encodeModel(model));
}

const config = (overrides: Partial<TunerConfig> = {}): TunerConfig =>
  resolveConfig('classic', {
    trainingSteps: 1280, explorationSteps: 640, replayCapacity: 500, logEvery: 100, evalEvery: 0, checkpointEvery: 0, evalCompositions: 0, ...overrides,
  });

describe('the environment on a lookback prior', () => {
  it('decodes repeat actions to the events one and two bars back; the rules, the composition and the prior read events', () => {
    const noteRnn = lookbackNoteRnn(5);
    const model = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
    model.importTensors(noteRnn.tensors);
    const numNotes = 48;
    const rules = { ...C_MAJOR_RULES, numNotes };
    const env = new MelodyEnv(model, { algorithm: 'q', numNotes, rewardScaler: 1, musicTheoryOnly: false, ruleWeights: new Array(9).fill(1) }, rules, { kind: 'primer', tokens: [14] });
    env.startComposition(new Random(1));
    const rng = new Random(2);
    const actions = Array.from({ length: numNotes }, (_, beat) => (beat > 20 && beat % 3 === 0 ? REPEAT_ONE_BAR : beat > 36 && beat % 5 === 0 ? REPEAT_TWO_BARS : rng.int(40)));
    actions[3] = REPEAT_TWO_BARS; // before two bars: plays NO_EVENT
    // The reference: the same prior stepped by hand on the history (primer, then the events).
    const reference = createModel(testKernels(), noteRnn.config, { maxBatch: 1 });
    reference.importTensors(noteRnn.tensors);
    reference.resetState(1);
    const history = [14];
    const grid = { stepsPerBar: 16, barPosition: 15 }; // the one-step primer lies just before the downbeat
    const leap = newLeapState();
    const events: number[] = [];
    actions.forEach((a, beat) => {
      const logits = reference.step([LOOKBACK_ENCODING.inputAt(history, history.length - 1, grid)], 1).subarray(0, 40);
      expect(env.input).toBe(LOOKBACK_ENCODING.inputAt(history, history.length - 1, grid));
      expect(Array.from(env.priorLogits)).toEqual(Array.from(logits));
      const logp = new Float32Array(40);
      logSoftmaxRow(Float32Array.from(logits), 0, 40, logp);
      const event = a === REPEAT_ONE_BAR ? (history.length >= 16 ? history[history.length - 16] : NO_EVENT)
        : a === REPEAT_TWO_BARS ? (history.length >= 32 ? history[history.length - 32] : NO_EVENT) : a;
      const mt = musicTheoryReward(Uint8Array.from(events), beat, event, leap, rules).total;
      const out = env.step(a);
      expect(out.musicTheory).toBeCloseTo(mt, 9);
      expect(out.logProb).toBeCloseTo(logp[a], 5);
      events.push(event);
      history.push(event);
    });
    expect(Array.from(env.composition)).toEqual(events);
    expect(events[3]).toBe(NO_EVENT);
    expect(events[21]).toBe(history[1 + 21 - 16]);
  });

  it('the tuner acts among 40 actions, stores the input ids at s and s\' and G\'s 40 next-state log-probabilities', () => {
    const tuner = new RlTuner(testKernels(), lookbackNoteRnn(), config({ algorithm: 'g', explorationMode: 'egreedy', initialEpsilon: 1, finalEpsilon: 1 }));
    expect(tuner.actions).toBe(40);
    for (let i = 0; i < 200; i++) tuner.step();
    const r = tuner.replay;
    const actions = Array.from(r.action.subarray(0, 200));
    expect(Math.max(...actions)).toBe(39); // random actions reach the repeat classes
    for (let slot = 0; slot < 199; slot++) {
      if (r.terminal[slot]) continue;
      // The next transition starts where this one ended: its input at s is this one's input at s'.
      expect(r.inputIn![slot + 1]).toBe(r.inputNext![slot]);
      const stored = new Float32Array(40);
      r.gatherNextLogProbs([slot], 1, stored);
      expect(stored.every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    }
    expect(r.bytesPerTransition).toBeCloseTo(((7 + 4 * r.stateSize + 4 * 40 + 8) * 501) / 500, 9);
    const loss = tuner.learn();
    expect(Number.isFinite(loss)).toBe(true);
  });
});

describe('a lookback tune', () => {
  const noteRnn = lookbackNoteRnn(4);
  const corpus = [Uint8Array.from({ length: 48 }, (_, i) => (i % 4 === 0 ? 14 + (i % 8) : NO_EVENT))];
  const phraseNoteRnn = lookbackNoteRnn(4, PHRASE_ENCODING);
  const cases: [string, Partial<TunerConfig>, Priming, typeof noteRnn][] = [
    ['g, a wrapped ring', { algorithm: 'g', replayCapacity: 300 }, { kind: 'random_note' }, noteRnn],
    ['q, corpus priming, 64-step compositions', { priming: 'corpus', numNotes: 64 }, primingFor('corpus', { corpus }), noteRnn],
    ['g on a phrase prior (input ids past 2^24)', { algorithm: 'g', numNotes: 80 }, { kind: 'random_note' }, phraseNoteRnn],
  ];
  for (const [name, overrides, priming, noteRnn] of cases) {
    it(`resumes exactly: ${name}`, async () => {
      const c = config(overrides);
      const straight = new RlTuner(testKernels(), noteRnn, c, priming);
      const straightLogs: LogRecord[] = [];
      await runTuning(straight, { onLog: (m) => { straightLogs.push(m); } });
      const first = new RlTuner(testKernels(), noteRnn, c, priming);
      const logs: LogRecord[] = [];
      let bytes: Uint8Array | null = null;
      await runTuning(first, { onLog: (m) => { logs.push(m); }, shouldStop: () => first.counters.step >= 600, onCheckpoint: (t) => { bytes = encodeTunerCheckpoint(t); } });
      const checkpoint = readTunerCheckpoint(bytes!);
      expect(checkpoint.tensors.has('replay.input_in')).toBe(true);
      if (noteRnn === phraseNoteRnn) expect(Math.max(...first.replay.inputIn!.subarray(0, first.replay.size))).toBeGreaterThan(2 ** 24);
      const resumed = new RlTuner(testKernels(), noteRnn, checkpoint.config, priming);
      restoreTunerCheckpoint(resumed, checkpoint);
      await runTuning(resumed, { onLog: (m) => { logs.push(m); } });
      const strip = (ms: LogRecord[]) => ms.map(({ 'charts/SPS': _, ...rest }) => rest);
      expect(strip(logs)).toEqual(strip(straightLogs));
      expect(Array.from(resumed.q.params)).toEqual(Array.from(straight.q.params));
      expect(Array.from(resumed.target.params)).toEqual(Array.from(straight.target.params));
      expect(resumed.rng.getState()).toEqual(straight.rng.getState());
    });
  }

  it('sampling: compositions hold events; the heat map gives each step\'s event probabilities (the repeat classes folded in)', () => {
    const tuner = new RlTuner(testKernels(), noteRnn, config({ algorithm: 'g' }));
    const sample = sampleCompositions(tuner.policyModels(), new Random(3), { count: 20, numNotes: 64, temperature: 1, priming: { kind: 'random_note' } });
    for (const c of sample.compositions) expect(Math.max(...c)).toBeLessThan(NUM_CLASSES);
    const probabilities = policyProbabilities(tuner.policyModels(), sample.primers[0], sample.compositions[0], 1);
    expect(probabilities.length).toBe(64 * NUM_CLASSES);
    for (let t = 0; t < 64; t++) {
      const row = probabilities.subarray(t * NUM_CLASSES, (t + 1) * NUM_CLASSES);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    // A basic network cannot act with a lookback prior.
    const basic = createModel(testKernels(), { inputSize: 38, hiddenSizes: [4], outputSize: 38 }, { maxBatch: 4 });
    expect(() => sampleCompositions([basic, tuner.reward], new Random(1), { count: 1, numNotes: 4, temperature: 1, priming: { kind: 'random_note' } }))
      .toThrow(/must share an encoding; got basic and lookback/);
  });

  it('the library: loadNoteRnn, generate and tune take a lookback model file; the tuned network is a lookback network', async () => {
    const model = createModel(testKernels(), encodingConfig(LOOKBACK_ENCODING, [12]), { maxBatch: 1 });
    model.initialize(new Random(11));
    const bytes = encodeModel(model);
    const { model: loaded } = loadNoteRnn(testKernels(), bytes, 4);
    const pieces = generate(loaded, { count: 4, length: 40, seed: 2 });
    expect(pieces.every((p) => p.length === 40 && Math.max(...p) < NUM_CLASSES)).toBe(true);
    const result = await tune(testKernels(), bytes, { preset: 'classic', config: { trainingSteps: 320, explorationSteps: 160, replayCapacity: 300, evalEvery: 0, evalCompositions: 0, checkpointEvery: 0 } });
    expect(result.tuner.counters.step).toBe(320);
    expect(encodingOf(decodeModel(result.modelBytes).config)).toBe(LOOKBACK_ENCODING);
  });

  it('pg: the rollout decodes its classes to events, and the BPTT pass reads what the rollout read (its log π to float32 precision)', () => {
    const prior = lookbackNoteRnn(7);
    const c = config({ algorithm: 'pg', pgGroups: 2, pgGroupSize: 4, numNotes: 48, learningRate: 0.01, rewardScaler: 1, weightTonicEnding: 2, trainingSteps: 48 * 8 * 3 });
    const pg = new PgTuner(testKernels(), prior, c, { kind: 'primer', tokens: [14, 1, 16] });
    const rollout = pg as unknown as { logPi: Float64Array; actions: Int32Array; compositions: Uint8Array[] };
    const policy = pg.policy;
    const original = policy.labelLogProbs.bind(policy);
    let worst = 0, repeats = 0;
    policy.labelLogProbs = (labels, batch, steps) => {
      const out = original(labels, batch, steps);
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < 48; t++) worst = Math.max(worst, Math.abs(out[(2 + t) * batch + b] - rollout.logPi[b * 48 + t]));
      }
      return out;
    };
    for (let u = 0; u < 3; u++) {
      pg.trainUnit();
      for (const composition of rollout.compositions) expect(Math.max(...composition)).toBeLessThan(NUM_CLASSES);
      for (const a of rollout.actions) if (a >= NUM_CLASSES) repeats++;
    }
    expect(repeats).toBeGreaterThan(0); // the repeat classes were played (and decoded)
    expect(worst).toBeLessThan(1e-4); // a wrong input anywhere would move log π by far more
    expect(pg.counters.updates).toBe(3);
  });
});

