// The tuner end to end on a small Note RNN: determinism, exact resume from a checkpoint, and that each
// algorithm learns what its rewards ask for.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { encodeModel, decodeModel } from '../../src/io/model_file.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { Random } from '../../src/random.js';
import { encodeTunerCheckpoint, readTunerCheckpoint, restoreTunerCheckpoint } from '../../src/rl/checkpoint.js';
import { resolveConfig, type TunerConfig } from '../../src/rl/config.js';
import { evaluatePolicy } from '../../src/eval/evaluation.js';
import { RlTuner, TuneDivergedError } from '../../src/rl/tuner.js';
import { testKernels } from '../engine/support.js';
import { runIntervals } from './support.js';
import { COMPOSITION_TERM_NAMES } from '../../src/rules/composition.js';

function smallNoteRnn(seed = 3) {
  const model = createModel(testKernels(), { inputSize: NUM_CLASSES, hiddenSizes: [12], outputSize: NUM_CLASSES }, { maxBatch: 1 });
  model.initialize(new Random(seed));
  return decodeModel(encodeModel(model));
}

const shortRun = (overrides: Record<string, unknown> = {}): TunerConfig =>
  resolveConfig('classic', {
    trainingSteps: 3200, explorationSteps: 1600, replayCapacity: 2000, logEvery: 320, evalEvery: 0, checkpointEvery: 0, ...overrides,
  });

const run = runIntervals;

describe('RlTuner', () => {
  it('the same seed and config give the same run twice; another seed does not', () => {
    const noteRnn = smallNoteRnn();
    const a = new RlTuner(testKernels(), noteRnn, shortRun());
    const b = new RlTuner(testKernels(), noteRnn, shortRun());
    const c = new RlTuner(testKernels(), noteRnn, shortRun({ seed: 2 }));
    const ma = run(a, 3200), mb = run(b, 3200), mc = run(c, 3200);
    expect(ma).toEqual(mb);
    expect(Array.from(a.q.params)).toEqual(Array.from(b.q.params));
    expect(ma).not.toEqual(mc);
    expect(a.counters.updates).toBe(Math.floor(3200 / 5) - Math.floor(32 / 5)); // updates start once 32 are stored
    expect(a.counters.compositions).toBe(3200 / 32);
  });

  it("logs each composition term's mean over the compositions finished in an interval; weights change the run", () => {
    const noteRnn = smallNoteRnn();
    const weighted = shortRun({ numNotes: 64, trainingSteps: 1280, weightTonicEnding: 2, weightPhraseRecurrence: 2 });
    const tuner = new RlTuner(testKernels(), noteRnn, weighted);
    const terms: number[][] = [];
    const step = tuner.env.step.bind(tuner.env);
    tuner.env.step = (action: number) => {
      const out = step(action);
      if (out.done) terms.push(Array.from(out.perComposition));
      return out;
    };
    const intervals = run(tuner, 1280, 320);
    expect(intervals).toHaveLength(4);
    expect(terms).toHaveLength(20);
    COMPOSITION_TERM_NAMES.forEach((name, j) => {
      for (const [k, m] of intervals.entries()) {
        const own = terms.slice(5 * k, 5 * k + 5).reduce((sum, t) => sum + t[j], 0) / 5;
        expect(m[`composition/${name}`]).toBeCloseTo(own, 12);
      }
    });
    expect(Number.isNaN(tuner.takeIntervalMetrics()['composition/rhythm'])).toBe(true); // no composition finished
    const unweighted = new RlTuner(testKernels(), noteRnn, shortRun({ numNotes: 64, trainingSteps: 1280 }));
    run(unweighted, 1280, 320);
    expect(Array.from(unweighted.q.params)).not.toEqual(Array.from(tuner.q.params));
  });

  it('evaluates at evalNumNotes steps when it is set, and at numNotes otherwise', () => {
    const noteRnn = smallNoteRnn();
    const long = new RlTuner(testKernels(), noteRnn, shortRun({ numNotes: 64, evalNumNotes: 16, trainingSteps: 640 }));
    run(long, 640);
    expect(long.counters.compositions).toBe(640 / 64);
    expect(long.evaluatePolicy(3, 0).compositions.map((c) => c.length)).toEqual([16, 16, 16]);
    const same = new RlTuner(testKernels(), noteRnn, shortRun({ numNotes: 64, trainingSteps: 640 }));
    expect(same.evaluatePolicy(2, 0).compositions.map((c) => c.length)).toEqual([64, 64]);
  });

  it('resumes from a checkpoint to exactly the uninterrupted result', () => {
    const noteRnn = smallNoteRnn(4);
    const straight = new RlTuner(testKernels(), noteRnn, shortRun());
    const straightMetrics = run(straight, 3200);

    const first = new RlTuner(testKernels(), noteRnn, shortRun());
    const firstMetrics = run(first, 1600); // the ring has wrapped: capacity 2000 < 1600 + 1600
    const checkpoint = readTunerCheckpoint(encodeTunerCheckpoint(first));
    const resumed = new RlTuner(testKernels(), noteRnn, checkpoint.config);
    restoreTunerCheckpoint(resumed, checkpoint);
    const restMetrics = run(resumed, 3200);
    expect([...firstMetrics, ...restMetrics]).toEqual(straightMetrics);
    expect(Array.from(resumed.q.params)).toEqual(Array.from(straight.q.params));
    expect(Array.from(resumed.target.params)).toEqual(Array.from(straight.target.params));
    expect(resumed.replay.size).toBe(2000);
  });

  it('non-finite weights stop the run with a message and no checkpoint is written from them', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), shortRun());
    run(tuner, 320);
    expect(() => encodeTunerCheckpoint(tuner)).not.toThrow();
    tuner.q.params[7] = NaN;
    expect(() => encodeTunerCheckpoint(tuner)).toThrow(/no longer finite at step 320; not writing a checkpoint/);
    expect(() => run(tuner, 640)).toThrow(TuneDivergedError);
    expect(() => run(tuner, 640)).toThrow(/became (NaN|-?Infinity) at step \d+; lower --learning-rate/);
  });

  it('a run of any length ends between compositions, rounded up, so it can be checkpointed', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), shortRun({ trainingSteps: 1000 }));
    while (tuner.counters.step < 1000) tuner.trainComposition();
    expect(tuner.counters.step).toBe(1024); // 32 compositions of 32 steps
    expect(tuner.betweenCompositions).toBe(true);
    expect(() => encodeTunerCheckpoint(tuner)).not.toThrow();
  });

  it('a checkpoint cannot be taken mid-composition', () => {
    const tuner = new RlTuner(testKernels(), smallNoteRnn(), shortRun());
    tuner.step();
    expect(() => encodeTunerCheckpoint(tuner)).toThrow(/between compositions/);
  });

  const shipped = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));
  for (const algorithm of ['q', 'psi', 'g'] as const) {
    it(`${algorithm}: tuning the shipped Note RNN raises the music-theory reward and removes excessive repeats`, () => {
      const noteRnn = shipped;
      const config = shortRun({ algorithm, trainingSteps: 20_000, explorationSteps: 10_000, replayCapacity: 20_000 });
      const tuner = new RlTuner(testKernels(), noteRnn, config);
      const prior = createModel(testKernels(), noteRnn.config, { maxBatch: 128 });
      prior.importTensors(noteRnn.tensors);
      const opts = { count: 200, numNotes: 32, temperature: 1, priming: { kind: 'random_note' } as const };
      const before = evaluatePolicy(tuner.policyModels(), tuner.reward, new Random(9), opts);
      run(tuner, config.trainingSteps);
      const after = evaluatePolicy(tuner.policyModels(), tuner.reward, new Random(9), opts);
      expect(before.statistics.notesExcessivelyRepeated).toBeGreaterThan(0.02);
      expect(after.statistics.meanRewardPerNote).toBeGreaterThan(before.statistics.meanRewardPerNote + 3);
      expect(after.statistics.notesExcessivelyRepeated).toBeLessThan(0.005);
      // The Reward RNN stays frozen for every algorithm (the reference let G change it).
      expect(Array.from(tuner.reward.params)).toEqual(Array.from(prior.params));
    }, 60_000);
  }
});
