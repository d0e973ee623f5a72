/**
 * The one tuning loop: runs a tuner (RlTuner for Q, Ψ and G; PgTuner for pg) to `trainingSteps` with the
 * schedule the config asks for — a
 * metrics record every `logEvery` steps, an evaluation every `evalEvery`, a checkpoint every
 * `checkpointEvery` — and, at the end, the final comparison with the Note RNN, the MIDI samples and the
 * note-probability heat map. What happens to each (files, a chart, a message to a page) is the caller's:
 * the CLI, the library's `tune()` and the web worker pass hooks. The loop trains a unit at a time (one
 * composition for Q, Ψ and G; one update's batch of compositions for pg) and stops only between units, so
 * anything scheduled falls due at the first unit end at or after its multiple of steps; adaptive KL
 * control adapts every `klEvery` steps.
 *
 * Order at a step where several fall due: log, KL adaptation, evaluation, then checkpoint, so no stop
 * between a checkpoint and its records can lose a record (a resumed run drops records past its checkpoint).
 */
import type { Kernels } from '../engine/kernels.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { evaluationMetrics, type PolicyEvaluation } from '../eval/evaluation.js';
import { NUM_CLASSES } from '../music/encoding.js';
import { policyProbabilities, type Priming } from '../policy/sampling.js';
import type { RuleContext } from '../rules/rules.js';
import type { TunerConfig } from './config.js';
import type { RewardModelWeights } from '../prefs/preference_reward.js';
import { PgTuner } from './pg.js';
import { RlTuner, type NoteRnnWeights, type TunerCounters } from './tuner.js';

/** What the loop drives: RlTuner (q, psi, g) and PgTuner (pg) alike. */
export interface Tuner {
  readonly config: TunerConfig;
  readonly counters: TunerCounters;
  /** The most environment steps one trainUnit takes (a background checkpoint's data must outlast them). */
  readonly unitSteps: number;
  /** Trains one unit: a composition (q, psi, g), or one update's batch of compositions (pg). */
  trainUnit(): void;
  /** The current logging interval's means (the metrics.jsonl record), and a fresh interval. */
  takeIntervalMetrics(): Record<string, number> & { step: number };
  /** Adaptive KL control: the reward scaler (pg: β) adapts to the KL seen since the last call. */
  adaptRewardScaler(): void;
  evaluatePolicy(count: number, step: number): PolicyEvaluation;
  compareWithNoteRnn(count: number): { noteRnn: PolicyEvaluation; tuned: PolicyEvaluation };
  /** The models whose summed logits are the policy's acting scores. */
  policyModels(): LstmModel[];
  /** The network a tuned model file holds (the Q-network; pg's policy). */
  readonly tunedNetwork: LstmModel;
}

/** The tuners (both implement Tuner). */
export type AnyTuner = RlTuner | PgTuner;

/**
 * The tuner the config's algorithm asks for; `rewardModel` is the learned preference reward's model, needed
 * when config.weightPreference > 0.
 */
export function createTuner(
  kernels: Kernels, noteRnn: NoteRnnWeights, config: TunerConfig, priming?: Priming, rules?: RuleContext, rewardModel: RewardModelWeights | null = null,
): RlTuner | PgTuner {
  return config.algorithm === 'pg'
    ? new PgTuner(kernels, noteRnn, config, priming, rules, rewardModel)
    : new RlTuner(kernels, noteRnn, config, priming, rules, rewardModel);
}

/** A logging interval's record: the tuner's means plus environment steps per second. */
export type LogRecord = Record<string, number> & { step: number; 'charts/SPS': number };

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
  onCheckpoint?(tuner: AnyTuner): void | BackgroundCheckpoint | Promise<void | BackgroundCheckpoint>;
  /** Asked between units; true stops the run there (after a checkpoint). */
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

/**
 * The checkpoint being written in the background, if any: its data stays valid until a step, and training
 * must not run past it (nor a second checkpoint start) before the write is done.
 */
class CheckpointInFlight {
  private writing: { written: Promise<void>; done: boolean; validUntil: number } | null = null;

  /** Waits for the write in flight if it is done, or if training `steps` more from `step` would pass its data. */
  async beforeTraining(step: number, steps: number): Promise<void> {
    if (this.writing && (this.writing.done || step + steps > this.writing.validUntil)) await this.finish();
  }

  /** Waits for the write in flight (a failed write throws here). */
  async finish(): Promise<void> {
    const writing = this.writing;
    this.writing = null;
    if (writing) await writing.written;
  }

  /** Takes a checkpoint at `step` through the hook, after the previous one is written. */
  async take(hook: TuningHooks['onCheckpoint'], tuner: AnyTuner, step: number): Promise<void> {
    await this.finish();
    const background = await hook?.(tuner);
    if (!isBackgroundCheckpoint(background)) return;
    const entry = { written: background.written, done: false, validUntil: step + background.validForSteps };
    // Settled is noted (and a failure reported where it is awaited, not as an unhandled rejection).
    background.written.then(() => (entry.done = true), () => (entry.done = true));
    this.writing = entry;
  }
}

/** Runs the tuning to its end (or until `shouldStop`), calling the hooks on the config's schedule. */
export async function runTuning(tuner: AnyTuner, hooks: TuningHooks = {}): Promise<TuningOutcome> {
  const loop: Tuner = tuner; // what the loop may use of it
  const c = loop.config;
  const now = hooks.now ?? defaultNow;
  const sliceMs = hooks.sliceMs ?? 50;
  const started = now();
  const startStep = loop.counters.step;
  const next = { log: 0, kl: 0, evaluation: 0, checkpoint: 0 };
  const schedule = (step: number) => {
    next.log = nextMultiple(step, c.logEvery);
    next.kl = nextMultiple(step, c.klEvery);
    next.evaluation = nextMultiple(step, c.evalEvery);
    next.checkpoint = nextMultiple(step, c.checkpointEvery);
  };
  schedule(startStep);
  let interval = { time: started, step: startStep };
  let sliceStart = started;
  const checkpoint = new CheckpointInFlight();

  while (loop.counters.step < c.trainingSteps) {
    await checkpoint.beforeTraining(loop.counters.step, loop.unitSteps);
    loop.trainUnit();
    const step = loop.counters.step;
    const finished = step >= c.trainingSteps;
    if (step >= next.log || finished) {
      const t = now();
      const sps = (step - interval.step) / Math.max(1e-9, (t - interval.time) / 1000);
      interval = { time: t, step };
      await hooks.onLog?.({ ...loop.takeIntervalMetrics(), 'charts/SPS': sps });
    }
    if (step >= next.kl || finished) loop.adaptRewardScaler();
    if (step >= next.evaluation && !finished && c.evalCompositions > 0) {
      const evaluation = loop.evaluatePolicy(c.evalCompositions, step);
      await hooks.onEvaluation?.(evaluationMetrics(step, evaluation), evaluation);
    }
    const stop = !finished && (hooks.shouldStop?.() ?? false);
    if (step >= next.checkpoint || finished || stop) await checkpoint.take(hooks.onCheckpoint, tuner, step);
    schedule(step);
    if (stop) {
      await checkpoint.finish();
      return { stopped: true, steps: step - startStep, seconds: (now() - started) / 1000, final: null };
    }
    if (hooks.yieldControl && now() - sliceStart >= sliceMs) {
      await hooks.yieldControl();
      sliceStart = now();
    }
  }
  const seconds = (now() - started) / 1000;
  const final = c.evalCompositions > 0 ? finalReport(tuner) : null; // while the last checkpoint is written
  await checkpoint.finish();
  return { stopped: false, steps: loop.counters.step - startStep, seconds, final };
}

/** The final comparison with the Note RNN, the samples and the heat map (SPEC §6–7). */
export function finalReport(tuner: Tuner): FinalReport {
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
