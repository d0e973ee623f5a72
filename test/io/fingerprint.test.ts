import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileListFingerprint, fingerprintMismatches, kernelDigest, melodiesFingerprint, tensorsDigest } from '../../src/io/fingerprint.js';

describe('fingerprints', () => {
  it('melodies: order, lengths and tokens all count', () => {
    const a = melodiesFingerprint([[1, 2, 3], [4]]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(melodiesFingerprint([Uint8Array.from([1, 2, 3]), [4]])).toBe(a);
    expect(melodiesFingerprint([[4], [1, 2, 3]])).not.toBe(a);
    expect(melodiesFingerprint([[1, 2], [3, 4]])).not.toBe(a); // same tokens, other split
    expect(melodiesFingerprint([[1, 2, 3, 4]])).not.toBe(a);
    expect(melodiesFingerprint([])).not.toBe(melodiesFingerprint([[]]));
    expect(() => melodiesFingerprint([[1, 300]])).toThrow(/melody 0 holds 300 at step 1/);
  });

  it('file lists: names, bytes and order all count', () => {
    const x = { name: 'a.mid', bytes: Uint8Array.from([1, 2]) };
    const y = { name: 'b.mid', bytes: Uint8Array.from([3]) };
    const base = fileListFingerprint([x, y]);
    expect(fileListFingerprint([{ ...x }, { ...y }])).toBe(base);
    expect(fileListFingerprint([y, x])).not.toBe(base);
    expect(fileListFingerprint([{ ...x, name: 'c.mid' }, y])).not.toBe(base);
    expect(fileListFingerprint([{ ...x, bytes: Uint8Array.from([1, 3]) }, y])).not.toBe(base);
    expect(fileListFingerprint([x])).not.toBe(base);
  });

  it('mismatches name the field and both values, in a fixed order', () => {
    const saved = { format: 'rltuner-note-rnn/2', kernelBuild: 'plain' as const, trainingData: 'aaa', priming: 'ppp' };
    expect(fingerprintMismatches(saved, { ...saved }, 'the checkpoint')).toEqual([]);
    expect(fingerprintMismatches(saved, { ...saved, trainingData: 'bbb', kernelBuild: 'relaxed' }, 'the checkpoint')).toEqual([
      'kernelBuild: the checkpoint has plain, this run has relaxed',
      'trainingData: the checkpoint has aaa, this run has bbb',
    ]);
    expect(fingerprintMismatches(saved, { format: 'rltuner-note-rnn/2', kernelBuild: 'plain', trainingData: 'aaa' }, 'the model')).toEqual([
      'priming: the model has ppp, this run has none',
    ]);
  });

  it('kernelDigest: one digest for the plain and the shared-memory build (the same code), another for the relaxed build', () => {
    const read = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../dist/${name}`, import.meta.url))));
    const plain = read('rltuner.wasm'), shared = read('rltuner-shared.wasm'), relaxed = read('rltuner-relaxed.wasm');
    expect(Buffer.compare(plain, shared)).not.toBe(0); // the files differ (the memory import)...
    expect(kernelDigest(shared)).toBe(kernelDigest(plain)); // ...the digest does not
    expect(kernelDigest(plain)).toMatch(/^[0-9a-f]{64}$/);
    expect(kernelDigest(relaxed)).not.toBe(kernelDigest(plain));
    // Any change to the code changes it: flip one byte of the last section.
    const changed = plain.slice();
    changed[changed.length - 1] ^= 1;
    expect(kernelDigest(changed)).not.toBe(kernelDigest(plain));
    expect(() => kernelDigest(new Uint8Array([1, 2, 3]))).toThrow(/not a WebAssembly \(version 1\) binary/);
    expect(() => kernelDigest(plain.subarray(0, 20))).toThrow(/runs past the end/);
  });

  it('tensorsDigest: the tensors alone, whatever order they were read in; one element or a shape changes it', () => {
    const a = new Map([['b', { shape: [2], data: Float32Array.from([1, 2]) }], ['a', { shape: [1, 2], data: Float32Array.from([3, 4]) }]]);
    const b = new Map([['a', { shape: [1, 2], data: Float32Array.from([3, 4]) }], ['b', { shape: [2], data: Float32Array.from([1, 2]) }]]);
    expect(tensorsDigest(a)).toBe(tensorsDigest(b));
    expect(tensorsDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    b.get('a')!.data[1] = Math.fround(4 + 1e-6);
    expect(tensorsDigest(b)).not.toBe(tensorsDigest(a));
    expect(tensorsDigest(new Map([['a', { shape: [2, 1], data: Float32Array.from([3, 4]) }], ['b', { shape: [2], data: Float32Array.from([1, 2]) }]]))).not.toBe(tensorsDigest(a));
  });
});
