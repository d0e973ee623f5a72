/**
 * A KL-regularized policy gradient over whole compositions (`--algorithm pg`): the policy is one LSTM
 * started from the Note RNN, the prior the frozen Note RNN, and each update learns from a batch of whole
 * compositions sampled from the policy, scored at their end. `trainUnit` below is the whole algorithm:
 *
 *   rollout    G groups of K compositions, each group from one primer, sampled as one batch: a ~ π(·|s);
 *              per step the rules' r_MT and log p(a|s) under the prior, at the end the composition terms
 *   return     R = s·(Σ_t Σ_i w_i r_i(t) + Σ_j v_j c_j + u·R_pref)   (pgReturn 'composition': one return per composition;
 *              R_pref the learned preference reward's score of the composition, src/prefs, when weightPreference u > 0)
 *              R_t = s·(Σ_{t' ≥ t} γ^(t'−t) Σ_i w_i r_i(t') + Σ_j v_j c_j + u·R_pref)   (pgReturn 'to-go': per step, the
 *              rules' rewards from its step on, discounted by γ, and the composition terms and the preference, which
 *              belong to every step)
 *   advantage  A = R − the mean of the other K − 1 returns of its group   (RLOO, Ahmadian et al. 2024)
 *              A = (R − mean) / std over the group                     (GRPO, Shao et al. 2024)
 *   loss       (1 / (B·T)) Σ_b Σ_t [ −A_bt · log π(a_bt|s_bt) + β · k3_bt ],   k3 = (r − 1) − log r, r = p/π
 *              (pgKl 'loss': the per-token KL estimate TRL's GRPO uses; β = klCoefficient, adapted under klTarget)
 *              (pgKl 'reward': no KL term in the loss; instead each step's reward carries −β·(log π − log p) of its
 *              token, so the returns to go hold the KL still to come and, with γ = 1, the optimum over whole
 *              compositions is the Note RNN reweighted by exp(return/β): what src/prefs/least_change.ts draws)
 *   optimise   θ ← Adam(θ, clip(∇θ loss)), backpropagated through time over the priming and the whole composition
 *
 * The gradient of each token's loss with respect to its logits is (A + β(r − 1))·(π − onehot(a)) / (B·T)
 * (∂k3/∂log π = 1 − r; A alone with the KL in the reward), so one signed-coefficient pass of the softmax
 * kernel gives it (policyGradientStep).
 * r is taken from the rollout's own log π and log p: at the Note RNN's weights it is exactly 1, so with a
 * return of 0 (s = 0) nothing moves. All randomness comes from one seeded Random.
 */
import { createArena, type ArenaModelRequest } from '../engine/arena.js';
import type { Kernels } from '../engine/kernels.js';
import type { AdamSettings, ClipSettings, LstmModel } from '../engine/lstm_model.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { DEFAULT_BAR_GRID, encodingOf, gridBefore, MelodyHistories, type MelodyEncoding } from '../music/encodings.js';
import { logSumExpRow, sampleFromScores } from '../policy/softmax.js';
import { primeModels, primingTokens, type Priming } from '../policy/sampling.js';
import { Random } from '../random.js';
import { COMPOSITION_TERM_NAMES, compositionReward, compositionTermsInto, NOTTINGHAM_COMPOSITION_MODEL, NUM_COMPOSITION_TERMS } from '../rules/composition.js';
import { keyTablesOf } from '../rules/key_context.js';
import { C_MAJOR_RULES, musicTheoryRewardInto, newLeapState, NUM_RULES, resetLeapState, RULE_NAMES, type LeapState, type RuleContext } from '../rules/rules.js';
import { compositionWeights, evaluationLength, ruleWeights, type TunerConfig } from './config.js';
import { KlController, type KlControllerState } from './kl_controller.js';
import { EVALUATION_BATCH, evaluationSeed, preferenceModel, TuneDivergedError, type NoteRnnWeights, type TunerCounters } from './tuner.js';
import { PreferenceReward, type RewardModelWeights } from '../prefs/preference_reward.js';
import type { RandomState } from '../random.js';

/** Sums over one logging interval (per step unless named per composition or per update). */
export interface PgIntervalTotals {
  steps: number;
  /** Σ s·(r_MT + composition terms at the last step): the return spread over its steps. */
  reward: number;
  /** Σ log p(a|s) under the prior. */
  logPrior: number;
  /** Σ exact KL(π(·|s) ‖ p(·|s)) over visited states. */
  kl: number;
  /** Σ k1 = log π(a|s) − log p(a|s) and Σ k3 over sampled tokens. */
  klK1: number;
  klK3: number;
  perRule: number[];
  compositions: number;
  perComposition: number[];
  /** Σ of each composition's return R (unscaled by 1/T). */
  returns: number;
  updates: number;
  /** Σ per update of the mean token loss, and of the advantages' standard deviation. */
  loss: number;
  advantageStd: number;
  /** Σ over compositions of the learned preference reward's score R(composition) (only in runs with one). */
  preference?: number;
}

export interface PgSnapshot {
  counters: TunerCounters;
  interval: PgIntervalTotals;
  klController: KlControllerState;
  random: RandomState;
  adamStep: number;
  klCoefficient: number;
}

function emptyInterval(withPreference: boolean): PgIntervalTotals {
  return {
    steps: 0, reward: 0, logPrior: 0, kl: 0, klK1: 0, klK3: 0, perRule: new Array(NUM_RULES).fill(0), compositions: 0,
    perComposition: new Array(NUM_COMPOSITION_TERMS).fill(0), returns: 0, updates: 0, loss: 0, advantageStd: 0,
    ...(withPreference ? { preference: 0 } : {}),
  };
}

export class PgTuner {
  readonly config: TunerConfig;
  /** The policy π (trained), started from the Note RNN. */
  readonly policy: LstmModel;
  /** The prior p: the frozen Note RNN. */
  readonly prior: LstmModel;
  readonly rules: RuleContext;
  readonly priming: Priming;
  readonly rng: Random;
  readonly klController: KlController;
  counters: TunerCounters = { step: 0, updates: 0, compositions: 0 };
  interval: PgIntervalTotals;
  /** The learned preference reward (with weightPreference > 0), stepped alongside the batch's compositions. */
  readonly preference: PreferenceReward | null;
  /** β, the weight of the KL term; adaptive KL control changes it. */
  klCoefficient: number;
  /** Compositions per update: groups × group size. */
  readonly batch: number;
  /** Priming steps fed before each composition (the same for every composition of a run). */
  private leading = -1;
  private readonly ruleWeights: readonly number[];
  private readonly compositionWeights: readonly number[];
  private readonly compositionActive: boolean;
  /** pgKl 'reward': −β·k1 in each step's reward instead of β·k3 in the loss. */
  private readonly klInReward: boolean;
  private readonly adam: AdamSettings;
  private readonly clip: ClipSettings;
  // Rollout buffers, allocated once: (B) and (B, T) row-major by composition, except the BPTT arrays (time-major).
  private readonly compositions: Uint8Array[];
  private readonly leaps: LeapState[];
  private readonly stepReward: Float64Array; // (B, T) s·r_MT of each step (− β·k1 with pgKl 'reward')
  private readonly compositionReturn: Float64Array; // (B) s·Σ_j v_j c_j of each finished composition
  private readonly logPi: Float64Array; // (B, T) log π(a|s) at the rollout
  private readonly logP: Float64Array; // (B, T) log p(a|s)
  private readonly advantage: Float64Array; // (B, T)
  private readonly perRule = new Float64Array(NUM_RULES);
  private readonly perComposition = new Float64Array(NUM_COMPOSITION_TERMS);
  private readonly actions: Int32Array; // (B, T) the class chosen at each step (the label of its BPTT row)
  /** The Note RNN's encoding: its output classes are the actions, decoded to the event played (the basic encoding's are the events). */
  private readonly encoding: MelodyEncoding;
  /** Each row's events so far (primer, then composition): the encoding's inputs and decoding read them. */
  private readonly histories: MelodyHistories;
  private readonly inputIds: Int32Array; // (B) what the networks read next
  private readonly events: Int32Array; // (B) the event each row played at this step (what the reward model reads)
  private readonly scratch: Float64Array;
  private readonly priorScratch: Float64Array;

  /** `rewardModel`: the learned preference reward's model, needed when config.weightPreference > 0 (as for RlTuner). */
  constructor(
    kernels: Kernels, noteRnn: NoteRnnWeights, config: TunerConfig, priming: Priming = { kind: 'random_note' }, rules: RuleContext = C_MAJOR_RULES,
    rewardModel: RewardModelWeights | null = null,
  ) {
    const c = (this.config = { ...config });
    if (c.algorithm !== 'pg') throw new RangeError(`PgTuner runs algorithm 'pg', not '${c.algorithm}' (createTuner picks the right one)`);
    this.rng = new Random(c.seed);
    this.batch = c.pgGroups * c.pgGroupSize;
    const B = this.batch;
    const T = c.numNotes;
    // The BPTT window holds the priming and the composition: its longest primer decides the plan.
    const primingSteps = priming.kind === 'primer' ? priming.tokens.length : priming.kind === 'corpus' ? priming.length : 1;
    const preferred = preferenceModel(c, rewardModel);
    const arena = createArena(kernels, {
      policy: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH), maxSteps: primingSteps - 1 + T, trainable: true },
      prior: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH) },
      ...(preferred ? { preference: PreferenceReward.request(preferred, B) } : {}),
    } as Record<'policy' | 'prior' | 'preference', ArenaModelRequest>);
    this.policy = arena.models.policy;
    this.prior = arena.models.prior;
    this.preference = preferred ? new PreferenceReward(arena.models.preference, preferred) : null;
    this.interval = emptyInterval(this.preference !== null);
    this.policy.importTensors(noteRnn.tensors, 'Note RNN');
    this.prior.copyWeightsFrom(this.policy);
    this.rules = { ...rules, ...keyTablesOf(c), numNotes: T, tonicDominantBonus: c.tonicDominantBonus };
    this.priming = priming;
    this.klController = new KlController(c.klTarget, c.klHorizon);
    this.klCoefficient = c.klCoefficient;
    this.ruleWeights = ruleWeights(c);
    this.compositionWeights = compositionWeights(c);
    this.compositionActive = this.compositionWeights.some((w) => w !== 0);
    this.klInReward = c.pgKl === 'reward';
    this.adam = { learningRate: c.learningRate, beta1: c.adamBeta1, beta2: c.adamBeta2, epsilon: c.adamEpsilon };
    this.clip = { mode: 'perTensor', maxNorm: c.clipNorm };
    this.compositions = Array.from({ length: B }, () => new Uint8Array(T));
    this.leaps = Array.from({ length: B }, () => newLeapState());
    this.stepReward = new Float64Array(B * T);
    this.compositionReturn = new Float64Array(B);
    this.logPi = new Float64Array(B * T);
    this.logP = new Float64Array(B * T);
    this.advantage = new Float64Array(B * T);
    this.actions = new Int32Array(B * T);
    this.encoding = encodingOf(noteRnn.config);
    this.histories = new MelodyHistories(this.encoding, B);
    this.inputIds = new Int32Array(B);
    this.events = new Int32Array(B);
    this.scratch = new Float64Array(this.encoding.outputSize);
    this.priorScratch = new Float64Array(this.encoding.outputSize);
  }

  /** Environment steps one update takes: a batch of whole compositions. */
  get unitSteps(): number {
    return this.batch * this.config.numNotes;
  }

  /** One update: rollout, return, advantage, loss, optimise (see the file comment). */
  trainUnit(): void {
    this.rollout();
    this.returnsAndAdvantages();
    this.optimise();
    this.counters.step += this.unitSteps;
    this.counters.compositions += this.batch;
    this.counters.updates++;
  }

  /**
   * Samples the batch's compositions from π, group by group from one primer each, with the prior stepped
   * alongside: per step the rules' reward and both log-probabilities of the class chosen; each row's
   * events (primer and composition) stay in the histories for the BPTT pass.
   */
  private rollout(): void {
    const { config: c, batch: B, rng, policy, prior } = this;
    const T = c.numNotes;
    const stride = policy.outputStride;
    const primers: ArrayLike<number>[] = [];
    for (let g = 0; g < c.pgGroups; g++) {
      const tokens = primingTokens(this.priming, rng);
      for (let k = 0; k < c.pgGroupSize; k++) primers.push(tokens);
    }
    if (this.leading < 0) this.leading = primers[0].length - 1;
    if (primers.some((p) => p.length !== this.leading + 1)) throw new RangeError('PgTuner: every primer of a run must have the same length');
    // Each composition's first step falls on a downbeat, its primer before it (as the Q, Ψ and G environment).
    for (let b = 0; b < B; b++) this.histories.start(b, primers[b], gridBefore(DEFAULT_BAR_GRID, primers[b].length));
    let [piLogits, pLogits] = primeModels([policy, prior], primers, B, this.histories);
    const A = this.encoding.outputSize;
    for (const leap of this.leaps) resetLeapState(leap);
    this.preference?.start(B);
    const iv = this.interval;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const at = b * T + t;
        // a ~ π(·|s) = softmax(policy logits) over the classes; log π, log p and the exact KL(π ‖ p) at s, in float64.
        const a = sampleFromScores(piLogits, b * stride, A, 1, rng, this.scratch);
        const pi = this.scratch, p = this.priorScratch;
        for (let j = 0; j < A; j++) {
          pi[j] = piLogits[b * stride + j];
          p[j] = pLogits[b * stride + j];
        }
        const lsePi = logSumExpRow(pi, 0, A), lseP = logSumExpRow(p, 0, A);
        let kl = 0;
        for (let j = 0; j < A; j++) {
          const logPiJ = pi[j] - lsePi;
          kl += Math.exp(logPiJ) * (logPiJ - (p[j] - lseP));
        }
        this.logPi[at] = pi[a] - lsePi;
        this.logP[at] = p[a] - lseP;
        const composition = this.compositions[b];
        const event = this.histories.decode(b, a); // the event class a plays (the basic encoding's: a itself)
        this.actions[at] = a;
        musicTheoryRewardInto(this.perRule, composition, t, event, this.leaps[b], this.rules);
        let musicTheory = 0;
        for (let i = 0; i < NUM_RULES; i++) {
          musicTheory += this.ruleWeights[i] * this.perRule[i];
          iv.perRule[i] += this.perRule[i];
        }
        composition[t] = event;
        this.events[b] = event;
        this.histories.push(b, event);
        this.stepReward[at] = c.rewardScaler * musicTheory;
        if (t === T - 1) {
          compositionTermsInto(this.perComposition, composition, this.rules, NOTTINGHAM_COMPOSITION_MODEL);
          for (let j = 0; j < NUM_COMPOSITION_TERMS; j++) iv.perComposition[j] += this.perComposition[j];
          this.compositionReturn[b] = this.compositionActive ? c.rewardScaler * compositionReward(this.perComposition, this.compositionWeights) : 0;
          iv.reward += this.compositionReturn[b];
        }
        const k1 = this.logPi[at] - this.logP[at];
        // pgKl 'reward': the KL is a cost of each step, in its returns (not counted in the reward curves).
        if (this.klInReward) this.stepReward[at] -= this.klCoefficient * k1;
        iv.kl += kl;
        this.klController.observe(kl);
        iv.klK1 += k1;
        iv.klK3 += Math.expm1(-k1) + k1;
        iv.logPrior += this.logP[at];
        iv.reward += c.rewardScaler * musicTheory;
        this.inputIds[b] = this.histories.inputId(b);
      }
      if (this.preference) {
        // The reward model reads the step's events (whatever the Note RNN's classes); after the last, its
        // scores are the compositions' R_pref.
        const scores = this.preference.read(this.events, B);
        if (t === T - 1) {
          for (let b = 0; b < B; b++) {
            const bonus = c.rewardScaler * c.weightPreference * scores[b];
            this.compositionReturn[b] += bonus;
            iv.reward += bonus;
            iv.preference! += scores[b];
          }
        }
      }
      if (t + 1 < T) {
        piLogits = policy.step(this.inputIds, B);
        pLogits = prior.step(this.inputIds, B);
      }
    }
    iv.steps += B * T;
    iv.compositions += B;
  }

  /**
   * Each composition's return (or each step's return to go) and its advantage against its group:
   * leave-one-out mean (rloo) or standardised (grpo).
   */
  private returnsAndAdvantages(): void {
    const { config: c, batch: B } = this;
    const T = c.numNotes;
    const K = c.pgGroupSize;
    const R = this.advantage; // holds the returns first
    const gamma = c.pgReturn === 'to-go' ? c.gamma : 1;
    for (let b = 0; b < B; b++) {
      let whole = this.compositionReturn[b], toGo = 0;
      for (let t = T - 1; t >= 0; t--) {
        const r = this.stepReward[b * T + t];
        whole += r;
        toGo = r + gamma * toGo;
        R[b * T + t] = toGo + this.compositionReturn[b];
      }
      this.interval.returns += whole;
      if (c.pgReturn === 'composition') R.fill(whole, b * T, (b + 1) * T);
    }
    let squares = 0;
    const column = new Float64Array(K);
    for (let g = 0; g < c.pgGroups; g++) {
      for (let t = 0; t < T; t++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += (column[k] = R[(g * K + k) * T + t]);
        const mean = sum / K;
        let variance = 0;
        for (let k = 0; k < K; k++) variance += (column[k] - mean) ** 2;
        const std = Math.sqrt(variance / K);
        for (let k = 0; k < K; k++) {
          const a = c.pgAdvantage === 'rloo' ? (K * column[k] - sum) / (K - 1) : (column[k] - mean) / (std + 1e-8);
          R[(g * K + k) * T + t] = a;
          squares += a * a;
        }
      }
    }
    this.interval.advantageStd += Math.sqrt(squares / (B * T));
  }

  /** The loss's gradient through BPTT over each row's priming and composition, and one Adam step. */
  private optimise(): void {
    const { config: c, batch: B, policy } = this;
    const T = c.numNotes;
    const L = this.leading;
    const steps = L + T; // inputs: the priming events, then e_0 .. e_{T-2} (as input ids); labels: the classes a_0 .. a_{T-1} at rows L .. L+T-1
    const inputs = new Int32Array(steps * B);
    const labels = new Int32Array(steps * B).fill(-1);
    const coefficients = new Float32Array(steps * B);
    const beta = this.klInReward ? 0 : this.klCoefficient; // pgKl 'reward': the KL is in the advantages already
    let loss = 0;
    for (let b = 0; b < B; b++) {
      // The histories hold each row's primer (L + 1 events) and its composition: row i reads event i.
      for (let i = 0; i < steps; i++) inputs[i * B + b] = this.histories.inputIdAt(b, i);
      for (let t = 0; t < T; t++) {
        const row = (L + t) * B + b;
        const at = b * T + t;
        labels[row] = this.actions[at];
        const k1 = this.logPi[at] - this.logP[at];
        const r = Math.exp(-k1);
        coefficients[row] = (this.advantage[at] + beta * (r - 1)) / (B * T);
        loss += (-this.advantage[at] * this.logPi[at] + beta * (r - 1 + k1)) / (B * T);
      }
    }
    if (!Number.isFinite(loss)) throw new TuneDivergedError(`the policy-gradient loss became ${loss} at step ${this.counters.step}; lower --learning-rate or --reward-scaler`);
    policy.forwardSequence(inputs, B, steps, 'zero');
    policy.labelLogProbs(labels, B, steps);
    policy.policyGradientStep(coefficients, B, steps, this.adam, this.clip);
    if (!policy.parametersFinite()) throw new TuneDivergedError(`the policy's weights are no longer finite at step ${this.counters.step}; lower --learning-rate`);
    this.interval.updates++;
    this.interval.loss += loss;
  }

  /** True between updates (checkpoints and evaluations happen there; a PgTuner is always between compositions). */
  get betweenCompositions(): boolean {
    return true;
  }

  /** The reward network of the evaluation: the prior (the Note RNN). */
  get reward(): LstmModel {
    return this.prior;
  }

  /** The network a tuned model file holds: the policy, which acts alone. */
  get tunedNetwork(): LstmModel {
    return this.policy;
  }

  /** The policy's models for sampling: the policy alone. */
  policyModels(): LstmModel[] {
    return [this.policy];
  }

  /** β adapts to the KL seen since the last call (adaptive KL control; unchanged when off). */
  adaptRewardScaler(): void {
    this.klCoefficient = 1 / this.klController.adapt(1 / this.klCoefficient);
  }

  /** The current logging interval's means, and a fresh interval. */
  takeIntervalMetrics(): Record<string, number> & { step: number } {
    const iv = this.interval;
    const n = Math.max(1, iv.steps);
    const u = iv.updates;
    const out: Record<string, number> & { step: number } = {
      step: this.counters.step,
      'charts/reward_total': iv.reward / n,
      'charts/reward_music_theory': iv.reward / n,
      'charts/reward_note_rnn': iv.logPrior / n,
      'charts/epsilon': 0,
      'charts/return': iv.compositions ? iv.returns / iv.compositions : NaN,
      'charts/kl': iv.kl / n,
      'charts/kl_k1': iv.klK1 / n,
      'charts/kl_k3': iv.klK3 / n,
      'charts/reward_scaler': this.config.rewardScaler,
      'charts/kl_coefficient': this.klCoefficient,
      'losses/policy_loss': u ? iv.loss / u : NaN,
      'losses/advantage_std': u ? iv.advantageStd / u : NaN,
    };
    RULE_NAMES.forEach((name, r) => (out[`rules/${name}`] = iv.perRule[r] / n));
    COMPOSITION_TERM_NAMES.forEach((name, j) => (out[`composition/${name}`] = iv.compositions ? iv.perComposition[j] / iv.compositions : NaN));
    if (this.preference) out['preference/score'] = iv.compositions ? iv.preference! / iv.compositions : NaN;
    this.interval = emptyInterval(this.preference !== null);
    return out;
  }

  /** The tuned policy evaluated over `count` compositions with the stream of `step` (−1: the final one). */
  evaluatePolicy(count: number, step: number): PolicyEvaluation {
    return this.evaluate([this.policy], count, step);
  }

  /** The paper's statistics for the Note RNN and the tuned policy over `count` compositions each, primed alike. */
  compareWithNoteRnn(count: number): { noteRnn: PolicyEvaluation; tuned: PolicyEvaluation } {
    return { noteRnn: this.evaluate([this.prior], count, -1), tuned: this.evaluate([this.policy], count, -1) };
  }

  private evaluate(models: LstmModel[], count: number, step: number): PolicyEvaluation {
    const c = this.config;
    return evaluatePolicy(models, this.prior, new Random(evaluationSeed(c.seed, step)), {
      count, numNotes: evaluationLength(c), temperature: c.temperature, priming: this.priming, rules: this.rules,
    });
  }

  /** Everything a checkpoint needs besides the weights and Adam's moments. */
  snapshot(): PgSnapshot {
    return {
      counters: { ...this.counters },
      interval: { ...this.interval, perRule: [...this.interval.perRule], perComposition: [...this.interval.perComposition] },
      klController: this.klController.state,
      random: this.rng.getState(),
      adamStep: this.policy.adamStep,
      klCoefficient: this.klCoefficient,
    };
  }

  restore(s: PgSnapshot): void {
    this.counters = { ...s.counters };
    this.interval = { ...emptyInterval(this.preference !== null), ...s.interval, perRule: [...s.interval.perRule], perComposition: [...s.interval.perComposition] };
    this.klController.state = s.klController;
    this.rng.setState(s.random);
    this.policy.adamStep = s.adamStep;
    this.klCoefficient = s.klCoefficient;
  }
}
