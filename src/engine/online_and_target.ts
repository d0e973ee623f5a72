/**
 * A trained network and a Target copy that trails it (DQN's online and target networks; RL Tuner's
 * Q-network and Target Q-network): the one-step forward pass of both from given start states, the squared
 * error on chosen outputs, and one optimiser step followed by the soft update of the Target. How the work
 * is spread is decided here, never by the caller, and every arrangement gives the same bits:
 *
 * - on kernel threads, the Target's forward pass runs on a helper while this thread runs the online one;
 * - on one thread, the soft update is folded into Adam's pass over the parameters (one pass, not two); on
 *   threads it runs as its own pass after Adam's (the helper has just read θ_T, and writing it inside
 *   Adam's pass held that pass up).
 */
import type { KernelThreadPool } from './kernels.js';
import type { AdamSettings, ClipSettings, LstmModel } from './lstm_model.js';

export class OnlineAndTarget {
  /** The Target network with its kernel calls deferred to a helper thread, when there are kernel threads. */
  private readonly deferredTarget: LstmModel;

  constructor(
    /** The network trained (the Q-network). */
    readonly online: LstmModel,
    /** The network trailing it (the Target network): same architecture, same arena. */
    readonly target: LstmModel,
    /** The kernel threads both models run on, if any. */
    private readonly threads?: KernelThreadPool,
  ) {
    target.assertSameArchitecture(online);
    this.deferredTarget = threads ? target.withKernels(threads.deferred) : target;
  }

  /**
   * One step of each network from stored states, leaving their carried states alone: the online network
   * from `states` (rows of stateSize floats) reading `tokens`, the Target from `nextStates` reading
   * `nextTokens`. Returns both logits as views [batch][outputStride], valid until the next call.
   */
  forward(
    states: Float32Array, tokens: ArrayLike<number>, nextStates: Float32Array, nextTokens: ArrayLike<number>, batch: number,
  ): { online: Float32Array; target: Float32Array } {
    const target = this.deferredTarget.forwardFrom(nextStates, nextTokens, batch);
    this.threads?.postDeferred();
    const online = this.online.forwardFrom(states, tokens, batch);
    this.threads?.joinDeferred();
    return { online, target };
  }

  /**
   * The loss of the online network's last forward pass: mean_b (Q(s_b, a_b) − y_b)² over `actions` a and
   * `targets` y, returned, with its gradient set for `optimiseAndSoftUpdate`.
   */
  squaredError(actions: ArrayLike<number>, targets: ArrayLike<number>, batch: number): number {
    return this.online.squaredErrorOnActions(actions, targets, batch);
  }

  /**
   * θ ← Adam(θ, clip(∇θ loss)) through the one step of the last forward pass, then the soft update
   * θ_T ← (1 − η)·θ_T + η·θ with η = `targetUpdateRate`.
   */
  optimiseAndSoftUpdate(batch: number, adam: AdamSettings, clip: ClipSettings, targetUpdateRate: number): void {
    this.online.backwardOneStep(batch);
    if (this.threads) {
      this.online.adamUpdate(adam, clip);
      this.target.softUpdateFrom(this.online, targetUpdateRate);
    } else {
      this.online.adamUpdate(adam, clip, { model: this.target, eta: targetUpdateRate });
    }
  }
}
