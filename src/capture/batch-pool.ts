/**
 * The slots a live capture's batches are lent in (native/src/batch-pool.c). Allocated once per interface:
 * each slot is a PacketBatch whose data, meta and ts are views of the pool's memory, so a batch reaches
 * the engine with no allocation, no copy and no conversion. The engine is done with a batch when it asks
 * for the next one (as with a file reader's buffer); the slot then goes back to the capture thread.
 */
import { META_STRIDE, type PacketBatch } from './batch.js';
import type { BatchPoolMemory } from './live-addon.js';

/** Bytes of packet data a slot holds (or twice the snaplen, if more): about 7 ms of a saturated gigabit link. */
export const SLOT_BYTES = 2 << 20;
/** Rows per slot: one per 32 bytes of data, more packets than the smallest frames can fill. */
const BYTES_PER_ROW = 32;

/** One slot's batch: its `count` is set each time the slot is handed over. */
export class SlotBatch implements PacketBatch {
  count = 0;
  constructor(
    readonly iface: number,
    readonly slot: number,
    readonly data: Buffer,
    readonly meta: Uint32Array,
    readonly ts: Float64Array,
    readonly linkTypes: readonly number[],
    readonly interfaceNames: readonly string[],
  ) {}
}

export interface BatchPool {
  readonly memory: BatchPoolMemory;
  readonly batches: readonly SlotBatch[];
}

/** A pool of `slots` slots for interface `iface`, sized for `snaplen`-byte packets. */
export function createBatchPool(
  slots: number,
  iface: number,
  snaplen: number,
  linkTypes: readonly number[],
  interfaceNames: readonly string[],
): BatchPool {
  const slotBytes = Math.max(SLOT_BYTES, 2 * snaplen);
  const slotRows = Math.ceil(slotBytes / BYTES_PER_ROW);
  const memory: BatchPoolMemory = {
    data: new ArrayBuffer(slots * slotBytes),
    rows: new ArrayBuffer(slots * slotRows * META_STRIDE * 4),
    ts: new ArrayBuffer(slots * slotRows * 8),
    slots,
    slotBytes,
    slotRows,
    iface,
  };
  const batches: SlotBatch[] = [];
  for (let i = 0; i < slots; i++) {
    batches.push(
      new SlotBatch(
        iface,
        i,
        Buffer.from(memory.data, i * slotBytes, slotBytes),
        new Uint32Array(memory.rows, i * slotRows * META_STRIDE * 4, slotRows * META_STRIDE),
        new Float64Array(memory.ts, i * slotRows * 8, slotRows),
        linkTypes,
        interfaceNames,
      ),
    );
  }
  return { memory, batches };
}
