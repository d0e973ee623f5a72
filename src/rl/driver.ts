/**
 * The one tuning loop: runs an RlTuner to `trainingSteps` with the schedule the config asks for — a
 * metrics record every `logEvery` steps, an evaluation every `evalEvery`, a checkpoint every
 * `checkpointEvery` — and, at the end, the final comparison with the Note RNN, the MIDI samples and the
 * note-probability heat map. What happens to each (files, a chart, a message to a page) is the caller's:
 * the CLI, the library's `tune()` and the web worker pass hooks. The loop advances one composition at a
 * time and stops only between compositions, so a record falls due at the first composition end at or
 * after its multiple of steps.
 *
 * Order at a step where several fall due: log, then evaluation, then checkpoint, so no stop between a
 * checkpoint and its records can lose a record (a resumed run drops records past its checkpoint).
 */
import { evaluationMetrics, type PolicyEvaluation } from '../eval/evaluation.js';
import { NUM_CLASSES } from '../music/encoding.js';
import { policyProbabilities } from './sampling.js';
import type { IntervalMetrics, RlTuner } from './tuner.js';

/** A logging interval's record: the tuner's means plus environment steps per second. */
export type LogRecord = IntervalMetrics & { 'charts/SPS': number };

export interface TuningHooks {
  /** After every logging interval (and at the end of the run). */
  onLog?(record: LogRecord): void | Promise<void>;
  /** After every periodic evaluation: the record for metrics.jsonl and the full evaluation. */
  onEvaluation?(record: Record<string, number>, evaluation: PolicyEvaluation): void | Promise<void>;
  /**
   * Every `checkpointEvery` steps, when the run stops early, and when it ends. It may return a checkpoint
   * still being written: the loop then trains on for at most its `validForSteps` steps before waiting for
   * it, and waits for it before the run returns.
   */
  onCheckpoint?(tuner: RlTuner): void | BackgroundCheckpoint | Promise<void | BackgroundCheckpoint>;
  /** Asked between compositions; true stops the run there (after a checkpoint). */
  shouldStop?(): boolean;
  /** Awaited between slices of work, so a page or a terminal can handle events. */
  yieldControl?(): Promise<void>;
  /** Milliseconds of work per slice [50]. */
  sliceMs?: number;
  /** A monotonic clock in milliseconds [performance.now]. */
  now?(): number;
}

/** A checkpoint being written while training goes on: its data stays valid for `validForSteps` more steps. */
export interface BackgroundCheckpoint {
  written: Promise<void>;
  validForSteps: number;
}

function isBackgroundCheckpoint(x: unknown): x is BackgroundCheckpoint {
  const b = x as BackgroundCheckpoint | null;
  return typeof b === 'object' && b !== null && typeof b.written?.then === 'function' && Number.isInteger(b.validForSteps) && b.validForSteps >= 0;
}

/** What the end of a finished run gives: the paper's comparison, samples and the heat map. */
export interface FinalReport {
  noteRnn: PolicyEvaluation;
  tuned: PolicyEvaluation;
  /** `sampleCount` compositions of each model (the first ones of the final evaluation). */
  samples: { noteRnn: Uint8Array[]; tuned: Uint8Array[] };
  /** The tuned policy's probabilities at every step of its first sample, primed and tempered as sampled. */
  heatmap: { composition: Uint8Array; probabilities: Float64Array };
}

export interface TuningOutcome {
  /** True when `shouldStop` ended the run early (a checkpoint was taken; `final` is null). */
  stopped: boolean;
  /** Steps taken by this call. */
  steps: number;
  seconds: number;
  /** Null when stopped early or when `evalCompositions` is 0. */
  final: FinalReport | null;
}

const defaultNow = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function nextMultiple(step: number, every: number): number {
  return every > 0 ? (Math.floor(step / every) + 1) * every : Infinity;
}

/** Runs the tuning to its end (or until `shouldStop`), calling the hooks on the config's schedule. */
export async function runTuning(tuner: RlTuner, hooks: TuningHooks = {}): Promise<TuningOutcome> {
  const c = tuner.config;
  const now = hooks.now ?? defaultNow;
  const sliceMs = hooks.sliceMs ?? 50;
  const started = now();
  const startStep = tuner.counters.step;
  let nextLog = nextMultiple(tuner.counters.step, c.logEvery);
  let nextEval = nextMultiple(tuner.counters.step, c.evalEvery);
  let nextCheckpoint = nextMultiple(tuner.counters.step, c.checkpointEvery);
  let intervalStart = { time: started, step: tuner.counters.step };
  let sliceStart = started;
  /** A checkpoint still being written, and the step its data is valid until. */
  let writing: { written: Promise<void>; done: boolean; validUntil: number } | null = null;
  const finishWriting = async () => {
    if (writing) await writing.written;
    writing = null;
  };

  while (tuner.counters.step < c.trainingSteps) {
    // A composition is numNotes steps: wait for a checkpoint being written before training past its data.
    if (writing && (writing.done || tuner.counters.step + c.numNotes > writing.validUntil)) await finishWriting();
    tuner.runUntilEpisodeEnd(c.trainingSteps, tuner.counters.step + 1); // one composition
    const step = tuner.counters.step;
    const finished = step >= c.trainingSteps;
    if (step >= nextLog || finished) {
      const t = now();
      const sps = (step - intervalStart.step) / Math.max(1e-9, (t - intervalStart.time) / 1000);
      intervalStart = { time: t, step };
      await hooks.onLog?.({ ...tuner.takeInterval(), 'charts/SPS': sps });
      nextLog = nextMultiple(step, c.logEvery);
    }
    if (step >= nextEval && !finished) {
      if (c.evalCompositions > 0) {
        const evaluation = tuner.evaluatePolicy(c.evalCompositions, step);
        await hooks.onEvaluation?.(evaluationMetrics(step, evaluation), evaluation);
      }
      nextEval = nextMultiple(step, c.evalEvery);
    }
    const stop = !finished && (hooks.shouldStop?.() ?? false);
    if (step >= nextCheckpoint || finished || stop) {
      await finishWriting();
      const background = await hooks.onCheckpoint?.(tuner);
      if (isBackgroundCheckpoint(background)) {
        const entry = { written: background.written, done: false, validUntil: step + background.validForSteps };
        // Settled is noted (and a failure reported where it is awaited, not as an unhandled rejection).
        background.written.then(() => (entry.done = true), () => (entry.done = true));
        writing = entry;
      }
      nextCheckpoint = nextMultiple(step, c.checkpointEvery);
    }
    if (stop) {
      await finishWriting();
      return { stopped: true, steps: step - startStep, seconds: (now() - started) / 1000, final: null };
    }
    if (hooks.yieldControl && now() - sliceStart >= sliceMs) {
      await hooks.yieldControl();
      sliceStart = now();
    }
  }
  const seconds = (now() - started) / 1000;
  const final = c.evalCompositions > 0 ? finalReport(tuner) : null; // while the last checkpoint is written
  await finishWriting();
  return { stopped: false, steps: tuner.counters.step - startStep, seconds, final };
}

/** The final comparison with the Note RNN, the samples and the heat map (SPEC §6–7). */
export function finalReport(tuner: RlTuner): FinalReport {
  const c = tuner.config;
  const { noteRnn, tuned } = tuner.compareWithNoteRnn(c.evalCompositions);
  const take = (e: PolicyEvaluation) => Array.from({ length: c.sampleCount }, (_, i) => e.compositions[i % e.compositions.length]);
  const composition = tuned.compositions[0];
  const probabilities = policyProbabilities(tuner.policyModels(), tuned.primers[0], composition, c.temperature);
  return { noteRnn, tuned, samples: { noteRnn: take(noteRnn), tuned: take(tuned) }, heatmap: { composition, probabilities } };
}

/** Heat-map rows (classes from high to low) × columns (steps) from step-major probabilities. */
export function heatmapRows(probabilities: Float64Array, steps: number): Float32Array {
  const out = new Float32Array(NUM_CLASSES * steps);
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < NUM_CLASSES; j++) out[(NUM_CLASSES - 1 - j) * steps + t] = probabilities[t * NUM_CLASSES + j];
  }
  return out;
}
