/**
 * Bytes, packets and flows per host over an interval (a statistics second, a detection second), in typed
 * arrays: adding to a host allocates nothing, and a host's text is made only when someone asks for it (the
 * top talkers, a few per second). A flood of a million spoofed sources costs this table its capacity and no
 * more: past `capacity` hosts it is the Space-Saving algorithm (Metwally et al., 2005; the same rule as the
 * report's Tally): a new host takes the place of the one with the fewest bytes and inherits its counts, so
 * every host that moved more than total / capacity bytes is kept, and no count is over its true value by
 * more than that. `replaced` says how many hosts were folded in that way.
 *
 * Hosts are addresses held as four words (IPv4 in word 0, like the flow table). The index is open
 * addressing with linear probing and backward-shift deletion; the min-heap on bytes that Space-Saving needs
 * is built only when the table first fills, so an interval with fewer hosts than the capacity never pays for it.
 */
import { formatAddress } from './conn-record.js';

const EMPTY = -1;

export class HostCounters {
  readonly capacity: number;
  /** Per slot (0..size-1). */
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  readonly flows: Float64Array;
  /** 1 when the host is one of ours (as the caller said when it first added it). */
  readonly local: Uint8Array;
  private readonly version: Uint8Array;
  private readonly words: Uint32Array;
  private readonly hashes: Uint32Array;
  private index = new Int32Array(0);
  private mask = 0;
  private count = 0;
  /** Min-heap of slots on bytes, and each slot's place in it; in use once the table is full. */
  private readonly heap: Int32Array;
  private readonly heapAt: Int32Array;
  private heaped = false;
  /** Hosts that took the place of another since the last clear (0: every count is exact). */
  replaced = 0;

  constructor(capacity = 65_536) {
    this.capacity = Math.max(1, Math.floor(capacity));
    const n = this.capacity;
    this.bytes = new Float64Array(n);
    this.packets = new Float64Array(n);
    this.flows = new Float64Array(n);
    this.local = new Uint8Array(n);
    this.version = new Uint8Array(n);
    this.words = new Uint32Array(n * 4);
    this.hashes = new Uint32Array(n);
    this.heap = new Int32Array(n);
    this.heapAt = new Int32Array(n);
    this.resizeIndex(Math.min(1024, nextPowerOfTwo(n * 2)));
  }

  /** Hosts held (at most the capacity). */
  get size(): number {
    return this.count;
  }

  /**
   * Adds to the host whose address is words[offset..offset+3] (IPv4: words[offset] alone); `local` is
   * recorded when the host is new. Returns its slot.
   */
  add(version: number, words: Uint32Array, offset: number, bytes: number, packets: number, flows: number, local: boolean): number {
    const hash = hashAddress(version, words, offset);
    let slot = this.find(version, words, offset, hash);
    if (slot === EMPTY) {
      if (this.count < this.capacity) {
        slot = this.count++;
        this.setKey(slot, version, words, offset, hash);
        this.insertIndex(slot, hash);
        if (this.index.length < this.count * 2 && this.index.length < nextPowerOfTwo(this.capacity * 2)) this.resizeIndex(this.index.length * 2);
      } else {
        slot = this.replaceSmallest(version, words, offset, hash);
      }
      this.local[slot] = local ? 1 : 0;
    }
    this.bytes[slot] += bytes;
    this.packets[slot] += packets;
    this.flows[slot] += flows;
    if (this.heaped) this.siftDown(this.heapAt[slot]);
    else if (this.count === this.capacity) this.buildHeap();
    return slot;
  }

  /** The slot of a host, or -1. */
  slotOf(version: number, words: Uint32Array, offset = 0): number {
    return this.find(version, words, offset, hashAddress(version, words, offset));
  }

  versionOf(slot: number): number {
    return this.version[slot];
  }

  /** The host's address into out[0..3] (IPv4 in out[0]). */
  addressOf(slot: number, out: Uint32Array): Uint32Array {
    const w = slot * 4;
    out[0] = this.words[w];
    out[1] = this.words[w + 1];
    out[2] = this.words[w + 2];
    out[3] = this.words[w + 3];
    return out;
  }

  /** Orders two slots' hosts: IPv4 before IPv6, then by address as a number (no string made). */
  compareAddresses(a: number, b: number): number {
    if (this.version[a] !== this.version[b]) return this.version[a] - this.version[b];
    for (let i = 0; i < 4; i++) {
      const x = this.words[a * 4 + i];
      const y = this.words[b * 4 + i];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  /** The host's address as text (allocates: for the few hosts a report names). */
  textOf(slot: number): string {
    return formatAddress(this.version[slot], this.words.subarray(slot * 4, slot * 4 + 4));
  }

  /** Every host held, as plain columns another thread can take (structured clone), for `addAll`. */
  snapshot(): HostCountersSnapshot {
    const n = this.count;
    return {
      version: this.version.slice(0, n), words: this.words.slice(0, n * 4), bytes: this.bytes.slice(0, n), packets: this.packets.slice(0, n),
      flows: this.flows.slice(0, n), local: this.local.slice(0, n), replaced: this.replaced,
    };
  }

  /** Adds every host of another table's snapshot (another engine's hosts: `loopy read --workers`). */
  addAll(s: HostCountersSnapshot): void {
    for (let i = 0; i < s.version.length; i++) this.add(s.version[i], s.words, i * 4, s.bytes[i], s.packets[i], s.flows[i], s.local[i] !== 0);
    this.replaced += s.replaced;
  }

  /** Forgets every host (the next interval starts). */
  clear(): void {
    if (this.count === 0) return;
    this.index.fill(EMPTY);
    this.bytes.fill(0, 0, this.count);
    this.packets.fill(0, 0, this.count);
    this.flows.fill(0, 0, this.count);
    this.count = 0;
    this.heaped = false;
    this.replaced = 0;
  }

  private find(version: number, words: Uint32Array, offset: number, hash: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = index[i];
      if (slot === EMPTY) return EMPTY;
      if (this.hashes[slot] === hash && this.sameKey(slot, version, words, offset)) return slot;
    }
  }

  private sameKey(slot: number, version: number, words: Uint32Array, offset: number): boolean {
    const w = slot * 4;
    const k = this.words;
    if (this.version[slot] !== version || k[w] !== words[offset]) return false;
    return version !== 6 || (k[w + 1] === words[offset + 1] && k[w + 2] === words[offset + 2] && k[w + 3] === words[offset + 3]);
  }

  private setKey(slot: number, version: number, words: Uint32Array, offset: number, hash: number): void {
    const w = slot * 4;
    this.version[slot] = version;
    this.words[w] = words[offset];
    this.words[w + 1] = version === 6 ? words[offset + 1] : 0;
    this.words[w + 2] = version === 6 ? words[offset + 2] : 0;
    this.words[w + 3] = version === 6 ? words[offset + 3] : 0;
    this.hashes[slot] = hash;
  }

  private insertIndex(slot: number, hash: number): void {
    const mask = this.mask;
    let i = hash & mask;
    while (this.index[i] !== EMPTY) i = (i + 1) & mask;
    this.index[i] = slot;
  }

  /** Removes a slot from the index, moving later entries of its probe run back (no tombstones). */
  private deleteIndex(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = this.hashes[slot] & mask;
    while (index[i] !== slot) i = (i + 1) & mask;
    let hole = i;
    for (let j = (i + 1) & mask; index[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.hashes[index[j]] & mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        index[hole] = index[j];
        hole = j;
      }
    }
    index[hole] = EMPTY;
  }

  private resizeIndex(length: number): void {
    this.index = new Int32Array(length).fill(EMPTY);
    this.mask = length - 1;
    for (let slot = 0; slot < this.count; slot++) this.insertIndex(slot, this.hashes[slot]);
  }

  /** Space-Saving: the host with the fewest bytes gives its slot (and its counts) to the new one. */
  private replaceSmallest(version: number, words: Uint32Array, offset: number, hash: number): number {
    const slot = this.heap[0];
    this.deleteIndex(slot);
    this.setKey(slot, version, words, offset, hash);
    this.insertIndex(slot, hash);
    this.replaced++;
    return slot;
  }

  private buildHeap(): void {
    const n = this.count;
    for (let i = 0; i < n; i++) {
      this.heap[i] = i;
      this.heapAt[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.heaped = true;
  }

  /** The slot at heap position i grew: moves it down to where the heap holds again. */
  private siftDown(i: number): void {
    const heap = this.heap;
    const bytes = this.bytes;
    const n = this.count;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const child = r < n && bytes[heap[r]] < bytes[heap[l]] ? r : l;
      if (!(bytes[heap[child]] < bytes[heap[i]])) return;
      const a = heap[i];
      const b = heap[child];
      heap[i] = b;
      heap[child] = a;
      this.heapAt[b] = i;
      this.heapAt[a] = child;
      i = child;
    }
  }
}

/** FNV-1a over the address words, with a finalizer so the low bits (the index slot) mix well. */
function hashAddress(version: number, words: Uint32Array, offset: number): number {
  let h = Math.imul(0x811c9dc5 ^ version, 0x01000193);
  h = Math.imul(h ^ words[offset], 0x01000193);
  if (version === 6) {
    h = Math.imul(h ^ words[offset + 1], 0x01000193);
    h = Math.imul(h ^ words[offset + 2], 0x01000193);
    h = Math.imul(h ^ words[offset + 3], 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A HostCounters' hosts as columns (see `snapshot`). */
export interface HostCountersSnapshot {
  version: Uint8Array;
  words: Uint32Array;
  bytes: Float64Array;
  packets: Float64Array;
  flows: Float64Array;
  local: Uint8Array;
  replaced: number;
}
