/**
 * The benchmark workloads, shared by every implementation: shapes, FLOP counts and deterministic inputs.
 *
 * Dimension letters as in the engine: I = 38 input classes (one-hot), O = 38 output classes, H hidden units,
 * B batch rows, T steps. FLOPs follow docs/PERFORMANCE.md: dense matmul work only; one LSTM step is
 * `2·B·(I+H)·4H + 2·B·H·O`, a training step counts 3× the forward, BPTT counts T steps, Adam counts none
 * (it is reported in ns per parameter instead).
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

/** Dense matmul FLOPs of one forward LSTM step over B rows. */
export const stepFlops = (B: number, H: number): number => 2 * B * (I + H) * 4 * H + 2 * B * H * O;

/** FLOPs counted for a workload (0 for Adam). */
export function workloadFlops(w: Workload, H: number): number {
  switch (w) {
    case 'step': return stepFlops(1, H);
    case 'tdUpdate': return 3 * stepFlops(TD_BATCH, H);
    case 'bptt': return 3 * SEQ_STEPS * stepFlops(SEQ_BATCH, H);
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
