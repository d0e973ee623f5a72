import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../src/music/corpus.js';
import { NoteRnnTrainer, evaluateNoteRnn } from '../../src/train/note_rnn_training.js';
import { testKernels } from '../engine/support.js';

const dataDir = new URL('../../data/nottingham/melody/', import.meta.url);

function tunes(names: string[]) {
  return buildCorpus(names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, dataDir))) }))).melodies.map((m) => m.tokens);
}

describe('Note RNN training', () => {
  it('a short run on a few tunes lowers the validation loss', () => {
    const train = tunes(['ashover1.mid', 'ashover2.mid', 'ashover3.mid', 'ashover4.mid', 'ashover5.mid', 'ashover6.mid', 'ashover7.mid', 'ashover8.mid']);
    const valid = tunes(['ashover10.mid', 'ashover11.mid']);
    const trainer = new NoteRnnTrainer(testKernels(), { hiddenSizes: [32], batchSize: 4, windowSteps: 32, epochs: 6, learningRate: 0.01, clipNorm: 5, seed: 3 });
    const before = trainer.evaluate(valid);
    expect(before.nats).toBeGreaterThan(3); // about ln 38 for an untrained model
    for (let e = 0; e < 6; e++) trainer.trainEpoch(train);
    const after = trainer.evaluate(valid);
    expect(after.nats).toBeLessThan(before.nats - 1.5);
    expect(after.steps).toBe(valid.reduce((s, m) => s + m.length - 1, 0));
  });

  it('the same seed trains the same model; evaluation counts every step once', () => {
    const train = tunes(['ashover12.mid', 'ashover13.mid', 'ashover14.mid']);
    const settings = { hiddenSizes: [8], batchSize: 2, windowSteps: 16, epochs: 1, learningRate: 0.01, clipNorm: 5, seed: 9 };
    const a = new NoteRnnTrainer(testKernels(), settings), b = new NoteRnnTrainer(testKernels(), settings);
    a.trainEpoch(train);
    b.trainEpoch(train);
    expect(Array.from(a.model.params)).toEqual(Array.from(b.model.params));
    const m = evaluateNoteRnn(a.model, train, 16);
    expect(m.steps).toBe(train.reduce((s, x) => s + x.length - 1, 0));
    expect(m.perplexity).toBeCloseTo(Math.exp(m.nats), 10);
  });
});
