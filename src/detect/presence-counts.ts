/**
 * A counting filter of integer keys: a byte per bucket of a hash of the key, raised when a key is added and
 * lowered when it goes. A bucket at zero proves every key of it absent after one byte is read, where a Map's
 * miss walks its cold buckets (100–500 ns each on a loaded machine): for look-ups that mostly miss, on the
 * packet path. No false misses; a bucket that reaches 255 stays there (its keys then always look present).
 * Not for look-ups that mostly hit: there it is one more cold line before the Map (tried on TrackedKeys:
 * beaconing's series, nearly all hits, paid it on every contact).
 */
import { mix32 } from '../analyze/mix32.js';

const MIN_BITS = 10;
const MAX_BITS = 17;
const SATURATED = 255;

export class PresenceCounts {
  private readonly counts: Uint8Array;
  private readonly mask: number;

  /** Buckets: twice `keys`, a power of two from 2^10 to 2^17 (1–128 KB). */
  constructor(keys: number) {
    let bits = MIN_BITS;
    while (bits < MAX_BITS && 1 << bits < keys * 2) bits++;
    this.counts = new Uint8Array(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  /** False when the key was certainly not added (or was removed as often as added). */
  mayHave(key: number): boolean {
    return this.counts[mix32(key) & this.mask] !== 0;
  }

  add(key: number): void {
    this.change(key, 1);
  }

  remove(key: number): void {
    this.change(key, -1);
  }

  private change(key: number, by: 1 | -1): void {
    const bucket = mix32(key) & this.mask;
    const n = this.counts[bucket];
    if (n !== SATURATED) this.counts[bucket] = n + by;
  }
}
