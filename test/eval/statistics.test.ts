/** Evaluation statistics (SPEC §6) on small hand-made compositions with hand-counted answers. */
import { describe, expect, it } from 'vitest';
import { ruleContext } from '../../src/rules/rules.js';
import { compositionStatistics, formatPercent, statisticsTable } from '../../src/eval/statistics.js';

const ctx = ruleContext({ numNotes: 8 });
// X: five-fold repeat fires once (beat 5), 15 = C#4 is out of key, 15 is the unique max, 14 not a unique min
const X = Uint8Array.from([14, 14, 14, 14, 14, 14, 15, 1]);
// Y: silence; rests from beat 2 on are excessive repeats (6), constant so no autocorrelation
const Y = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]);
// Z: octave leap up resolved gradually at beat 6, then an in-key fifth up; a 6-note motif at beat 7
const Z = Uint8Array.from([14, 26, 23, 21, 19, 16, 14, 21]);
// W: in-key fifth up, then another (doubled); a 7-note motif at beat 7; unique max 28 and min 14
const W = Uint8Array.from([14, 21, 28, 26, 23, 21, 19, 16]);

describe('compositionStatistics', () => {
  const stats = compositionStatistics([X, Y, Z, Z, W], ctx);

  it('counts per-note rule firings over all notes', () => {
    expect(stats.compositions).toBe(5);
    expect(stats.notes).toBe(40);
    expect(stats.notesExcessivelyRepeated).toBeCloseTo(7 / 40, 12);
    expect(stats.notesNotInKey).toBeCloseTo(1 / 40, 12);
    expect(stats.notesInMotif).toBeCloseTo(3 / 40, 12);
    expect(stats.notesInRepeatedMotif).toBe(0);
  });

  it('counts leap outcomes of rule 8', () => {
    expect(stats.leapsResolvedCount).toBe(2);
    expect(stats.leapsDoubledCount).toBe(1);
    expect(stats.leapsResolved).toBeCloseTo(2 / 3, 12);
  });

  it('counts per-composition properties', () => {
    expect(stats.startingWithTonic).toBeCloseTo(4 / 5, 12);
    expect(stats.uniqueMaxNote).toBeCloseTo(4 / 5, 12);
    expect(stats.uniqueMinNote).toBeCloseTo(1 / 5, 12);
    expect(stats.distinctCompositions).toBe(4);
  });

  it('histograms rule 7 interval codes, in-key fifths included', () => {
    expect(stats.intervalHistogram).toEqual({ '0': 17, '1': 1, '-1.5': 1, '12': 2, '3': 6, '2': 9, '-5': 4 });
  });

  it('averages whole-composition autocorrelation, skipping constant compositions', () => {
    // X = [14 x6, 15, 1]: mean 12.5, var 19; lag sums -13.75, -4.5, -6.75 over n * var = 152
    const xy = compositionStatistics([X, Y], ctx);
    expect(xy.meanAutocorrelation[0]).toBeCloseTo(-13.75 / 152, 12);
    expect(xy.meanAutocorrelation[1]).toBeCloseTo(-4.5 / 152, 12);
    expect(xy.meanAutocorrelation[2]).toBeCloseTo(-6.75 / 152, 12);
    expect(compositionStatistics([Y], ctx).meanAutocorrelation).toEqual([null, null, null]);
  });

  it('reports the mean music-theory reward per note', () => {
    // Y with numNotes 8: tonic +3 at beats 6 and 7, repeating -100 at beats 2..7
    expect(compositionStatistics([Y], ctx).meanRewardPerNote).toBeCloseTo((6 - 600) / 8, 12);
  });

  it('reports undefined ratios as null and survives JSON', () => {
    const ys = compositionStatistics([Y], ctx);
    expect(ys.leapsResolved).toBeNull();
    expect(JSON.parse(JSON.stringify(ys))).toEqual(ys);
  });

  it('rejects a composition of the wrong length, naming it', () => {
    expect(() => compositionStatistics([X, Uint8Array.from([14])], ctx)).toThrow(/compositions\[1\]\.length = 1.*numNotes = 8/);
  });
});

describe('statisticsTable', () => {
  it('prints percentages like the paper', () => {
    expect(formatPercent(0.633)).toBe('63.3%');
    expect(formatPercent(0.006)).toBe('0.6%');
    expect(formatPercent(0.0011)).toBe('0.11%');
    expect(formatPercent(0.0002)).toBe('0.02%');
    expect(formatPercent(0.00007)).toBe('0.007%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(null)).toBe('n/a');
  });

  it('lays out one column per model with metrics as rows and extra rows last', () => {
    const a = compositionStatistics([X, Y, Z, Z, W], ctx);
    const b = compositionStatistics([Z], ctx);
    const table = statisticsTable([
      { name: 'Note RNN', stats: a, extra: { 'mean log p': -1.25 } },
      { name: 'Q', stats: b },
    ]);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toBe('| metric | Note RNN | Q |');
    expect(lines[1]).toBe('| --- | --- | --- |');
    expect(lines).toContain('| notes excessively repeated | 17.5% | 0.0% |');
    expect(lines).toContain('| leaps resolved | 66.7% | 100.0% |');
    expect(lines).toContain('| in-key fifths | 10.0% | 12.5% |');
    expect(lines).toContain('| distinct compositions | 4 / 5 | 1 / 1 |');
    expect(lines[lines.length - 1]).toBe('| mean log p | -1.25 |  |');
  });
});
