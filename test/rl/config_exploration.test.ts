/** The config's key and mode, and exploration fitted to short runs (the library and `rltuner tune` alike). */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, resolveConfigWithNotes } from '../../src/rl/config.js';
import { keyTablesOf } from '../../src/rules/key_context.js';

describe('exploration steps and training steps', () => {
  it('a run shorter than the preset\'s exploration anneals over the preset\'s share of it, and says so', () => {
    const { config, notes } = resolveConfigWithNotes('g', {}, { 'training-steps': '50000' });
    expect(config.explorationSteps).toBe(25_000);
    expect(notes).toEqual([expect.stringMatching(/^explorationSteps scaled from 100000 to 25000: trainingSteps 50000 is shorter, and the g preset anneals ε over 50% of training/)]);
    expect(resolveConfig('library', { trainingSteps: 1000 }).explorationSteps).toBe(500);
  });

  it('an explicit explorationSteps is kept, with a note saying where ε ends', () => {
    const { config, notes } = resolveConfigWithNotes('g', { trainingSteps: 50_000, explorationSteps: 100_000 });
    expect(config.explorationSteps).toBe(100_000);
    expect(notes).toEqual(['explorationSteps 100000 is longer than trainingSteps 50000: ε ends at 0.55, not finalEpsilon 0.1']);
  });

  it('no note when exploration fits, or when exploration is boltzmann', () => {
    expect(resolveConfigWithNotes('default').notes).toEqual([]);
    expect(resolveConfigWithNotes('default', { trainingSteps: 1000, explorationMode: 'boltzmann' }).notes).toEqual([]);
  });
});

describe('key and mode fields', () => {
  it('default to C major, accept any tonic and mode, and reject others naming the choices', () => {
    expect(resolveConfig()).toMatchObject({ key: 'C', mode: 'major' });
    const config = resolveConfig('default', {}, { key: 'Bb', mode: 'dorian' });
    expect(keyTablesOf(config).tonic).toBe(12); // B♭3 (58) is nearer C4 than B♭4
    expect(keyTablesOf(resolveConfig())).toEqual({});
    expect(() => resolveConfig('default', { key: 'H' })).toThrow(ConfigError);
    expect(() => resolveConfig('default', { mode: 'blues' })).toThrow(/mode = "blues" is not one of the choices; allowed: major \| minor \| ionian \| dorian/);
  });
});
