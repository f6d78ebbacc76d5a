import type { Packet } from '../../decode/packet.js';

/**
 * A bidirectional flow table in typed arrays: an open-addressing hash index (linear probing, backward-shift
 * deletion, no tombstones) over dense per-flow columns. Keys are numbers copied from the Packet, so looking
 * a packet up allocates nothing. Side "A" of a key is the smaller (address, port) endpoint, which makes the
 * key the same for both directions; `origIsA` remembers which side is the originator.
 */
/**
 * Words 0-3 side A's address, 4-7 side B's, 8 the ports, 9 proto | vlan << 8 | v6 << 20, 10 the inner VLAN.
 * Only this file reads them: everyone else asks the table (versionOf, origAddress, origPort...).
 */
const KEY_WORDS = 11;
const KEY_META = 9;
const KEY_INNER_VLAN = 10;
const INDEX_EMPTY = -1;
/** Flow ids carry a generation so that an id of a flow that ended never reaches a newer flow in its slot. */
export const FLOW_SLOTS = 1 << 22;
/**
 * Flows held at once by default (`--max-flows`), as ntopng's default; past it the least recently active is
 * evicted (and counted). Each flow costs ~310 bytes of columns and more beside them: with 262,144 a spoofed
 * SYN flood, which fills any table, took the agent to 383 MB and `loopy read` to 330 MB; with 131,072, 319 MB
 * and 281 MB. Busy servers with more concurrent connections raise it.
 */
export const DEFAULT_MAX_FLOWS = 131_072;

const HIT_FROM_A = 1;
const HIT_CREATED = 2;
/** Any per-flow column: a typed array holding a fixed number of values a flow. */
export type FlowColumn = Uint8Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Float32Array<ArrayBuffer> | Float64Array<ArrayBuffer>;
/** Gives the pages wholly inside bytes [from, to) of a column back to the system; returns the bytes released. */
export type PageRelease = (column: FlowColumn, fromByte: number, toByte: number) => number;
/** Hands a per-flow column of `perFlow` values a flow to the table (FlowTable.ownColumns); returns the one to keep. */
export type ColumnResize = <C extends FlowColumn>(old: C, perFlow?: number) => C;
/**
 * Live flows a compaction moved to other slots (FlowTable.releaseSparse), in the order moved: the first
 * `count` entries of each array. A moved flow keeps its columns' values but gets a new slot and a new id.
 */
export interface FlowMoves {
  readonly count: number;
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly oldIds: Float64Array;
  readonly newIds: Float64Array;
}

/** A map's entry under `from` goes under `to` (state keyed by a flow's id or slot, following a move). */
export function moveEntry<V>(map: Map<number, V>, from: number, to: number): void {
  const value = map.get(from);
  if (value === undefined) return;
  map.delete(from);
  map.set(to, value);
}

/** releaseSparse is worth it only for a table that reached this many slots... */
const RELEASE_MIN_EXTENT = 16_384;
/** ...and holds fewer than one flow in this many of them. */
const RELEASE_SPARSENESS = 8;
/** Numbers a run of freshFreeRuns takes: its start and end, and its first and past-last ended slot. */
const RUN_FIELDS = 4;
/** The smallest page size of the systems Loopy runs on: a shorter byte range cannot hold a whole page. */
const MIN_PAGE_BYTES = 4096;
/** `live` of a slot a flow holds. */
const LIVE = 1;
/** `live` of a slot whose flow ended since the last releaseSparse: its pages may be in memory (0: given back, or never used). */
const ENDED = 2;

/** The flow index of a lookup's hit. */
export const hitFlow = (hit: number): number => hit >>> 2;
/** True when the lookup created the flow. */
export const hitCreated = (hit: number): boolean => (hit & HIT_CREATED) !== 0;
/** True when the packet went from side A (the smaller endpoint) to side B. */
export const hitFromA = (hit: number): boolean => (hit & HIT_FROM_A) !== 0;

export class FlowTable {
  readonly maxFlows: number;
  private index: Int32Array;
  private indexMask: number;
  private size = 0;
  private highWater = 0;
  /**
   * Free slots below highWater: a stack of those freed (the last freed is handed out first, warm in cache),
   * and after releaseSparse, the slots [scanFrom, scanEnd) whose `live` is 0, handed out lowest first once the
   * stack is empty. A typed stack, not an array of numbers: after a burst its pages go back, and the collector
   * never visits it.
   */
  private readonly freeStack: Int32Array<ArrayBuffer>;
  /** Live flows moved to another slot by compactions (releaseSparse with canMove), since the start. */
  flowsMoved = 0;
  private freeCount = 0;
  /** The most slots the stack held since the last releaseSparse: how much of it was written. */
  private freeHigh = 0;
  private scanFrom = 0;
  private scanEnd = 0;
  /** Scratch for the key being looked up. */
  private readonly probe = new Uint32Array(KEY_WORDS);
  /**
   * The flow the last lookup found, or -1: most packets belong to the flow of the packet before them (over
   * half in the bench captures), and comparing with its key (in cache) skips hashing and probing.
   */
  private lastFound = -1;

  // ---- per-flow columns, maxFlows long from the start: zero-filled memory is given by the system page by
  // page as flows first use it, so a table that never fills costs what it uses, and there is no growing
  // (no copies, and no old columns left for the garbage collector after a burst of new flows).
  private readonly keys: Uint32Array<ArrayBuffer>;
  private readonly hashes: Uint32Array<ArrayBuffer>;
  /** By slot: LIVE while a flow holds it, ENDED once its flow ended (until releaseSparse), else 0. Test `=== LIVE`. */
  readonly live: Uint8Array<ArrayBuffer>;
  readonly generation: Uint32Array;
  private readonly origIsA: Uint8Array<ArrayBuffer>;
  /** The owners of columns beside the table's (ownColumns). */
  private readonly columnOwners: Array<(resize: ColumnResize) => void> = [];
  /** Who follows flows a compaction moved (onMove). */
  private readonly moveListeners: Array<(moves: FlowMoves) => void> = [];
  /**
   * Moves the flows of `moves` (compact) within a column, one pass a column over every move, and zeroes the
   * slots they leave: owners count on a free slot's values being zeros (a TCP stream not open, no attempt
   * waiting), which a flow's end sees to and a move, which is no end, must too.
   */
  private readonly moveColumn: ColumnResize = (column, perFlow = 1) => {
    const { count, from, to } = this.moves;
    for (let i = 0; i < count; i++) {
      const source = from[i] * perFlow;
      const target = to[i] * perFlow;
      for (let j = 0; j < perFlow; j++) {
        column[target + j] = column[source + j];
        column[source + j] = 0;
      }
    }
    return column;
  };

  constructor(maxFlows = DEFAULT_MAX_FLOWS, private readonly initialIndexSlots = 8192) {
    if (maxFlows > FLOW_SLOTS) throw new Error(`maxFlows ${maxFlows} is above ${FLOW_SLOTS}`);
    this.maxFlows = maxFlows;
    this.keys = new Uint32Array(maxFlows * KEY_WORDS);
    this.hashes = new Uint32Array(maxFlows);
    this.generation = new Uint32Array(maxFlows);
    this.live = new Uint8Array(maxFlows);
    this.origIsA = new Uint8Array(maxFlows);
    this.freeStack = new Int32Array(maxFlows);
    this.index = new Int32Array(0);
    this.indexMask = 0;
    this.rebuildIndex(Math.max(2, initialIndexSlots));
  }

  get count(): number {
    return this.size;
  }

  /**
   * Registers the owner of columns beside the table's: it is told their length, maxFlows (once; it should
   * allocate them whole, as the table does, and let the system give pages as flows use them).
   */
  onGrow(grow: (capacity: number) => void): void {
    grow(this.maxFlows);
  }

  /**
   * Registers the owner of per-flow typed-array columns beside the table's: `columns(resize)` replaces each
   * of them by `resize(column, valuesPerFlow)`, once now to allocate them whole (maxFlows flows, pages given
   * by the system as flows use them), and again, returning the same columns, whenever releaseSparse gives a
   * burst's pages back. An owner of other per-flow state uses onGrow; its pages stay.
   */
  ownColumns(columns: (resize: ColumnResize) => void): void {
    columns((old, perFlow = 1) => grownTo(old, this.maxFlows * perFlow));
    this.columnOwners.push(columns);
  }

  /**
   * Registers who holds per-flow state that is not a column (ownColumns) and must follow a flow to its new
   * slot and id when a compaction moves it (releaseSparse with `canMove`): told once per compaction.
   */
  onMove(listener: (moves: FlowMoves) => void): void {
    this.moveListeners.push(listener);
  }

  /**
   * Gives back the pages a burst of flows left once most of them have ended: in every column (the table's and
   * its owners', ownColumns), the pages that hold only free slots are handed back through `release`
   * (madvise through the capture addon: they read as zeros, which a slot's next flow sets anyway, and cost
   * nothing until written). Without `canMove` no flow moves and no id changes. The index is rebuilt for the flows left, and
   * free slots are handed out lowest first from then on, so the next flows touch pages from the bottom.
   * Does nothing unless the table reached RELEASE_MIN_EXTENT slots and fewer than one in RELEASE_SPARSENESS is
   * live, and only free runs where a flow ended since its last call (ENDED): a long-lived flow left high in the
   * table keeps it sparse for as long as it lasts, and the runs given back once would otherwise be given back
   * again at every sweep, and counted, as if a burst had just ended (the agent collects its heap then).
   * Returns the bytes released. Slots are given out in another order afterwards, so only the agent calls it: a
   * file's records keep their order.
   *
   * With `canMove`, the live flows it allows are first moved from the top of the table into the free slots
   * at its bottom (compact): the flows a burst leaves behind for their last minute (UDP's and ICMP's
   * inactivity timeout) are spread over every page it touched, and would keep all of them until they end.
   */
  releaseSparse(release: PageRelease, canMove?: (flow: number) => boolean): number {
    if (this.highWater < RELEASE_MIN_EXTENT || this.size * RELEASE_SPARSENESS > this.highWater) return 0;
    if (canMove !== undefined) this.compact(canMove);
    const runs = this.freshFreeRuns();
    if (runs.length === 0) return 0;
    let released = 0;
    const releaseFree: ColumnResize = (column, perFlow = 1) => {
      const bytes = column.BYTES_PER_ELEMENT * perFlow;
      for (let i = 0; i < runs.length; i += RUN_FIELDS) {
        const from = runs[i] * bytes;
        const to = runs[i + 1] * bytes;
        // A run of this column shorter than a page holds no whole page: no call. After a burst the free runs
        // between the flows still live are thousands, most of them a few slots: a call for each, in each of
        // some 25 columns, held the capture thread 90 ms.
        if (to - from < MIN_PAGE_BYTES) continue;
        // Counted: only the part of the run where flows ended since the last release. The rest was given back
        // then: a compaction's or a trickle's few ended slots in a long run given back before are no burst.
        const given = release(column, from, to);
        released += Math.min(given, (runs[i + 3] - runs[i + 2]) * bytes);
      }
      return column;
    };
    releaseFree(this.keys, KEY_WORDS);
    releaseFree(this.hashes);
    releaseFree(this.live);
    releaseFree(this.origIsA);
    // generation stays: a slot's next flow must get an id no earlier flow of that slot had.
    for (const columns of this.columnOwners) columns(releaseFree);
    for (let i = 0; i < runs.length; i += RUN_FIELDS) this.live.fill(0, runs[i], runs[i + 1]);
    let extent = this.highWater;
    while (extent > 0 && this.live[extent - 1] !== LIVE) extent--;
    this.freeCount = 0;
    released += release(this.freeStack, 0, this.freeHigh * this.freeStack.BYTES_PER_ELEMENT);
    this.freeHigh = 0;
    this.scanFrom = 0;
    this.scanEnd = extent;
    this.highWater = extent;
    this.lastFound = -1;
    this.rebuildIndex(Math.max(this.initialIndexSlots, this.size * 2));
    return released;
  }

  /** Scratch of compact's moves, grown to the most moved at once. */
  private moves = { count: 0, from: new Int32Array(0), to: new Int32Array(0), oldIds: new Float64Array(0), newIds: new Float64Array(0) };

  /**
   * Moves each live flow `canMove` allows, highest first, into the lowest free slot below it (the moves
   * planned on `live`, then every column copied in one pass over them); tells onMove's listeners. A moved flow's old slot is ENDED (its pages are given back with the run around it), its new
   * slot's generation steps, so the moved flow has a new id and its old id names no flow. The caller
   * rebuilds the index and resets the free slots (releaseSparse).
   */
  private compact(canMove: (flow: number) => boolean): void {
    const live = this.live;
    let low = 0;
    let high = this.highWater - 1;
    let count = 0;
    for (;;) {
      while (low < high && live[low] === LIVE) low++;
      while (high > low && (live[high] !== LIVE || !canMove(high))) high--;
      if (low >= high) break;
      this.noteMove(count++, high, low);
      live[low++] = LIVE;
      live[high--] = ENDED;
    }
    if (count === 0) return;
    this.moves.count = count;
    this.flowsMoved += count;
    const copy = this.moveColumn;
    copy(this.keys, KEY_WORDS);
    copy(this.hashes);
    copy(this.origIsA);
    for (const columns of this.columnOwners) columns(copy);
    for (let i = 0; i < count; i++) this.generation[this.moves.to[i]]++;
    for (const listener of this.moveListeners) listener(this.moves);
  }

  private noteMove(i: number, from: number, to: number): void {
    const m = this.moves;
    if (i === m.from.length) {
      const n = Math.max(1024, i * 2);
      m.from = grownTo(m.from, n);
      m.to = grownTo(m.to, n);
      m.oldIds = grownTo(m.oldIds, n);
      m.newIds = grownTo(m.newIds, n);
    }
    m.from[i] = from;
    m.to[i] = to;
    m.oldIds[i] = this.flowId(from);
    m.newIds[i] = (this.generation[to] + 1) * FLOW_SLOTS + to;
  }

  /**
   * The runs of slots no flow holds where a flow ended since the last release, below highWater (the free tail
   * last), in slot order: RUN_FIELDS numbers each, [start, end) and the span [first, last + 1) of its ENDED
   * slots; none when no flow ended since.
   */
  private freshFreeRuns(): number[] {
    const runs: number[] = [];
    const live = this.live;
    let start = -1;
    let firstEnded = -1;
    let lastEnded = -1;
    for (let flow = 0; flow < this.highWater; flow++) {
      const state = live[flow];
      if (state === LIVE) {
        if (start >= 0 && firstEnded >= 0) runs.push(start, flow, firstEnded, lastEnded + 1);
        start = -1;
        continue;
      }
      if (start < 0) {
        start = flow;
        firstEnded = -1;
      }
      if (state === ENDED) {
        if (firstEnded < 0) firstEnded = flow;
        lastEnded = flow;
      }
    }
    // The free tail, up to the highest slot used since the last release: the slots above it were given back
    // then (or never used), and counting them as released again would tell the agent a burst had just ended.
    if (start >= 0 && firstEnded >= 0) runs.push(start, this.highWater, firstEnded, lastEnded + 1);
    return runs;
  }

  flowId(flow: number): number {
    return this.generation[flow] * FLOW_SLOTS + flow;
  }

  /** The flow a flow id names, or -1 when that flow has ended. */
  flowOf(flowId: number): number {
    const flow = flowId % FLOW_SLOTS;
    return flow < this.highWater && this.live[flow] === 1 && this.flowId(flow) === flowId ? flow : -1;
  }

  /** Upper bound of flow indexes in use, for sweeps. */
  get extent(): number {
    return this.highWater;
  }

  isLive(flow: number): boolean {
    return this.live[flow] === 1;
  }

  /**
   * Finds the packet's flow, creating it when absent. Returns a hit (see hitFlow, hitCreated, hitFromA), or
   * -1 when there is none (absent and `create` false, or the table is full and the caller must evict first).
   * `sport`/`dport` for ICMP are the Community-ID-style port equivalents.
   */
  lookup(pkt: Packet, proto: number, sport: number, dport: number, create: boolean): number {
    const key = this.probe;
    const src = pkt.src;
    const dst = pkt.dst;
    const srcFirst = compareEndpoints(src, sport, dst, dport) <= 0;
    const a = srcFirst ? src : dst;
    const b = srcFirst ? dst : src;
    key[0] = a[0]; key[1] = a[1]; key[2] = a[2]; key[3] = a[3];
    key[4] = b[0]; key[5] = b[1]; key[6] = b[2]; key[7] = b[3];
    key[8] = srcFirst ? ((sport << 16) | dport) >>> 0 : ((dport << 16) | sport) >>> 0;
    key[9] = proto | (pkt.vlan << 8) | (pkt.ipVersion === 6 ? 1 << 20 : 0);
    // A word of its own: 12 bits of VLAN id do not fit beside the rest (bit 21 up kept only 11, so
    // inner VLAN 4094 read back as 2046 and QinQ flows 2048 apart merged).
    key[10] = pkt.innerVlan;
    const fromA = srcFirst ? HIT_FROM_A : 0;
    if (this.lastFound >= 0 && this.sameKey(this.lastFound)) return this.lastFound * 4 + fromA;

    const hash = hashKey(key);
    let slot = hash & this.indexMask;
    for (;;) {
      const flow = this.index[slot];
      if (flow === INDEX_EMPTY) break;
      if (this.hashes[flow] === hash && this.sameKey(flow)) return (this.lastFound = flow) * 4 + fromA;
      slot = (slot + 1) & this.indexMask;
    }
    if (!create) return -1;
    if (this.size >= this.maxFlows) return -1;
    // The index keeps at least twice as many slots as flows: load factor ≤ 0.5 keeps probe chains short.
    if ((this.size + 1) * 2 > this.index.length) {
      this.rebuildIndex(this.index.length * 2);
      return this.lookup(pkt, proto, sport, dport, create);
    }
    const flow = this.freeCount > 0 ? this.freeStack[--this.freeCount] : this.nextFreeSlot();
    this.keys.set(key, flow * KEY_WORDS);
    this.hashes[flow] = hash;
    this.live[flow] = LIVE;
    this.generation[flow]++;
    this.index[slot] = flow;
    this.size++;
    return (this.lastFound = flow) * 4 + HIT_CREATED + fromA;
  }

  // ---- the key, read through the table: endpoints in originator → responder order

  /** 4 or 6. */
  versionOf(flow: number): 4 | 6 {
    return (this.keys[flow * KEY_WORDS + KEY_META] >>> 20) & 1 ? 6 : 4;
  }

  /** IP protocol (6, 17, 1, 58). */
  protoOf(flow: number): number {
    return this.keys[flow * KEY_WORDS + KEY_META] & 0xff;
  }

  /** Outer VLAN id, 0 when untagged. */
  vlanOf(flow: number): number {
    return (this.keys[flow * KEY_WORDS + KEY_META] >>> 8) & 0xfff;
  }

  /** Inner (QinQ) VLAN id, 0 when absent. */
  innerVlanOf(flow: number): number {
    return this.keys[flow * KEY_WORDS + KEY_INNER_VLAN];
  }

  /** Copies the originator's address (IPv4 in word 0, IPv6 as four big-endian words) into `into`. */
  /** The originator's address as four words into into[offset..offset+3] (IPv4 in the first). */
  origAddress(flow: number, into: Uint32Array, offset = 0): Uint32Array {
    return this.copyAddress(flow * KEY_WORDS + (this.origIsA[flow] === 1 ? 0 : 4), into, offset);
  }

  respAddress(flow: number, into: Uint32Array, offset = 0): Uint32Array {
    return this.copyAddress(flow * KEY_WORDS + (this.origIsA[flow] === 1 ? 4 : 0), into, offset);
  }

  origPort(flow: number): number {
    const ports = this.keys[flow * KEY_WORDS + 8];
    return this.origIsA[flow] === 1 ? ports >>> 16 : ports & 0xffff;
  }

  respPort(flow: number): number {
    const ports = this.keys[flow * KEY_WORDS + 8];
    return this.origIsA[flow] === 1 ? ports & 0xffff : ports >>> 16;
  }

  /**
   * Sets which side originated the flow, from the hit that created it: the sender of that packet, unless
   * `senderIsResponder` (a flow first seen at its SYN-ACK).
   */
  setOriginator(hit: number, senderIsResponder: boolean): void {
    this.origIsA[hitFlow(hit)] = hitFromA(hit) !== senderIsResponder ? 1 : 0;
  }

  /** Whether the packet of this hit came from the flow's originator. */
  fromOriginator(hit: number): boolean {
    return hitFromA(hit) === (this.origIsA[hitFlow(hit)] === 1);
  }

  private copyAddress(at: number, into: Uint32Array, offset: number): Uint32Array {
    const keys = this.keys;
    into[offset] = keys[at];
    into[offset + 1] = keys[at + 1];
    into[offset + 2] = keys[at + 2];
    into[offset + 3] = keys[at + 3];
    return into;
  }

  /** Removes a flow; its index may be reused (with a new generation) by the next new flow. */
  remove(flow: number): void {
    if (this.live[flow] !== 1) return;
    let slot = this.hashes[flow] & this.indexMask;
    while (this.index[slot] !== flow) slot = (slot + 1) & this.indexMask;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = slot;
    let next = (hole + 1) & this.indexMask;
    while (this.index[next] !== INDEX_EMPTY) {
      const home = this.hashes[this.index[next]] & this.indexMask;
      if (((next - home) & this.indexMask) >= ((next - hole) & this.indexMask)) {
        this.index[hole] = this.index[next];
        hole = next;
      }
      next = (next + 1) & this.indexMask;
    }
    this.index[hole] = INDEX_EMPTY;
    this.live[flow] = ENDED;
    if (flow === this.lastFound) this.lastFound = -1;
    this.size--;
    // A slot the scan has still to reach is found there: stacked too, it would be handed out twice.
    if (flow < this.scanFrom || flow >= this.scanEnd) {
      this.freeStack[this.freeCount++] = flow;
      if (this.freeCount > this.freeHigh) this.freeHigh = this.freeCount;
    }
  }

  /** The lowest free slot the scan after releaseSparse has still to reach, else a slot never used. */
  private nextFreeSlot(): number {
    while (this.scanFrom < this.scanEnd) {
      const flow = this.scanFrom++;
      if (this.live[flow] !== 1) return flow;
    }
    return this.highWater++;
  }

  private sameKey(flow: number): boolean {
    const base = flow * KEY_WORDS;
    const keys = this.keys;
    const key = this.probe;
    for (let i = 0; i < KEY_WORDS; i++) if (keys[base + i] !== key[i]) return false;
    return true;
  }

  /** A hash index of `slots` (rounded up to a power of two) over the live flows. */
  private rebuildIndex(slots: number): void {
    let size = 1;
    while (size < slots) size <<= 1;
    slots = size;
    this.index = new Int32Array(slots).fill(INDEX_EMPTY);
    this.indexMask = slots - 1;
    for (let flow = 0; flow < this.highWater; flow++) {
      if (this.live[flow] !== 1) continue;
      let slot = this.hashes[flow] & this.indexMask;
      while (this.index[slot] !== INDEX_EMPTY) slot = (slot + 1) & this.indexMask;
      this.index[slot] = flow;
    }
  }
}

function compareEndpoints(a: Uint32Array, aport: number, b: Uint32Array, bport: number): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return aport - bport;
}

/** FNV-1a over the key words, then a finalizer so the low bits (the slot) mix well. */
function hashKey(key: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < KEY_WORDS; i++) {
    h = Math.imul(h ^ key[i], 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** `old`, or a copy of it grown to `length` values (zeros after its own). */
export function grownTo<C extends FlowColumn>(old: C, length: number): C {
  if (old.length >= length) return old;
  const next = new (old.constructor as new (length: number) => C)(length);
  next.set(old);
  return next;
}
