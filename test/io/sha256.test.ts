import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Hex } from '../../src/io/sha256.js';
import { Random } from '../../src/random.js';

const nodeSha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function randomBytes(rng: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}

describe('sha256', () => {
  it('matches the FIPS 180-4 example vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto on every length 0..300 (all padding cases) and on a few MB', () => {
    const rng = new Random(42);
    for (let n = 0; n <= 300; n++) {
      const bytes = randomBytes(rng, n);
      expect(sha256Hex(bytes), `length ${n}`).toBe(nodeSha256(bytes));
    }
    const big = randomBytes(rng, 3 * 1024 * 1024 + 17);
    expect(sha256Hex(big)).toBe(nodeSha256(big));
    // A subarray view hashes its own bytes, not its buffer's.
    const view = big.subarray(5, 1000);
    expect(sha256Hex(view)).toBe(nodeSha256(Uint8Array.from(view)));
  });

  it('returns 32 raw bytes, and strings are hashed as UTF-8', () => {
    const digest = sha256(new TextEncoder().encode('abc'));
    expect(digest.length).toBe(32);
    expect(digest[0]).toBe(0xba);
    expect(sha256Hex('é♪')).toBe(nodeSha256(new TextEncoder().encode('é♪')));
  });
});
