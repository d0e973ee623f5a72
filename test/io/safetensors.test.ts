/** Round trips and every corruption the safetensors reader must catch. */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  checksumHex,
  crc32,
  decodeSafetensors,
  encodeSafetensors,
  encodeSafetensorsParts,
  joinParts,
  SafetensorsError,
} from '../../src/io/safetensors.js';

const tensors = [
  { name: 'lstm/kernel', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -0]) },
  { name: 'lstm/bias', shape: [3], data: new Float32Array([0.25, Infinity, -7]) },
  { name: 'scalar', shape: [], data: new Float32Array([42]) },
  { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
];

/** Builds a file by hand from a header object and raw tensor bytes, for malformed-file cases. */
function rawFile(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const headerBytes = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  file.set(data, 8 + headerBytes.length);
  return file;
}

function headerOf(file: Uint8Array): { length: number; json: Record<string, unknown> } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { length, json: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) };
}

function expectError(run: () => unknown, pattern: RegExp): void {
  expect(run).toThrow(SafetensorsError);
  expect(run).toThrow(pattern);
}

/** The slow twin: CRC-32 one bit at a time, no tables (the definition, as an oracle for the fast one). */
function crc32Bitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('crc32', () => {
  it('matches the published check value of CRC-32/ISO-HDLC', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(checksumHex(new Uint8Array([0]))).toBe('d202ef8d');
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('equals the bitwise definition at every length 0..40 (whole rounds of 8 and ragged tails) and any alignment', () => {
    const bytes = randomBytes(48, 7);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 40; length++) {
        const view = bytes.subarray(offset, offset + length);
        expect(crc32(view), `offset ${offset}, length ${length}`).toBe(crc32Bitwise(view));
      }
    }
    expect(crc32(new Uint8Array(40).fill(0xff))).toBe(crc32Bitwise(new Uint8Array(40).fill(0xff)));
  });

  it('equals the bitwise definition on a long random buffer', () => {
    const bytes = randomBytes((1 << 20) + 5, 12345);
    expect(crc32(bytes)).toBe(crc32Bitwise(bytes));
  });

  it("continues from the CRC of the bytes before, as Node's zlib.crc32 does, at every cut", () => {
    const bytes = randomBytes(37, 99);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const head = crc32(bytes.subarray(0, cut));
      expect(crc32(bytes.subarray(cut), head), `cut ${cut}`).toBe(crc32Bitwise(bytes));
      expect(zlibCrc32(bytes.subarray(cut), zlibCrc32(bytes.subarray(0, cut))) >>> 0, `zlib, cut ${cut}`).toBe(crc32Bitwise(bytes));
    }
  });

  it('a file written with the native CRC-32 is byte for byte the one written with crc32', () => {
    const tensors = [
      { name: 'a', shape: [3, 5], data: Float32Array.from(randomBytes(15, 3), (b) => b / 7 - 9) },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
      { name: 'b', shape: [1003], data: Float32Array.from(randomBytes(1003, 4), (b) => b * 1.5) },
    ];
    const portable = joinParts(encodeSafetensorsParts(tensors, { format: 'rltuner' }));
    const native = joinParts(encodeSafetensorsParts(tensors, { format: 'rltuner' }, zlibCrc32));
    expect(Array.from(native)).toEqual(Array.from(portable));
    // and a checksum that is not the CRC-32 is one the reader refuses
    const wrong = joinParts(encodeSafetensorsParts(tensors, { format: 'rltuner' }, () => 12345));
    expect(() => decodeSafetensors(wrong, 'wrong.safetensors')).toThrow(/checksum/i);
  });
});

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips several tensors and the metadata, adding a checksum', () => {
    const file = encodeSafetensors(tensors, { format: 'rltuner', units: '100' });
    const { tensors: read, metadata } = decodeSafetensors(file);
    expect([...read.keys()].sort()).toEqual(['empty', 'lstm/bias', 'lstm/kernel', 'scalar']);
    for (const t of tensors) {
      const got = read.get(t.name)!;
      expect(got.dtype).toBe('F32');
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
    }
    expect(Object.is(read.get('lstm/kernel')!.data[5], -0)).toBe(true);
    expect(metadata.format).toBe('rltuner');
    expect(metadata.units).toBe('100');
    expect(metadata.checksum).toMatch(/^[0-9a-f]{8}$/);
  });

  it('writes the documented layout: padded header, offsets in order, little-endian floats', () => {
    const file = encodeSafetensors(tensors.slice(0, 2), {});
    const { length, json } = headerOf(file);
    expect(length % 8).toBe(0);
    expect(json['lstm/kernel']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(json['lstm/bias']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [24, 36] });
    expect(file.length).toBe(8 + length + 36);
    // 1.0f is 0x3f800000, stored little-endian as 00 00 80 3f.
    expect(Array.from(file.subarray(8 + length, 8 + length + 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
    const data = file.subarray(8 + length);
    expect((json.__metadata__ as Record<string, string>).checksum).toBe(checksumHex(data));
  });

  it('decodes a file whose bytes do not start at an aligned offset of their buffer', () => {
    const file = encodeSafetensors(tensors, {});
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect(Array.from(decodeSafetensors(shifted.subarray(1)).tensors.get('lstm/kernel')!.data)).toEqual(
      Array.from(tensors[0].data),
    );
  });

  it('reads F16 and BF16 tensors, widened to Float32Array', () => {
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000. BF16: 1.5 = 0x3fc0.
    const data = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0xc0, 0x3f]);
    const file = rawFile(
      { half: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, brain: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } },
      data,
    );
    const read = decodeSafetensors(file).tensors;
    expect(Array.from(read.get('half')!.data)).toEqual([1, -2]);
    expect(read.get('brain')!.dtype).toBe('BF16');
    expect(Array.from(read.get('brain')!.data)).toEqual([1.5]);
  });

  it('rejects tensors it cannot write', () => {
    expectError(() => encodeSafetensors([{ name: 'a', shape: [2, 2], data: new Float32Array(3) }], {}), /4 elements.*3 values/);
    expectError(() => encodeSafetensors([tensors[0], tensors[0]], {}), /appears twice/);
    expectError(() => encodeSafetensors([], { checksum: 'x' }), /reserved/);
    expectError(() => encodeSafetensors([], { n: 3 as unknown as string }), /must be strings/);
  });
});

describe('decodeSafetensors detects damaged files', () => {
  const good = encodeSafetensors(tensors, { format: 'rltuner' });
  const { length: headerLength } = headerOf(good);
  const dataStart = 8 + headerLength;

  it('names the source in the message', () => {
    expectError(() => decodeSafetensors(new Uint8Array(3), 'note_rnn.safetensors'), /^note_rnn\.safetensors: file is too short \(3 bytes/);
  });

  it('a flipped tensor byte is reported as corrupt', () => {
    const flipped = good.slice();
    flipped[dataStart + 5] ^= 0x10;
    expectError(() => decodeSafetensors(flipped), /corrupt/);
  });

  it('a truncated file: header length beyond the end, or tensors cut short', () => {
    expectError(() => decodeSafetensors(good.subarray(0, 20)), /header length \d+ is larger than the 12 bytes/);
    expectError(() => decodeSafetensors(good.subarray(0, good.length - 4)), /run past the \d+ tensor bytes; the file is truncated/);
  });

  it('a header that is not JSON, or not an object', () => {
    expectError(() => decodeSafetensors(rawFile(null, new Uint8Array(0), '{"a": [1, 2')), /not valid UTF-8 JSON/);
    expectError(() => decodeSafetensors(rawFile(null, new Uint8Array(0), '[1, 2]')), /not an object/);
  });

  it('an unsupported dtype', () => {
    const file = rawFile({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expectError(() => decodeSafetensors(file), /tensor "w" has unsupported dtype "I64"/);
  });

  it('a shape that disagrees with the offsets', () => {
    const file = rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expectError(() => decodeSafetensors(file), /3 × F32 = 12 bytes.*span 8 bytes/);
  });

  it('overlapping tensors, gaps and trailing garbage', () => {
    const overlap = rawFile(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      new Uint8Array(12),
    );
    expectError(() => decodeSafetensors(overlap), /"b" bytes \[4, 12\) overlap tensor "a"/);
    const gap = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
    expectError(() => decodeSafetensors(gap), /bytes \[0, 4\) before tensor "a" belong to no tensor/);
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    expectError(() => decodeSafetensors(trailing), /3 trailing bytes/);
  });

  it('malformed offsets and metadata values that are not strings', () => {
    const badOffsets = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4] } }, new Uint8Array(4));
    expectError(() => decodeSafetensors(badOffsets), /data_offsets \[4\]/);
    const badMetadata = rawFile({ __metadata__: { epochs: 3 } }, new Uint8Array(0));
    expectError(() => decodeSafetensors(badMetadata), /metadata "epochs" is 3, not a string/);
  });

  it('files without a checksum are accepted', () => {
    const file = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array([0, 0, 0x80, 0x3f]));
    const { tensors: read, metadata } = decodeSafetensors(file);
    expect(Array.from(read.get('a')!.data)).toEqual([1]);
    expect(metadata).toEqual({});
  });
});

describe('encodeSafetensorsParts', () => {
  it('gives the same file in parts, the f32 tensors as views of their own memory', async () => {
    const { encodeSafetensorsParts } = await import('../../src/io/safetensors.js');
    const a = Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 7 }, (_, i) => -i / 3);
    const tensors = [{ name: 'a', shape: [1003], data: a }, { name: 'b', shape: [7], data: b }];
    const parts = encodeSafetensorsParts(tensors, { note: 'x' });
    const whole = encodeSafetensors(tensors, { note: 'x' });
    expect(parts).toHaveLength(3);
    expect(parts[1].buffer).toBe(a.buffer);
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      joined.set(p, offset);
      offset += p.length;
    }
    expect(Buffer.from(joined).equals(Buffer.from(whole))).toBe(true);
    expect(Array.from(decodeSafetensors(joined).tensors.get('b')!.data)).toEqual(Array.from(b));
    // The checksum runs on across the parts (the first is 4,012 bytes: not a whole number of 8-byte rounds).
    const { length, json } = headerOf(joined);
    const checksum = (json.__metadata__ as Record<string, string>).checksum;
    expect(checksum).toBe(crc32Bitwise(joined.subarray(8 + length)).toString(16).padStart(8, '0'));
  });
});

describe('half precision', () => {
  it('numberToFloat16 is the exact inverse of float16ToNumber on every pattern, and rounds to nearest even', async () => {
    const { float16ToNumber, numberToFloat16 } = await import('../../src/io/safetensors.js');
    for (let bits = 0; bits < 65536; bits++) {
      const x = float16ToNumber(bits);
      if (Number.isNaN(x)) expect(Number.isNaN(float16ToNumber(numberToFloat16(x)))).toBe(true);
      else expect(numberToFloat16(x)).toBe(bits);
    }
    expect(float16ToNumber(numberToFloat16(1 + 2 ** -11))).toBe(1); // halfway: to even
    expect(float16ToNumber(numberToFloat16(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // halfway: to even (up)
    expect(float16ToNumber(numberToFloat16(1e6))).toBe(Infinity);
    expect(float16ToNumber(numberToFloat16(2 ** -26))).toBe(0);
  });

  it('writes Uint16Array tensors as F16 and reads them back as their values', async () => {
    const { encodeSafetensors: encode, decodeSafetensors: decode, numberToFloat16 } = await import('../../src/io/safetensors.js');
    const bits = Uint16Array.from([0.5, -2, 1 / 3, 0], (x) => numberToFloat16(x));
    const decoded = decode(encode([{ name: 'h', shape: [4], data: bits }], {}));
    expect(decoded.tensors.get('h')!.dtype).toBe('F16');
    expect(Array.from(decoded.tensors.get('h')!.data)).toEqual([0.5, -2, 0.333251953125, 0]);
  });
});
