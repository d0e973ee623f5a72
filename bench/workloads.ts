/**
 * The benchmark workloads, shared by every implementation: shapes, FLOP counts and deterministic inputs.
 *
 * Dimension letters as in the engine: I = 38 input classes (one-hot), O = 38 output classes, H hidden units,
 * B batch rows, T steps. FLOPs count the multiply-adds (×2) of the dense products rltuner's kernels
 * actually perform; elementwise work (gates, softmax, Adam) is in the time, not the count:
 *
 *   forward step        2·B·(4H·H + H·O)          recurrent W_h and output layer; the one-hot input is a
 *                                                 row gather of W_x (no multiply)
 *   backward step       2·B·(H·O + O·H + H·4H)    dW_out, dh from the output layer, dW_h (dW_x is a
 *                                                 scatter-add, no multiply)
 *   dh through W_h      2·B·4H·H                  every step of a window but its first (the start
 *                                                 state is a constant: truncated BPTT, one-step TD)
 *
 *   step B=1                 forward step
 *   one-step update B=32     forward step + backward step (no dh through W_h: T = 1)
 *   BPTT B=64 × T=32         T·(forward step + backward step) + (T − 1)·dh through W_h
 *   Adam                     none (reported in ns per parameter)
 */

export const I = 38;
export const O = 38;
export const HIDDEN_SIZES = [100, 256, 512] as const;

/** One-step (TD) update batch. */
export const TD_BATCH = 32;
/** BPTT window. */
export const SEQ_BATCH = 64;
export const SEQ_STEPS = 32;

export type Workload = 'step' | 'tdUpdate' | 'bptt' | 'adam';
export const WORKLOADS: Workload[] = ['step', 'tdUpdate', 'bptt', 'adam'];

export const WORKLOAD_LABEL: Record<Workload, string> = {
  step: 'step B=1',
  tdUpdate: 'one-step update B=32',
  bptt: 'BPTT B=64×T=32',
  adam: 'Adam alone',
};

/** FLOPs of one forward LSTM step over B rows (recurrent and output products; the input is a gather). */
export const forwardStepFlops = (B: number, H: number): number => 2 * B * (4 * H * H + H * O);
/** FLOPs of one backward step over B rows without dh through W_h (dW_out, dh from the output, dW_h). */
export const backwardStepFlops = (B: number, H: number): number => 2 * B * (H * O + O * H + H * 4 * H);
/** FLOPs of dh_prev = dpre · W_hᵀ over B rows. */
export const recurrentDhFlops = (B: number, H: number): number => 2 * B * 4 * H * H;

/** FLOPs a workload performs (0 for Adam); see the file comment. */
export function workloadFlops(w: Workload, H: number): number {
  switch (w) {
    case 'step': return forwardStepFlops(1, H);
    case 'tdUpdate': return forwardStepFlops(TD_BATCH, H) + backwardStepFlops(TD_BATCH, H);
    case 'bptt': return SEQ_STEPS * (forwardStepFlops(SEQ_BATCH, H) + backwardStepFlops(SEQ_BATCH, H)) + (SEQ_STEPS - 1) * recurrentDhFlops(SEQ_BATCH, H);
    case 'adam': return 0;
  }
}

/** Logical parameter count of a one-layer model (what Adam touches, without padding). */
export const parameterCount = (H: number): number => I * 4 * H + H * 4 * H + 4 * H + H * O + O;

/** Inputs every implementation consumes (plain arrays; each peer copies them the way a user would). */
export interface WorkloadData {
  H: number;
  /** Token fed to the batch-1 step. */
  stepToken: number;
  /** TD update: start states [TD_BATCH][2H] (c then h), tokens, actions, targets [TD_BATCH]. */
  tdStates: Float32Array;
  tdTokens: number[];
  tdActions: number[];
  tdTargets: Float32Array;
  /** BPTT: inputs and labels [SEQ_STEPS][SEQ_BATCH] (time-major), weights all 1. */
  seqInputs: number[];
  seqLabels: number[];
  seqWeights: Float32Array;
}

export function makeWorkloadData(H: number): WorkloadData {
  const tdStates = new Float32Array(TD_BATCH * 2 * H).map((_, i) => 0.5 * Math.sin(i));
  const tdTokens = Array.from({ length: TD_BATCH }, (_, b) => (b * 5 + 1) % I);
  const tdActions = Array.from({ length: TD_BATCH }, (_, b) => (b * 11 + 2) % O);
  const tdTargets = new Float32Array(TD_BATCH).map((_, b) => 0.1 * Math.cos(b));
  const n = SEQ_STEPS * SEQ_BATCH;
  // A melody-like stream per row: row b plays (b + 7t) mod 38; the label is the next step's token.
  const tokenAt = (t: number, b: number) => (b + 7 * t) % I;
  const seqInputs = Array.from({ length: n }, (_, i) => tokenAt(Math.floor(i / SEQ_BATCH), i % SEQ_BATCH));
  const seqLabels = Array.from({ length: n }, (_, i) => tokenAt(Math.floor(i / SEQ_BATCH) + 1, i % SEQ_BATCH));
  return {
    H, stepToken: 3, tdStates, tdTokens, tdActions, tdTargets, seqInputs, seqLabels,
    seqWeights: new Float32Array(n).fill(1),
  };
}

/** The logical tensors of a one-layer model, as exported by LstmModel.exportTensors (shared initial weights). */
export interface LogicalTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A workload bound to one implementation: call it to run once. */
export type WorkloadCases = Partial<Record<Workload, () => void>>;
