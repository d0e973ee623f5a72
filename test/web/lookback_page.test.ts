// The page with a lookback Note RNN, without a browser: a picked model file goes through the page's readers
// (web/loaded_files.ts) and is sampled through the library, as the listening page and the worker do.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel, encodeModel, encodingConfig, generate, LOOKBACK_ENCODING, Random, sampleCompositions } from '../../src/index.js';
import { modelOf, readModelFile } from '../../web/loaded_files.js';
import { testKernels } from '../engine/support.js';

describe('a lookback model on the page', () => {
  it('is read, loaded and sampled as the page does; a tuned network cannot act with a prior of the other encoding', () => {
    const trained = createModel(testKernels(), encodingConfig(LOOKBACK_ENCODING, [16]), { maxBatch: 1 });
    trained.initialize(new Random(2));
    const { decoded, settings } = readModelFile(encodeModel(trained), 'lookback.safetensors');
    expect(settings.algorithm).toBe('note_rnn');
    const model = modelOf(testKernels(), decoded, 'lookback.safetensors');
    const [piece] = sampleCompositions([model], new Random(1), { count: 1, numNotes: settings.numNotes, temperature: settings.temperature, priming: { kind: 'random_note' } }).compositions;
    expect(piece.length).toBe(32);
    expect(Math.max(...piece)).toBeLessThan(38);
    const pieces = generate(model, { count: 3, length: 48, seed: 4, meter: { stepsPerBar: 12 } });
    expect(pieces.map((p) => p.length)).toEqual([48, 48, 48]);
    // The page's own Note RNN is the shipped basic model: a G network tuned from a lookback prior cannot act with it.
    const shipped = readModelFile(new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url))), 'note_rnn.safetensors');
    const basic = modelOf(testKernels(), shipped.decoded, 'note_rnn.safetensors');
    expect(() => sampleCompositions([model, basic], new Random(1), { count: 1, numNotes: 8, temperature: 1, priming: { kind: 'random_note' } }))
      .toThrow(/the models of a policy must share an encoding; got lookback and basic/);
  });
});
