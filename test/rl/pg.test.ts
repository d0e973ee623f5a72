// The KL-regularized policy gradient (src/rl/pg.ts): the β → ∞ limit leaves the Note RNN as it is, a
// composition-level reward alone moves its statistic the right way, advantages against the group, exact
// resume, and the driver, checkpoints and tuned model as for Q, Ψ and G.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { dataLikeness } from '../../src/eval/data_likeness.js';
import { Random } from '../../src/random.js';
import { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint } from '../../src/rl/checkpoint.js';
import { resolveConfig, type TunerConfig } from '../../src/rl/config.js';
import { createTuner, runTuning, type LogRecord } from '../../src/rl/driver.js';
import { PgTuner } from '../../src/rl/pg.js';
import { testKernels } from '../engine/support.js';

const noteRnn = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));

const config = (overrides: Partial<TunerConfig> = {}): TunerConfig =>
  resolveConfig('classic', {
    algorithm: 'pg', trainingSteps: 4096, pgGroups: 2, pgGroupSize: 8, logEvery: 1024, evalEvery: 0, checkpointEvery: 0,
    evalCompositions: 0, learningRate: 0.001, ...overrides,
  });

const trainUpdates = (tuner: PgTuner, updates: number) => {
  for (let u = 0; u < updates; u++) tuner.trainUnit();
};

describe('pg: KL-regularized policy gradient over whole compositions', () => {
  it('with no return to follow (s = 0, the β → ∞ limit) the policy stays the Note RNN to the bit: KL 0 by both estimators', () => {
    const tuner = new PgTuner(testKernels(), noteRnn, config({ rewardScaler: 0 }));
    const before = Float32Array.from(tuner.policy.params);
    trainUpdates(tuner, 5);
    expect(Array.from(tuner.policy.params)).toEqual(Array.from(before));
    const m = tuner.takeIntervalMetrics();
    expect([m['charts/kl'], m['charts/kl_k1'], m['charts/kl_k3']]).toEqual([0, 0, 0]);
    const e = tuner.evaluatePolicy(200, 1);
    expect([e.klFromPrior, e.klFromPriorK3]).toEqual([0, 0]); // the evaluation's own estimators, over its samples
  });

  it('evaluates at evalNumNotes steps when set (the final comparison too), at numNotes otherwise', () => {
    const long = new PgTuner(testKernels(), noteRnn, config({ numNotes: 64, evalNumNotes: 32 }));
    expect(long.evaluatePolicy(3, 1).compositions.map((c) => c.length)).toEqual([32, 32, 32]);
    const both = long.compareWithNoteRnn(2);
    expect([...both.noteRnn.compositions, ...both.tuned.compositions].map((c) => c.length)).toEqual([32, 32, 32, 32]);
    const same = new PgTuner(testKernels(), noteRnn, config({ numNotes: 64 }));
    expect(same.evaluatePolicy(2, 1).compositions.map((c) => c.length)).toEqual([64, 64]);
  });

  it('a large β holds the policy near the Note RNN where a small one lets it go', () => {
    const kl = (beta: number) => {
      const tuner = new PgTuner(testKernels(), noteRnn, config({ klCoefficient: beta }));
      trainUpdates(tuner, 12);
      tuner.takeIntervalMetrics();
      trainUpdates(tuner, 4);
      return tuner.takeIntervalMetrics()['charts/kl'];
    };
    const held = kl(1e4), free = kl(0);
    expect(held).toBeLessThan(0.01);
    expect(free).toBeGreaterThan(0.1);
  });

  it('with the group baseline, a composition-level reward alone (ending on the tonic) moves its statistic', () => {
    const onlyTonicEnding = {
      weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0,
      weightIntervals: 0, weightLeap: 0, weightUniqueExtremes: 0, weightTonicEnding: 1, rewardScaler: 1, klCoefficient: 0.05,
    };
    const endings = (tuner: PgTuner) => {
      const e = tuner.evaluatePolicy(600, -1);
      return dataLikeness(e.compositions, 0).lastNoteOnTonic / e.compositions.length;
    };
    for (const [pgAdvantage, pgKl] of [['rloo', 'loss'], ['grpo', 'loss'], ['grpo', 'reward']] as const) {
      const tuner = new PgTuner(testKernels(), noteRnn, config({ ...onlyTonicEnding, pgAdvantage, pgKl, gamma: 1, learningRate: 0.003 }));
      const before = endings(tuner);
      trainUpdates(tuner, 40);
      const after = endings(tuner);
      expect(after, `${pgAdvantage}, KL in the ${pgKl}`).toBeGreaterThan(before + 0.15);
    }
  }, 90_000);

  it("pgKl 'reward': each step's reward is −β·(log π − log p) of its token, in the returns to go, and the loss has no KL term", () => {
    const silent = {
      weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0,
      weightIntervals: 0, weightLeap: 0, weightUniqueExtremes: 0, weightTonicEnding: 1, rewardScaler: 1,
    };
    const beta = 0.7, gamma = 0.8;
    const tuner = new PgTuner(testKernels(), noteRnn, config({ ...silent, pgKl: 'reward', klCoefficient: beta, gamma, pgAdvantage: 'rloo', pgReturn: 'to-go', learningRate: 0.01 }));
    // At the Note RNN's weights log π = log p: the KL costs nothing yet.
    type Internals = { rollout(): void; returnsAndAdvantages(): void; stepReward: Float64Array; logPi: Float64Array; logP: Float64Array; compositionReturn: Float64Array; advantage: Float64Array };
    const internals = tuner as unknown as Internals;
    internals.rollout();
    expect(Array.from(internals.stepReward).every((r) => r === 0)).toBe(true);
    trainUpdates(tuner, 6);
    internals.rollout();
    const B = 16, T = 32;
    let nonzero = 0;
    for (let i = 0; i < B * T; i++) {
      expect(internals.stepReward[i]).toBeCloseTo(-beta * (internals.logPi[i] - internals.logP[i]), 12);
      if (internals.stepReward[i] !== 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(B * T / 2);
    // RLOO over the returns to go: each step's return is its discounted KL costs from there on plus the composition's terms.
    const returns = Array.from({ length: B }, (_, b) => {
      const r = new Float64Array(T);
      let toGo = 0;
      for (let t = T - 1; t >= 0; t--) r[t] = (toGo = internals.stepReward[b * T + t] + gamma * toGo) + internals.compositionReturn[b];
      return r;
    });
    internals.returnsAndAdvantages();
    for (let g = 0; g < 2; g++) {
      for (let t = 0; t < T; t += 7) {
        const column = returns.slice(8 * g, 8 * g + 8).map((r) => r[t]);
        const sum = column.reduce((x, y) => x + y, 0);
        column.forEach((r, k) => expect(internals.advantage[(8 * g + k) * T + t]).toBeCloseTo(r - (sum - r) / 7, 9));
      }
    }
    // With nothing to gain (s = 0), the KL in the reward is the only return: at the Note RNN's weights it is 0, and nothing moves.
    const still = new PgTuner(testKernels(), noteRnn, config({ rewardScaler: 0, pgKl: 'reward' }));
    const before = Float32Array.from(still.policy.params);
    trainUpdates(still, 3);
    expect(Array.from(still.policy.params)).toEqual(Array.from(before));
  });

  it('advantages: RLOO is the return minus the mean of the others in its group; GRPO standardises within the group', () => {
    for (const pgAdvantage of ['rloo', 'grpo'] as const) {
      const tuner = new PgTuner(testKernels(), noteRnn, config({ pgAdvantage, pgGroups: 3, pgGroupSize: 4 }));
      const internals = tuner as unknown as { rollout(): ArrayLike<number>[]; returnsAndAdvantages(): void; stepReward: Float64Array; advantage: Float64Array };
      internals.rollout();
      const T = 32;
      const returns = Array.from({ length: 12 }, (_, b) => internals.stepReward.subarray(b * T, (b + 1) * T).reduce((x, y) => x + y, 0));
      internals.returnsAndAdvantages();
      for (let g = 0; g < 3; g++) {
        const group = returns.slice(4 * g, 4 * g + 4);
        const mean = group.reduce((x, y) => x + y, 0) / 4;
        const std = Math.sqrt(group.reduce((x, y) => x + (y - mean) ** 2, 0) / 4);
        group.forEach((r, k) => {
          const want = pgAdvantage === 'rloo' ? r - (group.reduce((x, y) => x + y, 0) - r) / 3 : (r - mean) / (std + 1e-8);
          for (let t = 0; t < T; t++) expect(internals.advantage[(4 * g + k) * T + t]).toBeCloseTo(want, 9);
        });
      }
    }
  });

  it.each(['loss', 'reward'] as const)('a stopped run resumes from its checkpoint to the same bits, metrics records included (KL in the %s)', async (pgKl) => {
    const c = config({ trainingSteps: 6144, logEvery: 1024, klTarget: 0.2, klEvery: 2048, pgKl });
    const straight = new PgTuner(testKernels(), noteRnn, c);
    const straightLogs: LogRecord[] = [];
    await runTuning(straight, { onLog: (m) => { straightLogs.push(m); } });
    const first = new PgTuner(testKernels(), noteRnn, c);
    const logs: LogRecord[] = [];
    let bytes: Uint8Array | null = null;
    await runTuning(first, { onLog: (m) => { logs.push(m); }, shouldStop: () => first.counters.step >= 2500, onCheckpoint: (t) => { bytes = encodeTunerCheckpoint(t); } });
    expect(first.counters.step).toBe(2560); // the first update end at or after step 2500 (512 steps an update)
    const checkpoint = readTunerCheckpoint(bytes!);
    const resumed = createTuner(testKernels(), noteRnn, checkpoint.config) as PgTuner;
    restoreTunerCheckpoint(resumed, checkpoint);
    await runTuning(resumed, { onLog: (m) => { logs.push(m); } });
    const strip = (ms: LogRecord[]) => ms.map(({ 'charts/SPS': _, ...rest }) => rest);
    expect(strip(logs)).toEqual(strip(straightLogs));
    expect(Array.from(resumed.policy.params)).toEqual(Array.from(straight.policy.params));
    expect(Array.from(resumed.policy.adamV)).toEqual(Array.from(straight.policy.adamV));
    expect(resumed.rng.getState()).toEqual(straight.rng.getState());
    expect(resumed.klCoefficient).toBe(straight.klCoefficient);
    expect(straight.klCoefficient).not.toBe(1); // adaptive KL moved β
  });

  it('runs through the driver with evaluations, a final report and samples; the same seed gives the same run', async () => {
    const run = async () => {
      const tuner = createTuner(testKernels(), noteRnn, config({ trainingSteps: 2048, evalEvery: 1024, evalCompositions: 40, sampleCount: 2 }));
      const evaluations: number[] = [];
      const outcome = await runTuning(tuner, { onEvaluation: (r) => { evaluations.push(r.step); } });
      return { tuner, outcome, evaluations };
    };
    const a = await run(), b = await run();
    expect(a.evaluations).toEqual([1024]);
    expect(a.outcome.final?.samples.tuned).toHaveLength(2);
    expect(Array.from(a.tuner.tunedNetwork.params)).toEqual(Array.from(b.tuner.tunedNetwork.params));
    expect(a.tuner.policyModels()).toEqual([a.tuner.tunedNetwork]);
  });

  it('refuses what cannot be: a pg checkpoint for a Q tuner and the reverse, a group of one', () => {
    const pg = new PgTuner(testKernels(), noteRnn, config());
    pg.trainUnit();
    const q = createTuner(testKernels(), noteRnn, { ...config(), algorithm: 'q', replayCapacity: 500 });
    expect(() => restoreTunerCheckpoint(q, readTunerCheckpoint(encodeTunerCheckpoint(pg), 'pg.ck'))).toThrow(/pg\.ck: a pg checkpoint cannot restore a q tuner/);
    expect(() => config({ pgGroupSize: 1 })).toThrow(/pgGroupSize = 1 is out of range/);
    expect(() => new PgTuner(testKernels(), noteRnn, { ...config(), algorithm: 'g' })).toThrow(/PgTuner runs algorithm 'pg', not 'g'/);
    expect(new Random(1).float()).toBeLessThan(1);
  });
});
