// Distillation (src/train/distill.ts): the exact per-step KL between a teacher and a student, the melodies a
// student trains on, and that training on a teacher's compositions brings a student closer to it.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { NUM_CLASSES } from '../../src/music/encoding.js';
import { BASIC_ENCODING, encodingConfig } from '../../src/music/encodings.js';
import { policyProbabilities } from '../../src/policy/sampling.js';
import { Random } from '../../src/random.js';
import { distillationGap, sampleTeacher, studentMelodies } from '../../src/train/distill.js';
import { NoteRnnTrainer, runTraining } from '../../src/train/note_rnn_training.js';
import { testKernels } from '../engine/support.js';

const kernels = testKernels();

/** A basic Note RNN of `hidden` units with weights drawn from `seed` (sharpened so its choices are not uniform). */
function randomNoteRnn(hidden: number, seed: number, scale = 1) {
  const model = createModel(kernels, encodingConfig(BASIC_ENCODING, [hidden]), { maxBatch: 64, maxSteps: 64 });
  model.initialize(new Random(seed));
  for (let i = 0; i < model.params.length; i++) model.params[i] *= scale;
  return model;
}

const priming = { kind: 'random_note' } as const;

describe('distillation', () => {
  it('a student trains on each primer followed by its composition', () => {
    const melodies = studentMelodies({ primers: [[5], [7, 1]], compositions: [Uint8Array.of(9, 1, 0), Uint8Array.of(20)] });
    expect(melodies.map((m) => Array.from(m))).toEqual([[5, 9, 1, 0], [7, 1, 20]]);
  });

  it('KL(teacher ‖ student) is Σ π log(π/q) per step: 0 for the teacher itself, the float64 sum otherwise', () => {
    const teacher = randomNoteRnn(12, 3, 4);
    const other = randomNoteRnn(12, 4, 4);
    const samples = sampleTeacher([teacher], new Random(1), { count: 5, numNotes: 21, temperature: 1, priming });
    const self = distillationGap([teacher], teacher, samples, 1);
    expect(self.steps).toBe(5 * 21);
    expect(Math.abs(self.klPerStep)).toBeLessThan(1e-12);
    expect(self.studentLogProb).toBe(self.teacherLogProb);

    const gap = distillationGap([teacher], other, samples, 1);
    let kl = 0, logQ = 0;
    for (let i = 0; i < 5; i++) {
      const pi = policyProbabilities([teacher], samples.primers[i], samples.compositions[i], 1);
      const q = policyProbabilities([other], samples.primers[i], samples.compositions[i], 1);
      for (let t = 0; t < 21; t++) {
        for (let e = 0; e < NUM_CLASSES; e++) kl += pi[t * NUM_CLASSES + e] * Math.log(pi[t * NUM_CLASSES + e] / q[t * NUM_CLASSES + e]);
        logQ += Math.log(q[t * NUM_CLASSES + samples.compositions[i][t]]);
      }
    }
    expect(gap.klPerStep).toBeGreaterThan(0.05);
    expect(gap.klPerStep).toBeCloseTo(kl / 105, 10);
    expect(gap.studentLogProb).toBeCloseTo(logQ / 105, 10);
  });

  it("training on a teacher's compositions brings the student closer to it", async () => {
    const teacher = randomNoteRnn(16, 11, 4);
    const rng = new Random(2);
    const options = { numNotes: 24, temperature: 1, priming };
    const train = sampleTeacher([teacher], rng, { ...options, count: 256 });
    const valid = sampleTeacher([teacher], rng, { ...options, count: 32 });
    const test = sampleTeacher([teacher], rng, { ...options, count: 32 });
    const trainer = new NoteRnnTrainer(kernels, {
      hiddenSizes: [16], batchSize: 32, windowSteps: 25, epochs: 6, patience: 6, learningRate: 0.02, clipNorm: 5, seed: 5,
    });
    const before = distillationGap([teacher], trainer.model, test, 1);
    await runTraining(trainer, { train: studentMelodies(train), valid: studentMelodies(valid) });
    const after = trainer.withBestParams(() => distillationGap([teacher], trainer.model, test, 1));
    expect(after.klPerStep).toBeLessThan(0.7 * before.klPerStep);
    expect(after.studentLogProb).toBeGreaterThan(before.studentLogProb);
  }, 30_000);
});
