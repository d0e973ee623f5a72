/**
 * RL Tuner (SPEC §4): the environment (a composition written note by note, rewarded by log p(a|s) from the
 * frozen Reward RNN plus the music-theory rules), the agent (a Q-network and its trailing Target network)
 * and the replay memory, driven one environment step at a time like the paper's algorithm:
 *
 *   at the start of a composition: prime the Reward RNN and the Q-network with the same tokens
 *   act a_t at s_t (ε-greedy or Boltzmann over Q, Ψ or G + log p); the env returns r_t and done, and
 *     (unless done) its Reward RNN reads a_t, giving log p(·|s_{t+1})
 *   store (x_t, h_t, a_t, r_t, h_t', log p(·|s_{t+1}) (g only), done) in the replay ring, h the Q-net's LSTM state
 *   every `trainEvery` steps, once `batchSize` transitions are stored: one TD update and a soft target update
 *
 * Q, Ψ and G differ only in the target (targets.ts) and the acting scores. All randomness comes from one
 * seeded Random. The schedule around the steps (logging, evaluation, checkpoints, stopping) is driver.ts's.
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import type { LstmStackConfig } from '../engine/layout.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { Random, type RandomState } from '../random.js';
import { C_MAJOR_RULES, NUM_RULES, RULE_NAMES, type RuleContext } from '../rules/rules.js';
import { keyTablesOf } from '../rules/key_context.js';
import { Agent, TuneDivergedError } from './agent.js';
import { compositionWeights, ruleWeights, type TunerConfig } from './config.js';
import { COMPOSITION_TERM_NAMES, NUM_COMPOSITION_TERMS } from '../rules/composition.js';
import { MelodyEnv } from './env.js';
import { ReplayRing, type ReplaySnapshot } from './replay.js';
import type { Priming } from './sampling.js';
import { logSumExpRow } from './softmax.js';
import { NUM_CLASSES } from '../music/encoding.js';

export { TuneDivergedError };

/** Rows the Q-network and Reward RNN are planned for beyond the minibatch (batched evaluation). */
export const EVALUATION_BATCH = 128;

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
  [rule: `rules/${string}`]: number;
  /** Each composition term's mean over the compositions finished in the interval (NaN when none finished). */
  [term: `composition/${string}`]: number;
}

export interface TunerCounters {
  /** Environment steps taken in training. */
  step: number;
  /** Training actions taken (ε anneals over these; evaluation actions do not count). */
  trainingActions: number;
  updates: number;
  episodes: number;
}

/** The Note RNN as decoded from a model file: its architecture and tensors. */
export interface NoteRnnWeights {
  config: LstmStackConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

export class RlTuner {
  readonly config: TunerConfig;
  readonly env: MelodyEnv;
  readonly agent: Agent;
  readonly replay: ReplayRing;
  readonly rng: Random;
  counters: TunerCounters = { step: 0, trainingActions: 0, updates: 0, episodes: 0 };
  interval: IntervalTotals = emptyInterval();
  private readonly klScratch = new Float64Array(NUM_CLASSES);

  constructor(kernels: Kernels, noteRnn: NoteRnnWeights, config: TunerConfig, priming: Priming = { kind: 'random_note' }, rules: RuleContext = C_MAJOR_RULES) {
    this.config = { ...config };
    this.rng = new Random(config.seed);
    const B = config.batchSize;
    const arena = createArena(kernels, {
      q: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH), trainable: true },
      target: { config: noteRnn.config, maxBatch: B },
      reward: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH) },
    });
    const { q, target, reward } = arena.models;
    q.importTensors(noteRnn.tensors, 'Note RNN');
    target.copyWeightsFrom(q);
    reward.copyWeightsFrom(q);
    this.env = new MelodyEnv(reward, { ...config, ruleWeights: ruleWeights(config), compositionWeights: compositionWeights(config) },
      { ...rules, ...keyTablesOf(config), numNotes: config.numNotes, tonicDominantBonus: config.tonicDominantBonus }, priming);
    this.agent = new Agent(q, target, {
      algorithm: config.algorithm,
      gamma: config.gamma,
      batchSize: B,
      explorationMode: config.explorationMode,
      temperature: config.temperature,
      targetUpdateRate: config.targetUpdateRate,
      adam: { learningRate: config.learningRate, beta1: config.adamBeta1, beta2: config.adamBeta2, epsilon: config.adamEpsilon },
      clip: { mode: 'perTensor', maxNorm: config.clipNorm },
    }, kernels.threads);
    this.replay = new ReplayRing(config.replayCapacity, q.stateSize, {
      storeNextLogProbs: config.algorithm === 'g', nextLogProbPrecision: config.rewardStatePrecision,
    });
  }

  /** The Q-network (trained), the Target network (trails it) and the Reward RNN (frozen Note RNN). */
  get q(): LstmModel {
    return this.agent.q;
  }
  get target(): LstmModel {
    return this.agent.target;
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

  /** ε for the next training action: linear from initialEpsilon to finalEpsilon over explorationSteps. */
  epsilon(): number {
    const { initialEpsilon, finalEpsilon, explorationSteps } = this.config;
    if (explorationSteps === 0) return finalEpsilon;
    const frac = Math.min(1, this.counters.trainingActions / explorationSteps);
    return initialEpsilon + (finalEpsilon - initialEpsilon) * frac;
  }

  /** True between compositions (where checkpoints and evaluations happen). */
  get atEpisodeBoundary(): boolean {
    return this.env.atStart;
  }

  /** One environment step of training (the paper's loop body; see the file comment). */
  step(): void {
    const { env, agent, config: c } = this;
    if (env.atStart) agent.reset(env.reset(this.rng));
    const token = env.token;
    const action = agent.act(token, env.priorLogits, this.epsilon(), this.rng);
    this.counters.trainingActions++;
    const kl = this.policyKl(agent.scores, env.priorLogProbs);
    const out = env.step(action);
    // Unless the composition ended, the env's Reward RNN has read a_t: its log-probabilities are now log p(·|s').
    this.replay.push(token, agent.stateBefore, action, out.reward, agent.stateAfter, env.priorLogProbs, out.done);

    const iv = this.interval;
    iv.steps++;
    iv.rewardTotal += out.reward;
    iv.rewardMusicTheory += env.rewardScaler * out.musicTheory;
    iv.rewardNoteRnn += out.logProb;
    iv.kl += kl;
    for (let r = 0; r < NUM_RULES; r++) iv.perRule[r] += out.perRule[r];
    if (out.done) {
      this.counters.episodes++;
      iv.compositions++;
      for (let j = 0; j < NUM_COMPOSITION_TERMS; j++) iv.perComposition[j] += out.perComposition[j];
    }
    this.counters.step++;
    if (this.counters.step % c.trainEvery === 0 && this.replay.size >= c.batchSize) this.update();
  }

  /** KL(π ‖ p) at one state: π = softmax(scores / temperature), log p the prior's log-probabilities. */
  private policyKl(scores: Float32Array, logP: Float32Array): number {
    const t = this.config.temperature;
    const scaled = this.klScratch;
    for (let a = 0; a < NUM_CLASSES; a++) scaled[a] = scores[a] / t;
    const lse = logSumExpRow(scaled, 0, NUM_CLASSES);
    let kl = 0;
    for (let a = 0; a < NUM_CLASSES; a++) {
      const logPi = scaled[a] - lse;
      kl += Math.exp(logPi) * (logPi - logP[a]);
    }
    return kl;
  }

  /** One TD update of the Q-network and the soft target update; returns the TD loss. */
  update(): number {
    const stats = this.agent.update(this.replay, this.rng, this.counters.step);
    this.counters.updates++;
    const iv = this.interval;
    iv.updates++;
    iv.tdLoss += stats.tdLoss;
    iv.targetValue += stats.meanTarget;
    iv.qValue += stats.meanQ;
    return stats.tdLoss;
  }

  /**
   * Runs training steps up to the end of the first composition that ends at or after `softLimit` steps
   * (or `until`, whichever is smaller). Runs always stop between compositions, so a run of `until` steps
   * ends at the first composition boundary at or after it.
   */
  runUntilEpisodeEnd(until: number, softLimit: number): void {
    const limit = Math.min(until, softLimit);
    if (this.counters.step >= until && this.env.atStart) return;
    do this.step();
    while (!this.env.atStart || this.counters.step < limit);
  }

  /**
   * The metrics of the current logging interval (means), and a fresh interval. With a KL target, the
   * reward scaler then adapts by the proportional rule of Ziegler et al. (2019), with β = 1/s:
   * e = clip(KL/target − 1, −0.2, 0.2), β ← β·(1 + e·n/horizon), n the interval's steps.
   */
  takeInterval(): IntervalMetrics {
    const iv = this.interval;
    const n = Math.max(1, iv.steps);
    const kl = iv.kl / n;
    const scaler = this.env.rewardScaler;
    const out: IntervalMetrics = {
      step: this.counters.step,
      'charts/reward_total': iv.rewardTotal / n,
      'charts/reward_music_theory': iv.rewardMusicTheory / n,
      'charts/reward_note_rnn': iv.rewardNoteRnn / n,
      'charts/epsilon': this.config.explorationMode === 'egreedy' ? this.epsilon() : 0,
      'losses/td_loss': iv.updates ? iv.tdLoss / iv.updates : NaN,
      'losses/mean_target': iv.updates ? iv.targetValue / iv.updates : NaN,
      'losses/q_values': iv.updates ? iv.qValue / iv.updates : NaN,
      'charts/kl': kl,
      'charts/reward_scaler': scaler,
    };
    RULE_NAMES.forEach((name, r) => (out[`rules/${name}`] = iv.perRule[r] / n));
    COMPOSITION_TERM_NAMES.forEach((name, j) => (out[`composition/${name}`] = iv.compositions > 0 ? iv.perComposition[j] / iv.compositions : NaN));
    const { klTarget, klHorizon } = this.config;
    if (klTarget > 0 && iv.steps > 0 && scaler > 0) {
      const e = Math.min(0.2, Math.max(-0.2, kl / klTarget - 1));
      const beta = (1 / scaler) * (1 + (e * iv.steps) / klHorizon);
      this.env.rewardScaler = 1 / beta;
    }
    this.interval = emptyInterval();
    return out;
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
      count, numNotes: c.numNotes, temperature: c.temperature, priming: this.priming, rules: this.rules,
    });
  }

  /** The policy's models for sampling: Q alone (q, psi), or the G network with the Reward RNN (g). */
  policyModels(): LstmModel[] {
    return this.config.algorithm === 'g' ? [this.q, this.reward] : [this.q];
  }

  /** Everything a checkpoint needs besides the weights (taken between compositions only). */
  snapshot(): TunerSnapshot {
    if (!this.env.atStart) throw new Error('snapshot: checkpoints are taken between episodes');
    return {
      counters: { ...this.counters },
      interval: { ...this.interval, perRule: [...this.interval.perRule], perComposition: [...this.interval.perComposition] },
      random: this.rng.getState(),
      adamStep: this.q.adamStep,
      rewardScaler: this.env.rewardScaler,
      replay: this.replay.snapshot(),
    };
  }

  restore(s: TunerSnapshot): void {
    this.counters = { ...s.counters };
    // Checkpoints written before the composition terms have no sums for them: they start at 0.
    const empty = emptyInterval();
    this.interval = { ...empty, ...s.interval, perRule: [...s.interval.perRule], perComposition: [...(s.interval.perComposition ?? empty.perComposition)] };
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
  random: RandomState;
  adamStep: number;
  /** The reward scaler in force (it changes only under adaptive KL control). */
  rewardScaler: number;
  replay: ReplaySnapshot;
}

function emptyInterval(): IntervalTotals {
  return {
    steps: 0, rewardTotal: 0, rewardMusicTheory: 0, rewardNoteRnn: 0, perRule: new Array(NUM_RULES).fill(0),
    compositions: 0, perComposition: new Array(NUM_COMPOSITION_TERMS).fill(0), updates: 0, tdLoss: 0, targetValue: 0, qValue: 0, kl: 0,
  };
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
