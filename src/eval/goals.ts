/**
 * What a tuned model should reach: the paper's best RL column for each rule statistic, and what keeps it
 * music a listener would keep (close to the Note RNN in log p, varied openings, pitches and material).
 * Relative goals compare with the Note RNN's own samples, evaluated the same way.
 */
import type { PolicyEvaluation } from './evaluation.js';
import { EVALUATION_ROWS, formatSummary, summarize, type Summary } from './report.js';

export interface Goal {
  /** The EVALUATION_ROWS key it reads. */
  row: string;
  /** Human wording, e.g. "≤ 0.05 %". */
  text: string;
  /** Whether a value meets the goal, given the Note RNN's value of the same row. */
  met: (value: number, noteRnn: number) => boolean;
}

export const GOALS: readonly Goal[] = [
  { row: 'notes_excessively_repeated', text: '≤ 0.05 %', met: (v) => v <= 0.0005 },
  { row: 'notes_not_in_key', text: '≤ 0.6 %', met: (v) => v <= 0.006 },
  { row: 'leaps_resolved', text: '≥ 91.1 %', met: (v) => v >= 0.911 },
  { row: 'starting_with_tonic', text: '≥ 28.8 %', met: (v) => v >= 0.288 },
  { row: 'unique_max_note', text: '≥ 59.4 %', met: (v) => v >= 0.594 },
  { row: 'unique_min_note', text: '≥ 58.3 %', met: (v) => v >= 0.583 },
  { row: 'notes_in_motif', text: '≥ 75.7 %', met: (v) => v >= 0.757 },
  { row: 'notes_in_repeated_motif', text: '≥ 0.11 %', met: (v) => v >= 0.0011 },
  { row: 'mean_log_p', text: 'within 1.0 nat/note of the Note RNN', met: (v, base) => v >= base - 1.0 },
  { row: 'distinct_compositions', text: '≥ 95 %', met: (v) => v >= 0.95 },
  { row: 'top_opening_share', text: '≤ 20 %', met: (v) => v <= 0.2 },
  { row: 'pitch_class_entropy', text: "≥ 85 % of the Note RNN's", met: (v, base) => v >= 0.85 * base },
  { row: 'distinct_windows_8', text: "≥ 80 % of the Note RNN's", met: (v, base) => v >= 0.8 * base },
];

/** One run (seed) of a config: the tuned model's evaluation and the Note RNN's, made alike. */
export interface RunEvaluation {
  tuned: PolicyEvaluation;
  noteRnn: PolicyEvaluation;
}

export interface GoalOutcome {
  goal: Goal;
  summary: Summary | null;
  /** Met by the mean over runs. */
  metOnMean: boolean;
  /** Runs that met it. */
  runsMet: number;
  runs: number;
}

const rowValue = (key: string, e: PolicyEvaluation): number | null => {
  const row = EVALUATION_ROWS.find((r) => r.key === key);
  if (!row) throw new Error(`goal reads unknown row ${key}`);
  return row.value(e);
};

/** Each goal over the runs of one config: met on the mean, and by how many runs. */
export function goalOutcomes(runs: readonly RunEvaluation[]): GoalOutcome[] {
  return GOALS.map((goal) => {
    const values = runs.map((r) => rowValue(goal.row, r.tuned));
    const bases = runs.map((r) => rowValue(goal.row, r.noteRnn));
    const summary = summarize(values);
    const baseMean = summarize(bases)?.mean ?? NaN;
    const runsMet = runs.filter((_, i) => values[i] !== null && bases[i] !== null && goal.met(values[i] as number, bases[i] as number)).length;
    return { goal, summary, metOnMean: summary !== null && goal.met(summary.mean, baseMean), runsMet, runs: runs.length };
  });
}

/** A goal counts as met when the mean meets it and at least 4 of 5 runs do (the same share for other counts). */
export function goalMet(o: GoalOutcome): boolean {
  return o.metOnMean && o.runsMet >= Math.ceil(0.8 * o.runs);
}

export interface ConfigResult {
  name: string;
  runs: RunEvaluation[];
}

export interface ParetoRow {
  name: string;
  goalsMet: number;
  meanLogP: number;
  missed: string[];
  pareto: boolean;
}

/**
 * Ranks configs by goals met and mean log p under the Note RNN; a config is on the Pareto front when no
 * other meets at least as many goals with at least as high a log p, and is better in one.
 */
export function paretoTable(results: readonly ConfigResult[]): ParetoRow[] {
  const rows = results.map((r) => {
    const outcomes = goalOutcomes(r.runs);
    return {
      name: r.name,
      goalsMet: outcomes.filter(goalMet).length,
      meanLogP: summarize(r.runs.map((run) => run.tuned.meanLogProbNoteRnn))?.mean ?? -Infinity,
      missed: outcomes.filter((o) => !goalMet(o)).map((o) => `${o.goal.row} ${formatSummary(o.summary, (x) => x.toPrecision(3))} (${o.runsMet}/${o.runs} runs; goal ${o.goal.text})`),
      pareto: false,
    };
  });
  for (const row of rows) {
    row.pareto = !rows.some((o) => o !== row && o.goalsMet >= row.goalsMet && o.meanLogP >= row.meanLogP && (o.goalsMet > row.goalsMet || o.meanLogP > row.meanLogP));
  }
  return rows.sort((a, b) => b.goalsMet - a.goalsMet || b.meanLogP - a.meanLogP);
}
