/** Tuner config: defaults valid, presets resolve, overrides apply in order, errors name field, value and range. */
import { describe, expect, it } from 'vitest';
import {
  COMPOSITION_WEIGHT_FIELDS, CONFIG_FIELDS, ConfigError, DEFAULT_CONFIG, PRESET_NAMES, PRESETS, compositionWeights, describeConfig, resolveConfig,
} from '../../src/rl/config.js';
import { COMPOSITION_TERM_NAMES } from '../../src/rules/composition.js';

describe('resolveConfig', () => {
  it('resolves the field defaults (preset classic) unchanged, with the SPEC §4.5 learning settings; the default preset lays its overrides over them', () => {
    expect(resolveConfig()).toEqual({ ...DEFAULT_CONFIG, ...PRESETS.default.overrides });
    expect(resolveConfig().algorithm).toBe('pg');
    expect(resolveConfig('g')).toMatchObject({ algorithm: 'g', rewardScaler: 1, weightLeap: 4 });
    const config = resolveConfig('classic');
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({
      algorithm: 'q', gamma: 0.7, rewardScaler: 2, trainingSteps: 200_000, explorationSteps: 100_000, explorationMode: 'egreedy', numNotes: 32, batchSize: 32,
      replayCapacity: 100_000, trainEvery: 5, learningRate: 0.001, adamBeta1: 0.9, adamBeta2: 0.999,
      adamEpsilon: 1e-8, clipNorm: 5, targetUpdateRate: 0.01, initialEpsilon: 1, finalEpsilon: 0.1,
      priming: 'random_note', musicTheoryOnly: false,
    });
    expect(Object.keys(config).sort()).toEqual(Object.keys(CONFIG_FIELDS).sort());
  });

  it('resolves every preset, with the reference settings', () => {
    for (const name of PRESET_NAMES) expect(() => resolveConfig(name)).not.toThrow();
    expect(resolveConfig('library')).toMatchObject({ gamma: 0.95, rewardScaler: 1, explorationMode: 'egreedy' });
    expect(resolveConfig('paper')).toMatchObject({ gamma: 0.5, rewardScaler: 2, trainingSteps: 1_000_000, explorationSteps: 500_000 });
    expect(resolveConfig('script')).toMatchObject({
      gamma: 0.5, rewardScaler: 0.1, explorationMode: 'boltzmann', trainingSteps: 1_000_000, explorationSteps: 500_000,
    });
  });

  it('applies preset, then JSON, then flags (kebab- or camelCase, parsed from strings)', () => {
    const config = resolveConfig('library', { gamma: 0.8, algorithm: 'psi' }, { gamma: '0.7', 'batch-size': '64', 'music-theory-only': 'true', algorithm: 'g' });
    expect(config.gamma).toBe(0.7);
    expect(config.batchSize).toBe(64);
    expect(config.musicTheoryOnly).toBe(true);
    expect(config.algorithm).toBe('g');
    expect(config.rewardScaler).toBe(1); // from the preset
    expect(resolveConfig('default', {}, { 'music-theory-only': true }).musicTheoryOnly).toBe(true);
  });

  it('rejects values out of range, naming the field, the value and the range', () => {
    expect(() => resolveConfig('default', { gamma: 1.5 })).toThrow('config: gamma = 1.5 is out of range; allowed: number in [0, 1]');
    expect(() => resolveConfig('default', {}, { temperature: '0' })).toThrow(/temperature = 0 .*\(0, 100\]/);
    expect(() => resolveConfig('default', { adamBeta2: 1 })).toThrow(/adamBeta2 = 1 .*\[0, 1\)/);
    expect(() => resolveConfig('default', { batchSize: 2.5 })).toThrow(/batchSize = 2.5 is not an integer/);
    expect(() => resolveConfig('default', {}, { 'learning-rate': 'fast' })).toThrow(/learningRate = "fast" is not a finite number/);
    expect(() => resolveConfig('default', { clipNorm: Number.POSITIVE_INFINITY })).toThrow(/clipNorm = Infinity is not a finite number/);
    expect(() => resolveConfig('default', { explorationMode: 'softmax' })).toThrow(/explorationMode = "softmax".*egreedy \| boltzmann/);
    expect(() => resolveConfig('default', { musicTheoryOnly: 'yes' })).toThrow(/musicTheoryOnly = "yes" is not a boolean/);
    expect(() => resolveConfig('default', { batchSize: 64, replayCapacity: 50 })).toThrow(/batchSize = 64.*replayCapacity \(50\)/);
  });

  it('rejects unknown fields and presets, listing what exists', () => {
    expect(() => resolveConfig('default', { gama: 0.5 })).toThrow(/gama = 0.5 is an unknown field \(from the JSON config\); allowed: one of algorithm, /);
    expect(() => resolveConfig('default', {}, { 'reward-scale': '1' })).toThrow(/reward-scale = "1" is an unknown field \(from flag --reward-scale\)/);
    expect(() => resolveConfig('papers')).toThrow(/preset = "papers" is not a known preset; allowed: default \| g \| classic \| paper \| library \| script/);
    try {
      resolveConfig('default', { gamma: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('gamma');
      expect((error as ConfigError).value).toBe(-1);
    }
  });
});

describe('describeConfig', () => {
  it("has one line per field with flag, range, the default preset's value (what a bare tune runs) and doc, then the presets", () => {
    const lines = describeConfig();
    expect(lines).toContain('  --reward-scaler <number in [0, 1000]>  default 2  s = 1/c: weight of the music-theory reward against log p');
    expect(lines).toContain('  --algorithm <q | psi | g | pg>  default pg  q (Q-learning), psi (Ψ-learning), g (G-learning): one-step TD from a replay; pg: KL-regularized policy gradient over whole compositions');
    expect(lines).toContain('  --weight-leap <number in [0, 100]>  default 32  weight of rule 8 (leap resolution) in r_MT');
    expect(lines.filter((line) => line.startsWith('  --')).length).toBe(Object.keys(CONFIG_FIELDS).length);
    expect(lines.some((line) => line.startsWith('  script: '))).toBe(true);
  });
});

describe('composition-term weights', () => {
  it('are 0 in every preset but the default and take flags; a record made before they existed reads back with them at 0', () => {
    for (const name of PRESET_NAMES) if (name !== 'default') expect(compositionWeights(resolveConfig(name))).toEqual([0, 0, 0, 0]);
    expect(compositionWeights(resolveConfig('default'))).toEqual([48, 16, 16, 8]);
    const config = resolveConfig('default', {}, { 'weight-rhythm': '1.5', weightPhraseRecurrence: '2' });
    expect(compositionWeights(config)).toEqual([48, 1.5, 16, 2]);
    expect(COMPOSITION_WEIGHT_FIELDS.map((f) => f.replace(/^weight/, '').replace(/[A-Z]/g, (c, i) => (i ? '_' : '') + c.toLowerCase()))).toEqual([...COMPOSITION_TERM_NAMES]);
    const older: Record<string, unknown> = { ...resolveConfig('g') };
    for (const field of COMPOSITION_WEIGHT_FIELDS) delete older[field];
    expect(resolveConfig('classic', older)).toEqual(resolveConfig('g'));
    expect(() => resolveConfig('default', { weightRhythm: -1 })).toThrow(/weightRhythm = -1 is out of range; allowed: number in \[0, 100\]/);
  });
});
