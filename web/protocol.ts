/**
 * Messages between the page (main.ts) and the tuning worker (worker.ts). The page compiles the kernel
 * module once and hands the compiled WebAssembly.Module to the worker, so the worker never compiles.
 */

/** Per logging interval, the reward curves the chart draws (means per step over the interval). */
export interface ProgressPoint {
  step: number;
  total: number;
  musicTheory: number;
  noteRnn: number;
  epsilon: number;
  tdLoss: number;
}

/** A few of the paper's statistics for one model (fractions, log p per note). */
export interface EvaluationRow {
  notInKey: number;
  repeated: number;
  leapsResolved: number | null;
  startsWithTonic: number;
  inMotif: number;
  meanLogProbNoteRnn: number;
}

export interface TuneRequest {
  algorithm: 'q' | 'psi' | 'g';
  trainingSteps: number;
  explorationSteps: number;
  logEvery: number;
  seed: number;
  /** Compositions per model for the evaluation table after tuning (0 to skip). */
  evaluationCount: number;
}

export type ToWorker =
  | { type: 'init'; module: WebAssembly.Module; model: ArrayBuffer }
  | { type: 'tune'; request: TuneRequest }
  | { type: 'stop' }
  | { type: 'sample'; seed: number; length: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; point: ProgressPoint; totalSteps: number; stepsPerSecond: number }
  | {
      type: 'done';
      steps: number;
      seconds: number;
      stopped: boolean;
      /** Steps per composition the run tuned for (the length of the side-by-side samples). */
      numNotes: number;
      evaluation: { noteRnn: EvaluationRow; tuned: EvaluationRow } | null;
    }
  | { type: 'samples'; seed: number; noteRnn: Uint8Array; tuned: Uint8Array }
  | { type: 'error'; message: string };
