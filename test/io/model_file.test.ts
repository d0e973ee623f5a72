import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { encodeModel, decodeModel, loadModel, ModelFileError } from '../../src/io/model_file.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

const config = (h: number[]) => ({ inputSize: 38, hiddenSizes: h, outputSize: 38 });

describe('model files', () => {
  const model = createModel(testKernels(), config([10, 6]), { maxBatch: 2 });
  model.initialize(new Random(1));
  const bytes = encodeModel(model, { training: { epochs: 3 } });

  it('round-trips weights, architecture and metadata', () => {
    const { model: loaded, decoded } = loadModel(testKernels(), bytes, { maxBatch: 4 }, 'm.safetensors');
    expect(Array.from(loaded.params)).toEqual(Array.from(model.params));
    expect(decoded.config.hiddenSizes).toEqual([10, 6]);
    expect(decoded.info.training).toEqual({ epochs: 3 });
    expect(decoded.metadata.token_order).toMatch(/0=NOTE_OFF,1=NO_EVENT/);
  });

  it('a flipped byte is reported as corrupt, naming the file', () => {
    const bad = bytes.slice();
    bad[bad.length - 10] ^= 0x40;
    expect(() => decodeModel(bad, 'm.safetensors')).toThrow(ModelFileError);
    expect(() => decodeModel(bad, 'm.safetensors')).toThrow(/m\.safetensors.*corrupt/s);
  });

  it('a truncated file and a file of another format say which', () => {
    expect(() => decodeModel(bytes.slice(0, 100), 'cut.safetensors')).toThrow(/cut\.safetensors/);
    const other = encodeSafetensors([{ name: 'w', shape: [2], data: new Float32Array(2) }], { format: 'something-else' });
    expect(() => decodeModel(other, 'x.safetensors')).toThrow(/x\.safetensors: not an rltuner Note RNN/);
  });

  it('loading into another architecture names both', () => {
    const small = createModel(testKernels(), config([10]), { maxBatch: 1 });
    const decoded = decodeModel(bytes, 'm.safetensors');
    expect(() => loadModel(testKernels(), bytes, { maxBatch: 1 })).not.toThrow();
    expect(() => small.importTensors(decoded.tensors, 'm.safetensors')).toThrow(/m\.safetensors: tensor "output\.w" has shape \[6,38\], this model needs \[10,38\]/);
  });
});
