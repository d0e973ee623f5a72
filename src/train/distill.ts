/**
 * Distillation: a basic-encoding Note RNN (a student) trained on a tuned policy's compositions, so that a
 * policy Magenta.js cannot run (a phrase or lookback network, a G network acting with its prior) reaches
 * it as one basic MusicRNN that `convert` exports.
 *
 * The teacher's compositions are sampled exactly as `generate` samples them; each becomes a training
 * melody of its primer followed by the composition (the student learns to continue a primer from the
 * zero state, as the teacher did). How close the student came is KL(teacher ‖ student) per step,
 * computed exactly over the 38 events at every step of compositions the student never saw:
 * Σ_e π(e|s) (log π(e|s) − log q(e|s)), both models primed with the same primer and fed the same events.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { NUM_CLASSES } from '../music/encoding.js';
import type { BarGrid } from '../music/encodings.js';
import { policyProbabilities, sampleCompositions, type Priming } from '../policy/sampling.js';
import type { Random } from '../random.js';

/** What a distilled Note RNN's model file records of its teacher (`rltuner distill` writes it as data.distilledFrom). */
export interface DistilledFrom {
  teacher: string;
  /** The teacher's kind: 'note_rnn' or its tuning algorithm. */
  algorithm: string;
  compositions: number;
  heldOut: number;
  length: number;
  temperature: number;
  priming: string;
  seed: number;
}

/** The teacher a model file's metadata records (`info.data`), or null for a model that was not distilled. */
export function distilledFrom(data: unknown): DistilledFrom | null {
  const record = (data as { distilledFrom?: unknown } | null | undefined)?.distilledFrom as Partial<DistilledFrom> | undefined;
  return record && typeof record.algorithm === 'string' && typeof record.teacher === 'string' ? (record as DistilledFrom) : null;
}

/** Compositions of a teacher, with the primers they continue. */
export interface TeacherSamples {
  primers: ArrayLike<number>[];
  compositions: Uint8Array[];
}

/** Samples `count` compositions of `numNotes` steps from the teacher (its models summed, as generate does). */
export function sampleTeacher(
  teacher: readonly LstmModel[], rng: Random,
  options: { count: number; numNotes: number; temperature: number; priming: Priming; meter?: BarGrid; onProgress?: (done: number, total: number) => void },
): TeacherSamples {
  const { compositions, primers } = sampleCompositions(teacher, rng, options);
  return { compositions, primers };
}

/** The melodies a student trains on: each primer followed by its composition. */
export function studentMelodies(samples: TeacherSamples): Uint8Array[] {
  return samples.compositions.map((c, i) => {
    const p = samples.primers[i];
    const melody = new Uint8Array(p.length + c.length);
    melody.set(Array.from(p), 0);
    melody.set(c, p.length);
    return melody;
  });
}

/** How far a student is from its teacher on held-out compositions. */
export interface DistillationGap {
  /** Mean over the compositions' steps of KL(π ‖ q) = Σ_e π(e|s) log(π(e|s) / q(e|s)), nats per step. */
  klPerStep: number;
  /** Mean over steps of log q(a|s) of the events the teacher played, nats per step. */
  studentLogProb: number;
  /** Mean over steps of log π(a|s), nats per step (minus the teacher's cross-entropy with itself). */
  teacherLogProb: number;
  /** Steps measured. */
  steps: number;
}

/** Probabilities below this count as this (a softmax in float32 can underflow to 0 for a class). */
const PROBABILITY_FLOOR = 1e-30;

/**
 * KL(teacher ‖ student) per step over `samples` (compositions the student did not train on), exactly over
 * the events at each step: both are primed with each composition's primer and fed its events. The teacher
 * at `temperature` (the one its compositions were sampled at), the student at 1.
 */
export function distillationGap(
  teacher: readonly LstmModel[], student: LstmModel, samples: TeacherSamples, temperature: number, meter?: BarGrid,
): DistillationGap {
  let kl = 0, studentLogProb = 0, teacherLogProb = 0, steps = 0;
  for (let i = 0; i < samples.compositions.length; i++) {
    const composition = samples.compositions[i], primer = samples.primers[i];
    const pi = policyProbabilities(teacher, primer, composition, temperature, meter);
    const q = policyProbabilities([student], primer, composition, 1, meter);
    for (let t = 0; t < composition.length; t++) {
      const row = t * NUM_CLASSES;
      for (let e = 0; e < NUM_CLASSES; e++) {
        const p = pi[row + e];
        if (p > 0) kl += p * (Math.log(p) - Math.log(Math.max(PROBABILITY_FLOOR, q[row + e])));
      }
      const played = composition[t];
      studentLogProb += Math.log(Math.max(PROBABILITY_FLOOR, q[row + played]));
      teacherLogProb += Math.log(Math.max(PROBABILITY_FLOOR, pi[row + played]));
      steps++;
    }
  }
  const per = (x: number) => x / Math.max(1, steps);
  return { klPerStep: per(kl), studentLogProb: per(studentLogProb), teacherLogProb: per(teacherLogProb), steps };
}
