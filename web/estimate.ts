/**
 * How long a tune takes, from what this tab measured rather than a fixed claim: the speed differs by
 * machine, browser, thread count and load by a factor of several. While a run goes the status line shows
 * the time left from its steps per second; after a run the page estimates the next one from that run's
 * speed. Pure: tested without a browser (test/web/page_logic.test.ts).
 */

/** "1 min 05 s", "42 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

/** What a finished run measured here. */
export interface MeasuredRun {
  /** Training steps per second over the whole run (the final evaluation not counted). */
  stepsPerSecond: number;
  /** Seconds the final evaluation (the table) took; 0 when the run had none. */
  evaluationSeconds: number;
  /** "1 thread", "2 threads". */
  threads: string;
}

/** Seconds of training left at `stepsPerSecond`, or null when there is no speed to go by yet. */
export function secondsLeft(stepsDone: number, totalSteps: number, stepsPerSecond: number): number | null {
  if (!(stepsPerSecond > 0) || !Number.isFinite(stepsPerSecond)) return null;
  return Math.max(0, totalSteps - stepsDone) / stepsPerSecond;
}

/** One sentence: how long `steps` training steps will take here, from the last run measured in this tab. */
export function runEstimate(steps: number, measured: MeasuredRun | null): string {
  if (measured === null || !(measured.stepsPerSecond > 0)) {
    return 'How long a tune takes depends on this machine and what else it runs: once a run starts, the line ' +
      'beside the bar shows its steps per second and the time left, estimated from them.';
  }
  const training = secondsLeft(0, steps, measured.stepsPerSecond)!;
  const evaluation = measured.evaluationSeconds > 0 ? `, then about ${duration(measured.evaluationSeconds)} for the evaluation table` : '';
  return `At the ${Math.round(measured.stepsPerSecond).toLocaleString('en')} steps/s the last run here measured ` +
    `(${measured.threads}), ${steps.toLocaleString('en')} steps take about ${duration(training)}${evaluation}; ` +
    'the line beside the bar shows the time left as it runs.';
}
