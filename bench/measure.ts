/**
 * Timing one case with benchmark.js. A case is warmed up first (JIT, TF.js kernel set-up, Adam's slot
 * variables), then benchmark.js samples it; how many samples depends on how long one call takes and on the
 * mode. benchmark.js runs one extra un-timed call per sample cycle, so a slow case costs 2 × samples calls.
 */
import Benchmark from 'benchmark';

export interface Timing {
  /** Mean time per call (benchmark.js), ms. */
  meanMs: number;
  /** Median of the sample means, ms. */
  medianMs: number;
  /** benchmark.js relative margin of error (95 %), percent. */
  rme: number;
  /** Number of samples (each the mean of `count` calls). */
  samples: number;
  /** Calls per sample in the last cycle. */
  count: number;
}

export type Mode = 'quick' | 'full';

interface SamplingOptions {
  minSamples: number;
  maxTime: number;
}

/** Samples per case: many for µs calls, few for calls of seconds (TF.js and reference BPTT at large H). */
function samplingFor(callMs: number, mode: Mode): SamplingOptions {
  if (mode === 'quick') {
    if (callMs < 20) return { minSamples: 5, maxTime: 0.25 };
    if (callMs < 300) return { minSamples: 3, maxTime: 0 };
    if (callMs < 1000) return { minSamples: 2, maxTime: 0 };
    return { minSamples: 1, maxTime: 0 };
  }
  if (callMs < 20) return { minSamples: 10, maxTime: 2 };
  if (callMs < 1000) return { minSamples: 5, maxTime: 2 };
  return { minSamples: 2, maxTime: 0 };
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Warms `fn` up (at least 3 calls for calls under 100 ms, 2 under 1 s, else 1), calls `afterWarmup`, then
 * times `fn` with benchmark.js.
 */
export function measure(name: string, fn: () => void, mode: Mode, afterWarmup?: () => void): Timing {
  gc?.();
  const warmupBudgetMs = mode === 'quick' ? 60 : 300;
  const start = performance.now();
  let last = 0;
  let fastest = Infinity; // picks the sampling plan; robust to a GC pause in one warm-up call
  let calls = 0;
  do {
    const t = performance.now();
    fn();
    last = performance.now() - t;
    fastest = Math.min(fastest, last);
    calls++;
  } while ((last < 100 && calls < 3) || (last < 1000 && calls < 2) || (last < 20 && performance.now() - start < warmupBudgetMs));
  gc?.();
  afterWarmup?.();
  const bench = new Benchmark(name, fn, { ...samplingFor(fastest, mode), initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  const sample = [...bench.stats.sample].sort((a, b) => a - b);
  const mid = sample.length >> 1;
  const median = sample.length % 2 ? sample[mid] : (sample[mid - 1] + sample[mid]) / 2;
  return {
    meanMs: bench.stats.mean * 1e3,
    medianMs: median * 1e3,
    rme: bench.stats.rme,
    samples: sample.length,
    count: bench.count,
  };
}
