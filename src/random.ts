/**
 * The one seeded random source of rltuner: xoshiro128** (Blackman & Vigna), seeded through splitmix32.
 * Every random choice in a run (weight init, priming, exploration, replay sampling, sampling notes) draws
 * from one of these, so the same seed and config give the same run. The state is four u32 words and can be
 * saved and restored exactly (checkpoints resume the stream where it stopped).
 */
export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Random: seed must be a finite number, got ${seed}`);
    let x = (Math.floor(seed) >>> 0) ^ Math.floor(seed / 4294967296);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) {
      throw new RangeError(`Random.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    if (n === 1) return 0;
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** A standard normal draw (Box–Muller, the spare kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn from unnormalised non-negative weights (probabilities need not sum to 1). */
  categorical(weights: ArrayLike<number>, count = weights.length): number {
    let total = 0;
    for (let i = 0; i < count; i++) total += weights[i];
    if (!(total > 0) || !Number.isFinite(total)) {
      throw new RangeError(`Random.categorical: weights must have a positive finite sum, got ${total}`);
    }
    let r = this.float() * total;
    for (let i = 0; i < count; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    for (let i = count - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return count - 1;
  }

  /** k distinct integers from [0, n), uniformly (Floyd's algorithm), into `out`. */
  distinct(k: number, n: number, out: Int32Array | number[] = new Int32Array(k)): Int32Array | number[] {
    if (k > n) throw new RangeError(`Random.distinct: cannot draw ${k} distinct values from ${n}`);
    const seen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const t = this.int(j + 1);
      const pick = seen.has(t) ? j : t;
      seen.add(pick);
      out[j - (n - k)] = pick;
    }
    return out;
  }

  /** The generator's full state, for checkpoints. */
  getState(): RandomState {
    return { words: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spareNormal: this.spareNormal };
  }

  setState(state: RandomState): void {
    const w = state.words;
    if (!Array.isArray(w) || w.length !== 4 || w.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
      throw new RangeError('Random.setState: expected four u32 words');
    }
    this.s0 = w[0] | 0;
    this.s1 = w[1] | 0;
    this.s2 = w[2] | 0;
    this.s3 = w[3] | 0;
    this.spareNormal = state.spareNormal ?? null;
  }
}

export interface RandomState {
  words: number[];
  spareNormal: number | null;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
