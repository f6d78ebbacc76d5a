/**
 * A hash table from a pair of integers (a flow id, and a 16-bit number such as a transaction id, or 0) to a
 * non-negative int, in typed arrays: no allocation per insert or delete (the arrays double when half full).
 * Open addressing with linear probing and backward-shift deletion, so no tombstones pile up under churn.
 */
const EMPTY = -1;

export class PairIndex {
  private keyA: Float64Array<ArrayBuffer>;
  private keyB: Int32Array<ArrayBuffer>;
  private hashes: Int32Array<ArrayBuffer>;
  /** The value of each slot, EMPTY for a free one. */
  private values: Int32Array<ArrayBuffer>;
  private mask: number;
  private count = 0;

  constructor(initialSlots = 64) {
    const slots = 1 << Math.max(2, Math.ceil(Math.log2(initialSlots)));
    this.keyA = new Float64Array(slots);
    this.keyB = new Int32Array(slots);
    this.hashes = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value of (a, b), or -1 when absent. */
  get(a: number, b: number): number {
    const slot = this.find(a, b, hashPair(a, b));
    return slot < 0 ? EMPTY : this.values[slot];
  }

  /** Sets the value (≥ 0) of (a, b), adding the pair when absent. */
  set(a: number, b: number, value: number): void {
    const hash = hashPair(a, b);
    const found = this.find(a, b, hash);
    if (found >= 0) {
      this.values[found] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.values.length) this.rehash(this.values.length * 2);
    let slot = hash & this.mask;
    while (this.values[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.keyA[slot] = a;
    this.keyB[slot] = b;
    this.hashes[slot] = hash;
    this.values[slot] = value;
    this.count++;
  }

  /** Removes (a, b) when present; later entries of its probe run move back into the hole. */
  delete(a: number, b: number): void {
    let hole = this.find(a, b, hashPair(a, b));
    if (hole < 0) return;
    this.count--;
    const mask = this.mask;
    for (let next = (hole + 1) & mask; this.values[next] !== EMPTY; next = (next + 1) & mask) {
      // The entry at `next` may fill the hole unless its home slot lies cyclically in (hole, next].
      const home = this.hashes[next] & mask;
      const stays = hole < next ? home > hole && home <= next : home > hole || home <= next;
      if (stays) continue;
      this.keyA[hole] = this.keyA[next];
      this.keyB[hole] = this.keyB[next];
      this.hashes[hole] = this.hashes[next];
      this.values[hole] = this.values[next];
      hole = next;
    }
    this.values[hole] = EMPTY;
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.count = 0;
  }

  private find(a: number, b: number, hash: number): number {
    const mask = this.mask;
    for (let slot = hash & mask; this.values[slot] !== EMPTY; slot = (slot + 1) & mask) {
      if (this.hashes[slot] === hash && this.keyA[slot] === a && this.keyB[slot] === b) return slot;
    }
    return -1;
  }

  private rehash(slots: number): void {
    const { keyA, keyB, hashes, values } = this;
    this.keyA = new Float64Array(slots);
    this.keyB = new Int32Array(slots);
    this.hashes = new Int32Array(slots);
    this.values = new Int32Array(slots).fill(EMPTY);
    this.mask = slots - 1;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === EMPTY) continue;
      let slot = hashes[i] & this.mask;
      while (this.values[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keyA[slot] = keyA[i];
      this.keyB[slot] = keyB[i];
      this.hashes[slot] = hashes[i];
      this.values[slot] = values[i];
    }
  }
}

/** Mixes both words of `a` (an integer below 2^53) with `b` (murmur3's finaliser). */
function hashPair(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ Math.imul((a / 4294967296) >>> 0, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(b + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
