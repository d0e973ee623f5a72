/**
 * Tuning checkpoints that resume exactly: the Q-network's weights and Adam moments, the Target network,
 * the replay ring, the counters, the current logging interval and the random state, in one safetensors
 * file (integer arrays stored as exact f32), with the run's config and fingerprints (what it was started
 * from) so a resume can refuse to continue from something else. Taken between compositions, so no
 * episode state is needed. Everything read back is validated, and every problem names the file.
 */
import { crc32, decodeSafetensors, encodeSafetensorsParts, joinParts, type Crc32 } from '../io/safetensors.js';
import type { Fingerprints } from '../io/fingerprint.js';
import { ConfigError, resolveConfig, type TunerConfig } from './config.js';
import type { KlControllerState } from './kl_controller.js';
import { PgTuner, type PgSnapshot } from './pg.js';
import { TuneDivergedError, type IntervalTotals, type RlTuner, type TunerCounters, type TunerSnapshot } from './tuner.js';

export const TUNE_CHECKPOINT_FORMAT = 'rltuner-tune-checkpoint';
/**
 * Version 4: counters are {step, updates, compositions} and the KL controller's sums are kept (version 3
 * counted episodes and training actions; its replay already kept G's log p(·|s'), replay.next_log_probs).
 */
export const TUNE_CHECKPOINT_VERSION = '4';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** A decoded, validated checkpoint, ready to rebuild its tuner and restore it. */
export interface TunerCheckpoint {
  source: string;
  config: TunerConfig;
  /** What the run was started from (digests of the Note RNN, priming material, kernel build, format). */
  fingerprints: Partial<Fingerprints>;
  /** What the caller recorded about the run (e.g. the CLI's input paths), as given to encodeTunerCheckpoint. */
  run: unknown;
  /** The tuner's state: a Q/Ψ/G tuner's (with its replay's extent; the replay's fields are tensors), or a pg tuner's. */
  state: ValueTunerState | PgSnapshot;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** A Q/Ψ/G tuner's checkpointed state, the replay's contents aside. */
export type ValueTunerState = Omit<TunerSnapshot, 'replay'> & { replay: { capacity: number; stateSize: number; size: number; next: number } };

export function encodeTunerCheckpoint(tuner: RlTuner | PgTuner, fingerprints: Partial<Fingerprints> = {}, run: unknown = null): Uint8Array {
  return joinParts(tuner instanceof PgTuner ? encodePgCheckpointParts(tuner, fingerprints, run) : encodeTunerCheckpointParts(tuner, fingerprints, run));
}

/** A pg tuner's checkpoint in parts: the policy's weights and Adam's moments, and its state. */
function encodePgCheckpointParts(tuner: PgTuner, fingerprints: Partial<Fingerprints>, run: unknown, checksum: Crc32 = crc32): Uint8Array[] {
  const { policy } = tuner;
  if (!policy.parametersFinite()) throw new TuneDivergedError(`the policy's weights are no longer finite at step ${tuner.counters.step}; not writing a checkpoint`);
  return encodeSafetensorsParts([
    { name: 'policy.params', shape: [policy.params.length], data: policy.params },
    { name: 'policy.adam_m', shape: [policy.adamM.length], data: policy.adamM },
    { name: 'policy.adam_v', shape: [policy.adamV.length], data: policy.adamV },
  ], {
    format: TUNE_CHECKPOINT_FORMAT,
    format_version: TUNE_CHECKPOINT_VERSION,
    config: JSON.stringify(tuner.config),
    fingerprints: JSON.stringify(fingerprints),
    run: JSON.stringify(run),
    state: JSON.stringify(tuner.snapshot()),
  }, checksum);
}

/**
 * The checkpoint in parts that stay valid while the tuner takes up to `steps` more training steps, so it
 * can be written in the background while training goes on (the caller must not let training run further
 * before the write is done; see TuningHooks.onCheckpoint). The networks, Adam's moments and the small
 * replay fields are copied; of the replay's state rows and log-probabilities, only the `steps + 1` slots
 * from the ring's write position on (those the steps can write) are copied, the rest are views of the
 * ring: about 17 MB copied at 16,384 steps, against the 98 MB file of a default run. The copies go into
 * `copies`, which a run's checkpoints can share (see CheckpointCopies).
 */
export function encodeTunerCheckpointDetached(
  tuner: RlTuner | PgTuner, steps: number, fingerprints: Partial<Fingerprints> = {}, run: unknown = null, checksum: Crc32 = crc32,
  copies: CheckpointCopies = new CheckpointCopies(),
): Uint8Array[] {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`encodeTunerCheckpointDetached: steps = ${steps} must be an integer >= 0`);
  if (tuner instanceof PgTuner) {
    // A pg checkpoint is the policy and Adam's moments (a few hundred KB): all of what training writes is copied.
    const parts = encodePgCheckpointParts(tuner, fingerprints, run, checksum);
    const live = tuner.policy.params.buffer;
    copies.begin(parts.reduce((n, p) => n + (p.buffer === live ? p.byteLength : 0), 0));
    return parts.map((p) => (p.buffer === live ? copies.copy(p) : p));
  }
  const ring = tuner.replay;
  const { next } = ring.snapshot();
  const slotsWritten = Math.min(steps + 1, ring.slots);
  /** Pieces of the file in order, the ones in memory that training writes marked to be copied. */
  const pieces: { bytes: Uint8Array; copy: boolean }[] = [];
  /** What training writes: the networks' memory and the replay's fields (the rows are detached below). */
  const live = new Set<ArrayBufferLike>([tuner.q.params.buffer, tuner.target.params.buffer, ring.tokenIn.buffer, ring.action.buffer, ring.reward.buffer, ring.terminal.buffer]);
  if (ring.inputIn) live.add(ring.inputIn.buffer).add(ring.inputNext!.buffer);
  /** A part of `slotBytes` per slot (slot 0 first) with the slots the coming steps write copied, the rest left as views. */
  const detach = (part: Uint8Array, slotBytes: number): void => {
    const rows = part.byteLength / slotBytes;
    const copied: [number, number][] = [];
    const end = next + slotsWritten;
    if (end <= ring.slots) copied.push([next, end]);
    else copied.push([0, end - ring.slots], [next, ring.slots]);
    let at = 0;
    for (const [from, to] of copied) {
      const lo = Math.min(from, rows), hi = Math.min(to, rows);
      if (lo > at) pieces.push({ bytes: part.subarray(at * slotBytes, lo * slotBytes), copy: false });
      if (hi > lo) pieces.push({ bytes: part.subarray(lo * slotBytes, hi * slotBytes), copy: true });
      at = Math.max(at, hi);
    }
    if (rows > at) pieces.push({ bytes: part.subarray(at * slotBytes, rows * slotBytes), copy: false });
  };
  for (const part of encodeTunerCheckpointParts(tuner, fingerprints, run, checksum)) {
    if (part.byteLength === 0) pieces.push({ bytes: part, copy: false });
    else if (part.buffer === ring.qStates.buffer) detach(part, ring.stateSize * 4);
    else if (part.buffer === ring.nextLogProbs.buffer) detach(part, ring.actions * ring.nextLogProbs.BYTES_PER_ELEMENT);
    else pieces.push({ bytes: part, copy: live.has(part.buffer) }); // the header and converted fields are the file's own
  }
  copies.begin(pieces.reduce((n, p) => n + (p.copy ? p.bytes.byteLength : 0), 0));
  return pieces.map((p) => (p.copy ? copies.copy(p.bytes) : p.bytes));
}

/**
 * Where a run's detached checkpoints keep their copies: one buffer, reused by each checkpoint after the
 * last. In fresh memory each time, the copies (about 17 MB for a G run's replay) made encoding a checkpoint
 * about three times as slow, most of it the first touch of new pages (bench/checkpoint_speed.ts measures
 * both). Pass the same object to every encodeTunerCheckpointDetached of a run, and only once the
 * previous checkpoint is written.
 */
export class CheckpointCopies {
  private buffer = new Uint8Array(0);
  private used = 0;

  /** Starts a checkpoint that copies `bytes` in all: the previous one's copies may be overwritten from here on. */
  begin(bytes: number): void {
    if (this.buffer.length < bytes) this.buffer = new Uint8Array(bytes);
    this.used = 0;
  }

  /** A copy of `bytes` in the buffer (begin reserved the room). */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.buffer.subarray(this.used, this.used + bytes.byteLength);
    if (out.byteLength !== bytes.byteLength) throw new Error('CheckpointCopies: more copied than begin() reserved (internal error)');
    out.set(bytes);
    this.used += bytes.byteLength;
    return out;
  }
}

/**
 * The checkpoint file in parts to write one after another (see encodeSafetensorsParts): the replay and the
 * weights are not copied, so a checkpoint costs no memory of its own size. Write the parts at once (or
 * see encodeTunerCheckpointDetached). `checksum`: the CRC-32 to use (see encodeSafetensorsParts).
 */
export function encodeTunerCheckpointParts(
  tuner: RlTuner, fingerprints: Partial<Fingerprints> = {}, run: unknown = null, checksum: Crc32 = crc32,
): Uint8Array[] {
  if (!tuner.q.parametersFinite()) {
    throw new TuneDivergedError(`the Q-network's weights are no longer finite at step ${tuner.counters.step}; not writing a checkpoint`);
  }
  const s = tuner.snapshot();
  const r = s.replay;
  const f32 = (a: Uint8Array) => Float32Array.from(a);
  const tensors = [
    { name: 'q.params', shape: [tuner.q.params.length], data: tuner.q.params },
    { name: 'q.adam_m', shape: [tuner.q.adamM.length], data: tuner.q.adamM },
    { name: 'q.adam_v', shape: [tuner.q.adamV.length], data: tuner.q.adamV },
    { name: 'target.params', shape: [tuner.target.params.length], data: tuner.target.params },
    { name: 'replay.token_in', shape: [r.tokenIn.length], data: f32(r.tokenIn) },
    { name: 'replay.action', shape: [r.action.length], data: f32(r.action) },
    { name: 'replay.reward', shape: [r.reward.length], data: r.reward },
    { name: 'replay.terminal', shape: [r.terminal.length], data: f32(r.terminal) },
    { name: 'replay.q_states', shape: [r.qStates.length / r.stateSize, r.stateSize], data: r.qStates },
    { name: 'replay.next_log_probs', shape: [r.nextLogProbs.length / tuner.replay.actions, tuner.replay.actions], data: r.nextLogProbs },
  ];
  // An encoding whose inputs are not its tokens (lookback, phrase): the input ids at s and s', each as its
  // low 16 bits and the rest (a phrase id reaches 2^30, past what f32 holds exactly).
  if (r.inputIn && r.inputNext) {
    tensors.push(
      { name: 'replay.input_in', shape: [r.inputIn.length, 2], data: inputIdHalves(r.inputIn) },
      { name: 'replay.input_next', shape: [r.inputNext.length, 2], data: inputIdHalves(r.inputNext) },
    );
  }
  const state = {
    counters: s.counters, interval: s.interval, klController: s.klController, random: s.random, adamStep: s.adamStep, rewardScaler: s.rewardScaler,
    replay: { capacity: r.capacity, stateSize: r.stateSize, size: r.size, next: r.next },
  };
  return encodeSafetensorsParts(tensors, {
    format: TUNE_CHECKPOINT_FORMAT,
    format_version: TUNE_CHECKPOINT_VERSION,
    config: JSON.stringify(tuner.config),
    fingerprints: JSON.stringify(fingerprints),
    run: JSON.stringify(run),
    state: JSON.stringify(state),
  }, checksum);
}

/** Decodes and validates a checkpoint; every problem is a CheckpointError naming `source`. */
export function readTunerCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TunerCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== TUNE_CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${source}: not an rltuner tuning checkpoint (format ${JSON.stringify(metadata.format ?? null)})`);
  }
  if (metadata.format_version !== TUNE_CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `${source}: checkpoint format version ${JSON.stringify(metadata.format_version ?? null)}; this rltuner reads version ${TUNE_CHECKPOINT_VERSION}. ` +
        'Start the run anew (in another folder, or with --overwrite), or resume it with the rltuner build that wrote it ' +
        '(a run cannot be resumed across format versions).',
    );
  }
  const json = (key: string): unknown => {
    if (typeof metadata[key] !== 'string') throw new CheckpointError(`${source}: the checkpoint has no ${key} record`);
    try {
      return JSON.parse(metadata[key]);
    } catch (e) {
      throw new CheckpointError(`${source}: its ${key} record is not valid JSON (${(e as Error).message})`);
    }
  };
  let config: TunerConfig;
  try {
    config = resolveConfig('default', requireObject(json('config'), 'config', source));
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${source}: its recorded config is invalid: ${e.message}`);
    throw e;
  }
  const fingerprints = requireObject(json('fingerprints'), 'fingerprints', source);
  for (const [k, v] of Object.entries(fingerprints)) {
    if (typeof v !== 'string') throw new CheckpointError(`${source}: fingerprint ${k} is not a string`);
  }
  const state = config.algorithm === 'pg' ? validatePgState(json('state'), source) : validateState(json('state'), source);
  return { source, config, fingerprints: fingerprints as Partial<Fingerprints>, run: json('run'), state, tensors };
}

/** Restores a tuner (built with the checkpoint's config and Note RNN) to the checkpoint. */
export function restoreTunerCheckpoint(tuner: RlTuner | PgTuner, checkpoint: TunerCheckpoint): void {
  const { tensors, source } = checkpoint;
  const get = (name: string, length?: number) => {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`${source}: missing tensor ${name}`);
    if (length !== undefined && t.data.length !== length) {
      throw new CheckpointError(`${source}: ${name} holds ${t.data.length} values, this tuner needs ${length} (another architecture?)`);
    }
    return t.data;
  };
  if (tuner instanceof PgTuner) {
    if (checkpoint.config.algorithm !== 'pg') throw new CheckpointError(`${source}: a ${checkpoint.config.algorithm} checkpoint cannot restore a pg tuner`);
    tuner.policy.params.set(get('policy.params', tuner.policy.params.length));
    tuner.policy.adamM.set(get('policy.adam_m', tuner.policy.adamM.length));
    tuner.policy.adamV.set(get('policy.adam_v', tuner.policy.adamV.length));
    tuner.restore(checkpoint.state as PgSnapshot);
    return;
  }
  if (checkpoint.config.algorithm === 'pg') throw new CheckpointError(`${source}: a pg checkpoint cannot restore a ${tuner.config.algorithm} tuner`);
  const state = checkpoint.state as ValueTunerState;
  const { size, stateSize, capacity } = state.replay;
  // Slots in use (see ReplaySnapshot): the transitions so far, or every slot once the ring has filled.
  const fields = size === 0 ? 0 : size < capacity ? size : capacity + 1;
  const rows = size === 0 ? 0 : size < capacity ? size + 1 : capacity + 1;
  const u8 = (name: string, length: number) => {
    const data = get(name, length);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new CheckpointError(`${source}: ${name}[${i}] = ${v} is not a small integer`);
      out[i] = v;
    }
    return out;
  };
  const inputIds = (name: string, length: number) => {
    const data = get(name, 2 * length);
    const out = new Uint32Array(length);
    for (let i = 0; i < length; i++) {
      const low = data[2 * i], high = data[2 * i + 1];
      if (!Number.isInteger(low) || low < 0 || low >= 2 ** 16 || !Number.isInteger(high) || high < 0 || high >= 2 ** 16) {
        throw new CheckpointError(`${source}: ${name}[${i}] = [${low}, ${high}] is not an input id (its low 16 bits and the rest)`);
      }
      out[i] = low + high * 2 ** 16;
    }
    return out;
  };
  tuner.q.params.set(get('q.params', tuner.q.params.length));
  tuner.q.adamM.set(get('q.adam_m', tuner.q.adamM.length));
  tuner.q.adamV.set(get('q.adam_v', tuner.q.adamV.length));
  tuner.target.params.set(get('target.params', tuner.target.params.length));
  const snapshot: TunerSnapshot = {
    counters: state.counters, interval: state.interval, klController: state.klController, random: state.random, adamStep: state.adamStep,
    rewardScaler: state.rewardScaler,
    replay: {
      ...state.replay,
      tokenIn: u8('replay.token_in', fields), action: u8('replay.action', fields), reward: get('replay.reward', fields),
      terminal: u8('replay.terminal', fields), qStates: get('replay.q_states', rows * stateSize),
      nextLogProbs: get('replay.next_log_probs', tuner.replay.storesNextLogProbs ? fields * tuner.replay.actions : 0),
      ...(tuner.replay.inputIn ? { inputIn: inputIds('replay.input_in', fields), inputNext: inputIds('replay.input_next', fields) } : {}),
    },
  };
  try {
    tuner.restore(snapshot);
  } catch (e) {
    throw new CheckpointError(`${source}: ${(e as Error).message}`);
  }
}

function requireObject(value: unknown, what: string, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CheckpointError(`${source}: its ${what} record is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The checked state of a pg checkpoint. */
function validatePgState(value: unknown, source: string): PgSnapshot {
  const bad = (what: string): never => {
    throw new CheckpointError(`${source}: its state record is damaged (${what}); start a new run or restore the file`);
  };
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const isNumber = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
  const s = requireObject(value, 'state', source);
  const counters = requireObject(s.counters, 'state.counters', source) as unknown as TunerCounters;
  for (const key of ['step', 'updates', 'compositions'] as const) if (!isCount(counters[key])) bad(`counters.${key} = ${String(counters[key])}`);
  const interval = requireObject(s.interval, 'state.interval', source) as unknown as PgSnapshot['interval'];
  for (const key of ['steps', 'compositions', 'updates'] as const) if (!isCount(interval[key])) bad(`interval.${key}`);
  for (const key of ['reward', 'logPrior', 'kl', 'klK1', 'klK3', 'returns', 'loss', 'advantageStd'] as const) if (!isNumber(interval[key])) bad(`interval.${key}`);
  if (interval.preference !== undefined && !isNumber(interval.preference)) bad('interval.preference');
  for (const key of ['perRule', 'perComposition'] as const) if (!Array.isArray(interval[key]) || !interval[key].every(isNumber)) bad(`interval.${key}`);
  const klController = requireObject(s.klController, 'state.klController', source) as unknown as KlControllerState;
  if (!isNumber(klController.klSum) || !isCount(klController.steps)) bad('klController');
  const random = requireObject(s.random, 'state.random', source) as unknown as PgSnapshot['random'];
  if (!Array.isArray(random.words) || random.words.length !== 4 || !random.words.every((w) => isCount(w) && w <= 0xffffffff)) bad('random.words');
  if (random.spareNormal !== null && !isNumber(random.spareNormal)) bad('random.spareNormal');
  if (!isCount(s.adamStep)) bad('adamStep');
  if (typeof s.klCoefficient !== 'number' || !Number.isFinite(s.klCoefficient) || s.klCoefficient < 0) bad('klCoefficient');
  return { counters, interval, klController, random, adamStep: s.adamStep as number, klCoefficient: s.klCoefficient as number };
}

function validateState(value: unknown, source: string): ValueTunerState {
  const bad = (what: string): never => {
    throw new CheckpointError(`${source}: its state record is damaged (${what}); start a new run or restore the file`);
  };
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const isNumber = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
  const s = requireObject(value, 'state', source);
  const counters = requireObject(s.counters, 'state.counters', source) as unknown as TunerCounters;
  for (const key of ['step', 'updates', 'compositions'] as const) if (!isCount(counters[key])) bad(`counters.${key} = ${String(counters[key])}`);
  const interval = requireObject(s.interval, 'state.interval', source) as unknown as IntervalTotals;
  for (const key of ['steps', 'updates'] as const) if (!isCount(interval[key])) bad(`interval.${key}`);
  for (const key of ['rewardTotal', 'rewardMusicTheory', 'rewardNoteRnn', 'tdLoss', 'targetValue', 'qValue', 'kl'] as const) {
    if (!isNumber(interval[key])) bad(`interval.${key}`);
  }
  if (!Array.isArray(interval.perRule) || !interval.perRule.every(isNumber)) bad('interval.perRule');
  if (!isCount(interval.compositions)) bad('interval.compositions');
  if (interval.preference !== undefined && !isNumber(interval.preference)) bad('interval.preference');
  if (!Array.isArray(interval.perComposition) || !interval.perComposition.every(isNumber)) bad('interval.perComposition');
  const klController = requireObject(s.klController, 'state.klController', source) as unknown as KlControllerState;
  if (!isNumber(klController.klSum) || !isCount(klController.steps)) bad('klController');
  const random = requireObject(s.random, 'state.random', source) as unknown as TunerSnapshot['random'];
  if (!Array.isArray(random.words) || random.words.length !== 4 || !random.words.every((w) => isCount(w) && w <= 0xffffffff)) bad('random.words');
  if (random.spareNormal !== null && !isNumber(random.spareNormal)) bad('random.spareNormal');
  if (!isCount(s.adamStep)) bad('adamStep');
  if (typeof s.rewardScaler !== 'number' || !Number.isFinite(s.rewardScaler) || s.rewardScaler < 0) bad('rewardScaler');
  const replay = requireObject(s.replay, 'state.replay', source) as ValueTunerState['replay'];
  for (const key of ['capacity', 'stateSize', 'size', 'next'] as const) if (!isCount(replay[key])) bad(`replay.${key}`);
  return { counters, interval, klController, random, adamStep: s.adamStep as number, rewardScaler: s.rewardScaler as number, replay };
}

/** Input ids as f32 pairs (low 16 bits, the rest), each exact in f32. */
function inputIdHalves(ids: ArrayLike<number>): Float32Array {
  const out = new Float32Array(2 * ids.length);
  for (let i = 0; i < ids.length; i++) {
    out[2 * i] = ids[i] & 0xffff;
    out[2 * i + 1] = Math.floor(ids[i] / 2 ** 16);
  }
  return out;
}
