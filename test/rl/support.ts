// Test support for the tuner: run it in logging intervals and keep what each interval measured.
import type { RlTuner } from '../../src/rl/tuner.js';

/** Runs `tuner` to step `until` in intervals of at most `interval` steps (ending at compositions); returns each interval's totals. */
export function runIntervals(tuner: RlTuner, until: number, interval = 320) {
  const metrics = [];
  while (tuner.counters.step < until) {
    tuner.runUntilEpisodeEnd(until, Math.min(until, tuner.counters.step + interval));
    metrics.push(tuner.takeInterval());
  }
  return metrics;
}
