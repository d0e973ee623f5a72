/** How `rltuner evaluate` names the column of tuned models: by the preset nearest their recorded settings. */
import { describe, expect, it } from 'vitest';
import { groupName } from '../../src/cli/evaluate.js';
import { resolveConfig } from '../../src/rl/config.js';

const notes = (config: object) => ({ algorithm: 'g', config });

describe('evaluate groups tuned models by their settings', () => {
  it('names a bare tune plainly, other presets and changed fields by what differs, and ignores the seed', () => {
    expect(groupName('G', notes({ ...resolveConfig(), seed: 7 }), 'a.safetensors')).toBe('G');
    expect(groupName('G', notes({ ...resolveConfig(), seed: 8 }), 'b.safetensors')).toBe('G');
    expect(groupName('G', notes({ ...resolveConfig('default', {}, { gamma: '0.5' }), seed: 2 }), 'c.safetensors')).toBe('G (gamma 0.5)');
    expect(groupName('Q', notes(resolveConfig('classic')), 'd.safetensors')).toBe('Q (classic preset)');
    expect(groupName('Q', notes(resolveConfig('classic', {}, { 'reward-scaler': '4' })), 'e.safetensors')).toBe('Q (classic preset, rewardScaler 4)');
    expect(groupName('Ψ', notes(resolveConfig('script')), 'f.safetensors')).toBe('Ψ (script preset)');
    expect(groupName('G', undefined, 'old.safetensors')).toBe('G old.safetensors');
  });
});
