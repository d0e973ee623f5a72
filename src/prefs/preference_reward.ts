/**
 * A learned reward in a tuning run: the reward model (reward_model.ts), frozen, in the tuner's arena, stepped
 * alongside the compositions being written. Its output after the tokens so far is the running score
 * R(s_t) of the composition so far (R(s_0) = 0 before the first note); after the last step it is the
 * model's score of the finished composition. How the tuners use it (weight w, reward scaler s):
 *
 *   pg         each composition's return gains s·w·R(composition), as a composition term does (src/rl/pg.ts)
 *   Q, Ψ, G    each step's reward gains s·w·(R(s_{t+1}) − R(s_t)): potential-based shaping (Ng, Harada and
 *              Russell 1999) with the running score as the potential. Its sum over a composition is
 *              s·w·R(composition), so an undiscounted return gets exactly what pg's does, and the shaping
 *              leaves the optimal policy of that return unchanged while giving every step its share of the
 *              credit (with γ < 1, the late steps' shares weigh less, as every reward does).
 *
 * The model is never trained here (no gradients are planned for it), and the tuner's random stream is not
 * touched: a run with a reward model differs from one without only by the reward.
 */
import type { LstmStackConfig } from '../engine/layout.js';
import type { LstmModel } from '../engine/lstm_model.js';
import type { ArenaModelRequest } from '../engine/arena.js';
import { NUM_CLASSES } from '../music/encoding.js';

/** A reward model as decoded from its file (decodeModel with REWARD_MODEL): its architecture and tensors. */
export interface RewardModelWeights {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class PreferenceReward {
  /** Each row's running score R(s_t) after the tokens it has read this composition (0 before the first). */
  readonly scores: Float64Array;
  private readonly tokens: Int32Array;

  /** The arena request for a reward model stepping `rows` compositions side by side. */
  static request(weights: RewardModelWeights, rows: number): ArenaModelRequest {
    return { config: weights.config, maxBatch: rows, maxSteps: 1, trainable: false };
  }

  /** The frozen reward model `model` (planned with PreferenceReward.request), loaded with `weights`. */
  constructor(readonly model: LstmModel, weights: RewardModelWeights, source = 'reward model') {
    const c = weights.config;
    if (c.inputSize !== NUM_CLASSES || c.outputSize !== 1) {
      throw new RangeError(`${source}: a reward model takes ${NUM_CLASSES} classes in and gives 1 score out; this one has ${c.inputSize} and ${c.outputSize}`);
    }
    model.importTensors(weights.tensors, source);
    this.scores = new Float64Array(model.maxBatch);
    this.tokens = new Int32Array(model.maxBatch);
  }

  /** Starts a composition in rows 0..rows-1: the zero state, and R(s_0) = 0. */
  start(rows: number): void {
    this.model.resetState(rows);
    this.scores.fill(0, 0, rows);
  }

  /**
   * Each row reads its next token; returns the new running scores R(s_{t+1}) (a view, valid until the next
   * call) after writing each row's R(s_{t+1}) − R(s_t) into `increments` when given.
   */
  read(tokens: ArrayLike<number>, rows: number, increments?: Float64Array): Float64Array {
    for (let b = 0; b < rows; b++) this.tokens[b] = tokens[b];
    const outputs = this.model.step(this.tokens, rows);
    const Q = this.model.outputStride;
    for (let b = 0; b < rows; b++) {
      const next = outputs[b * Q];
      if (increments) increments[b] = next - this.scores[b];
      this.scores[b] = next;
    }
    return this.scores.subarray(0, rows);
  }
}
