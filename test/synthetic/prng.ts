// Seeded pseudo-random numbers for synthetic test data.
//
// sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): four 32-bit words of state,
// fast in plain JS, and good enough statistically for test fixtures. It is NOT for keys or
// nonces. The same seed always yields the same sequence, which is the whole point: a test
// that fails can be replayed byte for byte from its seed.

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new TypeError(`Prng seed: safe integer expected, got ${seed}`);
    // Spread the seed over the state with splitmix32 so that nearby seeds (1, 2, 3...)
    // start from unrelated states; the high half of a >32-bit seed is folded in too.
    let s = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = 1; // sfc32 convention: the counter word starts at 1
    for (let i = 0; i < 12; i++) this.nextU32(); // discard the weakly mixed first outputs
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min > 0xffff_ffff) {
      throw new RangeError(`Prng.int: integers with min <= max and a span below 2^32 expected, got [${min}, ${max}]`);
    }
    const span = max - min + 1;
    // Rejection sampling keeps the result unbiased when span does not divide 2^32.
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % span);
    let r = this.nextU32();
    while (r >= limit) r = this.nextU32();
    return min + (r % span);
  }

  /** n pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = this.nextU32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (r >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick: non-empty array expected, got an empty one');
    return items[this.int(0, items.length - 1)] as T;
  }
}
