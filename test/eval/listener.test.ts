// Listener metrics on hand-made compositions, and on a model's own samples against direct counts.
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { evaluatePolicy } from '../../src/eval/evaluation.js';
import { listenerMetrics } from '../../src/eval/listener.js';
import { decodeModel } from '../../src/io/model_file.js';
import { Random } from '../../src/random.js';
import { readFileSync } from 'node:fs';
import { testKernels } from '../engine/support.js';

// Tokens: 14 = C4, 16 = D4, 18 = E4, 21 = G4, 26 = C5, 0 = NOTE_OFF, 1 = NO_EVENT.
describe('listenerMetrics', () => {
  const a = [14, 1, 1, 16, 18, 0, 1, 21]; // C4 held 3, D4, E4, rest 2, G4
  const b = [14, 1, 1, 16, 26, 1, 21, 1]; // same opening
  const c = [1, 18, 16, 14, 14, 16, 18, 0]; // leading hold is a rest (nothing sounds yet)
  const m = listenerMetrics([a, b, c]);

  it('openings: the share and the top three, most common first', () => {
    expect(m.topOpeningShare).toBeCloseTo(2 / 3, 12);
    expect(m.topOpenings).toEqual([
      { tokens: [14, 1, 1, 16], share: 2 / 3 },
      { tokens: [1, 18, 16, 14], share: 1 / 3 },
    ]);
  });

  it('pitch-class entropy over note-ons', () => {
    // Note-ons: a: C D E G; b: C D C G; c: E D C C D E → C 5, D 4, E 3, G 2 of 14.
    const p = [5, 4, 3, 2].map((k) => k / 14);
    expect(m.pitchClassEntropyBits).toBeCloseTo(-p.reduce((s, x) => s + x * Math.log2(x), 0), 12);
    expect(m.tonicShare).toBeCloseTo(5 / 14, 12);
    expect(m.dominantShare).toBeCloseTo(2 / 14, 12);
  });

  it('rests and holds', () => {
    // a: holds 2 (after C4), rests 2 (NOTE_OFF, NO_EVENT after it); b: holds 4; c: rests 2 (leading NO_EVENT, final NOTE_OFF).
    expect(m.holdShare).toBeCloseTo(6 / 24, 12);
    expect(m.restShare).toBeCloseTo(4 / 24, 12);
  });

  it('distinct windows and the most repeated window within a piece', () => {
    // 5 windows of 4 per piece; a and b share [14,1,1,16]; nothing else repeats.
    expect(m.distinctWindows4).toBeCloseTo(14 / 15, 12);
    expect(m.distinctWindows8).toBe(1);
    expect(m.meanMaxRepeat8).toBe(1);
    const looped = [14, 16, 18, 21, 14, 16, 18, 21, 14, 16, 18, 21, 14, 16, 18, 21];
    const r = listenerMetrics([looped]);
    // Windows of 8 starting at 0 and 4 and 8 are the same: it occurs three times.
    expect(r.meanMaxRepeat8).toBe(3);
    expect(r.distinctWindows8).toBeCloseTo(4 / 9, 12);
  });
});

describe('evaluation of the Note RNN against itself', () => {
  it('KL = 0 with both estimators; the opening share equals a direct count', () => {
    const decoded = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))));
    const model = createModel(testKernels(), decoded.config, { maxBatch: 100 });
    model.importTensors(decoded.tensors);
    const e = evaluatePolicy([model], model, new Random(3), { count: 300, numNotes: 32, temperature: 1, priming: { kind: 'random_note' } });
    expect(Math.abs(e.klFromPrior)).toBeLessThan(1e-9);
    expect(Math.abs(e.klFromPriorK3)).toBeLessThan(1e-9);
    const counts = new Map<string, number>();
    for (const c of e.compositions) {
      const key = Array.from(c.subarray(0, 4)).join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(e.listener.topOpeningShare).toBe(Math.max(...counts.values()) / 300);
    expect(e.listener.pitchClassEntropyBits).toBeGreaterThan(2.5);
  });
});

describe('the evaluation table', () => {
  it('one run prints its value; several print mean [min–max]; undefined values are skipped', async () => {
    const { summarize, formatSummary } = await import('../../src/eval/report.js');
    expect(summarize([0.5, null, 0.25, 0.75])).toEqual({ mean: 0.5, min: 0.25, max: 0.75, n: 3 });
    expect(summarize([null, NaN])).toBeNull();
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    expect(formatSummary({ mean: 0.5, min: 0.25, max: 0.75, n: 3 }, pct)).toBe('50.0% [25.0%–75.0%]');
    expect(formatSummary({ mean: 0.5, min: 0.5, max: 0.5, n: 1 }, pct)).toBe('50.0%');
    expect(formatSummary(null, pct)).toBe('n/a');
  });
});
