/**
 * The melody-writing environment of RL Tuner (SPEC §4.1–4.2), kept apart from the agent. A composition is
 * `numNotes` steps. `startComposition` primes the frozen Reward RNN (the Note RNN) with the priming tokens
 * and returns all but the last, so the agent can prime its own network alike; the last is the first step's
 * input. The Reward RNN is always one token ahead of the agent: after `startComposition`, and after every
 * `step(a)` that does not end the composition, it has read the current input, so `priorLogits` and
 * `logPrior` are log p(·|s) at the state s the agent acts in next (G acts on them). `step(a)` returns the
 * reward parts for playing a, whether the composition is done, and log p(·|s') at the next state s' (G's
 * target needs it).
 *
 *   r = log p(a|s) + s·(Σ_i w_i r_i(a, s) + [last step] Σ_j v_j c_j(composition))      (Q and Ψ)
 *   r = s·(Σ_i w_i r_i(a, s) + [last step] Σ_j v_j c_j(composition))                   (G; music-theory-only runs)
 *
 * The actions are the Reward RNN's output classes (src/music/encodings.ts): the 38 events, or the lookback
 * encoding's 40 (two of them "repeat the event of one / two bars ago"), decoded to the event played; the
 * rules and the composition see events, log p is the prior's over its classes. A composition starts on a
 * downbeat of 16-step bars, its primer just before.
 *
 * w_i = 1 is the paper's reward; the composition terms c_j (src/rules/composition.ts: ending on the tonic,
 * rhythm, pitch range, phrase recurrence) are scored on the finished composition at its last step, with
 * weights v_j (0 by default: then the reward is exactly the paper's form, not even a 0 is added).
 *
 * With a learned preference reward (src/prefs/preference_reward.ts; weight u > 0), r_MT also gains
 * u·(R(s_{t+1}) − R(s_t)) at every step, R the reward model's running score of the composition so far
 * (potential-based shaping: over a composition it sums to u·R(composition)). The reward model reads the
 * events played, as the answers it learned from hold them, whatever the Reward RNN's encoding.
 */
import type { LstmModel } from '../engine/lstm_model.js';
import { DEFAULT_BAR_GRID, encodingOf, gridBefore, MelodyHistories, type MelodyEncoding } from '../music/encodings.js';
import type { Random } from '../random.js';
import { musicTheoryRewardInto, newLeapState, NUM_RULES, resetLeapState, type LeapState, type RuleContext } from '../rules/rules.js';
import { compositionReward, compositionTermsInto, NOTTINGHAM_COMPOSITION_MODEL, NUM_COMPOSITION_TERMS, type CompositionModel } from '../rules/composition.js';
import { primeModels, primingTokens, type Priming } from '../policy/sampling.js';
import { logSoftmaxRow } from '../policy/softmax.js';
import type { PreferenceReward } from '../prefs/preference_reward.js';
import { stepReward, type ValueAlgorithm } from './targets.js';

export interface EnvSettings {
  algorithm: ValueAlgorithm;
  numNotes: number;
  /** s = 1/c: the weight of the music-theory reward against log p. */
  rewardScaler: number;
  /** Reward music theory only (the "pure RL" baseline, no log p). */
  musicTheoryOnly: boolean;
  /** w_i: the weight of each rule in r_MT (RULE_NAMES order); all 1 is the paper's reward. */
  ruleWeights: readonly number[];
  /** v_j: the weight of each composition term (COMPOSITION_TERM_NAMES order); absent or all 0: none. */
  compositionWeights?: readonly number[];
  /** What the composition terms are fitted on [the Nottingham train split's model]. */
  compositionModel?: CompositionModel;
  /** u: the weight of the learned preference reward's shaping (used with a PreferenceReward; 0 or absent: none). */
  preferenceWeight?: number;
}

/** What one step of the environment gives back. Views are reused by the next step. */
export interface StepOutcome {
  /** The reward the agent learns from. */
  reward: number;
  /** log p(a|s) under the Reward RNN (part of the reward for Q and Ψ). */
  logProb: number;
  /** r_MT = Σ_i w_i r_i (+ Σ_j v_j c_j at the last step, when composition weights are set), before the reward scaler s. */
  musicTheory: number;
  /** Each rule's reward r_i, unweighted and unscaled (RULE_NAMES order). */
  perRule: Float64Array;
  /**
   * Each composition term c_j of the finished composition, unweighted and unscaled (COMPOSITION_TERM_NAMES
   * order): scored at the last step whatever the weights (so metrics can show them), 0 at other steps.
   */
  perComposition: Float64Array;
  /** Σ_j v_j c_j, before the reward scaler (0 before the last step and without composition weights). */
  composition: number;
  /** R(s_{t+1}) − R(s_t) of the learned preference reward, unweighted (0 without one). */
  preference: number;
  /** R(s_{t+1}): the reward model's running score after this step (at the last step, of the composition; 0 without one). */
  preferenceScore: number;
  /** True at the last step of the composition: the next step starts a new one. */
  done: boolean;
  /** log p(·|s') under the Reward RNN at the next state (undefined when done: there is none); reused by the next step. */
  logPriorNext: Float32Array;
}

export class MelodyEnv {
  /** The tokens chosen so far in this composition (the first `beat` are valid). */
  readonly composition: Uint8Array;
  /** s = 1/c, the weight of r_MT against log p; adaptive KL control changes it during a run. */
  rewardScaler: number;
  /** Steps taken in this composition; 0 between compositions. */
  beat = 0;
  /** The event the networks read at this step: the last priming token, then the previous action's event. */
  token = 0;
  /** The input id the networks read at this step (the basic encoding's is `token`). */
  input = 0;
  /** The Reward RNN's encoding, whose classes are the actions. */
  readonly encoding: MelodyEncoding;
  /** The events so far (primer, then composition) in row 0: the encoding's inputs and decoding read them. */
  readonly histories: MelodyHistories;
  private readonly leap: LeapState = newLeapState();
  private readonly logits: Float32Array;
  private readonly logProbs: Float32Array;
  private readonly oneToken = new Int32Array(1);
  private readonly increment = new Float64Array(1);
  private readonly outcome: StepOutcome;
  /** The composition weights, and whether any is set (else nothing is added to the reward). */
  private readonly compositionWeights: readonly number[];
  private readonly compositionActive: boolean;
  /** True from `startComposition` to the last step of the composition (while the Reward RNN has read `token`). */
  private inComposition = false;

  constructor(
    /** The frozen Reward RNN: batch row 0 is stepped, its weights never change. */
    readonly rewardRnn: LstmModel,
    readonly settings: EnvSettings,
    readonly rules: RuleContext,
    readonly priming: Priming,
    /** The learned preference reward, stepped alongside each composition (with settings.preferenceWeight > 0). */
    readonly preference: PreferenceReward | null = null,
  ) {
    this.composition = new Uint8Array(settings.numNotes);
    this.encoding = encodingOf(rewardRnn.config);
    this.histories = new MelodyHistories(this.encoding, 1);
    this.logits = new Float32Array(this.encoding.outputSize);
    this.logProbs = new Float32Array(this.encoding.outputSize);
    this.outcome = {
      reward: 0, logProb: 0, musicTheory: 0, perRule: new Float64Array(NUM_RULES), perComposition: new Float64Array(NUM_COMPOSITION_TERMS), composition: 0, done: false,
      preference: 0, preferenceScore: 0, logPriorNext: this.logProbs,
    };
    this.rewardScaler = settings.rewardScaler;
    if (settings.ruleWeights.length !== NUM_RULES) throw new RangeError(`MelodyEnv: ${settings.ruleWeights.length} rule weights given, ${NUM_RULES} rules`);
    this.compositionWeights = settings.compositionWeights ?? new Array<number>(NUM_COMPOSITION_TERMS).fill(0);
    if (this.compositionWeights.length !== NUM_COMPOSITION_TERMS) {
      throw new RangeError(`MelodyEnv: ${this.compositionWeights.length} composition weights given, ${NUM_COMPOSITION_TERMS} composition terms`);
    }
    this.compositionActive = this.compositionWeights.some((w) => w !== 0);
    if (preference && !((settings.preferenceWeight ?? 0) > 0)) throw new RangeError('MelodyEnv: a preference reward needs a positive preferenceWeight');
  }

  /**
   * The Reward RNN's logits at the current state s (it has read `token`); log p(·|s) up to a constant.
   * Valid after `startComposition` and after each step that did not end the composition; the view is reused.
   */
  get priorLogits(): Float32Array {
    return this.logits;
  }

  /** log p(·|s) under the Reward RNN at the current state s (valid as `priorLogits`; the view is reused). */
  get logPrior(): Float32Array {
    return this.logProbs;
  }

  /** True between compositions (where checkpoints and evaluations happen). */
  get betweenCompositions(): boolean {
    return this.beat === 0;
  }

  /**
   * Starts a composition: the Reward RNN from the zero state reads every priming token but the last,
   * which becomes the first step's input, then reads that input too (so `logPrior` is log p(·|s_0)).
   * Returns the leading tokens for the agent's network (prime it with `histories`, which holds them).
   */
  startComposition(rng: Random): ArrayLike<number> {
    const tokens = primingTokens(this.priming, rng);
    const leading = Array.from(tokens).slice(0, tokens.length - 1);
    this.histories.start(0, tokens, gridBefore(DEFAULT_BAR_GRID, tokens.length));
    primeModels([this.rewardRnn], [leading], 1, this.histories);
    this.beat = 0;
    resetLeapState(this.leap);
    this.preference?.start(1);
    this.read(tokens[tokens.length - 1]);
    this.inComposition = true;
    return leading;
  }

  /**
   * Plays `action` at this step (after `startComposition` at a composition's start): the reward parts, and
   * whether the composition is done. Unless it is, the Reward RNN then reads `action`, the next step's input:
   * `logPriorNext` is log p(·|s') (what G's target needs for this transition), and the current state is s'.
   */
  step(action: number): StepOutcome {
    if (!this.inComposition) throw new Error('MelodyEnv.step: call startComposition() to start each composition');
    const { settings: s, outcome } = this;
    outcome.logProb = this.logProbs[action];
    const event = this.histories.decode(0, action); // the basic encoding's is the action itself
    musicTheoryRewardInto(outcome.perRule, this.composition, this.beat, event, this.leap, this.rules);
    let weighted = 0;
    for (let i = 0; i < NUM_RULES; i++) weighted += s.ruleWeights[i] * outcome.perRule[i];
    outcome.done = this.beat === s.numNotes - 1;
    this.composition[this.beat] = event;
    outcome.composition = 0;
    if (outcome.done) {
      compositionTermsInto(outcome.perComposition, this.composition, this.rules, s.compositionModel ?? NOTTINGHAM_COMPOSITION_MODEL);
      if (this.compositionActive) {
        outcome.composition = compositionReward(outcome.perComposition, this.compositionWeights);
        weighted += outcome.composition;
      }
    } else {
      outcome.perComposition.fill(0);
    }
    if (this.preference) {
      this.oneToken[0] = event; // the reward model reads events (answers hold them), whatever the Reward RNN's classes
      this.preference.read(this.oneToken, 1, this.increment);
      outcome.preference = this.increment[0];
      outcome.preferenceScore = this.preference.scores[0];
      weighted += s.preferenceWeight! * outcome.preference;
    }
    outcome.musicTheory = weighted;
    outcome.reward = stepReward(s.algorithm, outcome.logProb, weighted, this.rewardScaler, s.musicTheoryOnly);
    this.histories.push(0, event);
    if (outcome.done) {
      this.beat = 0;
      this.inComposition = false;
      this.token = event;
      this.input = this.histories.inputId(0);
    } else {
      this.beat++;
      this.read(event);
    }
    return outcome;
  }

  /**
   * The Reward RNN reads `token` (the histories' last event), the input at the new current state: its
   * logits and log p(·|s).
   */
  private read(token: number): void {
    this.token = token;
    this.input = this.histories.inputId(0);
    this.oneToken[0] = this.input;
    const logits = this.rewardRnn.step(this.oneToken, 1);
    const A = this.encoding.outputSize;
    for (let a = 0; a < A; a++) this.logits[a] = logits[a];
    logSoftmaxRow(this.logits, 0, A, this.logProbs);
  }
}
