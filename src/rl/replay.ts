/**
 * The experience replay of RL Tuner (SPEC §4.5): a ring of transitions in structure-of-arrays layout,
 * every field one preallocated typed array, the oldest transition overwritten when full.
 *
 * A transition is (token in, Q-net state before, action, reward, Q-net state after, Reward RNN state
 * after, terminal). A state is an opaque row of `stateSize` floats (all LSTM layers' c and h, laid out by
 * the network code). Slot i holds the i-th stored transition until the ring wraps; sampling draws slots.
 */
import type { Random } from '../random.js';

/** Which stored state rows `gatherStates` copies. */
export type StoredState = 'qBefore' | 'qAfter' | 'rewardAfter';

/** Everything needed to rebuild a ring exactly (checkpoints). */
export interface ReplaySnapshot {
  capacity: number;
  stateSize: number;
  /** Number of stored transitions. */
  size: number;
  /** Slot the next push writes. */
  next: number;
  tokenIn: Uint8Array; // (size)
  action: Uint8Array; // (size)
  reward: Float32Array; // (size)
  terminal: Uint8Array; // (size)
  qStateBefore: Float32Array; // (size, stateSize)
  qStateAfter: Float32Array; // (size, stateSize)
  rewardStateAfter: Float32Array; // (size, stateSize)
}

export class ReplayRing {
  readonly capacity: number;
  readonly stateSize: number;
  readonly tokenIn: Uint8Array; // (capacity)
  readonly action: Uint8Array; // (capacity)
  readonly reward: Float32Array; // (capacity)
  readonly terminal: Uint8Array; // (capacity) 1 on the last step of a composition
  readonly qStateBefore: Float32Array; // (capacity, stateSize)
  readonly qStateAfter: Float32Array; // (capacity, stateSize)
  readonly rewardStateAfter: Float32Array; // (capacity, stateSize), or empty when not stored
  /** Whether Reward RNN states are kept (only G-learning's target needs them). */
  readonly storesRewardState: boolean;
  private stored = 0;
  private next = 0;

  constructor(capacity: number, stateSize: number, options: { storeRewardState?: boolean } = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ReplayRing: capacity = ${capacity} must be an integer >= 1`);
    }
    if (!Number.isInteger(stateSize) || stateSize < 1) {
      throw new RangeError(`ReplayRing: stateSize = ${stateSize} must be an integer >= 1`);
    }
    this.capacity = capacity;
    this.stateSize = stateSize;
    this.tokenIn = new Uint8Array(capacity);
    this.action = new Uint8Array(capacity);
    this.reward = new Float32Array(capacity);
    this.terminal = new Uint8Array(capacity);
    this.qStateBefore = new Float32Array(capacity * stateSize);
    this.qStateAfter = new Float32Array(capacity * stateSize);
    this.storesRewardState = options.storeRewardState ?? true;
    this.rewardStateAfter = new Float32Array(this.storesRewardState ? capacity * stateSize : 0);
  }

  /** Number of stored transitions (at most capacity). */
  get size(): number {
    return this.stored;
  }

  /** Bytes of storage one transition takes. */
  get bytesPerTransition(): number {
    return 1 + 1 + 4 + 1 + (this.storesRewardState ? 3 : 2) * 4 * this.stateSize;
  }

  /** Copies one transition in, overwriting the oldest when full. State arguments are read from index 0. */
  push(
    tokenIn: number,
    qStateBefore: ArrayLike<number>,
    action: number,
    reward: number,
    qStateAfter: ArrayLike<number>,
    rewardStateAfter: ArrayLike<number>,
    terminal: boolean,
  ): void {
    const slot = this.next;
    const row = slot * this.stateSize;
    this.tokenIn[slot] = tokenIn;
    this.action[slot] = action;
    this.reward[slot] = reward;
    this.terminal[slot] = terminal ? 1 : 0;
    for (let j = 0; j < this.stateSize; j++) {
      this.qStateBefore[row + j] = qStateBefore[j];
      this.qStateAfter[row + j] = qStateAfter[j];
    }
    if (this.storesRewardState) {
      for (let j = 0; j < this.stateSize; j++) this.rewardStateAfter[row + j] = rewardStateAfter[j];
    }
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    if (this.stored < this.capacity) this.stored++;
  }

  /** Draws `batchSize` distinct stored slots uniformly into outIndices[0 .. batchSize). */
  sample(rng: Random, batchSize: number, outIndices: Int32Array): Int32Array {
    if (batchSize > this.stored) {
      throw new RangeError(`ReplayRing.sample: batchSize = ${batchSize} but only ${this.stored} transitions are stored; wait until size >= batchSize`);
    }
    if (outIndices.length < batchSize) {
      throw new RangeError(`ReplayRing.sample: outIndices.length = ${outIndices.length} is smaller than batchSize = ${batchSize}`);
    }
    rng.distinct(batchSize, this.stored, outIndices);
    return outIndices;
  }

  /**
   * Copies the `which` state rows of slots indices[0 .. count) into `out`, row r starting at
   * r * outRowStride (outRowStride >= stateSize; the gap is left untouched).
   */
  gatherStates(which: StoredState, indices: ArrayLike<number>, count: number, out: Float32Array, outRowStride = this.stateSize): void {
    if (outRowStride < this.stateSize) {
      throw new RangeError(`ReplayRing.gatherStates: outRowStride = ${outRowStride} is smaller than stateSize = ${this.stateSize}`);
    }
    if (count > 0 && out.length < (count - 1) * outRowStride + this.stateSize) {
      throw new RangeError(`ReplayRing.gatherStates: out.length = ${out.length} cannot hold ${count} rows of stride ${outRowStride}`);
    }
    if (which === 'rewardAfter' && !this.storesRewardState) {
      throw new Error('ReplayRing.gatherStates: this ring was built without Reward RNN states (storeRewardState: false)');
    }
    const source = which === 'qBefore' ? this.qStateBefore : which === 'qAfter' ? this.qStateAfter : this.rewardStateAfter;
    for (let r = 0; r < count; r++) {
      const slot = indices[r];
      if (!(slot >= 0 && slot < this.stored)) {
        throw new RangeError(`ReplayRing.gatherStates: indices[${r}] = ${slot} is not a stored slot (0..${this.stored - 1})`);
      }
      const from = slot * this.stateSize;
      out.set(source.subarray(from, from + this.stateSize), r * outRowStride);
    }
  }

  /**
   * The stored transitions and counters. The arrays are views of the live storage, not copies (the ring
   * can hold hundreds of megabytes): serialise them before the next push.
   */
  snapshot(): ReplaySnapshot {
    const rows = this.stored * this.stateSize;
    return {
      capacity: this.capacity,
      stateSize: this.stateSize,
      size: this.stored,
      next: this.next,
      tokenIn: this.tokenIn.subarray(0, this.stored),
      action: this.action.subarray(0, this.stored),
      reward: this.reward.subarray(0, this.stored),
      terminal: this.terminal.subarray(0, this.stored),
      qStateBefore: this.qStateBefore.subarray(0, rows),
      qStateAfter: this.qStateAfter.subarray(0, rows),
      rewardStateAfter: this.rewardStateAfter.subarray(0, this.storesRewardState ? rows : 0),
    };
  }

  /** Replaces the contents with a snapshot taken from a ring of the same capacity and stateSize. */
  restore(snapshot: ReplaySnapshot): void {
    if (snapshot.capacity !== this.capacity || snapshot.stateSize !== this.stateSize) {
      throw new RangeError(
        `ReplayRing.restore: snapshot has capacity ${snapshot.capacity} and stateSize ${snapshot.stateSize}, ` +
          `this ring ${this.capacity} and ${this.stateSize}; build the ring with the snapshot's sizes`,
      );
    }
    const { size, next } = snapshot;
    if (!Number.isInteger(size) || size < 0 || size > this.capacity) {
      throw new RangeError(`ReplayRing.restore: size = ${size} is outside 0..${this.capacity}`);
    }
    const expectedNext = size < this.capacity ? size : next;
    if (!Number.isInteger(next) || next < 0 || next >= this.capacity || next !== expectedNext) {
      throw new RangeError(`ReplayRing.restore: next = ${next} is inconsistent with size = ${size} and capacity = ${this.capacity}`);
    }
    const rows = size * this.stateSize;
    const fields: [string, ArrayLike<number>, number][] = [
      ['tokenIn', snapshot.tokenIn, size],
      ['action', snapshot.action, size],
      ['reward', snapshot.reward, size],
      ['terminal', snapshot.terminal, size],
      ['qStateBefore', snapshot.qStateBefore, rows],
      ['qStateAfter', snapshot.qStateAfter, rows],
      ['rewardStateAfter', snapshot.rewardStateAfter, this.storesRewardState ? rows : 0],
    ];
    for (const [name, values, length] of fields) {
      if (values.length !== length) {
        throw new RangeError(`ReplayRing.restore: ${name}.length = ${values.length}, expected ${length}`);
      }
    }
    this.tokenIn.set(snapshot.tokenIn);
    this.action.set(snapshot.action);
    this.reward.set(snapshot.reward);
    this.terminal.set(snapshot.terminal);
    this.qStateBefore.set(snapshot.qStateBefore);
    this.qStateAfter.set(snapshot.qStateAfter);
    this.rewardStateAfter.set(snapshot.rewardStateAfter);
    this.stored = size;
    this.next = next;
  }
}
