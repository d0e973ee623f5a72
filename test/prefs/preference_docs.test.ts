// docs/preferences.md's config for tuning on a reward model alone is PREFERENCE_TUNING (plus the length of
// the answers' melodies), so a reader who copies it tunes as the page and the benchmark do.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PREFERENCE_TUNING } from '../../src/rl/preference_tuning.js';
import { resolveConfig } from '../../src/rl/config.js';

describe('docs/preferences.md', () => {
  it('gives PREFERENCE_TUNING as its config file, and the file resolves to a tuning config', () => {
    const text = readFileSync(new URL('../../docs/preferences.md', import.meta.url), 'utf8');
    const block = /To tune on the learned reward alone[\s\S]*?```json\n([\s\S]*?)\n```/.exec(text);
    expect(block, 'the config block after "To tune on the learned reward alone"').not.toBeNull();
    const { numNotes, ...rest } = JSON.parse(block![1]);
    expect(rest).toEqual({ ...PREFERENCE_TUNING });
    expect(numNotes).toBe(32);
    const config = resolveConfig('default', JSON.parse(block![1]));
    expect([config.pgKl, config.klCoefficient, config.rewardScaler, config.weightTonicEnding, config.numNotes]).toEqual(['reward', 0.1, 1, 0, 32]);
  });
});
