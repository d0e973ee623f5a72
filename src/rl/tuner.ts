/**
 * RL Tuner (SPEC §4): a Q-network, a Target network trailing it, and a frozen Reward RNN, all starting
 * from the Note RNN. Each environment step the agent writes one note of a composition; the reward is
 * log p(a|s) from the Reward RNN plus s·r_MT from the music-theory rules (G: s·r_MT only, the prior
 * enters its target). Transitions go to a replay ring; every `trainEvery` steps a minibatch of distinct
 * transitions trains the Q-network by one-step TD through the kernels, and the Target network follows
 * by a soft update. Q, Ψ and G differ only in the target (targets.ts) and the acting scores.
 *
 * Kernels compute; this file decides. All randomness comes from one seeded Random.
 */
import type { Kernels } from '../engine/kernels.js';
import { createArena } from '../engine/arena.js';
import type { LstmStackConfig } from '../engine/layout.js';
import type { AdamSettings, ClipSettings, LstmModel } from '../engine/lstm_model.js';
import { primingTokens, type Priming } from './sampling.js';
import { NUM_CLASSES } from '../music/encoding.js';
import { Random, type RandomState } from '../random.js';
import type { TunerConfig } from './config.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { ReplayRing, type ReplaySnapshot } from './replay.js';
import { C_MAJOR_RULES, musicTheoryRewardInto, newLeapState, NUM_RULES, resetLeapState, RULE_NAMES, type LeapState, type RuleContext } from '../rules/rules.js';
import { actingScores, logSoftmaxRow, stepReward, tdTargets } from './targets.js';

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
  updates: number;
  tdLoss: number;
  targetValue: number;
}

export interface IntervalMetrics {
  step: number;
  'charts/reward_total': number;
  'charts/reward_music_theory': number;
  'charts/reward_note_rnn': number;
  'charts/epsilon': number;
  'losses/td_loss': number;
  'losses/mean_target': number;
  [rule: `rules/${string}`]: number;
}

export class TuneDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TuneDivergedError';
  }
}

export interface TunerCounters {
  /** Environment steps taken in training. */
  step: number;
  /** Training actions taken (ε anneals over these; evaluation actions do not count). */
  trainingActions: number;
  updates: number;
  episodes: number;
}

export class RlTuner {
  readonly config: TunerConfig;
  readonly q: LstmModel;
  readonly target: LstmModel;
  readonly reward: LstmModel;
  readonly replay: ReplayRing;
  readonly rng: Random;
  readonly rules: RuleContext;
  counters: TunerCounters = { step: 0, trainingActions: 0, updates: 0, episodes: 0 };
  interval: IntervalTotals = emptyInterval();

  /** How episodes start (SPEC §4.1). */
  readonly priming: Priming;
  private readonly adam: AdamSettings;
  private readonly clip: ClipSettings;
  // Episode state (a checkpoint is taken only between episodes, so it needs no saving).
  private readonly composition: Uint8Array;
  private beat = 0;
  private tokenIn = 0;
  private readonly leap: LeapState = newLeapState();
  // Scratch, allocated once.
  private readonly qBefore: Float32Array;
  private readonly qAfter: Float32Array;
  private readonly rewardAfter: Float32Array;
  private readonly scores = new Float32Array(NUM_CLASSES);
  private readonly logProbs = new Float32Array(NUM_CLASSES);
  private readonly softmaxScratch = new Float64Array(NUM_CLASSES);
  private readonly perRule = new Float64Array(NUM_RULES);
  private readonly oneToken = new Int32Array(1);
  private readonly batchIndices: Int32Array;
  private readonly batchStates: Float32Array;
  private readonly batchNextStates: Float32Array;
  private readonly batchTokens: Int32Array;
  private readonly batchActions: Int32Array;
  private readonly batchRewards: Float32Array;
  private readonly batchTerminal: Uint8Array;
  private readonly batchTargets: Float32Array;
  private readonly nextLogProbs: Float32Array;

  constructor(kernels: Kernels, noteRnn: { config: LstmStackConfig; tensors: Map<string, { shape: number[]; data: Float32Array }> },
    config: TunerConfig, priming: Priming = { kind: 'random_note' }, rules: RuleContext = C_MAJOR_RULES) {
    if (rules.numNotes !== config.numNotes) rules = { ...rules, numNotes: config.numNotes };
    this.config = { ...config };
    this.rules = rules;
    this.priming = priming;
    this.rng = new Random(config.seed);
    const B = config.batchSize;
    const arena = createArena(kernels, {
      q: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH), trainable: true },
      target: { config: noteRnn.config, maxBatch: B },
      reward: { config: noteRnn.config, maxBatch: Math.max(B, EVALUATION_BATCH) },
    });
    this.q = arena.models.q;
    this.target = arena.models.target;
    this.reward = arena.models.reward;
    this.q.importTensors(noteRnn.tensors, 'Note RNN');
    this.target.copyWeightsFrom(this.q);
    this.reward.copyWeightsFrom(this.q);
    this.adam = { learningRate: config.learningRate, beta1: config.adamBeta1, beta2: config.adamBeta2, epsilon: config.adamEpsilon };
    this.clip = { mode: 'perTensor', maxNorm: config.clipNorm };
    const S = this.q.stateSize;
    this.replay = new ReplayRing(config.replayCapacity, S, { storeRewardState: config.algorithm === 'g' });
    this.composition = new Uint8Array(config.numNotes);
    this.qBefore = new Float32Array(S);
    this.qAfter = new Float32Array(S);
    this.rewardAfter = new Float32Array(S);
    this.batchIndices = new Int32Array(B);
    this.batchStates = new Float32Array(B * S);
    this.batchNextStates = new Float32Array(B * S);
    this.batchTokens = new Int32Array(B);
    this.batchActions = new Int32Array(B);
    this.batchRewards = new Float32Array(B);
    this.batchTerminal = new Uint8Array(B);
    this.batchTargets = new Float32Array(B);
    this.nextLogProbs = new Float32Array(B * this.reward.outputStride);
  }

  /** ε for the next training action: linear from initialEpsilon to finalEpsilon over explorationSteps. */
  epsilon(): number {
    const { initialEpsilon, finalEpsilon, explorationSteps } = this.config;
    if (explorationSteps === 0) return finalEpsilon;
    const frac = Math.min(1, this.counters.trainingActions / explorationSteps);
    return initialEpsilon + (finalEpsilon - initialEpsilon) * frac;
  }

  /** True between episodes (where checkpoints and evaluations happen). */
  get atEpisodeBoundary(): boolean {
    return this.beat === 0;
  }

  /** Starts an episode: zero state, then the priming tokens; the last one is the first step's input. */
  private startEpisode(): void {
    const tokens = primingTokens(this.priming, this.rng);
    this.q.resetState(1);
    this.reward.resetState(1);
    for (let i = 0; i < tokens.length - 1; i++) {
      this.oneToken[0] = tokens[i];
      this.q.step(this.oneToken, 1);
      this.reward.step(this.oneToken, 1);
    }
    this.tokenIn = tokens[tokens.length - 1];
    this.beat = 0;
    resetLeapState(this.leap);
  }

  /** One environment step of training: act, reward, store, and learn every trainEvery steps. */
  step(): void {
    const c = this.config;
    if (this.beat === 0) this.startEpisode();
    this.q.getStateRow(0, this.qBefore);
    this.oneToken[0] = this.tokenIn;
    const qLogits = this.q.step(this.oneToken, 1);
    const rewardLogits = this.reward.step(this.oneToken, 1);
    this.q.getStateRow(0, this.qAfter);
    this.reward.getStateRow(0, this.rewardAfter);

    // Act (SPEC §4.4).
    actingScores(c.algorithm, qLogits, rewardLogits, this.scores);
    let action: number;
    if (c.explorationMode === 'egreedy') {
      action = this.rng.float() < this.epsilon() ? this.rng.int(NUM_CLASSES) : argmax(this.scores);
    } else {
      action = sampleSoftmax(this.scores, c.temperature, this.rng, this.softmaxScratch);
    }
    this.counters.trainingActions++;

    // Reward (SPEC §4.2).
    logSoftmaxRow(rewardLogits, 0, NUM_CLASSES, this.logProbs);
    const logProb = this.logProbs[action];
    const musicTheory = musicTheoryRewardInto(this.perRule, this.composition, this.beat, action, this.leap, this.rules);
    const reward = stepReward(c.algorithm, logProb, musicTheory, c.rewardScaler, c.musicTheoryOnly);
    const terminal = this.beat === c.numNotes - 1;
    this.replay.push(this.tokenIn, this.qBefore, action, reward, this.qAfter, this.rewardAfter, terminal);

    const iv = this.interval;
    iv.steps++;
    iv.rewardTotal += reward;
    iv.rewardMusicTheory += c.rewardScaler * musicTheory;
    iv.rewardNoteRnn += logProb;
    for (let r = 0; r < NUM_RULES; r++) iv.perRule[r] += this.perRule[r];

    this.composition[this.beat] = action;
    this.tokenIn = action;
    this.beat = terminal ? 0 : this.beat + 1;
    if (terminal) this.counters.episodes++;
    this.counters.step++;
    if (this.counters.step % c.trainEvery === 0 && this.replay.size >= c.batchSize) this.update();
  }

  /** One TD update of the Q-network on a minibatch of distinct stored transitions, then the soft update. */
  update(): number {
    const c = this.config;
    const B = c.batchSize;
    const idx = this.batchIndices;
    this.replay.sample(this.rng, B, idx);
    for (let i = 0; i < B; i++) {
      const j = idx[i];
      this.batchTokens[i] = this.replay.tokenIn[j];
      this.batchActions[i] = this.replay.action[j];
      this.batchRewards[i] = this.replay.reward[j];
      this.batchTerminal[i] = this.replay.terminal[j];
    }
    // Q_T(s', ·): the Target network consumes a_t from the Q-network's stored state after the step.
    this.replay.gatherStates('qAfter', idx, B, this.batchNextStates);
    const targetScores = this.target.forwardFrom(this.batchNextStates, this.batchActions, B);
    let nextLogProbs: Float32Array | null = null;
    if (c.algorithm === 'g') {
      // log p(·|s') from the Reward RNN's stored state after the step.
      this.replay.gatherStates('rewardAfter', idx, B, this.batchNextStates);
      const logits = this.reward.forwardFrom(this.batchNextStates, this.batchActions, B);
      const stride = this.reward.outputStride;
      for (let i = 0; i < B; i++) logSoftmaxRow(logits, i * stride, NUM_CLASSES, this.nextLogProbs);
      nextLogProbs = this.nextLogProbs;
    }
    tdTargets(c.algorithm, this.batchRewards, this.batchTerminal, B, targetScores, this.target.outputStride,
      nextLogProbs, c.gamma, this.batchTargets);
    for (let i = 0; i < B; i++) {
      if (!Number.isFinite(this.batchTargets[i])) {
        throw new TuneDivergedError(`a TD target became ${this.batchTargets[i]} at step ${this.counters.step}; lower --learning-rate or --reward-scaler`);
      }
    }
    this.replay.gatherStates('qBefore', idx, B, this.batchStates);
    const loss = this.q.tdUpdate(this.batchStates, this.batchTokens, this.batchActions, this.batchTargets, B, this.adam, this.clip);
    if (!Number.isFinite(loss)) {
      throw new TuneDivergedError(`TD loss became ${loss} at step ${this.counters.step}; lower --learning-rate or --reward-scaler`);
    }
    this.target.softUpdateFrom(this.q, c.targetUpdateRate);
    this.counters.updates++;
    this.interval.updates++;
    this.interval.tdLoss += loss;
    let targetSum = 0;
    for (let i = 0; i < B; i++) targetSum += this.batchTargets[i];
    this.interval.targetValue += targetSum / B;
    return loss;
  }

  /**
   * Runs training steps up to the end of the first composition that ends at or after `softLimit` steps
   * (or `until`, whichever is smaller). Runs always stop between compositions, so a run of `until` steps
   * ends at the first composition boundary at or after it.
   */
  runUntilEpisodeEnd(until: number, softLimit: number): void {
    const limit = Math.min(until, softLimit);
    if (this.counters.step >= until && this.beat === 0) return;
    do this.step();
    while (this.beat !== 0 || this.counters.step < limit);
  }

  /** The metrics of the current logging interval (means), and a fresh interval. */
  takeInterval(): IntervalMetrics {
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
    };
    RULE_NAMES.forEach((name, r) => (out[`rules/${name}`] = iv.perRule[r] / n));
    this.interval = emptyInterval();
    return out;
  }

  /**
   * A random stream for an evaluation at `step`, derived from the run's seed and kept apart from the
   * training stream, so evaluating (or not) never changes the training run.
   */
  evaluationRandom(step: number): Random {
    return new Random((this.config.seed * 2654435761 + step * 40503 + 0x9e3779b9) % 4294967296);
  }

  /**
   * The paper's statistics (SPEC §6) for the Note RNN and for the tuned policy over `count` compositions
   * each, primed alike. The frozen Reward RNN is the Note RNN, so no other copy is needed.
   */
  compareWithNoteRnn(count: number): { noteRnn: PolicyEvaluation; tuned: PolicyEvaluation } {
    const c = this.config;
    const options = { count, numNotes: c.numNotes, temperature: c.temperature, priming: this.priming, rules: this.rules };
    return {
      noteRnn: evaluatePolicy([this.reward], this.reward, this.evaluationRandom(-1), options),
      tuned: evaluatePolicy(this.policyModels(), this.reward, this.evaluationRandom(-1), options),
    };
  }

  /** The policy's models for sampling: Q alone (q, psi), or the G network with the Reward RNN (g). */
  policyModels(): LstmModel[] {
    return this.config.algorithm === 'g' ? [this.q, this.reward] : [this.q];
  }

  /** Everything a checkpoint needs besides the weights (taken between episodes only). */
  snapshot(): TunerSnapshot {
    if (this.beat !== 0) throw new Error('snapshot: checkpoints are taken between episodes');
    return {
      counters: { ...this.counters },
      interval: { ...this.interval, perRule: [...this.interval.perRule] },
      random: this.rng.getState(),
      adamStep: this.q.adamStep,
      replay: this.replay.snapshot(),
    };
  }

  restore(s: TunerSnapshot): void {
    this.counters = { ...s.counters };
    this.interval = { ...s.interval, perRule: [...s.interval.perRule] };
    this.rng.setState(s.random);
    this.q.adamStep = s.adamStep;
    this.replay.restore(s.replay);
    this.beat = 0;
  }
}

export interface TunerSnapshot {
  counters: TunerCounters;
  interval: IntervalTotals;
  random: RandomState;
  adamStep: number;
  replay: ReplaySnapshot;
}

function emptyInterval(): IntervalTotals {
  return { steps: 0, rewardTotal: 0, rewardMusicTheory: 0, rewardNoteRnn: 0, perRule: new Array(NUM_RULES).fill(0), updates: 0, tdLoss: 0, targetValue: 0 };
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
  return best;
}

function sampleSoftmax(scores: Float32Array, temperature: number, rng: Random, scratch: Float64Array): number {
  let mx = -Infinity;
  for (let j = 0; j < scores.length; j++) mx = Math.max(mx, scores[j]);
  for (let j = 0; j < scores.length; j++) scratch[j] = Math.exp((scores[j] - mx) / temperature);
  return rng.categorical(scratch, scores.length);
}
