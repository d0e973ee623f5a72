// The data rows in an evaluation of the shipped Note RNN: the counts equal a direct pass over its
// compositions, the table prints the reference's own values beside the models', metrics.jsonl records
// carry them, and the goals read the Note RNN's and the reference's values as they should.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { dataLikeness, totalVariation } from '../../src/eval/data_likeness.js';
import { dataReference, shippedReference } from '../../src/eval/data_reference.js';
import { evaluatePolicy, evaluateSample, evaluationMetrics, type PolicyEvaluation } from '../../src/eval/evaluation.js';
import { sampleCompositions } from '../../src/policy/sampling.js';
import { GOALS, goalMet, goalOutcomes, goalsForLength, goalTable, LONG_PIECE_GOALS, paretoTable } from '../../src/eval/goals.js';
import { blockDistinctWindowShare } from '../../src/eval/listener.js';
import { DATA_ROWS, EVALUATION_ROWS, evaluationTable, rowLabel, summarizeEvaluations } from '../../src/eval/report.js';
import { decodeModel } from '../../src/io/model_file.js';
import { keyRuleContext } from '../../src/rules/key_context.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

const decoded = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));
const model = createModel(testKernels(), decoded.config, { maxBatch: 128 });
model.importTensors(decoded.tensors);
const evaluate = (numNotes: number, count: number, seed = 3, extra: object = {}) =>
  evaluatePolicy([model], model, new Random(seed), { count, numNotes, temperature: 1, priming: { kind: 'random_note' }, ...extra });

describe('data rows of an evaluation', () => {
  const e = evaluate(32, 400);
  const reference = shippedReference(32)!;

  it('is the evaluation of the sample it draws: a sample evaluated later (or a set chosen from one) reads the same', () => {
    const sample = sampleCompositions([model], new Random(3), { count: 400, numNotes: 32, temperature: 1, priming: { kind: 'random_note' }, reference: model });
    expect(evaluateSample(sample, { numNotes: 32 })).toEqual(e);
    // A subset: its own log p and KL per note, from the sums it brings.
    const half = { ...sample, compositions: sample.compositions.slice(0, 200), primers: sample.primers.slice(0, 200), logProbReference: sample.logProbReference.slice(0, 200),
      logProbPolicy: sample.logProbReference.map((x) => x + 3.2).slice(0, 200), klK3: sample.klK3.slice(0, 200) };
    const sub = evaluateSample(half, { numNotes: 32 });
    expect(sub.meanLogProbNoteRnn).toBeCloseTo(half.logProbReference.reduce((s, x) => s + x, 0) / (200 * 32), 12);
    expect(sub.klFromPrior).toBeCloseTo(3.2 / 32, 12);
    expect(sub.data).toEqual(dataLikeness(half.compositions, 0));
  });

  it('counts the compositions directly, against the shipped reference at their length', () => {
    expect(e.data).toEqual(dataLikeness(e.compositions, 0));
    expect(e.dataReference).toBe(reference);
    expect(e.distinctWindows8PerBlock).toEqual(blockDistinctWindowShare(e.compositions, 169, 8));
    expect(e.distinctWindows8PerBlock!.blocks).toBe(2);
    const row = (key: string) => EVALUATION_ROWS.find((r) => r.key === key)!;
    expect(row('note_duration_tv').value(e)).toBe(totalVariation(e.data.durationCounts, reference.stats.durationCounts));
    // The reference's share is its tunes' endings (one per tune of the test split), not every piece's last note.
    expect(row('last_note_on_tonic').reference!(reference)).toBeCloseTo(reference.endings.lastNoteOnTonic / reference.endings.pieces, 12);
    expect(reference.endings.pieces).toBe(169);
    expect(row('recurring_2_bar').value(e)).toBeNull(); // 32 steps: not measured
    // In another key the ending is scored on that key's tonic class.
    const inA = evaluate(32, 400, 3, { rules: keyRuleContext({ key: 'A', mode: 'minor', numNotes: 32 }) });
    expect(inA.data).toEqual(dataLikeness(inA.compositions, 9));
  });

  it('no reference at other lengths unless one is given; a reference of another length is refused', () => {
    const e48 = evaluate(48, 20);
    expect(e48.dataReference).toBeNull();
    expect(e48.distinctWindows8PerBlock).toBeNull();
    expect(EVALUATION_ROWS.find((r) => r.key === 'pitch_range_tv')!.value(e48)).toBeNull();
    const tunes = [{ tokens: Array.from({ length: 200 }, (_, i) => 2 + (i % 30)), tonicClass: 0 }];
    const own = dataReference('mine', tunes, 48);
    expect(evaluate(48, 20, 3, { reference: own }).dataReference).toBe(own);
    expect(evaluate(32, 20, 3, { reference: null }).dataReference).toBeNull();
    expect(() => evaluate(32, 20, 3, { reference: own })).toThrow(/reference mine has pieces of 48 steps, the compositions 32/);
  });

  it('the table: the reference column, the halves for distances, the counts in the labels', () => {
    const table = evaluationTable([{ name: 'Note RNN', evaluations: [e] }]);
    expect(table).toContain('| metric | Note RNN | data: Nottingham test split |');
    const line = (label: string) => table.split('\n').find((l) => l.startsWith(`| ${label} |`));
    expect(line('note-duration histogram, TV distance to the reference')).toBe(
      `| note-duration histogram, TV distance to the reference | ${totalVariation(e.data.durationCounts, reference.stats.durationCounts)!.toFixed(3)} | ${reference.halves.duration!.toFixed(3)} |`,
    );
    expect(line('distinct 8-step windows over all 400 pieces')!.endsWith(`% | ${(100 * reference.listener.distinctWindows8).toFixed(1)}% |`)).toBe(true);
    expect(line('distinct 8-step windows per 169 pieces (reference: one per tune)')).toBeDefined();
    expect(line('notes excessively repeated')).toMatch(/ \|  \|$/); // no reference value for the paper's rows
    expect(table).toContain('Reference: Nottingham test split, 2,802 pieces of 32 steps cut from 169 of its 169 tunes');
    expect(rowLabel(EVALUATION_ROWS.find((r) => r.key === 'distinct_windows_4')!, [e, evaluate(32, 10)])).toBe('distinct 4-step windows over all N pieces');
  });

  it('metrics.jsonl records carry every data row', () => {
    const record = evaluationMetrics(100, e);
    for (const row of DATA_ROWS) expect(record[`data/${row.key}`]).toBe(row.value(e) ?? NaN);
  });

  it('evaluations written before the data rows read as n/a, not as an error', () => {
    const old = { ...e, data: undefined, distinctWindows8PerBlock: undefined, dataReference: undefined } as unknown as PolicyEvaluation;
    const summary = summarizeEvaluations([old]);
    for (const row of DATA_ROWS) expect(summary[row.key]).toBeNull();
    expect(evaluationTable([{ name: 'old', evaluations: [old] }])).not.toContain('data: ');
  });
});

describe('goals', () => {
  const noteRnn = evaluate(32, 400, 5);
  const reference = shippedReference(32)!;
  /** The Note RNN's evaluation with some values changed (as a tuned model's would be). */
  const tuned = (edit: (e: PolicyEvaluation) => void): PolicyEvaluation => {
    const e = structuredClone({ ...noteRnn, dataReference: null }) as PolicyEvaluation;
    e.dataReference = reference;
    edit(e);
    return e;
  };
  const outcome = (row: string, e: PolicyEvaluation) => goalOutcomes([{ tuned: e, noteRnn }]).find((o) => o.goal.row === row)!;

  it("item 5's rows: the paper's eight, the data's five, the listener's four", () => {
    expect(GOALS.map((g) => `${g.group} ${g.row}`)).toEqual([
      'paper notes_excessively_repeated', 'paper notes_not_in_key', 'paper leaps_resolved', 'paper starting_with_tonic', 'paper unique_max_note',
      'paper unique_min_note', 'paper notes_in_motif', 'paper notes_in_repeated_motif',
      'data note_duration_tv', 'data onsets_on_eighth_grid', 'data pitch_range_tv', 'data last_note_on_tonic', 'data interval_tv',
      'listener top_opening_share', 'listener pitch_class_entropy', 'listener mean_log_p', 'listener distinct_windows_8_per_block',
    ]);
    for (const g of [...GOALS, ...LONG_PIECE_GOALS]) expect(EVALUATION_ROWS.some((r) => r.key === g.row), g.row).toBe(true);
    expect(goalsForLength(32)).toBe(GOALS);
    expect(goalsForLength(128)).toBe(LONG_PIECE_GOALS);
    expect(goalsForLength(64)).toEqual([]);
  });

  it("distinct windows: two-sided, 0.8–1.25 × the reference's one-piece-per-tune value", () => {
    const r = reference.distinctWindows8OnePerTune;
    const at = (share: number) => goalMet(outcome('distinct_windows_8_per_block', tuned((e) => (e.distinctWindows8PerBlock = { blockSize: 169, blocks: 2, share }))));
    expect([at(0.79 * r), at(0.81 * r), at(r), at(1.24 * r), at(1.26 * r)]).toEqual([false, true, true, true, false]);
    const noReference = goalOutcomes([{ tuned: tuned((e) => (e.dataReference = null)), noteRnn: { ...noteRnn, dataReference: null } }]);
    expect(goalMet(noReference.find((o) => o.goal.row === 'distinct_windows_8_per_block')!)).toBe(false); // no reference: not met
  });

  it("pitch-class entropy against the reference's; log p against the Note RNN's own samples", () => {
    const entropy = reference.listener.pitchClassEntropyBits;
    expect(goalMet(outcome('pitch_class_entropy', tuned((e) => (e.listener.pitchClassEntropyBits = 0.86 * entropy))))).toBe(true);
    expect(goalMet(outcome('pitch_class_entropy', tuned((e) => (e.listener.pitchClassEntropyBits = 0.84 * entropy))))).toBe(false);
    expect(goalMet(outcome('mean_log_p', tuned((e) => (e.meanLogProbNoteRnn = noteRnn.meanLogProbNoteRnn - 0.99))))).toBe(true);
    expect(goalMet(outcome('mean_log_p', tuned((e) => (e.meanLogProbNoteRnn = noteRnn.meanLogProbNoteRnn - 1.01))))).toBe(false);
  });

  it('the data rows: thresholds on the distances and shares', () => {
    const durations = (counts: number[]) => tuned((e) => (e.data.durationCounts = counts));
    const same = reference.stats.durationCounts;
    expect(goalMet(outcome('note_duration_tv', durations([...same])))).toBe(true);
    expect(goalMet(outcome('note_duration_tv', durations(same.map((c, i) => (i === 0 ? c + 0.3 * reference.stats.notes : c)))))).toBe(false);
    expect(goalMet(outcome('last_note_on_tonic', tuned((e) => (e.data.lastNoteOnTonic = Math.ceil(0.6 * e.data.piecesWithNotes)))))).toBe(true);
    expect(goalMet(outcome('last_note_on_tonic', tuned((e) => (e.data.lastNoteOnTonic = Math.floor(0.59 * e.data.piecesWithNotes)))))).toBe(false);
  });

  it('the 128-step goal: a 2-bar window recurs in at least 30 % of pieces', () => {
    const long = evaluate(128, 30, 7);
    const withShare = (k: number) => ({ ...long, data: { ...long.data, recurring2Bar: k } });
    const met = (k: number) => goalMet(goalOutcomes([{ tuned: noteRnn, noteRnn, long: { tuned: withShare(k), noteRnn: long } }], LONG_PIECE_GOALS)[0]);
    expect([met(8), met(9)]).toEqual([false, true]);
    // It reads the run's long evaluation: a run without one does not meet it.
    expect(goalMet(goalOutcomes([{ tuned: withShare(30), noteRnn: long }], LONG_PIECE_GOALS)[0])).toBe(false);
  });

  it('the goal table and the Pareto table count the same goals', () => {
    const good = tuned((e) => (e.listener.topOpeningShare = 0.01));
    const results = [{ name: 'a', runs: [{ tuned: good, noteRnn }] }, { name: 'b', runs: [{ tuned: noteRnn, noteRnn }] }];
    const table = goalTable(results);
    const pareto = paretoTable(results);
    for (const p of pareto) expect(table).toContain(`${p.name}: ${p.goalsMet} of ${GOALS.length} goals met.`);
    expect(table).toContain('| distinct 8-step windows per 169 pieces (reference: one per tune): ');
  });
});
