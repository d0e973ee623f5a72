import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { MAX_HIDDEN_UNITS, MAX_LAYERS } from '../../src/engine/layout.js';
import { encodeModel, decodeModel, loadModel, MAX_ABS_WEIGHT, MODEL_FINGERPRINT_FORMAT, ModelFileError, recordedImport } from '../../src/io/model_file.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
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
    const shippedBytes = new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)));
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

describe('model files are checked before anything is built from them', () => {
  const model = createModel(testKernels(), config([6]), { maxBatch: 1 });
  model.initialize(new Random(2));
  const bytes = encodeModel(model);
  const { tensors, metadata } = decodeSafetensors(bytes, 'm');
  const rewrite = (edit: (md: Record<string, string>, t: { name: string; shape: number[]; data: Float32Array }[]) => void) => {
    const { checksum: _checksum, ...md } = metadata;
    const list = [...tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data.slice() }));
    edit(md, list);
    return encodeSafetensors(list, md);
  };
  const architecture = (hiddenSizes: unknown) => JSON.stringify({ kind: 'lstm-stack', inputSize: 38, hiddenSizes, outputSize: 38 });

  it('refuses an architecture beyond the limits, naming the value and the limit', () => {
    expect(() => decodeModel(rewrite((md) => (md.architecture = architecture(Array(MAX_LAYERS + 1).fill(6)))), 'deep.safetensors'))
      .toThrow(`deep.safetensors: the architecture claims ${MAX_LAYERS + 1} LSTM layers, above the ${MAX_LAYERS} rltuner supports (MAX_LAYERS)`);
    expect(() => decodeModel(rewrite((md) => (md.architecture = architecture([MAX_HIDDEN_UNITS + 1]))), 'wide.safetensors'))
      .toThrow(`wide.safetensors: the architecture claims layer 0 has ${MAX_HIDDEN_UNITS + 1} hidden units, above the ${MAX_HIDDEN_UNITS} rltuner supports (MAX_HIDDEN_UNITS)`);
  });

  it('refuses tensors that are not exactly those of the claimed architecture', () => {
    expect(() => decodeModel(rewrite((md) => (md.architecture = architecture([6, 6]))), 'm.safetensors'))
      .toThrow('m.safetensors: the architecture metadata claims LSTM layers [6, 6], but the file has no tensor "lstm.1.w_x" [6, 24]');
    expect(() => decodeModel(rewrite((_, t) => t.push({ name: 'extra', shape: [1], data: new Float32Array(1) })), 'm.safetensors'))
      .toThrow('m.safetensors: the architecture metadata claims LSTM layers [6], but the file also holds 1 other tensor ("extra")');
  });

  it('refuses weights that are not finite or beyond ±MAX_ABS_WEIGHT, and takes every weight up to it', () => {
    for (const [value, problem] of [[Number.NaN, 'not a finite number'], [-Infinity, 'not a finite number'], [MAX_ABS_WEIGHT * 2, 'beyond the ±1000000 a weight may have (MAX_ABS_WEIGHT)']] as const) {
      const bad = rewrite((_, t) => (t[1].data[3] = value));
      expect(() => decodeModel(bad, 'w.safetensors')).toThrow(`w.safetensors: tensor "lstm.0.w_h" holds ${value} at element 3, ${problem}`);
    }
    expect(() => decodeModel(rewrite((_, t) => (t[1].data[3] = -MAX_ABS_WEIGHT)), 'w.safetensors')).not.toThrow();
  });

  it('refuses a header longer than MAX_HEADER_BYTES before decoding it, and a shape of too many dimensions', () => {
    const long = new Uint8Array(16 + MAX_HEADER_BYTES);
    new DataView(long.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 8), true);
    expect(() => decodeModel(long, 'long.safetensors')).toThrow(`long.safetensors: header length ${MAX_HEADER_BYTES + 8} is above the ${MAX_HEADER_BYTES} bytes a header may have (MAX_HEADER_BYTES)`);
    const header = JSON.stringify({ t: { dtype: 'F32', shape: Array(9).fill(1), data_offsets: [0, 4] } });
    const file = new Uint8Array(8 + header.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(new TextEncoder().encode(header), 8);
    expect(() => decodeSafetensors(file, 'dims.safetensors')).toThrow('dims.safetensors: tensor "t" has 9 dimensions, above the 8 a tensor may have (MAX_DIMENSIONS)');
  });

  it('reads the import settings a model records, refusing values that are not settings', () => {
    const withImport = (record: unknown) => ({ ...decodeModel(bytes), info: { data: { import: record } } });
    expect(recordedImport(withImport({ transposeBy: 'key', keepKey: false, track: 2, channel: 0 }), 'm')).toEqual({ transposeBy: 'key', keepKey: false, track: 2, channel: 0 });
    expect(recordedImport(decodeModel(bytes), 'm')).toBeUndefined();
    expect(() => recordedImport(withImport({ track: -5 }), 'm.safetensors')).toThrow('m.safetensors: its metadata records data.import.track = -5, not a track index 0..65535');
    expect(() => recordedImport(withImport({ transposeBy: 'up' }), 'm.safetensors')).toThrow('m.safetensors: its metadata records data.import.transposeBy = "up", not key or note-count');
  });
});
