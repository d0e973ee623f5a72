import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { encodeModel, decodeModel, loadModel, MODEL_FINGERPRINT_FORMAT, ModelFileError } from '../../src/io/model_file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { sha256Hex } from '../../src/io/sha256.js';
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

  it('records fingerprints (format version 2) and reads them back', () => {
    const fingerprints = { format: MODEL_FINGERPRINT_FORMAT, kernelBuild: 'plain' as const, trainingData: 'ab'.repeat(32) };
    const withPrints = encodeModel(model, { training: { epochs: 3 }, fingerprints });
    const decoded = decodeModel(withPrints, 'f.safetensors');
    expect(decoded.metadata.format_version).toBe('2');
    expect(MODEL_FINGERPRINT_FORMAT).toBe('rltuner-note-rnn/2');
    expect(decoded.info.fingerprints).toEqual(fingerprints);
    expect(decodeModel(bytes).info.fingerprints).toBeUndefined();
  });

  it('still loads version 1 files, the shipped default model among them, and refuses unknown versions', () => {
    const shippedBytes = new Uint8Array(readFileSync(new URL('../../models/note_rnn.safetensors', import.meta.url)));
    const shipped = decodeModel(shippedBytes, 'note_rnn.safetensors');
    expect(shipped.metadata.format_version).toBe('1');
    expect(shipped.info.fingerprints).toBeUndefined();
    expect(sha256Hex(shippedBytes)).toBe(createHash('sha256').update(shippedBytes).digest('hex'));
    const { tensors, metadata } = decodeSafetensors(bytes, 'm');
    const rewrite = (md: Record<string, string>) => {
      const { checksum: _checksum, ...rest } = md;
      return encodeSafetensors([...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), rest);
    };
    expect(decodeModel(rewrite({ ...metadata, format_version: '1' })).info.training).toEqual({ epochs: 3 });
    expect(() => decodeModel(rewrite({ ...metadata, format_version: '3' }), 'v3.safetensors')).toThrow(/v3\.safetensors: model format version 3 is not supported/);
    expect(() => decodeModel(rewrite({ ...metadata, fingerprints: '{"format":1}' }), 'fp.safetensors')).toThrow(/fp\.safetensors: the fingerprints metadata is damaged/);
  });
});
