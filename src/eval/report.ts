/**
 * The evaluation table every command prints: the paper's rows (SPEC §6), what tells whether the music
 * still sounds like the data (log p, KL by two estimators, distinct pieces), the listener metrics, and the
 * data-likeness rows beside a reference corpus's own values (src/eval/data_likeness.ts).
 * A column is one model or several runs of it (seeds): then every row shows mean [min–max].
 */
import { tokenName } from '../music/encoding.js';
import * as data from './data_likeness.js';
import type { DataReference } from './data_reference.js';
import type { PolicyEvaluation } from './evaluation.js';
import { formatPercent } from './statistics.js';

/**
 * One row: a stable key (JSON, sweeps), a label, a value per evaluation (null: not defined), a format,
 * and for the data rows the reference's own value. Labels may name the sample count with {count} (the
 * compositions per model) or {block} (the reference's tunes), filled in by rowLabel.
 */
export interface EvaluationRow {
  key: string;
  label: string;
  value: (e: PolicyEvaluation) => number | null;
  format: (x: number) => string;
  /** The reference corpus's value of the row (a distance row: the distance between its two halves). */
  reference?: (r: DataReference) => number | null;
}

const pct = (x: number) => formatPercent(x);
const num = (digits: number) => (x: number) => x.toFixed(digits);

/** The data counts of an evaluation (absent in evaluation.json files written before the data rows). */
const counts = (e: PolicyEvaluation): data.DataLikeness | null => e.data ?? null;
/** A share of the evaluation's data counts. */
const own = (f: (d: data.DataLikeness) => number | null) => (e: PolicyEvaluation) => {
  const d = counts(e);
  return d ? f(d) : null;
};
/** A histogram distance of the evaluation's counts to its reference's. */
const distance = (histogram: 'durationCounts' | 'intervalCounts' | 'rangeCounts') => (e: PolicyEvaluation) => {
  const d = counts(e), r = e.dataReference;
  return d && r ? data.totalVariation(d[histogram], r.stats[histogram]) : null;
};

/**
 * The data-likeness rows (issue "tunes, not exercises"): each model's value beside the reference's. The
 * reference column of a distance row shows the distance between the reference's two halves (its tunes
 * alternately), the scale a model's distance reads against.
 */
export const DATA_ROWS: readonly EvaluationRow[] = [
  { key: 'note_duration_tv', label: 'note-duration histogram, TV distance to the reference', value: distance('durationCounts'), format: num(3), reference: (r) => r.halves.duration },
  { key: 'sixteenth_notes', label: 'notes of one step (16th)', value: own((d) => data.durationShare(d, 1)), format: pct, reference: (r) => data.durationShare(r.stats, 1) },
  { key: 'eighth_notes', label: 'notes of two steps (8th)', value: own((d) => data.durationShare(d, 2)), format: pct, reference: (r) => data.durationShare(r.stats, 2) },
  { key: 'quarter_notes', label: 'notes of four steps (quarter)', value: own((d) => data.durationShare(d, 4)), format: pct, reference: (r) => data.durationShare(r.stats, 4) },
  { key: 'long_notes', label: 'notes longer than a quarter', value: own((d) => data.durationShareAtLeast(d, 5)), format: pct, reference: (r) => data.durationShareAtLeast(r.stats, 5) },
  { key: 'notes_in_sixteenth_runs', label: 'notes in runs of 4 or more sixteenths', value: own(data.sixteenthRunShare), format: pct, reference: (r) => data.sixteenthRunShare(r.stats) },
  { key: 'no_event_steps', label: 'NO_EVENT steps (holds and continued rests)', value: own(data.holdShare), format: pct, reference: (r) => data.holdShare(r.stats) },
  { key: 'onsets_on_eighth_grid', label: "onsets on the piece's own eighth-note grid", value: own(data.eighthGridShare), format: pct, reference: (r) => data.eighthGridShare(r.stats) },
  { key: 'note_ons_per_bar', label: 'note-ons per bar (16 steps)', value: own(data.noteOnsPerBar), format: num(2), reference: (r) => data.noteOnsPerBar(r.stats) },
  { key: 'interval_tv', label: 'interval histogram, TV distance to the reference', value: distance('intervalCounts'), format: num(3), reference: (r) => r.halves.interval },
  { key: 'pitch_range_mean', label: 'pitch range per piece (semitones)', value: own(data.meanPitchRange), format: num(2), reference: (r) => data.meanPitchRange(r.stats) },
  { key: 'pitch_range_over_octave', label: 'pieces spanning more than an octave', value: own(data.overOctaveShare), format: pct, reference: (r) => data.overOctaveShare(r.stats) },
  { key: 'pitch_range_tv', label: 'pitch-range histogram, TV distance to the reference', value: distance('rangeCounts'), format: num(3), reference: (r) => r.halves.pitchRange },
  {
    key: 'last_note_on_tonic', label: "last note on the tonic class (reference: tunes' endings)", value: own(data.lastNoteOnTonicShare), format: pct,
    reference: (r) => (r.endings.pieces > 0 ? r.endings.lastNoteOnTonic / r.endings.pieces : null),
  },
  { key: 'recurring_1_bar', label: 'pieces where a 1-bar window recurs (≥ 64 steps)', value: own(data.recurring1BarShare), format: pct, reference: (r) => data.recurring1BarShare(r.stats) },
  { key: 'recurring_2_bar', label: 'pieces where a 2-bar window recurs (≥ 64 steps)', value: own(data.recurring2BarShare), format: pct, reference: (r) => data.recurring2BarShare(r.stats) },
  {
    key: 'distinct_windows_8_per_block', label: 'distinct 8-step windows per {block} pieces (reference: one per tune)',
    value: (e) => e.distinctWindows8PerBlock?.share ?? null, format: pct, reference: (r) => r.distinctWindows8OnePerTune,
  },
];

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
  { key: 'top_opening_share', label: 'most common 4-step opening', value: (e) => e.listener.topOpeningShare, format: pct, reference: (r) => r.listener.topOpeningShare },
  { key: 'pitch_class_entropy', label: 'pitch-class entropy (bits)', value: (e) => e.listener.pitchClassEntropyBits, format: num(2), reference: (r) => r.listener.pitchClassEntropyBits },
  { key: 'distinct_windows_4', label: 'distinct 4-step windows over all {count} pieces', value: (e) => e.listener.distinctWindows4, format: pct, reference: (r) => r.listener.distinctWindows4 },
  { key: 'distinct_windows_8', label: 'distinct 8-step windows over all {count} pieces', value: (e) => e.listener.distinctWindows8, format: pct, reference: (r) => r.listener.distinctWindows8 },
  { key: 'mean_max_repeat_8', label: 'most repeated 8-step window, times per piece', value: (e) => e.listener.meanMaxRepeat8, format: num(2) },
  { key: 'tonic_share', label: 'tonic-class notes', value: (e) => e.listener.tonicShare, format: pct },
  { key: 'dominant_share', label: 'dominant-class notes', value: (e) => e.listener.dominantShare, format: pct },
  { key: 'rest_share', label: 'rest steps', value: (e) => e.listener.restShare, format: pct },
  { key: 'hold_share', label: 'hold steps', value: (e) => e.listener.holdShare, format: pct },
  ...DATA_ROWS,
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

/** The sample counts a label names: {count} the compositions per model, {block} the reference's tunes ("N" when they differ). */
export function rowLabel(row: EvaluationRow, evaluations: readonly PolicyEvaluation[]): string {
  const shared = (values: (number | undefined)[]) => {
    const defined = values.filter((v): v is number => v !== undefined);
    return defined.length > 0 && defined.every((v) => v === defined[0]) ? defined[0].toLocaleString('en') : 'N';
  };
  return row.label
    .replace('{count}', () => shared(evaluations.map((e) => e.statistics?.compositions)))
    .replace('{block}', () => shared(evaluations.map((e) => e.distinctWindows8PerBlock?.blockSize ?? e.dataReference?.tunesUsed)));
}

/** The reference of a set of evaluations: the first one's (they are all made against the same). */
export function referenceOf(evaluations: readonly PolicyEvaluation[]): DataReference | null {
  return evaluations.find((e) => e.dataReference)?.dataReference ?? null;
}

/** One line saying what the reference column is. */
export function referenceNote(r: DataReference): string {
  return `Reference: ${r.name}, ${r.stats.pieces.toLocaleString('en')} pieces of ${r.numNotes} steps cut from ${r.tunesUsed} of its ${r.tunes} tunes ` +
    "(aligned to each tune's end). Its distance rows give the distance between its two halves (alternate tunes), " +
    "the scale a model's distance reads against.";
}

/**
 * The Markdown table: rows as metrics, one column per model, and a last column with the data reference's
 * own values when the evaluations carry one; then what the reference is, and the top openings of single runs.
 */
export function evaluationTable(columns: readonly EvaluationColumn[]): string {
  const summaries = columns.map((c) => summarizeEvaluations(c.evaluations));
  const all = columns.flatMap((c) => c.evaluations);
  const reference = referenceOf(all);
  const referenceCell = (row: EvaluationRow) => {
    if (!reference) return [];
    const value = row.reference?.(reference);
    return [value === undefined ? '' : value === null ? 'n/a' : row.format(value)];
  };
  const lines = [
    `| metric | ${[...columns.map((c) => (c.evaluations.length > 1 ? `${c.name} (${c.evaluations.length} runs)` : c.name)), ...(reference ? [`data: ${reference.name}`] : [])].join(' | ')} |`,
    `|---|${[...columns, ...(reference ? [null] : [])].map(() => '---').join('|')}|`,
    ...EVALUATION_ROWS.map((row) => `| ${rowLabel(row, all)} | ${[...summaries.map((s) => formatSummary(s[row.key], row.format)), ...referenceCell(row)].join(' | ')} |`),
  ];
  if (reference) lines.push('', referenceNote(reference));
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
