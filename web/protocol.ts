/**
 * Messages between the page (main.ts) and the tuning worker (worker.ts). The page compiles the kernel
 * module once and hands the compiled WebAssembly.Module to the worker, so the worker never compiles.
 * The worker owns the tuned policy (tuned here, or loaded from a model file) and samples from it.
 */

/** Per logging interval, the reward curves the chart draws (means per step over the interval). */
import type { Key } from '../src/index.js';

export interface ProgressPoint {
  step: number;
  total: number;
  musicTheory: number;
  noteRnn: number;
  epsilon: number;
  tdLoss: number;
}

/**
 * One row of the evaluation table (EVALUATION_ROWS key and label with its counts filled in), its value for
 * each model (null: undefined) and the data reference's (undefined: the row has none).
 */
export interface EvaluationValues {
  key: string;
  label: string;
  noteRnn: number | null;
  tuned: number | null;
  reference?: number | null;
}

export interface TuneRequest {
  algorithm: 'q' | 'psi' | 'g' | 'pg';
  trainingSteps: number;
  explorationSteps: number;
  logEvery: number;
  seed: number;
  /** The key the rules reward, and so the key of the tuned model's notes: a tonic name (config `key`) and a mode. */
  key: string;
  mode: string;
  /** Compositions per model in the final evaluation (the table after tuning; 0 to skip). */
  evaluationCount: number;
  /** Tokens every episode starts from (config priming 'primer'), or null for one random note. */
  primer: number[] | null;
}

/** The tuned policy the worker holds, as the page describes it. */
export interface TunedModelInfo {
  /** 'tuned here' or the file name it was loaded from. */
  source: string;
  algorithm: string;
  steps: number;
  /** Steps per composition it was tuned for (the length of its samples). */
  numNotes: number;
  /** Its sampling temperature. */
  temperature: number;
  /** The key of its notes: the key it was tuned in (C major for a Note RNN and for models that record none). */
  key: Key;
}

export type ToWorker =
  /** sharedModule: the shared-memory kernels, sent when the page is cross-origin isolated (two threads). */
  | { type: 'init'; module: WebAssembly.Module; sharedModule: WebAssembly.Module | null; model: ArrayBuffer }
  | { type: 'tune'; request: TuneRequest }
  | { type: 'stop' }
  | { type: 'sample'; seed: number; primer: number[] | null }
  | { type: 'load-model'; name: string; bytes: ArrayBuffer; seed: number; primer: number[] | null };

export type FromWorker =
  /** threads: what the tune will run its kernels on (2 with ?threads=2 where the page is cross-origin isolated). */
  | { type: 'ready'; threads: number }
  | {
      type: 'progress';
      /** The logging intervals since the last progress message (posted at most every ~100 ms). */
      points: ProgressPoint[];
      totalSteps: number;
      /** Steps per second over the latest logging interval. */
      stepsPerSecond: number;
      /** Seconds since the run started. */
      elapsedSeconds: number;
    }
  | { type: 'evaluating'; compositions: number }
  | {
      type: 'done';
      steps: number;
      seconds: number;
      /** Seconds of those spent on the final evaluation. */
      evaluationSeconds: number;
      stopped: boolean;
      model: TunedModelInfo;
      /** The table after tuning; `reference` says what the data column is (null: no reference at this length). */
      evaluation: { compositions: number; rows: EvaluationValues[]; reference: { name: string; note: string } | null } | null;
      /** The tuned network as model-file bytes (.safetensors), to offer as a download. */
      modelBytes: ArrayBuffer;
    }
  | { type: 'model-loaded'; model: TunedModelInfo }
  /** noteRnn's notes are in C major; tuned's in tunedKey (the key the tuned model was tuned in). */
  | { type: 'samples'; seed: number; noteRnn: Uint8Array; tuned: Uint8Array; tunedKey: Key }
  | { type: 'error'; during: 'init' | 'tune' | 'sample' | 'load-model'; message: string };
