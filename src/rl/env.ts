/**
 * The melody-writing environment of RL Tuner (SPEC §4.1–4.2), kept apart from the agent. An episode is
 * one composition of `numNotes` steps. `reset` primes the frozen Reward RNN (the Note RNN) and returns
 * the priming tokens, so the agent can prime its own network alike; at every step `observe` lets the
 * Reward RNN read the current token (its logits give log p(·|s), which G also acts on), and `step(a)`
 * returns the reward parts for playing a and whether the composition is done.
 *
 *   r = log p(a|s) + s·Σ_i w_i r_i(a, s)      (Q and Ψ; w_i = 1 is the paper's reward)
 *   r = s·Σ_i w_i r_i(a, s)                   (G, whose target brings in the prior; and music-theory-only runs)
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { NUM_CLASSES } from '../music/encoding.js';
import type { Random } from '../random.js';
import { musicTheoryRewardInto, newLeapState, NUM_RULES, resetLeapState, type LeapState, type RuleContext } from '../rules/rules.js';
import { primeModels, primingTokens, type Priming } from './sampling.js';
import { logSoftmaxRow } from './softmax.js';
import { stepReward, type Algorithm } from './targets.js';

export interface EnvSettings {
  algorithm: Algorithm;
  numNotes: number;
  /** s = 1/c: the weight of the music-theory reward against log p. */
  rewardScaler: number;
  /** Reward music theory only (the "pure RL" baseline, no log p). */
  musicTheoryOnly: boolean;
  /** w_i: the weight of each rule in r_MT (RULE_NAMES order); all 1 is the paper's reward. */
  ruleWeights: readonly number[];
}

/** What one step of the environment gives back. Views are reused by the next step. */
export interface StepOutcome {
  /** The reward the agent learns from. */
  reward: number;
  /** log p(a|s) under the Reward RNN (part of the reward for Q and Ψ). */
  logProb: number;
  /** r_MT = Σ_i w_i r_i, before the reward scaler s. */
  musicTheory: number;
  /** Each rule's reward r_i, unweighted and unscaled (RULE_NAMES order). */
  perRule: Float64Array;
  /** True at the last step of the composition: the next step starts a new one. */
  done: boolean;
}

export class MelodyEnv {
  /** The tokens chosen so far in this composition (the first `beat` are valid). */
  readonly composition: Uint8Array;
  /** s = 1/c, the weight of r_MT against log p; adaptive KL control changes it during a run. */
  rewardScaler: number;
  /** Steps taken in this composition; 0 between compositions. */
  beat = 0;
  /** The token the networks read at this step: the last priming token, then the previous action. */
  token = 0;
  private readonly leap: LeapState = newLeapState();
  private readonly logProbs = new Float32Array(NUM_CLASSES);
  private readonly outcome: StepOutcome = { reward: 0, logProb: 0, musicTheory: 0, perRule: new Float64Array(NUM_RULES), done: false };
  private priorLogits: Float32Array | null = null;

  constructor(
    /** The frozen Reward RNN: batch row 0 is stepped, its weights never change. */
    readonly rewardRnn: LstmModel,
    readonly settings: EnvSettings,
    readonly rules: RuleContext,
    readonly priming: Priming,
  ) {
    this.composition = new Uint8Array(settings.numNotes);
    this.rewardScaler = settings.rewardScaler;
    if (settings.ruleWeights.length !== NUM_RULES) throw new RangeError(`MelodyEnv: ${settings.ruleWeights.length} rule weights given, ${NUM_RULES} rules`);
  }

  /** log p(·|s) under the Reward RNN at this step (after `observe`). */
  get priorLogProbs(): Float32Array {
    return this.logProbs;
  }

  /** True between compositions (where checkpoints and evaluations happen). */
  get atStart(): boolean {
    return this.beat === 0;
  }

  /**
   * Starts a composition: the Reward RNN from the zero state reads every priming token but the last,
   * which becomes the first step's input. Returns those leading tokens for the agent's network.
   */
  reset(rng: Random): ArrayLike<number> {
    const tokens = primingTokens(this.priming, rng);
    const leading = Array.from(tokens).slice(0, tokens.length - 1);
    primeModels([this.rewardRnn], [leading], 1);
    this.token = tokens[tokens.length - 1];
    this.beat = 0;
    resetLeapState(this.leap);
    this.priorLogits = null;
    return leading;
  }

  /** The Reward RNN reads the current token; returns its logits at this state (valid until the next call). */
  observe(): Float32Array {
    this.priorLogits = this.rewardRnn.step([this.token], 1);
    logSoftmaxRow(this.priorLogits, 0, NUM_CLASSES, this.logProbs);
    return this.priorLogits;
  }

  /** Plays `action` at this step (after `observe`): the reward parts, and whether the composition is done. */
  step(action: number): StepOutcome {
    if (this.priorLogits === null) throw new Error('MelodyEnv.step: call observe() first at every step');
    const { settings: s, outcome } = this;
    outcome.logProb = this.logProbs[action];
    musicTheoryRewardInto(outcome.perRule, this.composition, this.beat, action, this.leap, this.rules);
    let weighted = 0;
    for (let i = 0; i < NUM_RULES; i++) weighted += s.ruleWeights[i] * outcome.perRule[i];
    outcome.musicTheory = weighted;
    outcome.reward = stepReward(s.algorithm, outcome.logProb, weighted, this.rewardScaler, s.musicTheoryOnly);
    outcome.done = this.beat === s.numNotes - 1;
    this.composition[this.beat] = action;
    this.token = action;
    this.beat = outcome.done ? 0 : this.beat + 1;
    this.priorLogits = null;
    return outcome;
  }
}
