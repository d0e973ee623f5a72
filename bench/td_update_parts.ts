/**
 * The one-step TD update (B = 32) taken apart: each kernel call it makes, timed alone at the update's own
 * shapes and strides, in the order the update makes them. The multiplies the bench counts as FLOPs
 * (bench/workloads.ts: the gate gemm, the output layer, the weight gradients) are set apart from the work
 * it counts as none: the LSTM cell's exponentials and divisions, Adam's square roots and divisions, the
 * norms for clipping, zeroing the gradients, the one-hot gather and scatter. The sum of the parts beside the
 * whole update (LstmModel.tdUpdate, which adds the JavaScript around the calls) shows where the update's
 * share of the ceiling goes. Beside Adam stands the least it can take on this machine: a square root and a
 * division per four parameters at the rate `peak_sqrt_div` measured in the same run.
 */
import type { Kernels } from '../src/engine/kernels.js';
import { fixedMemory, instantiateKernels } from '../src/engine/kernels.js';
import { planParameters } from '../src/engine/layout.js';
import { dpreStride } from '../src/engine/lstm_model.js';
import { measure, type Mode } from './measure.js';

export interface TdUpdatePart {
  name: string;
  /** FLOPs the bench counts for this call (0 for work counted as none). */
  flops: number;
  microseconds: number;
}

export interface TdUpdatePartsResult {
  H: number;
  parts: TdUpdatePart[];
  /** Sum of the parts counted as FLOPs, and of the others, µs. */
  countedMicroseconds: number;
  uncountedMicroseconds: number;
  /** GFLOP/s of the counted parts alone. */
  countedGflops: number;
  /** Parameters Adam updates, and the time their square roots and divisions alone take at the measured rate, µs. */
  parameters: number;
  adamSqrtDivMicroseconds: number;
}

const B = 32;
const INPUT = 38;
const OUTPUT = 38;

/** `sqrtDivNsPerPair`: ns per f32x4 square root and division (bench/rltuner_cases.ts, measureSqrtDivRate). */
export function benchTdUpdateParts(kernels: Kernels, mode: Mode, sizes: readonly number[], sqrtDivNsPerPair: number): TdUpdatePartsResult[] {
  return sizes.map((H) => {
    const layout = planParameters({ inputSize: INPUT, hiddenSizes: [H], outputSize: OUTPUT });
    const { padded: P, gates: G } = layout.layers[0];
    const Q = layout.outputPadded;
    const D = dpreStride(G); // the gate gradients' row stride, as LstmModel pads it
    const n = layout.size;
    const tensor = (name: string) => layout.tensors.find((t) => t.name === name)!;
    // One memory: parameters, gradients, Adam's moments, then the activations of B rows.
    const sizesInFloats = {
      params: n, grads: n, m: n, v: n, act: B * G, c0: B * P, h0: B * P, c: B * P, h: B * P, tanhC: B * P,
      logits: B * Q, dlogits: B * Q, dh: B * P, dc: B * P, dpre: B * D, outT: Q * P, tokens: B,
    };
    const base = Math.ceil((kernels.heapBase + 64) / 64) * 64;
    const at: Record<string, number> = {};
    let next = base;
    for (const [name, floats] of Object.entries(sizesInFloats)) {
      at[name] = next;
      next += Math.ceil((floats * 4) / 64) * 64;
    }
    const memory = fixedMemory(next + 64);
    const k = instantiateKernels(kernels.module, memory);
    const all = new Float32Array(memory.buffer, base, (next - base) / 4);
    for (let i = 0; i < all.length; i++) all[i] = Math.sin(i * 0.37) * 0.1;
    new Float32Array(memory.buffer, at.v, n).fill(0.01); // second moments are positive
    const tokens = new Int32Array(memory.buffer, at.tokens, B);
    for (let b = 0; b < B; b++) tokens[b] = (b * 5 + 1) % INPUT;
    const W = (block: number, name: string) => block + tensor(name).offset * 4;

    const calls: [string, number, () => void][] = [
      // forward
      ['gather the one-hot input rows of W_x, plus b', 0, () => k.gather_bias_rows(at.act, G, W(at.params, 'lstm.0.b'), W(at.params, 'lstm.0.w_x'), G, at.tokens, B, G)],
      ['gate gemm: act += h · W_h', 2 * B * P * G, () => k.gemm_packed_accumulate(at.act, G, at.h0, P, W(at.params, 'lstm.0.w_h'), B, P, G)],
      ['LSTM cell forward (sigmoid, tanh)', 0, () => k.lstm_cell_forward(at.act, at.c, at.tanhC, at.h, at.act, at.c0, B, P)],
      ['output layer: logits = b + h · W_out', 2 * B * P * Q, () => k.gemm_packed_bias_set(at.logits, Q, at.h, P, W(at.params, 'output.w'), W(at.params, 'output.b'), B, P, Q)],
      // backward
      ['zero the gradients', 0, () => k.zero_bytes(at.grads, n * 4)],
      ['output weight gradient: dW_out += hᵀ · dlogits', 2 * B * P * Q, () => k.outer_accumulate(W(at.grads, 'output.w'), at.h, P, at.dlogits, Q, B, P, Q)],
      ['output bias gradient (column sums)', 0, () => k.colsum_accumulate(W(at.grads, 'output.b'), at.dlogits, Q, B, Q)],
      ['transpose W_out for dh', 0, () => k.pack_transpose(at.outT, W(at.params, 'output.w'), P, Q)],
      ['dh = dlogits · W_outᵀ', 2 * B * Q * P, () => k.gemm_packed_set(at.dh, P, at.dlogits, Q, at.outT, B, Q, P)],
      ['LSTM cell backward', 0, () => k.lstm_cell_backward_set(at.dpre, at.dc, at.dh, at.dc, at.act, at.c0, at.tanhC, B, P, D)],
      ['gate weight gradient: dW_h += hᵀ · dpre', 2 * B * P * G, () => k.outer_accumulate(W(at.grads, 'lstm.0.w_h'), at.h0, P, at.dpre, D, B, P, G)],
      ['gate bias gradient (column sums)', 0, () => k.colsum_accumulate(W(at.grads, 'lstm.0.b'), at.dpre, D, B, G)],
      ['scatter into the one-hot rows of dW_x', 0, () => k.scatter_rows_accumulate(W(at.grads, 'lstm.0.w_x'), G, at.tokens, at.dpre, D, B, G)],
      // clipping (per tensor: a norm each) and Adam
      ['norms for clipping (one per tensor)', 0, () => { for (const t of layout.tensors) k.sum_squares(at.grads + t.offset * 4, t.size); }],
      ['Adam (square root and division per parameter)', 0, () => k.adam_update(at.params, at.grads, at.m, at.v, n, 1e-9, 0.9, 0.999, 1e-8, 1, 1, 0, 0)],
    ];
    const parts = calls.map(([name, flops, call]): TdUpdatePart => {
      const timing = measure(`TD update part H=${H}: ${name}`, call, mode);
      return { name, flops, microseconds: timing.meanMs * 1000 };
    });
    const counted = parts.filter((p) => p.flops > 0);
    const countedMicroseconds = counted.reduce((s, p) => s + p.microseconds, 0);
    const countedFlops = counted.reduce((s, p) => s + p.flops, 0);
    return {
      H, parts, countedMicroseconds,
      uncountedMicroseconds: parts.reduce((s, p) => s + p.microseconds, 0) - countedMicroseconds,
      countedGflops: countedFlops / (countedMicroseconds * 1000),
      parameters: n,
      adamSqrtDivMicroseconds: (Math.ceil(n / 4) * sqrtDivNsPerPair) / 1000,
    };
  });
}

/**
 * The highest share of the multiply-add ceiling the update could reach on this machine: its counted FLOPs
 * done at the ceiling, plus Adam's square roots and divisions at their measured rate, and no other work.
 */
export function shareBound(r: TdUpdatePartsResult, ceiling: number): number {
  const flops = r.parts.reduce((s, p) => s + p.flops, 0);
  const atCeilingMicroseconds = flops / (ceiling * 1000);
  return atCeilingMicroseconds / (atCeilingMicroseconds + r.adamSqrtDivMicroseconds);
}

/** Markdown: one column per H, a row per part, then the sums; `whole` is the measured update by H (µs). */
export function tdUpdatePartsTable(results: TdUpdatePartsResult[], ceiling: number, whole: Map<number, number>): string {
  const head = `| part (B = 32) | ${results.map((r) => `H = ${r.H}`).join(' | ')} |`;
  const rule = `|---|${results.map(() => '---:').join('|')}|`;
  const rows = results[0].parts.map((p, i) =>
    `| ${p.name}${p.flops ? ' (counted)' : ''} | ${results.map((r) => `${r.parts[i].microseconds.toFixed(1)} µs${r.parts[i].flops ? ` (${(r.parts[i].flops / (r.parts[i].microseconds * 1000)).toFixed(1)} GFLOP/s)` : ''}`).join(' | ')} |`);
  const sums = [
    `| **counted parts** | ${results.map((r) => `${r.countedMicroseconds.toFixed(0)} µs, ${r.countedGflops.toFixed(1)} GFLOP/s (${((100 * r.countedGflops) / ceiling).toFixed(0)} % of the ceiling)`).join(' | ')} |`,
    `| **parts counted as no FLOPs** | ${results.map((r) => `${r.uncountedMicroseconds.toFixed(0)} µs`).join(' | ')} |`,
    `| Adam's square roots and divisions alone (n / 4 f32x4 pairs at the rate peak_sqrt_div measured) | ${results.map((r) => `${r.adamSqrtDivMicroseconds.toFixed(1)} µs (n = ${r.parameters.toLocaleString('en-US')})`).join(' | ')} |`,
    `| **the most share of the ceiling the update could reach**, were the counted parts at the ceiling and nothing else left but Adam's square roots and divisions | ${results.map((r) => `${(100 * shareBound(r, ceiling)).toFixed(0)} %`).join(' | ')} |`,
    `| **the whole update** (tdUpdate, above) | ${results.map((r) => (whole.has(r.H) ? `${whole.get(r.H)!.toFixed(0)} µs` : '–')).join(' | ')} |`,
  ];
  return [head, rule, ...rows, ...sums].join('\n');
}
