/**
 * The learning agent of RL Tuner (SPEC §4.3–4.5): a Q-network (trained) and a Target network trailing it.
 * It acts on Q (q), Ψ (psi) or G + log p (g) scores with ε-greedy or Boltzmann exploration, and learns by
 * one-step TD from minibatches of stored transitions, then softly updates the Target network:
 *
 *   y = r + γ · V(s')   (y = r at the last step of a composition), V from targets.ts
 *   loss = mean_b (Q(s_b, a_b) − y_b)²,   θ ← Adam(θ, ∇loss),   θ_T ← (1 − η)·θ_T + η·θ
 *
 * The stored LSTM state is a constant start state (no BPTT). Kernels compute; this file decides.
 */
import type { KernelThreadPool } from '../engine/kernels.js';
import type { AdamSettings, ClipSettings, LstmModel, TrailingNetwork } from '../engine/lstm_model.js';
import { NUM_CLASSES } from '../music/encoding.js';
import type { Random } from '../random.js';
import type { ExplorationMode } from './config.js';
import type { ReplayRing } from './replay.js';
import { primeModels } from './sampling.js';
import { argmaxRow, sampleFromScores } from './softmax.js';
import { actingScores, tdTargets, type Algorithm } from './targets.js';

export interface AgentSettings {
  algorithm: Algorithm;
  gamma: number;
  batchSize: number;
  explorationMode: ExplorationMode;
  /** Softmax temperature of Boltzmann exploration. */
  temperature: number;
  /** η of the soft target update. */
  targetUpdateRate: number;
  adam: AdamSettings;
  clip: ClipSettings;
}

/** What one update measured. */
export interface UpdateStats {
  /** mean_b (Q(s_b, a_b) − y_b)² */
  tdLoss: number;
  /** mean_b y_b */
  meanTarget: number;
  /** mean_b Q(s_b, a_b), before the update */
  meanQ: number;
}

export class TuneDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TuneDivergedError';
  }
}

export class Agent {
  /** The Q-network's LSTM state before and after it read the current token (what the replay stores). */
  readonly stateBefore: Float32Array;
  readonly stateAfter: Float32Array;
  /** The acting scores of the last `act` (Q, Ψ, or G + prior logits). */
  readonly scores = new Float32Array(NUM_CLASSES);
  private readonly scratch = new Float64Array(NUM_CLASSES);
  private readonly oneToken = new Int32Array(1);
  // Minibatch buffers, allocated once: (B), (B, S) and (B, outputStride).
  private readonly slots: Int32Array;
  private readonly tokens: Int32Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly terminal: Uint8Array;
  private readonly targets: Float32Array;
  private readonly states: Float32Array;
  private readonly nextLogProbs: Float32Array;
  /** The Target network, its forward pass deferred to a helper thread when there are kernel threads. */
  private readonly deferredTarget: LstmModel;
  /** The Target network as the Q-network's Adam step updates it (η = targetUpdateRate). */
  private readonly trailingTarget: TrailingNetwork;

  constructor(
    readonly q: LstmModel,
    readonly target: LstmModel,
    readonly settings: AgentSettings,
    /** Kernel threads the models run on, if any: the Target network's forward then runs on a helper. */
    private readonly threads?: KernelThreadPool,
  ) {
    this.deferredTarget = threads ? target.withKernels(threads.deferred) : target;
    this.trailingTarget = { model: target, eta: settings.targetUpdateRate };
    const S = q.stateSize;
    const B = settings.batchSize;
    this.stateBefore = new Float32Array(S);
    this.stateAfter = new Float32Array(S);
    this.slots = new Int32Array(B);
    this.tokens = new Int32Array(B);
    this.actions = new Int32Array(B);
    this.rewards = new Float32Array(B);
    this.terminal = new Uint8Array(B);
    this.targets = new Float32Array(B);
    this.states = new Float32Array(B * S);
    this.nextLogProbs = new Float32Array(B * target.outputStride);
  }

  /** Starts a composition: the Q-network from the zero state reads the leading priming tokens. */
  reset(leadingTokens: ArrayLike<number>): void {
    primeModels([this.q], [leadingTokens], 1);
  }

  /**
   * Chooses the action at this step: the Q-network reads `token`; the acting scores are Q (or Ψ), or
   * G + the Reward RNN's logits `priorLogits` for g. ε-greedy: a uniform random class with probability
   * `epsilon`, else the argmax; Boltzmann: a sample of softmax(scores / temperature). The action returned
   * is the one taken (and the one to store).
   */
  act(token: number, priorLogits: ArrayLike<number>, epsilon: number, rng: Random): number {
    this.q.getStateRow(0, this.stateBefore);
    this.oneToken[0] = token;
    const qLogits = this.q.step(this.oneToken, 1);
    this.q.getStateRow(0, this.stateAfter);
    actingScores(this.settings.algorithm, qLogits, priorLogits, this.scores);
    if (this.settings.explorationMode === 'egreedy') {
      return rng.float() < epsilon ? rng.int(NUM_CLASSES) : argmaxRow(this.scores, 0, NUM_CLASSES);
    }
    return sampleFromScores(this.scores, 0, NUM_CLASSES, this.settings.temperature, rng, this.scratch);
  }

  /** One TD update on `batchSize` distinct transitions drawn from the replay, then the soft target update. */
  update(replay: ReplayRing, rng: Random, step: number): UpdateStats {
    const { algorithm, batchSize: B, gamma } = this.settings;
    const idx = this.slots;
    replay.sample(rng, B, idx);
    replay.prefetch(idx, B); // the drawn transitions' cache misses overlap here, not one row at a time below
    for (let i = 0; i < B; i++) {
      const j = idx[i];
      this.tokens[i] = replay.tokenIn[j];
      this.actions[i] = replay.action[j];
      this.rewards[i] = replay.reward[j];
      this.terminal[i] = replay.terminal[j];
    }
    // Q_T(s', ·): the Target network reads a_t from the Q-network's stored state after step t. On kernel
    // threads it runs on a helper while this thread does the Q-network's forward pass (the same bits).
    replay.gatherStates('qAfter', idx, B, this.states);
    const targetScores = this.deferredTarget.forwardFrom(this.states, this.actions, B);
    this.threads?.postDeferred();
    let nextLogProbs: Float32Array | null = null;
    if (algorithm === 'g') {
      // log p(·|s'): the Reward RNN's, stored with each transition when the env stepped past it.
      replay.gatherNextLogProbs(idx, B, this.nextLogProbs, this.target.outputStride);
      nextLogProbs = this.nextLogProbs;
    }
    // Q(s, ·): the Q-network reads x_t from its stored state before step t.
    replay.gatherStates('qBefore', idx, B, this.states);
    this.q.forwardFrom(this.states, this.tokens, B);
    this.threads?.joinDeferred();
    tdTargets(algorithm, this.rewards, this.terminal, B, targetScores, this.target.outputStride, nextLogProbs, gamma, this.targets);
    let targetSum = 0;
    for (let i = 0; i < B; i++) {
      if (!Number.isFinite(this.targets[i])) {
        throw new TuneDivergedError(`a TD target became ${this.targets[i]} at step ${step}; lower --learning-rate or --reward-scaler`);
      }
      targetSum += this.targets[i];
    }
    // Adam's pass also moves the Target network, θ_T ← (1 − η)·θ_T + η·θ, on one thread. On kernel threads the
    // helper has just read θ_T, and writing it inside Adam's pass held the whole pass up (the tune loop ran
    // slower than with a separate pass): the soft update then runs as its own pass after Adam, the same bits.
    const tdLoss = this.q.tdBackward(this.actions, this.targets, B, this.settings.adam, this.settings.clip, this.threads ? undefined : this.trailingTarget);
    if (this.threads) this.target.softUpdateFrom(this.q, this.settings.targetUpdateRate);
    const values = this.q.lastLogits(B); // Q(s, ·) as the update saw it, before the Adam step
    let qSum = 0;
    for (let i = 0; i < B; i++) qSum += values[i * this.q.outputStride + this.actions[i]];
    if (!Number.isFinite(tdLoss)) {
      throw new TuneDivergedError(`TD loss became ${tdLoss} at step ${step}; lower --learning-rate or --reward-scaler`);
    }
    return { tdLoss, meanTarget: targetSum / B, meanQ: qSum / B };
  }
}
