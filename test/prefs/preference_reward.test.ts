// The learned preference reward in the tuners: for Q, Ψ and G the shaping w·(R(s_{t+1}) − R(s_t)) of each
// step sums over a composition to w times the reward model's score of it; pg adds s·w·R(composition) to each
// composition's return; a run with the weight and no model is refused; a checkpoint resumes to the same bits.
// On a lookback or phrase prior the reward model reads the events played, never the prior's repeat classes.
import { describe, expect, it } from 'vitest';
import { createArena, createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel, REWARD_MODEL, type DecodedModel } from '../../src/io/model_file.js';
import { tuningFingerprints } from '../../src/io/fingerprint.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { encodingConfig, LOOKBACK_ENCODING, PHRASE_ENCODING, type MelodyEncoding } from '../../src/music/encodings.js';
import { PreferenceReward } from '../../src/prefs/preference_reward.js';
import { rewardModelConfig, scoreCompositions } from '../../src/prefs/reward_model.js';
import { Random } from '../../src/random.js';
import { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint } from '../../src/rl/checkpoint.js';
import { resolveConfig, type TunerConfig } from '../../src/rl/config.js';
import { createTuner, runTuning, type LogRecord } from '../../src/rl/driver.js';
import { MelodyEnv } from '../../src/rl/env.js';
import { PgTuner } from '../../src/rl/pg.js';
import { C_MAJOR_RULES } from '../../src/rules/rules.js';
import { testKernels } from '../engine/support.js';

function smallNoteRnn(): DecodedModel {
  const model = createModel(testKernels(), { inputSize: NUM_CLASSES, hiddenSizes: [12], outputSize: NUM_CLASSES }, { maxBatch: 1 });
  model.initialize(new Random(3));
  return decodeModel(encodeModel(model));
}

/** A Note RNN of `encoding` of random weights (its classes beyond 38 repeat the event some bars back). */
function smallPrior(encoding: MelodyEncoding): DecodedModel {
  const model = createModel(testKernels(), encodingConfig(encoding, [12]), { maxBatch: 1 });
  model.initialize(new Random(5));
  return decodeModel(encodeModel(model));
}

/** A reward model of random weights (hidden 9: two SIMD iterations and a tail), as its file's bytes. */
function rewardModelBytes(seed = 4): Uint8Array {
  const model = createModel(testKernels(), rewardModelConfig([9]), { maxBatch: 1 });
  model.initialize(new Random(seed));
  return encodeModel(model, {}, REWARD_MODEL);
}

const RULES_OFF = {
  weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0, weightIntervals: 0,
  weightLeap: 0, weightUniqueExtremes: 0,
};

const config = (overrides: Partial<TunerConfig>): TunerConfig =>
  resolveConfig('classic', { numNotes: 16, trainingSteps: 640, logEvery: 320, evalEvery: 0, checkpointEvery: 0, evalCompositions: 0, ...overrides });

describe('the learned preference reward', () => {
  const noteRnn = smallNoteRnn();
  const rmBytes = rewardModelBytes();
  const rm = decodeModel(rmBytes, 'rm', REWARD_MODEL);
  const T = 16;

  it('Q, Ψ, G: the per-step shaping sums to w × the model\'s score of the composition, and adds to r_MT', () => {
    const w = 2.5;
    const arena = createArena(testKernels(), {
      rnn: { config: noteRnn.config, maxBatch: 1 }, plain: { config: noteRnn.config, maxBatch: 1 }, preference: PreferenceReward.request(rm, 1),
      scorer: { config: rm.config, maxBatch: 1, maxSteps: T },
    });
    arena.models.rnn.importTensors(noteRnn.tensors);
    arena.models.plain.importTensors(noteRnn.tensors);
    arena.models.scorer.importTensors(rm.tensors);
    const settings = { algorithm: 'q' as const, numNotes: T, rewardScaler: 1, musicTheoryOnly: true, ruleWeights: new Array(9).fill(1) };
    const shaped = new MelodyEnv(arena.models.rnn, { ...settings, preferenceWeight: w }, C_MAJOR_RULES, { kind: 'random_note' }, new PreferenceReward(arena.models.preference, rm));
    const plain = new MelodyEnv(arena.models.plain, settings, C_MAJOR_RULES, { kind: 'random_note' });
    const rng = new Random(9);
    for (let composition = 0; composition < 3; composition++) {
      shaped.startComposition(new Random(composition));
      plain.startComposition(new Random(composition));
      let sum = 0, last = 0;
      for (let t = 0; t < T; t++) {
        const a = rng.int(NUM_CLASSES);
        const s = shaped.step(a), p = plain.step(a);
        expect(s.musicTheory).toBeCloseTo(p.musicTheory + w * s.preference, 10);
        sum += s.preference;
        last = s.preferenceScore;
        expect(s.done).toBe(t === T - 1);
      }
      // Telescoping: Σ (R(s_{t+1}) − R(s_t)) = R(s_T) − R(s_0) = R(composition), R(s_0) = 0.
      expect(sum).toBeCloseTo(last, 6);
      expect(last).toBeCloseTo(scoreCompositions(arena.models.scorer, [shaped.composition])[0], 5);
    }
    expect(() => new MelodyEnv(arena.models.plain, settings, C_MAJOR_RULES, { kind: 'random_note' }, new PreferenceReward(arena.models.preference, rm)))
      .toThrow(/a preference reward needs a positive preferenceWeight/);
  });

  it('pg: each composition\'s return gains s·w·R(composition); preference/score is logged', () => {
    const c = config({ algorithm: 'pg', ...RULES_OFF, weightPreference: 3, rewardScaler: 0.5, pgGroups: 2, pgGroupSize: 4 });
    const tuner = new PgTuner(testKernels(), noteRnn, c, undefined, undefined, rm);
    const internals = tuner as unknown as { rollout(): unknown; compositionReturn: Float64Array; compositions: Uint8Array[] };
    internals.rollout();
    const scorer = createModel(testKernels(), rm.config, { maxBatch: 8, maxSteps: T });
    scorer.importTensors(rm.tensors);
    const scores = scoreCompositions(scorer, internals.compositions);
    scores.forEach((r, b) => expect(internals.compositionReturn[b]).toBeCloseTo(0.5 * 3 * r, 5));
    const metrics = tuner.takeIntervalMetrics();
    expect(metrics['preference/score']).toBeCloseTo(scores.reduce((x, y) => x + y, 0) / 8, 5);
  });

  it('is refused without a reward model; a run without it logs no preference row', () => {
    for (const algorithm of ['q', 'g', 'pg'] as const) {
      expect(() => createTuner(testKernels(), noteRnn, config({ algorithm, weightPreference: 1 }))).toThrow(/weightPreference 1 needs a reward model .*none was given/);
      const tuner = createTuner(testKernels(), noteRnn, config({ algorithm }), undefined, undefined, rm); // weight 0: the model is not used
      tuner.trainUnit();
      expect(Object.keys(tuner.takeIntervalMetrics())).not.toContain('preference/score');
    }
  });

  it('a run with it resumes from a checkpoint to the same bits (g and pg), and its fingerprint names the model', async () => {
    for (const algorithm of ['g', 'pg'] as const) {
      const c = config({ algorithm, weightPreference: 1, trainingSteps: 1280, pgGroups: 2, pgGroupSize: 4, logEvery: 256 });
      const straight = createTuner(testKernels(), noteRnn, c, undefined, undefined, rm);
      const straightLogs: LogRecord[] = [];
      await runTuning(straight, { onLog: (m) => { straightLogs.push(m); } });
      const first = createTuner(testKernels(), noteRnn, c, undefined, undefined, rm);
      const logs: LogRecord[] = [];
      let bytes: Uint8Array | null = null;
      await runTuning(first, { onLog: (m) => { logs.push(m); }, shouldStop: () => first.counters.step >= 600, onCheckpoint: (t) => { bytes = encodeTunerCheckpoint(t); } });
      const checkpoint = readTunerCheckpoint(bytes!);
      const resumed = createTuner(testKernels(), noteRnn, checkpoint.config, undefined, undefined, rm);
      restoreTunerCheckpoint(resumed, checkpoint);
      await runTuning(resumed, { onLog: (m) => { logs.push(m); } });
      const strip = (ms: LogRecord[]) => ms.map(({ 'charts/SPS': _, ...rest }) => rest);
      expect(strip(logs), algorithm).toEqual(strip(straightLogs));
      expect(straightLogs.every((m) => Number.isFinite(m['preference/score']))).toBe(true);
      expect(Array.from(resumed.tunedNetwork.params)).toEqual(Array.from(straight.tunedNetwork.params));
    }
    const prints = tuningFingerprints('f', 'plain', new Uint8Array([1]), null, undefined, rmBytes);
    expect(prints.rewardModel).toBe(sha256Hex(rmBytes));
    expect(tuningFingerprints('f', 'plain', new Uint8Array([1]), null)).not.toHaveProperty('rewardModel');
  });

  it('on a lookback or phrase prior, reads the events played, not the classes chosen (Q, Ψ, G shaping and pg)', () => {
    const w = 1.5;
    for (const encoding of [LOOKBACK_ENCODING, PHRASE_ENCODING]) {
      const prior = smallPrior(encoding);
      const A = encoding.outputSize;
      const N = 48; // three bars: the repeat classes play events of the composition itself
      const arena = createArena(testKernels(), {
        rnn: { config: prior.config, maxBatch: 1 }, preference: PreferenceReward.request(rm, 1), scorer: { config: rm.config, maxBatch: 8, maxSteps: N },
      });
      arena.models.rnn.importTensors(prior.tensors);
      arena.models.scorer.importTensors(rm.tensors);
      const settings = { algorithm: 'g' as const, numNotes: N, rewardScaler: 1, musicTheoryOnly: true, ruleWeights: new Array(9).fill(1), preferenceWeight: w };
      const env = new MelodyEnv(arena.models.rnn, settings, { ...C_MAJOR_RULES, numNotes: N }, { kind: 'random_note' }, new PreferenceReward(arena.models.preference, rm));
      env.startComposition(new Random(1));
      const rng = new Random(6);
      let sum = 0, last = 0;
      for (let t = 0; t < N; t++) {
        const a = t >= 16 && t % 4 === 0 ? A - 1 - (t % 8 === 0 ? 1 : 0) : rng.int(A); // repeat classes from the second bar on
        const s = env.step(a);
        sum += s.preference;
        last = s.preferenceScore;
      }
      expect(sum, encoding.name).toBeCloseTo(last, 6);
      expect(Math.max(...env.composition), encoding.name).toBeLessThan(NUM_CLASSES);
      expect(last, encoding.name).toBeCloseTo(scoreCompositions(arena.models.scorer, [env.composition])[0], 5);

      const c = config({ algorithm: 'pg', ...RULES_OFF, numNotes: N, weightPreference: 3, rewardScaler: 0.5, pgGroups: 2, pgGroupSize: 4 });
      const tuner = new PgTuner(testKernels(), prior, c, undefined, undefined, rm);
      const internals = tuner as unknown as { rollout(): unknown; compositionReturn: Float64Array; compositions: Uint8Array[]; actions: Int32Array };
      internals.rollout();
      expect(internals.actions.some((a) => a >= NUM_CLASSES), `${encoding.name}: some rollout plays a repeat class`).toBe(true);
      const scores = scoreCompositions(arena.models.scorer, internals.compositions);
      scores.forEach((r, b) => expect(internals.compositionReturn[b], encoding.name).toBeCloseTo(0.5 * 3 * r, 5));
    }
  });
});
