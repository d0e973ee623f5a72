/**
 * RL Tuner (SPEC §4) with Q-, Ψ- or G-learning: the environment (a composition written note by note,
 * rewarded by log p(a|s) from the frozen Reward RNN plus the music-theory rules), the Q-network and its
 * trailing Target network, and the replay memory, driven one environment step at a time like the paper's
 * algorithm. `step` and `learn` below are the whole algorithm:
 *
 *   act      a_t at s_t: ε-greedy or Boltzmann over Q, Ψ, or G + log p
 *   reward   r_t = log p(a|s) + s·Σ_i w_i r_i (Q, Ψ); s·Σ_i w_i r_i (G); and log p(·|s_{t+1}) for G's target
 *   store    (x_t, h_t, a_t, r_t, h_t', log p(·|s_{t+1}), done) in the replay ring, h the Q-network's LSTM state
 *   and every `trainEvery` steps, once `batchSize` transitions are stored:
 *   sample   B distinct transitions
 *   targets  y = r + γ·V(s') with V from targets.ts (y = r at the last step of a composition)
 *   loss     mean_b (Q(s_b, a_b) − y_b)²
 *   optimise θ ← Adam(θ, clip(∇θ loss))
 *   soft update  θ_T ← (1 − η)·θ_T + η·θ
 *
 * Q, Ψ and G differ only in the target (targets.ts) and the acting scores. The Q-network shares the Note
 * RNN's encoding (src/music/encodings.ts): its actions are the prior's output classes, decoded by the
 * environment to the events the rules see, and the networks read the encoding's inputs (the replay keeps
 * their ids when they are not the tokens). All randomness comes from one seeded Random. The schedule around the steps (logging, KL control, evaluation, checkpoints, stopping) is
 * driver.ts's; how the kernels spread the work (threads, fused passes) is the engine's (OnlineAndTarget).
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena, type ArenaModelRequest } from '../engine/arena.js';
import type { LstmStackConfig } from '../engine/layout.js';
import type { AdamSettings, ClipSettings, LstmModel } from '../engine/lstm_model.js';
import { OnlineAndTarget } from '../engine/online_and_target.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { Random, type RandomState } from '../random.js';
import { C_MAJOR_RULES, NUM_RULES, RULE_NAMES, type RuleContext } from '../rules/rules.js';
import { keyTablesOf } from '../rules/key_context.js';
import { compositionWeights, evaluationLength, ruleWeights, type TunerConfig } from './config.js';
import { COMPOSITION_TERM_NAMES, NUM_COMPOSITION_TERMS } from '../rules/composition.js';
import { MelodyEnv, type StepOutcome } from './env.js';
import { KlController, type KlControllerState } from './kl_controller.js';
import { Minibatch, ReplayRing, type ReplaySnapshot } from './replay.js';
import { primeModels, type Priming } from '../policy/sampling.js';
import { argmaxRow, logSumExpRow, sampleFromScores } from '../policy/softmax.js';
import { actingScores, tdTargets, type ValueAlgorithm } from './targets.js';
import { BASIC_ENCODING } from '../music/encodings.js';
import { PreferenceReward, type RewardModelWeights } from '../prefs/preference_reward.js';

/** Rows the Q-network and Reward RNN are planned for beyond the minibatch (batched evaluation). */
export const EVALUATION_BATCH = 128;

/** A TD target, the loss or the weights stopped being finite: the run cannot go on. */
export class TuneDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TuneDivergedError';
  }
}

/**
 * Sums over one logging interval (SPEC §7 reward curves). The music-theory part is scaled (s·r_MT), so for
 * q and psi total = Note RNN + music theory; for g (and music-theory-only runs) the Note RNN curve is log p
 * of the chosen notes, logged to show how far the policy strays from the prior, not a part of the reward.
 * The per-rule values are unscaled.
 */
export interface IntervalTotals {
  steps: number;
  rewardTotal: number;
  rewardMusicTheory: number;
  rewardNoteRnn: number;
  perRule: number[];
  /** Compositions finished in the interval, and the sums of their composition terms (unweighted, unscaled). */
  compositions: number;
  perComposition: number[];
  updates: number;
  tdLoss: number;
  targetValue: number;
  qValue: number;
  /** Σ over steps of KL(π(·|s) ‖ p(·|s)), π = softmax(acting scores / temperature), exact per state. */
  kl: number;
  /** Σ over finished compositions of the reward model's score R(composition) (only in runs with a learned preference reward). */
  preference?: number;
}

/** One logging interval's means, as written to metrics.jsonl (cleanrl's metric names). */
export interface IntervalMetrics {
  step: number;
  'charts/reward_total': number;
  'charts/reward_music_theory': number;
  'charts/reward_note_rnn': number;
  'charts/epsilon': number;
  'losses/td_loss': number;
  'losses/mean_target': number;
  'losses/q_values': number;
  /** Mean exact KL(π ‖ p) per visited state, nats. */
  'charts/kl': number;
  /** The reward scaler s during the interval (adaptive KL control changes it). */
  'charts/reward_scaler': number;
  /** rules/<name>: each rule's mean per step; composition/<name>: each composition term's mean per composition (NaN when none finished). */
  [metric: string]: number;
}

export interface TunerCounters {
  /** Environment steps taken in training (ε anneals over these; evaluations take none). */
  step: number;
  updates: number;
  compositions: number;
}

/** The Note RNN as decoded from a model file: its architecture and tensors. */
export interface NoteRnnWeights {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class RlTuner {
  readonly config: TunerConfig;
  /** q, psi or g (pg runs in PgTuner, src/rl/pg.ts). */
  readonly algorithm: ValueAlgorithm;
  readonly env: MelodyEnv;
  /** The Q-network (trained) and the Target network trailing it. */
  readonly networks: OnlineAndTarget;
  readonly replay: ReplayRing;
  readonly klController: KlController;
  readonly rng: Random;
  counters: TunerCounters = { step: 0, updates: 0, compositions: 0 };
  interval: IntervalTotals;
  /** True when a learned preference reward is part of the reward (its score is then logged as preference/score). */
  readonly withPreference: boolean;
  /** The acting scores of the last `act` (Q, Ψ, or G + the prior's logits), one per action. */
  readonly scores: Float32Array;
  /** Actions: the Note RNN's output classes (38; 40 for the lookback encoding). */
  readonly actions: number;
  /** The Q-network's LSTM state before and after it read the current token (what the replay stores). */
  private readonly stateBefore: Float32Array;
  private readonly stateAfter: Float32Array;
  private readonly batch: Minibatch;
  private readonly targets: Float32Array;
  private readonly adam: AdamSettings;
  private readonly clip: ClipSettings = { mode: 'perTensor', maxNorm: 0 };
  private readonly oneToken = new Int32Array(1);
  private readonly scratch: Float64Array;

  /**
   * `rewardModel`: the learned preference reward's model (src/prefs), needed when config.weightPreference > 0
   * (and not used otherwise); it is stepped alongside each composition, frozen, in this tuner's arena.
   */
  constructor(
    kernels: Kernels, noteRnn: NoteRnnWeights, config: TunerConfig, priming: Priming = { kind: 'random_note' }, rules: RuleContext = C_MAJOR_RULES,
    rewardModel: RewardModelWeights | null = null,
  ) {
    const c = (this.config = { ...config });
    if (c.algorithm === 'pg') throw new RangeError("RlTuner runs q, psi and g; algorithm 'pg' runs in PgTuner (createTuner picks the right one)");
    this.algorithm = c.algorithm;
    this.rng = new Random(c.seed);
    const B = c.batchSize;
    const preferred = preferenceModel(c, rewardModel);
    const arena = createArena(kernels, {
      q: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH), trainable: true },
      target: { config: noteRnn.config, maxBatch: B },
      reward: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH) },
      ...(preferred ? { preference: PreferenceReward.request(preferred, 1) } : {}),
    } as Record<'q' | 'target' | 'reward' | 'preference', ArenaModelRequest>);
    const { q, target, reward } = arena.models;
    q.importTensors(noteRnn.tensors, 'Note RNN');
    target.copyWeightsFrom(q);
    reward.copyWeightsFrom(q);
    this.withPreference = preferred !== null;
    const preference = preferred ? new PreferenceReward(arena.models.preference, preferred) : null;
    this.interval = emptyInterval(this.withPreference);
    this.env = new MelodyEnv(reward, {
      ...c, algorithm: this.algorithm, ruleWeights: ruleWeights(c), compositionWeights: compositionWeights(c), preferenceWeight: c.weightPreference,
    }, { ...rules, ...keyTablesOf(c), numNotes: c.numNotes, tonicDominantBonus: c.tonicDominantBonus }, priming, preference);
    this.networks = new OnlineAndTarget(q, target, kernels.threads);
    const g = c.algorithm === 'g';
    const A = (this.actions = this.env.encoding.outputSize);
    const inputIds = this.env.encoding !== BASIC_ENCODING; // its inputs are not its classes: the replay keeps them
    this.scores = new Float32Array(A);
    this.scratch = new Float64Array(A);
    this.replay = new ReplayRing(c.replayCapacity, q.stateSize, {
      storeNextLogProbs: g, nextLogProbPrecision: c.rewardStatePrecision, ...(inputIds ? { actions: A, inputIds } : {}),
    });
    this.klController = new KlController(c.klTarget, c.klHorizon);
    this.stateBefore = new Float32Array(q.stateSize);
    this.stateAfter = new Float32Array(q.stateSize);
    this.batch = new Minibatch(B, q.stateSize, g, q.outputStride, inputIds, A);
    this.targets = new Float32Array(B);
    this.adam = { learningRate: c.learningRate, beta1: c.adamBeta1, beta2: c.adamBeta2, epsilon: c.adamEpsilon };
    this.clip.maxNorm = c.clipNorm;
  }

  /** One environment step of training: act, reward, store; and every `trainEvery` steps, learn. */
  step(): void {
    const { env, replay, config: c } = this;
    if (env.betweenCompositions) primeModels([this.q], [env.startComposition(this.rng)], 1, env.histories);
    const x = env.token, input = env.input; // the event at s, and the input id the networks read (the basic encoding's is x)
    const a = this.act(input, env.priorLogits, this.epsilon()); //  act: ε-greedy or Boltzmann on Q, Ψ or G + log p
    const kl = this.policyKl(this.scores, env.logPrior); //         KL(π ‖ p) at s, for the metrics and KL control
    const r = env.step(a); //                                         reward, done, and log p(·|s')
    replay.push(x, this.stateBefore, a, r.reward, this.stateAfter, r.logPriorNext, r.done, replay.inputIn ? { in: input, next: env.input } : undefined); // store
    this.record(r, kl);
    this.counters.step++;
    if (this.counters.step % c.trainEvery === 0 && replay.size >= c.batchSize) this.learn();
  }

  /** One update from the replay: sample, targets, loss, optimise, soft update. Returns the loss. */
  learn(): number {
    const { batchSize: B, gamma, targetUpdateRate: eta } = this.config;
    const algorithm = this.algorithm;
    const t = this.replay.sample(this.rng, this.batch); //            sample B distinct transitions
    // Q(s, ·): the Q-network reads x from its stored state at s. Q_T(s', ·): the Target network reads a from
    // the Q-network's stored state after x (SPEC §4.3: the reference feeds it the online network's state).
    // (For an encoding whose inputs are not its tokens, the stored input ids at s and s'.)
    const Q = this.networks.forward(t.stateBefore, t.inputIn ?? t.tokenIn, t.stateAfter, t.inputNext ?? t.action, B);
    const y = tdTargets(algorithm, t.reward, t.terminal, B, Q.target, this.q.outputStride, t.logPriorNext, gamma, this.targets, this.actions); // targets
    this.failUnlessFinite(y);
    const loss = this.networks.squaredError(t.action, y, B); //       loss = mean_b (Q(s_b, a_b) − y_b)²
    const meanQ = meanAt(Q.online, this.q.outputStride, t.action, B); // Q(s, a) before the update, for the metrics
    this.networks.optimiseAndSoftUpdate(B, this.adam, this.clip, eta); // θ ← Adam(θ, clip(∇θ loss)); θ_T ← (1 − η)·θ_T + η·θ
    this.recordUpdate(loss, mean(y, B), meanQ);
    return loss;
  }

  /**
   * The action at this step: the Q-network reads `input`; the acting scores are Q (or Ψ), or G + the Reward
   * RNN's logits `priorLogits` for g. ε-greedy: a uniform random class with probability `epsilon`, else the
   * argmax; Boltzmann: a sample of softmax(scores / temperature). The action returned is the one taken.
   */
  private act(input: number, priorLogits: ArrayLike<number>, epsilon: number): number {
    const { q, rng, config: c, actions: A } = this;
    q.getStateRow(0, this.stateBefore);
    this.oneToken[0] = input;
    const values = q.step(this.oneToken, 1);
    q.getStateRow(0, this.stateAfter);
    actingScores(this.algorithm, values, priorLogits, this.scores, A);
    if (c.explorationMode === 'egreedy') return rng.float() < epsilon ? rng.int(A) : argmaxRow(this.scores, 0, A);
    return sampleFromScores(this.scores, 0, A, c.temperature, rng, this.scratch);
  }

  /** The Q-network (trained), the Target network (trails it) and the Reward RNN (frozen Note RNN). */
  get q(): LstmModel {
    return this.networks.online;
  }
  get target(): LstmModel {
    return this.networks.target;
  }
  get reward(): LstmModel {
    return this.env.rewardRnn;
  }
  get rules(): RuleContext {
    return this.env.rules;
  }
  get priming(): Priming {
    return this.env.priming;
  }

  /** ε for the next training step: linear from initialEpsilon to finalEpsilon over explorationSteps. */
  epsilon(): number {
    const { initialEpsilon, finalEpsilon, explorationSteps } = this.config;
    if (explorationSteps === 0) return finalEpsilon;
    const frac = Math.min(1, this.counters.step / explorationSteps);
    return initialEpsilon + (finalEpsilon - initialEpsilon) * frac;
  }

  /** True between compositions (where checkpoints and evaluations happen). */
  get betweenCompositions(): boolean {
    return this.env.betweenCompositions;
  }

  /** Trains one composition: steps until the composition under way (or the next one) ends. */
  trainComposition(): void {
    do this.step();
    while (!this.env.betweenCompositions);
  }

  /** The driver's unit of training (Tuner): one composition. */
  trainUnit(): void {
    this.trainComposition();
  }

  /** The most steps one trainUnit takes. */
  get unitSteps(): number {
    return this.config.numNotes;
  }

  /** The network a tuned model file holds: the Q-network (a G model acts with its prior). */
  get tunedNetwork(): LstmModel {
    return this.q;
  }

  /** The reward scaler adapts to the KL seen since the last call (adaptive KL control; unchanged when off). */
  adaptRewardScaler(): void {
    this.env.rewardScaler = this.klController.adapt(this.env.rewardScaler);
  }

  /** The current logging interval's means, and a fresh interval. */
  takeIntervalMetrics(): IntervalMetrics {
    const iv = this.interval;
    const n = Math.max(1, iv.steps);
    const out: IntervalMetrics = {
      step: this.counters.step,
      'charts/reward_total': iv.rewardTotal / n,
      'charts/reward_music_theory': iv.rewardMusicTheory / n,
      'charts/reward_note_rnn': iv.rewardNoteRnn / n,
      'charts/epsilon': this.config.explorationMode === 'egreedy' ? this.epsilon() : 0,
      'losses/td_loss': iv.updates ? iv.tdLoss / iv.updates : NaN,
      'losses/mean_target': iv.updates ? iv.targetValue / iv.updates : NaN,
      'losses/q_values': iv.updates ? iv.qValue / iv.updates : NaN,
      'charts/kl': iv.kl / n,
      'charts/reward_scaler': this.env.rewardScaler,
    };
    RULE_NAMES.forEach((name, r) => (out[`rules/${name}`] = iv.perRule[r] / n));
    COMPOSITION_TERM_NAMES.forEach((name, j) => (out[`composition/${name}`] = iv.compositions > 0 ? iv.perComposition[j] / iv.compositions : NaN));
    if (this.withPreference) out['preference/score'] = iv.compositions > 0 ? iv.preference! / iv.compositions : NaN;
    this.interval = emptyInterval(this.withPreference);
    return out;
  }

  /** KL(π ‖ p) at one state: π = softmax(scores / temperature), log p the prior's log-probabilities. */
  private policyKl(scores: Float32Array, logP: Float32Array): number {
    const t = this.config.temperature;
    const scaled = this.scratch;
    const A = this.actions;
    for (let a = 0; a < A; a++) scaled[a] = scores[a] / t;
    const lse = logSumExpRow(scaled, 0, A);
    let kl = 0;
    for (let a = 0; a < A; a++) {
      const logPi = scaled[a] - lse;
      kl += Math.exp(logPi) * (logPi - logP[a]);
    }
    return kl;
  }

  /** Adds one step to the interval's sums and the KL controller. */
  private record(r: StepOutcome, kl: number): void {
    const iv = this.interval;
    iv.steps++;
    iv.rewardTotal += r.reward;
    iv.rewardMusicTheory += this.env.rewardScaler * r.musicTheory;
    iv.rewardNoteRnn += r.logProb;
    iv.kl += kl;
    for (let i = 0; i < NUM_RULES; i++) iv.perRule[i] += r.perRule[i];
    this.klController.observe(kl);
    if (r.done) {
      this.counters.compositions++;
      iv.compositions++;
      for (let j = 0; j < NUM_COMPOSITION_TERMS; j++) iv.perComposition[j] += r.perComposition[j];
      if (this.withPreference) iv.preference! += r.preferenceScore;
    }
  }

  /** Throws a TuneDivergedError when a TD target is not finite (the run cannot go on). */
  private failUnlessFinite(targets: Float32Array): void {
    for (let i = 0; i < this.config.batchSize; i++) {
      if (!Number.isFinite(targets[i])) {
        throw new TuneDivergedError(`a TD target became ${targets[i]} at step ${this.counters.step}; lower --learning-rate or --reward-scaler`);
      }
    }
  }

  /** Adds one update's loss, mean target and mean Q(s, a) to the interval (a non-finite loss ends the run). */
  private recordUpdate(loss: number, meanTarget: number, meanQ: number): void {
    if (!Number.isFinite(loss)) throw new TuneDivergedError(`TD loss became ${loss} at step ${this.counters.step}; lower --learning-rate or --reward-scaler`);
    this.counters.updates++;
    const iv = this.interval;
    iv.updates++;
    iv.tdLoss += loss;
    iv.targetValue += meanTarget;
    iv.qValue += meanQ;
  }

  /**
   * A random stream for an evaluation at `step` (−1 for the final one), derived from the run's seed by an
   * exact 32-bit integer hash and kept apart from the training stream, so evaluating (or not) never
   * changes the training run.
   */
  evaluationRandom(step: number): Random {
    return new Random(evaluationSeed(this.config.seed, step));
  }

  /**
   * The paper's statistics (SPEC §6) for the Note RNN and for the tuned policy over `count` compositions
   * each, primed alike. The frozen Reward RNN is the Note RNN, so no other copy is needed.
   */
  compareWithNoteRnn(count: number): { noteRnn: PolicyEvaluation; tuned: PolicyEvaluation } {
    return {
      noteRnn: this.evaluate([this.reward], count, -1),
      tuned: this.evaluate(this.policyModels(), count, -1),
    };
  }

  /** The tuned policy evaluated over `count` compositions with the stream of `step`. */
  evaluatePolicy(count: number, step: number): PolicyEvaluation {
    return this.evaluate(this.policyModels(), count, step);
  }

  private evaluate(models: LstmModel[], count: number, step: number): PolicyEvaluation {
    const c = this.config;
    return evaluatePolicy(models, this.reward, this.evaluationRandom(step), {
      count, numNotes: evaluationLength(c), temperature: c.temperature, priming: this.priming, rules: this.rules,
    });
  }

  /** The policy's models for sampling: Q alone (q, psi), or the G network with the Reward RNN (g). */
  policyModels(): LstmModel[] {
    return this.config.algorithm === 'g' ? [this.q, this.reward] : [this.q];
  }

  /** Everything a checkpoint needs besides the weights (taken between compositions only). */
  snapshot(): TunerSnapshot {
    if (!this.env.betweenCompositions) throw new Error('snapshot: checkpoints are taken between compositions');
    return {
      counters: { ...this.counters },
      interval: { ...this.interval, perRule: [...this.interval.perRule], perComposition: [...this.interval.perComposition] },
      klController: this.klController.state,
      random: this.rng.getState(),
      adamStep: this.q.adamStep,
      rewardScaler: this.env.rewardScaler,
      replay: this.replay.snapshot(),
    };
  }

  restore(s: TunerSnapshot): void {
    this.counters = { ...s.counters };
    this.interval = { ...emptyInterval(this.withPreference), ...s.interval, perRule: [...s.interval.perRule], perComposition: [...s.interval.perComposition] };
    this.klController.state = s.klController;
    this.rng.setState(s.random);
    this.q.adamStep = s.adamStep;
    this.env.rewardScaler = s.rewardScaler;
    this.replay.restore(s.replay);
    this.env.beat = 0;
  }
}

export interface TunerSnapshot {
  counters: TunerCounters;
  interval: IntervalTotals;
  /** The KL controller's sums since its last adaptation. */
  klController: KlControllerState;
  random: RandomState;
  adamStep: number;
  /** The reward scaler in force (it changes only under adaptive KL control). */
  rewardScaler: number;
  replay: ReplaySnapshot;
}

/** Σ_b values[b] / B, summed in row order. */
function mean(values: Float32Array, B: number): number {
  let sum = 0;
  for (let b = 0; b < B; b++) sum += values[b];
  return sum / B;
}

/** Σ_b rows[b][index[b]] / B over rows of `stride`, summed in row order. */
function meanAt(rows: Float32Array, stride: number, index: ArrayLike<number>, B: number): number {
  let sum = 0;
  for (let b = 0; b < B; b++) sum += rows[b * stride + index[b]];
  return sum / B;
}

function emptyInterval(withPreference: boolean): IntervalTotals {
  return {
    steps: 0, rewardTotal: 0, rewardMusicTheory: 0, rewardNoteRnn: 0, perRule: new Array(NUM_RULES).fill(0),
    compositions: 0, perComposition: new Array(NUM_COMPOSITION_TERMS).fill(0), updates: 0, tdLoss: 0, targetValue: 0, qValue: 0, kl: 0,
    ...(withPreference ? { preference: 0 } : {}),
  };
}

/**
 * The reward model a run uses: the given one when config.weightPreference > 0 (which then needs one), null
 * otherwise. Throws a RangeError naming the setting when the weight is set without a model.
 */
export function preferenceModel(config: TunerConfig, rewardModel: RewardModelWeights | null): RewardModelWeights | null {
  if (!(config.weightPreference > 0)) return null;
  if (!rewardModel) {
    throw new RangeError(`weightPreference ${config.weightPreference} needs a reward model (from \`rltuner prefs train\`; tune --reward-model <file>), and none was given`);
  }
  return rewardModel;
}

/** A 32-bit seed from (run seed, step): integer mixing with Math.imul only, so it is exact for every input. */
export function evaluationSeed(seed: number, step: number): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  // step may exceed 2^32 in principle: fold its high and low 32-bit halves in separately.
  const low = step >>> 0;
  const high = Math.floor(step / 4294967296) >>> 0;
  h = Math.imul(h ^ low, 0x27d4eb2d);
  h ^= h >>> 15;
  h = Math.imul(h ^ high, 0x165667b1);
  h ^= h >>> 13;
  return h >>> 0;
}
