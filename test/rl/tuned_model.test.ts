// What a model file records about how it plays (src/rl/tuned_model.ts): read with the tuning config's
// ranges, so a file cannot ask for 2e9-step compositions or a temperature of 0; a file recording nothing
// plays with the defaults.
import { describe, expect, it } from 'vitest';
import { ModelFileError, type DecodedModel } from '../../src/io/model_file.js';
import { tunedModelSettings, UNRECORDED_SETTINGS } from '../../src/rl/tuned_model.js';

const withNotes = (notes: unknown): DecodedModel => ({
  config: { inputSize: 38, hiddenSizes: [4], outputSize: 38 }, tensors: new Map(), metadata: {}, info: { notes },
});

describe('tunedModelSettings', () => {
  it('reads what a tuned model records, and gives the defaults for a model that records nothing', () => {
    expect(tunedModelSettings(withNotes({ algorithm: 'psi', steps: 3200, tunedFrom: 'x', config: { numNotes: 64, temperature: 0.5, gamma: 0.7 } }), 'm'))
      .toEqual({ algorithm: 'psi', steps: 3200, numNotes: 64, temperature: 0.5 });
    expect(tunedModelSettings(withNotes(undefined), 'm')).toEqual(UNRECORDED_SETTINGS);
    expect(tunedModelSettings(withNotes({ importedFrom: 'Magenta.js MusicRNN checkpoint' }), 'm')).toEqual(UNRECORDED_SETTINGS);
    expect(tunedModelSettings(withNotes({ algorithm: 'g', config: { numNotes: 8 } }), 'm')).toEqual({ algorithm: 'g', steps: 0, numNotes: 8, temperature: 1 });
  });

  it('refuses a recorded value out of range or of the wrong type, naming the file, the field, the value and the range', () => {
    const refused = (notes: unknown) => () => tunedModelSettings(withNotes(notes), 'tuned.safetensors');
    expect(refused({ config: { numNotes: 2e9 } })).toThrow(ModelFileError);
    expect(refused({ config: { numNotes: 2e9 } })).toThrow('tuned.safetensors: its metadata records notes.config.numNotes = 2000000000, outside what rltuner allows (integer in [8, 1024], as for a tuning config)');
    expect(refused({ config: { numNotes: 1025 } })).toThrow(/numNotes = 1025/);
    expect(refused({ config: { numNotes: 7 } })).toThrow(/numNotes = 7/);
    expect(refused({ config: { numNotes: '32' } })).toThrow(/numNotes = "32"/);
    expect(refused({ config: { numNotes: 32.5 } })).toThrow(/numNotes = 32\.5/);
    expect(refused({ config: { temperature: 0 } })).toThrow(/temperature = 0, outside what rltuner allows \(number in \(0, 100\]/);
    expect(refused({ config: { temperature: 101 } })).toThrow(/temperature = 101/);
    expect(refused({ algorithm: 'x' })).toThrow(/notes\.algorithm = "x", outside what rltuner allows \(q \| psi \| g/);
    expect(refused({ steps: -1 })).toThrow(/notes\.steps = -1/);
    expect(refused({ config: [32] })).toThrow(/notes\.config = \[32\]/);
  });
});
