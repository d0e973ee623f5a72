/**
 * One planned wasm arena holding several LSTM models (Q-network, Target network and Reward RNN share one,
 * so the soft target update is one kernel pass). Sizes are computed from the plans first, then one fixed
 * memory is made and the kernels instantiated over it; views are built once and memory never grows.
 */
import { fixedMemory, instantiateKernels, type KernelExports, type Kernels, type WasmMemory } from './kernels.js';
import type { LstmStackConfig } from './layout.js';
import { LstmModel, type ModelPlan } from './lstm_model.js';

export interface ArenaModelRequest extends ModelPlan {
  config: LstmStackConfig;
}

export interface Arena<Names extends string> {
  models: Record<Names, LstmModel>;
  kernels: KernelExports;
  memory: WasmMemory;
  /** Bytes planned for models (excluding the module's static data). */
  plannedBytes: number;
}

const ALIGN = 64;

/** Plans, creates and returns the named models in one arena. */
export function createArena<Names extends string>(
  kernels: Kernels, requests: Record<Names, ArenaModelRequest>,
): Arena<Names> {
  const names = Object.keys(requests) as Names[];
  if (names.length === 0) throw new Error('createArena: no models requested');
  let planned = 0;
  for (const name of names) planned += LstmModel.planBytes(requests[name].config, requests[name]);
  // On kernel threads the arena is a claimed stretch of their shared memory, and calls go through the split exports.
  const pool = kernels.threads;
  const start = pool ? pool.claim(planned) : Math.ceil(kernels.heapBase / ALIGN) * ALIGN;
  const memory = pool ? pool.memory : fixedMemory(start + planned);
  const exports = pool ? pool.exports : instantiateKernels(kernels.module, memory);
  let next = start;
  const alloc = (bytes: number): number => {
    const at = next;
    next += Math.ceil(bytes / ALIGN) * ALIGN;
    if (next > start + planned || next > memory.buffer.byteLength) throw new Error('createArena: plan exceeded (internal error)');
    return at;
  };
  const models = {} as Record<Names, LstmModel>;
  for (const name of names) {
    const r = requests[name];
    models[name] = new LstmModel(exports, memory, r.config, r, alloc);
  }
  return { models, kernels: exports, memory, plannedBytes: planned };
}

/** A single model in its own arena. */
export function createModel(kernels: Kernels, config: LstmStackConfig, plan: ModelPlan): LstmModel {
  return createArena(kernels, { model: { config, ...plan } }).models.model;
}

/**
 * A new model with the same architecture and weights as `source`, in its own arena (planned for `plan`,
 * by default the source's). Adam moments are not copied.
 */
export function cloneModel(kernels: Kernels, source: LstmModel, plan?: ModelPlan): LstmModel {
  const copy = createModel(kernels, source.config, plan ?? { maxBatch: source.maxBatch, maxSteps: source.maxSteps, trainable: source.trainable });
  copy.copyWeightsFrom(source);
  return copy;
}
