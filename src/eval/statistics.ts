/**
 * The evaluation statistics of SPEC §6 (the paper's table), computed by replaying the music-theory rules
 * step by step over finished compositions, each with a fresh leap state, exactly as the tuner scored them.
 * `statisticsTable` lays several models' statistics side by side as a Markdown table.
 */
import {
  AUTOCORRELATION_LAGS,
  C_MAJOR_RULES,
  IN_KEY_FIFTH,
  IN_KEY_THIRD,
  NUM_RULES,
  OCTAVE,
  RULE_INDEX,
  autocorrelation,
  hasUniqueMaximum,
  hasUniqueMinimum,
  intervalCode,
  musicTheoryRewardInto,
  newLeapState,
  previousNote,
  type RuleContext,
} from '../rules/rules.js';

/** Statistics of a set of compositions. Plain JSON: fractions in [0, 1]; null where nothing was defined. */
export interface CompositionStatistics {
  /** Number of compositions. */
  compositions: number;
  /** Number of notes (steps) over all compositions. */
  notes: number;
  /** Fraction of notes for which rule 3 (repeating) fired. */
  notesExcessivelyRepeated: number;
  /** Fraction of notes for which rule 1 (key) fired. */
  notesNotInKey: number;
  /** Mean autocorrelation of whole compositions at lags 1, 2, 3 (constant compositions skipped; null if all were). */
  meanAutocorrelation: (number | null)[];
  /** Leaps resolved / (resolved + doubled), as decided by rule 8; null when no leap was either. */
  leapsResolved: number | null;
  /** Rule 8 outcomes over all compositions. */
  leapsResolvedCount: number;
  leapsDoubledCount: number;
  /** Fraction of compositions whose first token is the tonic. */
  startingWithTonic: number;
  /** Fraction of compositions whose highest token occurs once (rule 9's first test). */
  uniqueMaxNote: number;
  /** Fraction of compositions whose lowest note occurs once (rule 9's second test). */
  uniqueMinNote: number;
  /** Fraction of notes for which rule 5 (motif) fired. */
  notesInMotif: number;
  /** Fraction of notes for which rule 6 (repeated motif) fired. */
  notesInRepeatedMotif: number;
  /** Count of notes per rule 7 interval code, keyed by the code as a string ("-5" = in-key fifth, "2", ...). */
  intervalHistogram: Record<string, number>;
  /** Number of different compositions. */
  distinctCompositions: number;
  /** Mean unscaled music-theory reward r_MT per note. */
  meanRewardPerNote: number;
}

/** Statistics of `compositions` (each ctx.numNotes tokens long) under the rules of `ctx`. */
export function compositionStatistics(compositions: readonly Uint8Array[], ctx: RuleContext = C_MAJOR_RULES): CompositionStatistics {
  const numNotes = ctx.numNotes;
  const perRule = new Float64Array(NUM_RULES);
  const autocorrelationSums = AUTOCORRELATION_LAGS.map(() => 0);
  const autocorrelationCounts = AUTOCORRELATION_LAGS.map(() => 0);
  const intervalHistogram: Record<string, number> = {};
  const distinct = new Set<string>();
  let repeated = 0;
  let notInKey = 0;
  let inMotif = 0;
  let inRepeatedMotif = 0;
  let resolved = 0;
  let doubled = 0;
  let startingWithTonic = 0;
  let uniqueMax = 0;
  let uniqueMin = 0;
  let rewardSum = 0;

  compositions.forEach((composition, index) => {
    if (composition.length !== numNotes) {
      throw new RangeError(`compositionStatistics: compositions[${index}].length = ${composition.length}, expected numNotes = ${numNotes}`);
    }
    const leap = newLeapState();
    for (let beat = 0; beat < numNotes; beat++) {
      const action = composition[beat];
      rewardSum += musicTheoryRewardInto(perRule, composition, beat, action, leap, ctx);
      if (perRule[RULE_INDEX.key] < 0) notInKey++;
      if (perRule[RULE_INDEX.repeating] < 0) repeated++;
      if (perRule[RULE_INDEX.motif] > 0) inMotif++;
      if (perRule[RULE_INDEX.repeated_motif] > 0) inRepeatedMotif++;
      if (perRule[RULE_INDEX.leap] > 0) resolved++;
      if (perRule[RULE_INDEX.leap] < 0) doubled++;
      const code = String(intervalCode(previousNote(composition, beat), action, ctx));
      intervalHistogram[code] = (intervalHistogram[code] ?? 0) + 1;
    }
    const last = numNotes - 1;
    AUTOCORRELATION_LAGS.forEach((lag, k) => {
      const rho = autocorrelation(composition, last, composition[last], lag, ctx.noteOffset ?? 0);
      if (Number.isNaN(rho)) return;
      autocorrelationSums[k] += rho;
      autocorrelationCounts[k]++;
    });
    if (composition[0] === ctx.tonic) startingWithTonic++;
    if (hasUniqueMaximum(composition, last, composition[last])) uniqueMax++;
    if (hasUniqueMinimum(composition, last, composition[last])) uniqueMin++;
    distinct.add(composition.join(','));
  });

  const notes = compositions.length * numNotes;
  const perNote = (count: number) => (notes > 0 ? count / notes : 0);
  const perComposition = (count: number) => (compositions.length > 0 ? count / compositions.length : 0);
  return {
    compositions: compositions.length,
    notes,
    notesExcessivelyRepeated: perNote(repeated),
    notesNotInKey: perNote(notInKey),
    meanAutocorrelation: autocorrelationSums.map((sum, k) => (autocorrelationCounts[k] > 0 ? sum / autocorrelationCounts[k] : null)),
    leapsResolved: resolved + doubled > 0 ? resolved / (resolved + doubled) : null,
    leapsResolvedCount: resolved,
    leapsDoubledCount: doubled,
    startingWithTonic: perComposition(startingWithTonic),
    uniqueMaxNote: perComposition(uniqueMax),
    uniqueMinNote: perComposition(uniqueMin),
    notesInMotif: perNote(inMotif),
    notesInRepeatedMotif: perNote(inRepeatedMotif),
    intervalHistogram,
    distinctCompositions: distinct.size,
    meanRewardPerNote: perNote(rewardSum),
  };
}

/** Fraction of notes whose interval code satisfies `test`. */
function intervalFraction(stats: CompositionStatistics, test: (code: number) => boolean): number {
  let count = 0;
  for (const [code, n] of Object.entries(stats.intervalHistogram)) if (test(Number(code))) count += n;
  return stats.notes > 0 ? count / stats.notes : 0;
}

/** A fraction as a percentage the way the paper prints them: 63.3%, 0.6%, 0.02%, 0.007%. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return 'n/a';
  const percent = 100 * fraction;
  if (percent === 0) return '0.0%';
  if (Math.abs(percent) >= 1) return `${percent.toFixed(1)}%`;
  return `${Number(percent.toPrecision(2))}%`;
}

function formatCorrelation(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(2);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
}

/** The table's rows: label and how to print one model's value. */
const TABLE_ROWS: readonly [string, (stats: CompositionStatistics) => string][] = [
  ['notes excessively repeated', (s) => formatPercent(s.notesExcessivelyRepeated)],
  ['notes not in key', (s) => formatPercent(s.notesNotInKey)],
  ['mean autocorrelation lag 1 / 2 / 3', (s) => s.meanAutocorrelation.map(formatCorrelation).join(' / ')],
  ['leaps resolved', (s) => formatPercent(s.leapsResolved)],
  ['compositions starting with tonic', (s) => formatPercent(s.startingWithTonic)],
  ['unique max note', (s) => formatPercent(s.uniqueMaxNote)],
  ['unique min note', (s) => formatPercent(s.uniqueMinNote)],
  ['notes in motif', (s) => formatPercent(s.notesInMotif)],
  ['notes in repeated motif', (s) => formatPercent(s.notesInRepeatedMotif)],
  ['in-key fifths', (s) => formatPercent(intervalFraction(s, (code) => code === IN_KEY_FIFTH))],
  ['in-key thirds', (s) => formatPercent(intervalFraction(s, (code) => code === IN_KEY_THIRD))],
  ['intervals wider than an octave', (s) => formatPercent(intervalFraction(s, (code) => code > OCTAVE))],
  ['distinct compositions', (s) => `${s.distinctCompositions} / ${s.compositions}`],
  ['mean music-theory reward per note', (s) => formatNumber(s.meanRewardPerNote)],
];

/** One column of the table: a model's name, its statistics, and optional extra rows (e.g. mean log p, KL). */
export interface StatisticsColumn {
  name: string;
  stats: CompositionStatistics;
  extra?: Record<string, number>;
}

/** A Markdown table with the metrics as rows and one column per model; extra rows follow, blank where absent. */
export function statisticsTable(columns: readonly StatisticsColumn[]): string {
  const extraNames: string[] = [];
  for (const column of columns) {
    for (const name of Object.keys(column.extra ?? {})) if (!extraNames.includes(name)) extraNames.push(name);
  }
  const rows: string[][] = [
    ['metric', ...columns.map((c) => c.name)],
    ['---', ...columns.map(() => '---')],
    ...TABLE_ROWS.map(([label, format]) => [label, ...columns.map((c) => format(c.stats))]),
    ...extraNames.map((name) => [name, ...columns.map((c) => (c.extra?.[name] === undefined ? '' : formatNumber(c.extra[name])))]),
  ];
  return rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n') + '\n';
}
