// Test support for the tuner: run it in logging intervals and keep what each interval measured.
import type { RlTuner } from '../../src/rl/tuner.js';

/**
 * Runs `tuner` to step `until` in intervals of at least `interval` steps (whole compositions; the last ends at
 * the first composition end at or after `until`), adapting the reward scaler after each as the driver would
 * with klEvery = interval; returns each interval's metrics.
 */
export function runIntervals(tuner: RlTuner, until: number, interval = 320) {
  const metrics = [];
  while (tuner.counters.step < until) {
    const limit = Math.min(until, tuner.counters.step + interval);
    do tuner.trainComposition();
    while (tuner.counters.step < limit);
    metrics.push(tuner.takeIntervalMetrics());
    tuner.adaptRewardScaler();
  }
  return metrics;
}
