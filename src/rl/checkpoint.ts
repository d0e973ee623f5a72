/**
 * Tuning checkpoints that resume exactly: the Q-network's weights and Adam moments, the Target network,
 * the replay ring, the counters, the current logging interval and the random state, in one safetensors
 * file (integer arrays stored as exact f32). Taken between episodes, so no episode state is needed.
 */
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { TunerConfig } from './config.js';
import { TuneDivergedError, type RlTuner, type TunerSnapshot } from './tuner.js';

export const TUNE_CHECKPOINT_FORMAT = 'rltuner-tune-checkpoint';
export const TUNE_CHECKPOINT_VERSION = '1';

export function encodeTunerCheckpoint(tuner: RlTuner): Uint8Array {
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
    { name: 'replay.token_in', shape: [r.size], data: f32(r.tokenIn) },
    { name: 'replay.action', shape: [r.size], data: f32(r.action) },
    { name: 'replay.reward', shape: [r.size], data: r.reward },
    { name: 'replay.terminal', shape: [r.size], data: f32(r.terminal) },
    { name: 'replay.q_state_before', shape: [r.size, r.stateSize], data: r.qStateBefore },
    { name: 'replay.q_state_after', shape: [r.size, r.stateSize], data: r.qStateAfter },
    { name: 'replay.reward_state_after', shape: [r.rewardStateAfter.length / r.stateSize, r.stateSize], data: r.rewardStateAfter },
  ];
  const state = {
    counters: s.counters, interval: s.interval, random: s.random, adamStep: s.adamStep,
    replay: { capacity: r.capacity, stateSize: r.stateSize, size: r.size, next: r.next },
  };
  return encodeSafetensors(tensors, {
    format: TUNE_CHECKPOINT_FORMAT,
    format_version: TUNE_CHECKPOINT_VERSION,
    config: JSON.stringify(tuner.config),
    state: JSON.stringify(state),
  });
}

/** The config a checkpoint was written with (to rebuild the tuner before restoring). */
export function checkpointConfig(bytes: Uint8Array, source = 'checkpoint'): TunerConfig {
  const { metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== TUNE_CHECKPOINT_FORMAT || metadata.format_version !== TUNE_CHECKPOINT_VERSION) {
    throw new Error(`${source}: not an rltuner tuning checkpoint (version ${TUNE_CHECKPOINT_VERSION})`);
  }
  return JSON.parse(metadata.config) as TunerConfig;
}

/** Restores a tuner (built with the checkpoint's config and Note RNN) to the checkpoint. */
export function restoreTunerCheckpoint(tuner: RlTuner, bytes: Uint8Array, source = 'checkpoint'): void {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== TUNE_CHECKPOINT_FORMAT) throw new Error(`${source}: not an rltuner tuning checkpoint`);
  const get = (name: string, length?: number) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${source}: missing ${name}`);
    if (length !== undefined && t.data.length !== length) {
      throw new Error(`${source}: ${name} holds ${t.data.length} values, this tuner needs ${length} (another architecture?)`);
    }
    return t.data;
  };
  const state = JSON.parse(metadata.state);
  const u8 = (a: Float32Array) => Uint8Array.from(a);
  tuner.q.params.set(get('q.params', tuner.q.params.length));
  tuner.q.adamM.set(get('q.adam_m', tuner.q.adamM.length));
  tuner.q.adamV.set(get('q.adam_v', tuner.q.adamV.length));
  tuner.target.params.set(get('target.params', tuner.target.params.length));
  const snapshot: TunerSnapshot = {
    counters: state.counters, interval: state.interval, random: state.random, adamStep: state.adamStep,
    replay: {
      ...state.replay,
      tokenIn: u8(get('replay.token_in')), action: u8(get('replay.action')), reward: get('replay.reward'),
      terminal: u8(get('replay.terminal')), qStateBefore: get('replay.q_state_before'),
      qStateAfter: get('replay.q_state_after'), rewardStateAfter: get('replay.reward_state_after'),
    },
  };
  tuner.restore(snapshot);
}
