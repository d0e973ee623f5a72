/**
 * Messages between the listening page (listen.ts) and its worker (listen_worker.ts), which runs the loop's
 * long steps off the page's thread: training a reward model on the answers kept in the browser, then tuning
 * the Note RNN on it. The page compiles the kernels once and hands the compiled module over.
 */
import type { PairAnswer } from '../src/index.js';

/** One answered pair as the worker trains on it. */
export interface AnsweredPair {
  a: number[];
  b: number[];
  answer: PairAnswer;
}

/** What a finished reward training measured. */
export interface RewardSummary {
  pairs: number;
  train: number;
  heldOut: number;
  /** Held-out pairs with a preference, and the share of them the model orders as answered (null: none). */
  heldOutDecided: number;
  heldOutAccuracy: number | null;
  heldOutLoss: number;
  trainAccuracy: number | null;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
}

export type ToListenWorker =
  | { type: 'init'; module: WebAssembly.Module; noteRnn: ArrayBuffer }
  | { type: 'train-reward'; pairs: AnsweredPair[] }
  /** Tunes the Note RNN on the reward model (PREFERENCE_TUNING) for `steps` steps of `numNotes`-step compositions. */
  | { type: 'tune'; rewardModel: ArrayBuffer; steps: number; numNotes: number; seed: number }
  | { type: 'stop' };

export type FromListenWorker =
  | { type: 'ready' }
  | { type: 'reward-progress'; epoch: number; epochs: number; done: number; total: number; loss: number; elapsedSeconds: number; secondsPerEpoch: number | null }
  | { type: 'reward-trained'; summary: RewardSummary; modelBytes: ArrayBuffer }
  | { type: 'tune-progress'; step: number; totalSteps: number; stepsPerSecond: number; elapsedSeconds: number; preferenceScore: number }
  | { type: 'tuned'; steps: number; seconds: number; stopped: boolean; numNotes: number; modelBytes: ArrayBuffer }
  | { type: 'error'; during: 'init' | 'train-reward' | 'tune'; message: string };
