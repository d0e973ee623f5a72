/**
 * The experience replay of RL Tuner (SPEC §4.5): a ring of transitions in structure-of-arrays layout,
 * every field one preallocated typed array, the oldest transition dropped when full.
 *
 * A transition is (token in, Q-net state before, action, reward, Q-net state after, the Reward RNN's
 * log p(·|s') at the next state, terminal). A state is an opaque row of `stateSize` floats (all LSTM
 * layers' c and h). Each step's Q-net state is stored once: the state after step t is the state before
 * step t + 1, so it is found by index in the next slot, and the ring keeps one slot more than it holds
 * transitions: the slot after the newest transition holds that transition's after-state. A terminal
 * transition has no next state (its TD target is the reward alone), so nothing is written for it. The
 * next-state log-probabilities (one per action, G only) are kept per slot.
 *
 * Actions are the networks' output classes: NUM_CLASSES, or `actions` of another encoding (the lookback
 * encoding's 40). For the basic encoding the networks read the token in at s and the action at s'; an
 * encoding whose inputs are not its classes (lookback) stores both input ids (`inputIds`).
 */
import { float16ToNumber, numberToFloat16 } from '../io/safetensors.js';
import { NUM_CLASSES } from '../music/encoding.js';
import type { Random } from '../random.js';

/** Which stored Q-net state rows `gatherStates` copies. */
export type StoredState = 'qBefore' | 'qAfter';

/**
 * Everything needed to rebuild a ring exactly (checkpoints): the slots in use, as views of the live
 * storage (no copy: serialise before the next push). Until the ring first fills, transitions sit in slots
 * 0 .. size − 1 with the newest one's after-state in slot size; once full, every slot is in use and
 * `next` tells where the oldest begins (the slot after next).
 */
export interface ReplaySnapshot {
  capacity: number;
  stateSize: number;
  /** Number of stored transitions. */
  size: number;
  /** Slot the next push writes. */
  next: number;
  tokenIn: Uint8Array; // (fields)
  action: Uint8Array; // (fields)
  reward: Float32Array; // (fields)
  terminal: Uint8Array; // (fields)
  /** Q-net states by slot: (rows, stateSize). */
  qStates: Float32Array;
  /** The Reward RNN's log p(·|s') of each transition by slot: (fields, actions), or empty when not stored; f16 bits when kept so. */
  nextLogProbs: Float32Array | Uint16Array;
  /** The networks' input ids at s and at s' by slot (fields), when the ring keeps them (inputIds). */
  inputIn?: Uint32Array;
  inputNext?: Uint32Array;
}

/** How the ring keeps next-state log-probabilities: f32, or f16 bit patterns (half the memory, 11 significant bits). */
export type LogProbPrecision = 'f32' | 'f16';

let halfToFloat: Float32Array | null = null;
/** Every f16 bit pattern's value, built on first use (256 KB). */
function halfTable(): Float32Array {
  if (!halfToFloat) {
    halfToFloat = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfToFloat[bits] = float16ToNumber(bits);
  }
  return halfToFloat;
}

/** Slots a snapshot of `size` transitions carries: fields (transitions) and rows (Q-net states). */
function snapshotExtent(size: number, capacity: number): { fields: number; rows: number } {
  if (size === 0) return { fields: 0, rows: 0 };
  if (size < capacity) return { fields: size, rows: size + 1 };
  return { fields: capacity + 1, rows: capacity + 1 };
}

/** Reads a word of each 64-byte line of the state row of S floats at `start` (and its last word); returns them OR-ed. */
function touchStateRow(words: Int32Array, start: number, S: number): number {
  let seen = words[start + S - 1];
  for (let j = 0; j < S; j += 16) seen |= words[start + j];
  return seen;
}

/**
 * Transitions drawn from the ring, gathered (ReplayRing.sample): B rows of each field, allocated once.
 * A terminal transition's `stateAfter` and `logPriorNext` rows are undefined (its TD target is its reward).
 */
export class Minibatch {
  readonly slots: Int32Array; // (B) the ring slots drawn
  readonly tokenIn: Int32Array; // (B) x: the token the networks read at s
  readonly action: Int32Array; // (B) a
  readonly reward: Float32Array; // (B) r
  readonly terminal: Uint8Array; // (B) 1 on the last step of a composition
  readonly stateBefore: Float32Array; // (B, S) the Q-network's state at s
  readonly stateAfter: Float32Array; // (B, S) its state after reading x (the Target network reads a from it)
  /** (B, logPriorStride) the Reward RNN's log p(·|s'), when the ring keeps it (G-learning), else null. */
  readonly logPriorNext: Float32Array | null;
  /** (B) the input ids the networks read at s and at s', when the ring keeps them (else tokenIn and action are those inputs). */
  readonly inputIn: Int32Array | null;
  readonly inputNext: Int32Array | null;

  constructor(readonly size: number, stateSize: number, withLogPriorNext: boolean, readonly logPriorStride = NUM_CLASSES, withInputIds = false, actions = NUM_CLASSES) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Minibatch: size = ${size} must be an integer >= 1`);
    if (logPriorStride < actions) {
      throw new RangeError(`Minibatch: logPriorStride = ${logPriorStride} is smaller than ${actions === NUM_CLASSES ? `NUM_CLASSES = ${NUM_CLASSES}` : `the ${actions} actions`}`);
    }
    this.slots = new Int32Array(size);
    this.tokenIn = new Int32Array(size);
    this.action = new Int32Array(size);
    this.reward = new Float32Array(size);
    this.terminal = new Uint8Array(size);
    this.stateBefore = new Float32Array(size * stateSize);
    this.stateAfter = new Float32Array(size * stateSize);
    this.logPriorNext = withLogPriorNext ? new Float32Array(size * logPriorStride) : null;
    this.inputIn = withInputIds ? new Int32Array(size) : null;
    this.inputNext = withInputIds ? new Int32Array(size) : null;
  }
}

export class ReplayRing {
  /** Transitions held at most. */
  readonly capacity: number;
  readonly stateSize: number;
  /** Slots: capacity + 1 (one is always free for the newest transition's after-state). */
  readonly slots: number;
  readonly tokenIn: Uint8Array; // (slots)
  readonly action: Uint8Array; // (slots)
  readonly reward: Float32Array; // (slots)
  readonly terminal: Uint8Array; // (slots) 1 on the last step of a composition
  readonly qStates: Float32Array; // (slots, stateSize): before-state of the transition in the slot
  readonly nextLogProbs: Float32Array | Uint16Array; // (slots, actions), or empty when not stored; f16 bits when so kept
  /** Whether the Reward RNN's next-state log-probabilities are kept (only G-learning's target needs them). */
  readonly storesNextLogProbs: boolean;
  /** Actions per transition (the networks' output classes): the length of a log p(·|s') row. */
  readonly actions: number;
  /** The input ids at s and s' (slots), or null when the inputs are tokenIn and action (the basic encoding). */
  readonly inputIn: Uint32Array | null;
  readonly inputNext: Uint32Array | null;
  /** The same bytes as qStates, read as integers by `prefetch` (no float work in its loads). */
  private readonly stateWords: Int32Array;
  /** What `prefetch` read, kept so that its loads are not optimised away. */
  private prefetched = 0;
  private stored = 0;
  /** Slot the next push writes. */
  private next = 0;
  /** Whether slot `next` already holds the next push's before-state (the last push was within a composition). */
  private nextBeforeStored = false;

  constructor(
    capacity: number, stateSize: number,
    options: { storeNextLogProbs?: boolean; nextLogProbPrecision?: LogProbPrecision; actions?: number; inputIds?: boolean } = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ReplayRing: capacity = ${capacity} must be an integer >= 1`);
    }
    if (!Number.isInteger(stateSize) || stateSize < 1) {
      throw new RangeError(`ReplayRing: stateSize = ${stateSize} must be an integer >= 1`);
    }
    this.capacity = capacity;
    this.stateSize = stateSize;
    this.slots = capacity + 1;
    this.tokenIn = new Uint8Array(this.slots);
    this.action = new Uint8Array(this.slots);
    this.reward = new Float32Array(this.slots);
    this.terminal = new Uint8Array(this.slots);
    this.qStates = new Float32Array(this.slots * stateSize);
    this.storesNextLogProbs = options.storeNextLogProbs ?? true;
    this.actions = options.actions ?? NUM_CLASSES;
    if (!Number.isInteger(this.actions) || this.actions < 1 || this.actions > 255) throw new RangeError(`ReplayRing: actions = ${this.actions} must be an integer in 1..255`);
    this.inputIn = options.inputIds ? new Uint32Array(this.slots) : null;
    this.inputNext = options.inputIds ? new Uint32Array(this.slots) : null;
    const logProbValues = this.storesNextLogProbs ? this.slots * this.actions : 0;
    this.nextLogProbs = options.nextLogProbPrecision === 'f16' ? new Uint16Array(logProbValues) : new Float32Array(logProbValues);
    this.stateWords = new Int32Array(this.qStates.buffer, this.qStates.byteOffset, this.qStates.length);
  }

  /** Number of stored transitions (at most capacity). */
  get size(): number {
    return this.stored;
  }

  /** Slot of the oldest stored transition. */
  private get oldest(): number {
    return (this.next - this.stored + this.slots) % this.slots;
  }

  /** Bytes of storage per transition: the fields, one Q-net state, and the next-state log-probabilities for G. */
  get bytesPerTransition(): number {
    const logProbs = this.storesNextLogProbs ? this.nextLogProbs.BYTES_PER_ELEMENT * this.actions : 0;
    const inputIds = this.inputIn ? 8 : 0;
    return ((1 + 1 + 4 + 1 + 4 * this.stateSize + logProbs + inputIds) * this.slots) / this.capacity;
  }

  /**
   * Copies one transition in, dropping the oldest when full. State and log-probability arguments are read
   * from index 0; `nextLogProbs` (one value per action, log p(·|s')) is read only when stored and not
   * terminal. `inputs` (the input ids at s and s') is required when the ring keeps them and ignored otherwise.
   * Within a composition (the previous push was not terminal) `qStateBefore` must equal the previous push's
   * `qStateAfter`, as the tuner's states do: it is already in its slot and is not copied again.
   */
  push(
    tokenIn: number,
    qStateBefore: ArrayLike<number>,
    action: number,
    reward: number,
    qStateAfter: ArrayLike<number>,
    nextLogProbs: ArrayLike<number>,
    terminal: boolean,
    inputs?: { in: number; next: number },
  ): void {
    const S = this.stateSize;
    if (this.inputIn) {
      if (!inputs) throw new Error('ReplayRing.push: this ring keeps the input ids at s and s\' (inputIds); pass them');
      this.inputIn[this.next] = inputs.in;
      this.inputNext![this.next] = inputs.next;
    }
    const slot = this.next;
    const following = slot + 1 === this.slots ? 0 : slot + 1;
    this.tokenIn[slot] = tokenIn;
    this.action[slot] = action;
    this.reward[slot] = reward;
    this.terminal[slot] = terminal ? 1 : 0;
    // Within a composition the before-state is already here (the previous step's after-state).
    if (!this.nextBeforeStored) this.qStates.set(qStateBefore.length === S ? qStateBefore : Array.prototype.slice.call(qStateBefore, 0, S), slot * S);
    // The slot after the newest is free (when full, it held the oldest transition, which is dropped).
    if (!terminal) this.qStates.set(qStateAfter.length === S ? qStateAfter : Array.prototype.slice.call(qStateAfter, 0, S), following * S);
    this.nextBeforeStored = !terminal;
    if (this.storesNextLogProbs && !terminal) {
      const out = this.nextLogProbs;
      const C = this.actions;
      const o = slot * C;
      if (out instanceof Uint16Array) for (let a = 0; a < C; a++) out[o + a] = numberToFloat16(nextLogProbs[a]);
      else for (let a = 0; a < C; a++) out[o + a] = nextLogProbs[a];
    }
    this.next = following;
    if (this.stored < this.capacity) this.stored++;
  }

  /**
   * A minibatch of `batch.size` distinct stored transitions drawn uniformly, gathered into `batch` (its
   * arrays are overwritten; the same object is returned).
   */
  sample(rng: Random, batch: Minibatch): Minibatch {
    const B = batch.size;
    const slots = this.draw(rng, B, batch.slots);
    this.prefetch(slots, B); // the drawn transitions' cache misses overlap here, not one row at a time below
    for (let i = 0; i < B; i++) {
      const j = slots[i];
      batch.tokenIn[i] = this.tokenIn[j];
      batch.action[i] = this.action[j];
      batch.reward[i] = this.reward[j];
      batch.terminal[i] = this.terminal[j];
    }
    if (this.inputIn && batch.inputIn && batch.inputNext) {
      for (let i = 0; i < B; i++) {
        batch.inputIn[i] = this.inputIn[slots[i]];
        batch.inputNext[i] = this.inputNext![slots[i]];
      }
    }
    this.gatherStates('qBefore', slots, B, batch.stateBefore);
    this.gatherStates('qAfter', slots, B, batch.stateAfter);
    if (batch.logPriorNext) this.gatherNextLogProbs(slots, B, batch.logPriorNext, batch.logPriorStride);
    return batch;
  }

  /**
   * Draws `count` distinct stored transitions uniformly; writes their slots to outSlots[0 .. count).
   * The k-th oldest transition is drawn as index k, so the draw depends only on the stored order.
   */
  draw(rng: Random, count: number, outSlots: Int32Array): Int32Array {
    if (count > this.stored) {
      throw new RangeError(`ReplayRing.draw: ${count} transitions asked for, but only ${this.stored} are stored; wait until size >= batchSize`);
    }
    if (outSlots.length < count) {
      throw new RangeError(`ReplayRing.draw: outSlots.length = ${outSlots.length} is smaller than count = ${count}`);
    }
    rng.distinct(count, this.stored, outSlots);
    const oldest = this.oldest;
    for (let i = 0; i < count; i++) outSlots[i] = (oldest + outSlots[i]) % this.slots;
    return outSlots;
  }

  /**
   * Reads one word of every cache line that the transitions in slots indices[0 .. count) occupy (their
   * fields, both state rows and log p(·|s')), before the gathers copy any of them. At its default
   * capacity the ring spans about 96 MB (G, H = 100), so each drawn transition is a cache and TLB miss on
   * pages far apart; copied row by row those misses wait for one another, read here in one pass of
   * independent loads they overlap, and the copies that follow find the lines in cache. Changes nothing:
   * a call can be left out without changing a bit. Slots are taken modulo the ring (no checks: the gathers
   * check them).
   */
  prefetch(indices: ArrayLike<number>, count: number): void {
    const S = this.stateSize;
    const slots = this.slots;
    const logProbs = this.nextLogProbs;
    const C = this.actions;
    // A 64-byte line holds 16 floats (32 f16 values); the last word of a row is read too, for rows that do not start on a line.
    const logProbStride = logProbs instanceof Uint16Array ? 32 : 16;
    let seen = 0;
    for (let r = 0; r < count; r++) {
      const slot = indices[r] % slots;
      seen |= this.tokenIn[slot] | this.action[slot] | this.terminal[slot] | (this.reward[slot] === 0 ? 1 : 0);
      seen |= touchStateRow(this.stateWords, slot * S, S) | touchStateRow(this.stateWords, (slot + 1 === slots ? 0 : slot + 1) * S, S);
      if (this.storesNextLogProbs) {
        const row = slot * C;
        for (let a = 0; a < C; a += logProbStride) seen |= logProbs[row + a];
        seen |= logProbs[row + C - 1];
      }
    }
    this.prefetched = seen;
  }

  /** Slot of the k-th oldest stored transition (k in 0 .. size − 1). */
  slotOf(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k >= this.stored) throw new RangeError(`ReplayRing.slotOf: ${k} is not in 0..${this.stored - 1}`);
    return (this.oldest + k) % this.slots;
  }

  /**
   * Copies the `which` state rows of the transitions in slots indices[0 .. count) into `out`, row r starting
   * at r * outRowStride (outRowStride >= stateSize; the gap is left untouched). The after-state of a
   * terminal transition is undefined (it is never used: the TD target of a last step is its reward).
   */
  gatherStates(which: StoredState, indices: ArrayLike<number>, count: number, out: Float32Array, outRowStride = this.stateSize): void {
    const S = this.stateSize;
    if (outRowStride < S) {
      throw new RangeError(`ReplayRing.gatherStates: outRowStride = ${outRowStride} is smaller than stateSize = ${S}`);
    }
    if (count > 0 && out.length < (count - 1) * outRowStride + S) {
      throw new RangeError(`ReplayRing.gatherStates: out.length = ${out.length} cannot hold ${count} rows of stride ${outRowStride}`);
    }
    const source = this.qStates;
    const shift = which === 'qAfter' ? 1 : 0;
    for (let r = 0; r < count; r++) {
      const slot = indices[r];
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots || !this.holds(slot)) {
        throw new RangeError(`ReplayRing.gatherStates: indices[${r}] = ${slot} is not a stored transition's slot`);
      }
      const row = ((slot + shift) % this.slots) * S;
      // A view and set() copy as one block: twice as fast as an element loop for 200-float rows (measured).
      out.set(source.subarray(row, row + S), r * outRowStride);
    }
  }

  /**
   * Copies log p(·|s') of the transitions in slots indices[0 .. count) into `out`, row r starting at
   * r * outRowStride (outRowStride >= actions; the gap is left untouched). Undefined for a terminal
   * transition (never used: it has no next state).
   */
  gatherNextLogProbs(indices: ArrayLike<number>, count: number, out: Float32Array, outRowStride = this.actions): void {
    const C = this.actions;
    if (!this.storesNextLogProbs) {
      throw new Error('ReplayRing.gatherNextLogProbs: this ring was built without them (storeNextLogProbs: false)');
    }
    if (outRowStride < C) {
      throw new RangeError(`ReplayRing.gatherNextLogProbs: outRowStride = ${outRowStride} is smaller than the ${C} actions`);
    }
    if (count > 0 && out.length < (count - 1) * outRowStride + C) {
      throw new RangeError(`ReplayRing.gatherNextLogProbs: out.length = ${out.length} cannot hold ${count} rows of stride ${outRowStride}`);
    }
    const source = this.nextLogProbs;
    const half = source instanceof Uint16Array ? halfTable() : null;
    for (let r = 0; r < count; r++) {
      const slot = indices[r];
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots || !this.holds(slot)) {
        throw new RangeError(`ReplayRing.gatherNextLogProbs: indices[${r}] = ${slot} is not a stored transition's slot`);
      }
      const row = slot * C;
      const o = r * outRowStride;
      if (half) for (let a = 0; a < C; a++) out[o + a] = half[source[row + a]];
      else for (let a = 0; a < C; a++) out[o + a] = source[row + a];
    }
  }

  /** Whether `slot` holds a stored transition. */
  private holds(slot: number): boolean {
    return (slot - this.oldest + this.slots) % this.slots < this.stored;
  }

  /** The slots in use, as views of the live storage (for checkpoints; see ReplaySnapshot). */
  snapshot(): ReplaySnapshot {
    const S = this.stateSize;
    const { fields, rows } = snapshotExtent(this.stored, this.capacity);
    return {
      capacity: this.capacity, stateSize: S, size: this.stored, next: this.next,
      tokenIn: this.tokenIn.subarray(0, fields), action: this.action.subarray(0, fields),
      reward: this.reward.subarray(0, fields), terminal: this.terminal.subarray(0, fields),
      qStates: this.qStates.subarray(0, rows * S),
      nextLogProbs: this.nextLogProbs.subarray(0, this.storesNextLogProbs ? fields * this.actions : 0),
      ...(this.inputIn ? { inputIn: this.inputIn.subarray(0, fields), inputNext: this.inputNext!.subarray(0, fields) } : {}),
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
    const n = snapshot.size;
    if (!Number.isInteger(n) || n < 0 || n > this.capacity) {
      throw new RangeError(`ReplayRing.restore: size = ${n} is outside 0..${this.capacity}`);
    }
    const next = snapshot.next;
    if (!Number.isInteger(next) || next < 0 || next >= this.slots || (n < this.capacity && next !== n)) {
      throw new RangeError(`ReplayRing.restore: next = ${next} is inconsistent with size = ${n} and capacity = ${this.capacity}`);
    }
    const S = this.stateSize;
    const { fields: f, rows } = snapshotExtent(n, this.capacity);
    const fields: [string, ArrayLike<number>, number][] = [
      ['tokenIn', snapshot.tokenIn, f],
      ['action', snapshot.action, f],
      ['reward', snapshot.reward, f],
      ['terminal', snapshot.terminal, f],
      ['qStates', snapshot.qStates, rows * S],
      ['nextLogProbs', snapshot.nextLogProbs, this.storesNextLogProbs ? f * this.actions : 0],
    ];
    if (this.inputIn) fields.push(['inputIn', snapshot.inputIn ?? [], f], ['inputNext', snapshot.inputNext ?? [], f]);
    for (const [name, values, length] of fields) {
      if (values.length !== length) {
        throw new RangeError(`ReplayRing.restore: ${name}.length = ${values.length}, expected ${length}`);
      }
    }
    this.tokenIn.set(snapshot.tokenIn);
    this.action.set(snapshot.action);
    this.reward.set(snapshot.reward);
    this.terminal.set(snapshot.terminal);
    this.qStates.set(snapshot.qStates);
    if (this.inputIn) {
      this.inputIn.set(snapshot.inputIn!);
      this.inputNext!.set(snapshot.inputNext!);
    }
    const logProbs = this.nextLogProbs;
    const given = snapshot.nextLogProbs;
    if (logProbs instanceof Uint16Array && !(given instanceof Uint16Array)) {
      // A checkpoint gives the values back as f32: f16 values convert back to the same bits.
      for (let i = 0; i < given.length; i++) logProbs[i] = numberToFloat16(given[i]);
    } else if (logProbs instanceof Float32Array && given instanceof Uint16Array) {
      const half = halfTable();
      for (let i = 0; i < given.length; i++) logProbs[i] = half[given[i]];
    } else {
      logProbs.set(given);
    }
    this.stored = n;
    this.next = next;
    // The next push is taken to start a composition (snapshots are taken between compositions): it writes its before-state.
    this.nextBeforeStored = false;
  }
}
