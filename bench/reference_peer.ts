/**
 * The plain-TypeScript peer: the float64 reference (src/engine/reference.ts) doing the same work as
 * rltuner, clipping included (per tensor for the TD update, global for BPTT, as LstmModel does).
 */
import {
  refAdam, refBackward, refClip, refForward, refParamArrays, refParamsFromTensors, refSoftmaxXent, refTdError,
  type RefParams,
} from '../src/engine/reference.js';
import { DEFAULT_ADAM } from '../src/engine/lstm_model.js';
import {
  I, O, SEQ_BATCH, SEQ_STEPS, TD_BATCH, type LogicalTensor, type WorkloadCases, type WorkloadData,
} from './workloads.js';

export function makeReferenceParams(H: number, tensors: LogicalTensor[]): RefParams {
  return refParamsFromTensors({ inputSize: I, outputSize: O, hiddenSizes: [H] }, tensors);
}

export function referenceFirstLogits(p: RefParams, token: number): Float64Array {
  return refForward(p, [token], 1, 1).logits;
}

/** An Adam step over every tensor of `p`; moments live in `state`. */
function makeAdam(p: RefParams) {
  const arrays = refParamArrays(p);
  const m = arrays.map((a) => new Float64Array(a.data.length));
  const v = arrays.map((a) => new Float64Array(a.data.length));
  let t = 0;
  const { learningRate, beta1, beta2, epsilon } = DEFAULT_ADAM;
  return (grads: { data: Float64Array }[]) => {
    t++;
    arrays.forEach((a, i) => refAdam(a.data, grads[i].data, m[i], v[i], t, learningRate, beta1, beta2, epsilon));
  };
}

export function referenceCases(p: RefParams, d: WorkloadData): WorkloadCases {
  const H = d.H;
  const adamStep = makeAdam(p);
  // Carried batch-1 state (c then h), as LstmModel.step carries it.
  let state = new Float64Array(2 * H);
  const stepTokens = [d.stepToken];
  const seqWeights = Float64Array.from(d.seqWeights);
  const total = seqWeights.reduce((s, w) => s + w, 0);
  const normalized = seqWeights.map((w) => w / total);
  const fixedGrads = refParamArrays(p).map((a) => ({ data: a.data.map((_, i) => 1e-3 * Math.sin(i)) }));
  return {
    step: () => {
      const cache = refForward(p, stepTokens, 1, 1, state);
      const next = new Float64Array(2 * H);
      next.set(cache.c[0][1], 0);
      next.set(cache.h[0][1], H);
      state = next;
    },
    tdUpdate: () => {
      const cache = refForward(p, d.tdTokens, TD_BATCH, 1, d.tdStates);
      const { dlogits } = refTdError(cache.logits, O, d.tdActions, d.tdTargets);
      const grads = refBackward(p, cache, dlogits);
      refClip(grads, 5, 'perTensor');
      adamStep(grads);
    },
    bptt: () => {
      const cache = refForward(p, d.seqInputs, SEQ_BATCH, SEQ_STEPS);
      const { dlogits } = refSoftmaxXent(cache.logits, O, d.seqLabels, normalized);
      const grads = refBackward(p, cache, dlogits);
      refClip(grads, 5, 'global');
      adamStep(grads);
    },
    adam: () => { adamStep(fixedGrads); },
  };
}
