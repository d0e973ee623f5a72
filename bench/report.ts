/**
 * Results of a run: derived figures (GFLOP/s, fraction of the SIMD ceiling, ns per parameter, ratios),
 * the Markdown table, the target checks and the JSON file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from './measure.js';
import {
  HIDDEN_SIZES, WORKLOADS, WORKLOAD_LABEL, parameterCount, workloadFlops, type Workload,
} from './workloads.js';

/** rltuner-simd-2t: the plain build's arithmetic on two threads (the shared-memory build with one helper). */
export type Impl = 'rltuner-simd' | 'rltuner-relaxed' | 'rltuner-simd-2t' | 'tfjs-wasm' | 'reference';

export interface CaseResult {
  impl: Impl;
  workload: Workload;
  H: number;
  /** Absent when the case was skipped. */
  timing?: Timing;
  skipped?: string;
  gflops?: number;
  nsPerParam?: number;
  /** GFLOP/s over the ceiling of the same build (rltuner only; on two threads, twice the one-core ceiling). */
  ceilingFraction?: number;
  /** TF.js only: live tensors after the case minus before it (should be 0). */
  tensorGrowth?: number;
}

export interface Target {
  what: string;
  measured: string;
  goal: string;
  pass: boolean | null;
}

export interface RunInfo {
  mode: string;
  date: string;
  machine: { cpu: string; cores: number; node: string; v8: string; platform: string };
  tfjs: { version: string; backend: string; simd: boolean; threads: boolean };
  /** Peak f32x4 multiply-add GFLOP/s per rltuner build. */
  ceilings: Partial<Record<'simd' | 'relaxed', number>>;
  /** ns per f32x4 square root and division pair (peak_sqrt_div), plain build: the least Adam can take. */
  sqrtDivNsPerPair?: number;
  notes: string[];
}

/** Adds GFLOP/s, ns per parameter and the ceiling fraction to a measured case. */
export function derive(r: CaseResult, ceilings: RunInfo['ceilings']): CaseResult {
  if (!r.timing) return r;
  const ms = r.timing.meanMs;
  if (r.workload === 'adam') {
    r.nsPerParam = (ms * 1e6) / parameterCount(r.H);
  } else {
    r.gflops = workloadFlops(r.workload, r.H) / (ms * 1e6);
    const ceiling = r.impl === 'rltuner-simd' ? ceilings.simd : r.impl === 'rltuner-relaxed' ? ceilings.relaxed
      : r.impl === 'rltuner-simd-2t' && ceilings.simd ? 2 * ceilings.simd : undefined;
    if (ceiling) r.ceilingFraction = r.gflops / ceiling;
  }
  return r;
}

export function formatTime(ms: number): string {
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  if (ms < 1000) return `${ms.toPrecision(3)} ms`;
  return `${(ms / 1e3).toPrecision(3)} s`;
}

function timeCell(r: CaseResult | undefined): string {
  if (!r) return '–';
  if (!r.timing) return `skipped${r.skipped ? ` (${r.skipped})` : ''}`;
  const t = r.timing;
  return t.samples < 2 ? `${formatTime(t.meanMs)} (n=1)` : `${formatTime(t.meanMs)} ±${t.rme.toFixed(1)}%`;
}

function rateCell(r: CaseResult | undefined): string {
  if (!r?.timing) return '–';
  if (r.nsPerParam !== undefined) return `${r.nsPerParam.toFixed(2)} ns/param`;
  const frac = r.ceilingFraction !== undefined ? ` (${(100 * r.ceilingFraction).toFixed(0)}%)` : '';
  return `${r.gflops!.toFixed(1)}${frac}`;
}

/** How many times faster `fast` is than `slow` (mean times). */
export function speedup(fast: CaseResult | undefined, slow: CaseResult | undefined): number | undefined {
  if (!fast?.timing || !slow?.timing) return undefined;
  return slow.timing.meanMs / fast.timing.meanMs;
}

const ratioCell = (x: number | undefined) => (x === undefined ? '–' : `${x >= 100 ? x.toFixed(0) : x.toPrecision(3)}×`);

export function find(results: CaseResult[], impl: Impl, workload: Workload, H: number): CaseResult | undefined {
  return results.find((r) => r.impl === impl && r.workload === workload && r.H === H);
}

/** The Markdown table: one row per workload and H. */
export function markdownTable(results: CaseResult[], withRelaxed: boolean): string {
  const withThreads = results.some((r) => r.impl === 'rltuner-simd-2t');
  const head = ['workload', 'H', 'rltuner SIMD128', 'GFLOP/s (% ceiling)'];
  if (withRelaxed) head.push('rltuner relaxed', 'GFLOP/s (% ceiling)');
  if (withThreads) head.push('rltuner 2 threads', 'GFLOP/s (% 2 × ceiling)', 'vs 1 thread');
  head.push('TF.js wasm', 'GFLOP/s', 'vs TF.js', 'TS reference', 'GFLOP/s', 'vs reference');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const w of WORKLOADS) {
    for (const H of HIDDEN_SIZES) {
      const simd = find(results, 'rltuner-simd', w, H);
      const tfjs = find(results, 'tfjs-wasm', w, H);
      const ref = find(results, 'reference', w, H);
      const row = [WORKLOAD_LABEL[w], String(H), timeCell(simd), rateCell(simd)];
      if (withRelaxed) {
        const relaxed = find(results, 'rltuner-relaxed', w, H);
        row.push(timeCell(relaxed), rateCell(relaxed));
      }
      if (withThreads) {
        const two = find(results, 'rltuner-simd-2t', w, H);
        row.push(timeCell(two), rateCell(two), ratioCell(speedup(two, simd)));
      }
      row.push(timeCell(tfjs), rateCell(tfjs), ratioCell(speedup(simd, tfjs)));
      row.push(timeCell(ref), rateCell(ref), ratioCell(speedup(simd, ref)));
      lines.push(`| ${row.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

/**
 * The issue's targets, at H = 100 on the plain SIMD build (H = 512 for the BPTT throughput).
 * `tdShareBounds`: by H, the most share of the ceiling the one-step update could reach here
 * (bench/td_update_parts.ts, shareBound), quoted beside its measured share.
 */
export function checkTargets(results: CaseResult[], ceilings: RunInfo['ceilings'] = {}, tdShareBounds = new Map<number, number>()): Target[] {
  const simd = (w: Workload, H = 100) => find(results, 'rltuner-simd', w, H);
  const ceilingTarget = (impl: 'rltuner-simd' | 'rltuner-relaxed', w: Workload, H: number, goal: number): Target => {
    const r = find(results, impl, w, H);
    const build = impl === 'rltuner-simd' ? 'plain' : 'relaxed';
    const most = w === 'tdUpdate' && impl === 'rltuner-simd' ? tdShareBounds.get(H) : undefined;
    const bound = most !== undefined ? `; at most ${(100 * most).toFixed(0)}% here, Adam's square roots and divisions alone beside the counted FLOPs at the ceiling` : '';
    return {
      what: `${w === 'tdUpdate' ? 'one-step update B=32' : 'BPTT B=64×T=32'}, H=${H}, ${build} build, share of its ceiling`,
      measured: r?.ceilingFraction !== undefined ? `${(100 * r.ceilingFraction).toFixed(0)}% (${r.gflops!.toFixed(1)} of ${(impl === 'rltuner-simd' ? ceilings.simd : ceilings.relaxed)?.toFixed(1)} GFLOP/s)${bound}` : 'not measured',
      goal: `≥ ${Math.round(100 * goal)}%`,
      pass: r?.ceilingFraction !== undefined ? r.ceilingFraction >= goal : null,
    };
  };
  const timeTarget = (w: Workload, goalMs: number, what: string): Target => {
    const r = simd(w);
    return {
      what,
      measured: r?.timing ? formatTime(r.timing.meanMs) : 'not measured',
      goal: `≤ ${formatTime(goalMs)}`,
      pass: r?.timing ? r.timing.meanMs <= goalMs : null,
    };
  };
  const ratioTarget = (w: Workload, what: string): Target => {
    const x = speedup(simd(w), find(results, 'tfjs-wasm', w, 100));
    return { what, measured: x === undefined ? 'not measured' : `${x.toFixed(1)}×`, goal: '≥ 10×', pass: x === undefined ? null : x >= 10 };
  };
  const bigBptt = simd('bptt', 512);
  return [
    timeTarget('tdUpdate', 0.4, 'one-step update B=32, H=100'),
    timeTarget('bptt', 30, 'BPTT B=64×T=32, H=100'),
    timeTarget('step', 0.004, 'step B=1, H=100'),
    ...(['tdUpdate', 'bptt'] as const).flatMap((w) => [
      ceilingTarget('rltuner-simd', w, 100, 0.75), ceilingTarget('rltuner-simd', w, 256, 0.85), ceilingTarget('rltuner-simd', w, 512, 0.85),
      ceilingTarget('rltuner-relaxed', w, 100, 0.75),
    ]),
    ratioTarget('tdUpdate', 'one-step update vs TF.js wasm, H=100'),
    ratioTarget('bptt', 'BPTT vs TF.js wasm, H=100'),
    {
      what: 'BPTT B=64×T=32 throughput, H=512',
      measured: bigBptt?.gflops !== undefined ? `${bigBptt.gflops.toFixed(1)} GFLOP/s` : 'not measured',
      goal: '≥ 22 GFLOP/s',
      pass: bigBptt?.gflops !== undefined ? bigBptt.gflops >= 22 : null,
    },
  ];
}

export function targetLines(targets: Target[]): string {
  return targets
    .map((t) => `${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.goal})`)
    .join('\n');
}

export function writeJson(file: URL, info: RunInfo, results: CaseResult[], targets: Target[], table: string, extra: Record<string, unknown> = {}): void {
  const path = fileURLToPath(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...info, targets, results, ...extra, table }, null, 2) + '\n');
}
