/**
 * A seeded pseudo-random generator (sfc32, by Chris Doty-Humphrey): small, fast, and built only from
 * 32-bit integer operations, so the same seed gives the same sequence on every machine and Node version.
 * Everything random in the generator draws from one of these; nothing reads the clock or Math.random.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // Seeds may be larger than 32 bits (or negative): mix both halves in with splitmix32.
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / 4294967296) >>> 0;
    this.a = splitmix32(lo ^ 0x9e3779b9);
    this.b = splitmix32(hi ^ 0x243f6a88);
    this.c = splitmix32(this.a ^ this.b ^ 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** Index chosen with probability proportional to weights[i]. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** Exponentially distributed with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Log-normal with the given median: the shape of object sizes and think times on real networks. */
  logNormal(median: number, sigma: number): number {
    // Box-Muller; 1 - u keeps the log away from 0.
    const u = 1 - this.float();
    const v = this.float();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * z);
  }

  /** Fills buf[start, end) with random bytes. */
  fill(buf: Uint8Array, start = 0, end = buf.length): void {
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const x = this.u32();
      buf[i] = x >>> 24;
      buf[i + 1] = x >>> 16;
      buf[i + 2] = x >>> 8;
      buf[i + 3] = x;
    }
    if (i < end) {
      const x = this.u32();
      for (let s = 24; i < end; i++, s -= 8) buf[i] = x >>> s;
    }
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    this.fill(b);
    return b;
  }

  /** Lower-case letters and digits, e.g. for random-looking DNS labels. */
  label(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
