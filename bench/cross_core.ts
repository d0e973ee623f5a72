/**
 * What handing work to the other core costs on this machine, at the size of the shipped Note RNN's
 * parameters (H = 100: 59,438 floats, 238 KB). The caller rewrites a parameter block (as Adam does), then a
 * soft update θ_T ← (1 − η)θ_T + η·θ reads it, either on the caller or on the helper thread (each with its
 * own θ_T, kept in the reader's cache). A bare post-and-join (a soft update of 0 floats) gives the hand-off
 * itself. Whatever the helper's read costs beyond the caller's is the price of moving the block between the
 * cores' caches: the cost every cut of the TD update pays, which is why two threads do not speed up a
 * tune at H = 100 (kernel_threads.ts, the README's "Threads").
 */
import type { KernelThreads } from '../src/engine/kernel_threads.js';
import { measure, type Mode } from './measure.js';

export interface CrossCoreResult {
  floats: number;
  /** The caller rewriting the block (copy_bytes), µs. */
  writeUs: number;
  /** The caller reading it back in a soft update, beyond the rewrite, µs. */
  localReadUs: number;
  /** The helper reading it in a soft update, beyond the rewrite and the hand-off, µs. */
  helperReadUs: number;
  /** Post and join of an empty part, µs. */
  handOffUs: number;
  /** What moving the block between the cores' caches adds: helperReadUs − localReadUs, µs. */
  transferUs: number;
  /** The block's bytes over transferUs, GB/s. */
  transferGBps: number;
}

const PARAMETERS_H100 = 59_438;
const ETA = 0.01;

export function benchCrossCore(pool: KernelThreads, mode: Mode, floats = PARAMETERS_H100): CrossCoreResult {
  const bytes = floats * 4;
  const k = pool.exports;
  const [fresh, source, callerTarget, helperTarget] = [0, 1, 2, 3].map(() => pool.claim(bytes));
  const view = new Float32Array(pool.memory.buffer);
  for (let i = 0; i < floats; i++) view[fresh / 4 + i] = Math.sin(i);
  k.copy_bytes(callerTarget, fresh, bytes);
  k.copy_bytes(helperTarget, fresh, bytes);
  const onHelper = (target: number, n: number) => {
    pool.post(0, 'soft_update', [target, source, n, ETA]);
    pool.join(1, Infinity);
  };
  const us = (name: string, fn: () => void) => measure(`cross-core ${name}`, fn, mode).meanMs * 1000;
  const write = us('rewrite', () => k.copy_bytes(source, fresh, bytes));
  const local = us('rewrite + caller reads', () => {
    k.copy_bytes(source, fresh, bytes);
    k.soft_update(callerTarget, source, floats, ETA);
  });
  const helper = us('rewrite + helper reads', () => {
    k.copy_bytes(source, fresh, bytes);
    onHelper(helperTarget, floats);
  });
  const handOff = us('hand-off', () => onHelper(helperTarget, 0));
  const localReadUs = local - write;
  const helperReadUs = helper - write - handOff;
  const transferUs = helperReadUs - localReadUs;
  return { floats, writeUs: write, localReadUs, helperReadUs, handOffUs: handOff, transferUs, transferGBps: bytes / 1e3 / transferUs };
}

export function crossCoreTable(r: CrossCoreResult): string {
  const f = (x: number) => `${x.toFixed(1)} µs`;
  return [
    `| block | caller rewrites | caller reads | helper reads | hand-off | moving it between cores |`,
    '|---|---:|---:|---:|---:|---:|',
    `| ${r.floats.toLocaleString('en')} floats (${Math.round((r.floats * 4) / 1024)} KB) | ${f(r.writeUs)} | ${f(r.localReadUs)} | ${f(r.helperReadUs)} | ${f(r.handOffUs)} | ${f(r.transferUs)} (${r.transferGBps.toFixed(1)} GB/s) |`,
  ].join('\n');
}
