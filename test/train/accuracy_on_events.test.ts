// Accuracy without NO_EVENT (SPEC §3): the trainer's figure equals a direct count over the steps whose
// target is not NO_EVENT, made here by stepping the model note by note.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { decodeModel } from '../../src/io/model_file.js';
import { buildCorpus } from '../../src/music/corpus.js';
import { NO_EVENT } from '../../src/music/encoding.js';
import { evaluateNoteRnn } from '../../src/train/note_rnn_training.js';
import { testKernels } from '../engine/support.js';

describe('accuracy on events', () => {
  it('counts only the steps whose target is not NO_EVENT, and plain accuracy counts them all', () => {
    const names = ['ashover20.mid', 'ashover21.mid', 'ashover22.mid'];
    const melodies = buildCorpus(names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(`../../data/nottingham/melody/${name}`, import.meta.url))) }))).melodies.map((m) => m.tokens);
    const decoded = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));
    const model = createModel(testKernels(), decoded.config, { maxBatch: 4, maxSteps: 64 });
    model.importTensors(decoded.tensors);
    const metrics = evaluateNoteRnn(model, melodies, 64);

    const stepper = createModel(testKernels(), decoded.config, { maxBatch: 1 });
    stepper.importTensors(decoded.tensors);
    let steps = 0, correct = 0, events = 0, correctOnEvents = 0;
    for (const m of melodies) {
      stepper.resetState(1);
      for (let t = 0; t + 1 < m.length; t++) {
        const logits = stepper.step([m[t]], 1);
        let best = 0;
        for (let j = 1; j < 38; j++) if (logits[j] > logits[best]) best = j;
        const hit = best === m[t + 1] ? 1 : 0;
        steps++;
        correct += hit;
        if (m[t + 1] !== NO_EVENT) {
          events++;
          correctOnEvents += hit;
        }
      }
    }
    expect(metrics.steps).toBe(steps);
    expect(events).toBeLessThan(steps * 0.6);
    expect(metrics.accuracy).toBeCloseTo(correct / steps, 3);
    expect(metrics.accuracyOnEvents).toBeCloseTo(correctOnEvents / events, 3);
    expect(metrics.accuracyOnEvents).toBeLessThan(metrics.accuracy);
  });
});
