/**
 * The evaluation table every command prints: the paper's rows (SPEC §6), what tells whether the music
 * still sounds like the data (log p, KL by two estimators, distinct pieces), and the listener metrics.
 * A column is one model or several runs of it (seeds): then every row shows mean [min–max].
 */
import { tokenName } from '../music/encoding.js';
import type { PolicyEvaluation } from './evaluation.js';
import { formatPercent } from './statistics.js';

/** One row: a stable key (JSON, sweeps), a label, a value per evaluation (null: not defined), a format. */
export interface EvaluationRow {
  key: string;
  label: string;
  value: (e: PolicyEvaluation) => number | null;
  format: (x: number) => string;
}

const pct = (x: number) => formatPercent(x);
const num = (digits: number) => (x: number) => x.toFixed(digits);

export const EVALUATION_ROWS: readonly EvaluationRow[] = [
  { key: 'notes_excessively_repeated', label: 'notes excessively repeated', value: (e) => e.statistics.notesExcessivelyRepeated, format: pct },
  { key: 'notes_not_in_key', label: 'notes not in key', value: (e) => e.statistics.notesNotInKey, format: pct },
  ...[0, 1, 2].map((lag) => ({
    key: `autocorrelation_lag_${lag + 1}`, label: `mean autocorrelation lag ${lag + 1}`, value: (e: PolicyEvaluation) => e.statistics.meanAutocorrelation[lag], format: num(2),
  })),
  { key: 'leaps_resolved', label: 'leaps resolved', value: (e) => e.statistics.leapsResolved, format: pct },
  { key: 'starting_with_tonic', label: 'compositions starting with tonic', value: (e) => e.statistics.startingWithTonic, format: pct },
  { key: 'unique_max_note', label: 'unique max note', value: (e) => e.statistics.uniqueMaxNote, format: pct },
  { key: 'unique_min_note', label: 'unique min note', value: (e) => e.statistics.uniqueMinNote, format: pct },
  { key: 'notes_in_motif', label: 'notes in motif', value: (e) => e.statistics.notesInMotif, format: pct },
  { key: 'notes_in_repeated_motif', label: 'notes in repeated motif', value: (e) => e.statistics.notesInRepeatedMotif, format: pct },
  { key: 'mean_log_p', label: 'mean log p under the Note RNN (nats/note)', value: (e) => e.meanLogProbNoteRnn, format: num(3) },
  { key: 'kl_k1', label: 'KL from the Note RNN, k1 (nats/note)', value: (e) => e.klFromPrior, format: num(3) },
  { key: 'kl_k3', label: 'KL from the Note RNN, k3 (nats/note)', value: (e) => e.klFromPriorK3, format: num(3) },
  { key: 'distinct_compositions', label: 'distinct compositions', value: (e) => e.distinctCompositions / e.statistics.compositions, format: pct },
  { key: 'top_opening_share', label: 'most common 4-step opening', value: (e) => e.listener.topOpeningShare, format: pct },
  { key: 'pitch_class_entropy', label: 'pitch-class entropy (bits)', value: (e) => e.listener.pitchClassEntropyBits, format: num(2) },
  { key: 'distinct_windows_4', label: 'distinct 4-step windows', value: (e) => e.listener.distinctWindows4, format: pct },
  { key: 'distinct_windows_8', label: 'distinct 8-step windows', value: (e) => e.listener.distinctWindows8, format: pct },
  { key: 'mean_max_repeat_8', label: 'most repeated 8-step window, times per piece', value: (e) => e.listener.meanMaxRepeat8, format: num(2) },
  { key: 'tonic_share', label: 'tonic-class notes', value: (e) => e.listener.tonicShare, format: pct },
  { key: 'dominant_share', label: 'dominant-class notes', value: (e) => e.listener.dominantShare, format: pct },
  { key: 'rest_share', label: 'rest steps', value: (e) => e.listener.restShare, format: pct },
  { key: 'hold_share', label: 'hold steps', value: (e) => e.listener.holdShare, format: pct },
];

export interface Summary {
  mean: number;
  min: number;
  max: number;
  /** Runs with a defined value. */
  n: number;
}

/** mean, min and max of the defined values; null when none is defined. */
export function summarize(values: readonly (number | null)[]): Summary | null {
  const defined = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (defined.length === 0) return null;
  return { mean: defined.reduce((s, v) => s + v, 0) / defined.length, min: Math.min(...defined), max: Math.max(...defined), n: defined.length };
}

/** Every row's summary over the evaluations of one column, keyed by the row's key. */
export function summarizeEvaluations(evaluations: readonly PolicyEvaluation[]): Record<string, Summary | null> {
  return Object.fromEntries(EVALUATION_ROWS.map((row) => [row.key, summarize(evaluations.map(row.value))]));
}

/** "x" for one run; "mean [min–max]" for several. */
export function formatSummary(s: Summary | null, format: (x: number) => string): string {
  if (s === null) return 'n/a';
  if (s.n === 1 || s.min === s.max) return format(s.mean);
  return `${format(s.mean)} [${format(s.min)}–${format(s.max)}]`;
}

/** A column of the table: a name and the evaluations of its runs (one, or several seeds). */
export interface EvaluationColumn {
  name: string;
  evaluations: readonly PolicyEvaluation[];
}

/** The Markdown table: rows as metrics, one column per model; then the top openings of single runs. */
export function evaluationTable(columns: readonly EvaluationColumn[]): string {
  const summaries = columns.map((c) => summarizeEvaluations(c.evaluations));
  const lines = [
    `| metric | ${columns.map((c) => (c.evaluations.length > 1 ? `${c.name} (${c.evaluations.length} runs)` : c.name)).join(' | ')} |`,
    `|---|${columns.map(() => '---').join('|')}|`,
    ...EVALUATION_ROWS.map((row) => `| ${row.label} | ${summaries.map((s) => formatSummary(s[row.key], row.format)).join(' | ')} |`),
  ];
  const openings = columns.filter((c) => c.evaluations.length === 1);
  if (openings.length) {
    lines.push('', 'Most common openings (first 4 steps, "-" holds a note):', '');
    for (const c of openings) {
      const text = c.evaluations[0].listener.topOpenings
        .map((o) => `${o.tokens.map((t) => (t === 1 ? '-' : tokenName(t))).join(' ')} (${formatPercent(o.share)})`).join('; ');
      lines.push(`- ${c.name}: ${text}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
