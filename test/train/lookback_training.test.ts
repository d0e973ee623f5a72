// Training with the lookback encoding, dropout and weight decay: what the evaluation reports (per event,
// against a step-by-step count), that the run is deterministic under the seed and resumes to the same bits
// (dropout's masks come from the trainer's checkpointed Random), and that it learns.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../src/music/corpus.js';
import { NO_EVENT } from '../../src/music/encoding.js';
import { actionsPlaying, LOOKBACK_ENCODING, type BarGrid } from '../../src/music/encodings.js';
import { decodeTrainingCheckpoint, encodeTrainingCheckpoint, restoreTrainingCheckpoint } from '../../src/train/checkpoint.js';
import { evaluateNoteRnn, NoteRnnTrainer, type TrainingSettings } from '../../src/train/note_rnn_training.js';
import { melodyGrid } from '../../src/train/training_data.js';
import { testKernels } from '../engine/support.js';

const dataDir = new URL('../../data/nottingham/melody/', import.meta.url);

function tunes(names: string[]): { tokens: Uint8Array[]; grids: BarGrid[] } {
  const melodies = buildCorpus(names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, dataDir))) }))).melodies;
  return { tokens: melodies.map((m) => m.tokens), grids: melodies.map((m) => melodyGrid(m.info)) };
}

const train = tunes(['jigs1.mid', 'jigs2.mid', 'reelsa-c1.mid', 'reelsa-c2.mid', 'waltzes1.mid', 'ashover1.mid']);
const valid = tunes(['jigs3.mid', 'reelsa-c3.mid']);
const settings: TrainingSettings = {
  hiddenSizes: [16], batchSize: 3, windowSteps: 24, epochs: 4, learningRate: 0.01, clipNorm: 5, seed: 5,
  encoding: 'lookback', dropout: 0.5, inputDropout: 0.1, weightDecay: 0.01,
};

describe('lookback training', () => {
  it('the melodies have their meters: 6/8 jigs (and ashover1) on 12-step bars, reels on 16, a 3/4 waltz on 12, pickups placed', () => {
    expect(train.grids.map((g) => g.stepsPerBar)).toEqual([12, 12, 16, 16, 12, 12]);
    expect(train.grids.some((g) => g.barPosition !== 0)).toBe(true);
  });

  it('evaluation: each event\'s probability sums the classes that play it, as a step-by-step count gives', () => {
    const trainer = new NoteRnnTrainer(testKernels(), settings);
    trainer.trainEpoch(train.tokens, undefined, train.grids);
    const metrics = evaluateNoteRnn(trainer.model, valid.tokens, 24, undefined, undefined, undefined, undefined, valid.grids);
    // The same figures one step at a time through step(), in float64.
    const model = trainer.model;
    let loss = 0, labelLoss = 0, steps = 0, correct = 0;
    const playing = new Int32Array(3);
    valid.tokens.forEach((melody, i) => {
      const grid = valid.grids[i];
      model.resetState();
      for (let p = 0; p + 1 < melody.length; p++) {
        const logits = Array.from(model.step([LOOKBACK_ENCODING.inputAt(melody, p, grid)], 1).subarray(0, 40));
        const max = Math.max(...logits);
        const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
        const n = actionsPlaying(LOOKBACK_ENCODING, melody[p + 1], melody, p + 1, grid, playing);
        let hit = 0;
        for (let k = 0; k < n; k++) hit += Math.exp(logits[playing[k]] - lse);
        loss -= Math.log(hit);
        labelLoss -= logits[LOOKBACK_ENCODING.labelAt(melody, p + 1, grid)] - lse;
        const argmax = logits.indexOf(max);
        if (LOOKBACK_ENCODING.decode(argmax, melody, p + 1, grid) === melody[p + 1]) correct++;
        steps++;
      }
    });
    expect(metrics.steps).toBe(steps);
    expect(metrics.nats).toBeCloseTo(loss / steps, 5);
    expect(metrics.labelNats!).toBeCloseTo(labelLoss / steps, 5);
    expect(metrics.accuracy).toBeCloseTo(correct / steps, 10);
    expect(metrics.nats).toBeLessThan(metrics.labelNats!); // summing the classes can only add probability
  });

  it('the same seed trains the same bits; a resumed run (through a checkpoint) ends as a straight one; dropout changes the run', () => {
    const straight = new NoteRnnTrainer(testKernels(), settings);
    for (let e = 0; e < 2; e++) straight.record(straight.trainEpoch(train.tokens, undefined, train.grids), straight.evaluate(valid.tokens, valid.grids), 0);

    const first = new NoteRnnTrainer(testKernels(), settings);
    first.record(first.trainEpoch(train.tokens, undefined, train.grids), first.evaluate(valid.tokens, valid.grids), 0);
    const bytes = encodeTrainingCheckpoint(first, { paths: {}, part: {} }, { format: 'test', kernelBuild: 'plain' });
    const resumed = new NoteRnnTrainer(testKernels(), settings);
    restoreTrainingCheckpoint(resumed, decodeTrainingCheckpoint(bytes, 'checkpoint'));
    resumed.record(resumed.trainEpoch(train.tokens, undefined, train.grids), resumed.evaluate(valid.tokens, valid.grids), 0);
    expect(Array.from(resumed.model.params)).toEqual(Array.from(straight.model.params));
    expect(Array.from(resumed.model.adamV)).toEqual(Array.from(straight.model.adamV));
    expect(resumed.rng.getState()).toEqual(straight.rng.getState());
    expect(resumed.history.map((h) => h.valid)).toEqual(straight.history.map((h) => h.valid));

    const noDropout = new NoteRnnTrainer(testKernels(), { ...settings, dropout: 0, inputDropout: 0 });
    noDropout.trainEpoch(train.tokens, undefined, train.grids);
    const oneEpoch = new NoteRnnTrainer(testKernels(), settings);
    oneEpoch.trainEpoch(train.tokens, undefined, train.grids);
    expect(Array.from(noDropout.model.params)).not.toEqual(Array.from(oneEpoch.model.params));
  });

  it('learns: the validation loss per event falls well below an untrained model\'s, and below the rate of holding', () => {
    const trainer = new NoteRnnTrainer(testKernels(), { ...settings, dropout: 0.2, inputDropout: 0, hiddenSizes: [32] });
    const before = trainer.evaluate(valid.tokens, valid.grids);
    for (let e = 0; e < 6; e++) trainer.trainEpoch(train.tokens, undefined, train.grids);
    const after = trainer.evaluate(valid.tokens, valid.grids);
    expect(before.nats).toBeGreaterThan(3);
    expect(after.nats).toBeLessThan(before.nats - 1.5);
    // Holding (NO_EVENT) is most of the steps: the model must at least have learned that.
    const holds = valid.tokens.reduce((s, m) => s + m.slice(1).filter((t) => t === NO_EVENT).length, 0) / after.steps;
    expect(after.accuracy).toBeGreaterThan(holds - 0.05);
  });
});
