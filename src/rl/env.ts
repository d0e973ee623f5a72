/**
 * The melody-writing environment of RL Tuner (SPEC §4.1–4.2), kept apart from the agent. An episode is
 * one composition of `numNotes` steps. `reset` primes the frozen Reward RNN (the Note RNN) and returns
 * the priming tokens, so the agent can prime its own network alike; at every step `observe` lets the
 * Reward RNN read the current token (its logits give log p(·|s), which G also acts on), and `step(a)`
 * returns the reward parts for playing a and whether the composition is done.
 *
 *   r = log p(a|s) + s·Σ_i w_i r_i(a, s)      (Q and Ψ)
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
}

/** What one step of the environment gives back. Views are reused by the next step. */
export interface StepOutcome {
  /** The reward the agent learns from. */
  reward: number;
  /** log p(a|s) under the Reward RNN (part of the reward for Q and Ψ). */
  logProb: number;
  /** Σ of the rule rewards, unscaled. */
  musicTheory: number;
  /** Each rule's reward, unscaled (RULE_NAMES order). */
  perRule: Float64Array;
  /** True at the last step of the composition: the next step starts a new one. */
  done: boolean;
}

export class MelodyEnv {
  /** The tokens chosen so far in this composition (the first `beat` are valid). */
  readonly composition: Uint8Array;
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
    return this.priorLogits;
  }

  /** Plays `action` at this step (after `observe`): the reward parts, and whether the composition is done. */
  step(action: number): StepOutcome {
    if (this.priorLogits === null) throw new Error('MelodyEnv.step: call observe() first at every step');
    const { settings: s, outcome } = this;
    logSoftmaxRow(this.priorLogits, 0, NUM_CLASSES, this.logProbs);
    outcome.logProb = this.logProbs[action];
    outcome.musicTheory = musicTheoryRewardInto(outcome.perRule, this.composition, this.beat, action, this.leap, this.rules);
    outcome.reward = stepReward(s.algorithm, outcome.logProb, outcome.musicTheory, s.rewardScaler, s.musicTheoryOnly);
    outcome.done = this.beat === s.numNotes - 1;
    this.composition[this.beat] = action;
    this.token = action;
    this.beat = outcome.done ? 0 : this.beat + 1;
    this.priorLogits = null;
    return outcome;
  }
}
