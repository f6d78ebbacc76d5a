/**
 * Live capture from one or more interfaces as an async stream of PacketBatch, the same unit the file
 * readers produce. Each interface is one addon handle (its own thread and kernel ring); their batches are
 * merged in arrival order, each frame tagged with its interface index.
 *
 * Back-pressure: when the consumer falls `highWaterBatches` behind, every handle is paused; the kernel
 * ring absorbs what arrives and, when full, drops and counts it (stats().dropped). Memory never grows
 * without bound and loss is never hidden.
 */
import { type CaptureAddon, type LiveHandle, loadCaptureAddon } from './live-addon.js';
import type { PacketBatch } from './batch.js';
import { type BatchPool, type SlotBatch, createBatchPool } from './batch-pool.js';

export interface LiveCaptureOptions {
  /** Device names; "any" captures every interface with Linux cooked headers (SLL, or SLL2 via linkType). */
  interfaces: string[];
  /** Kernel filter in tcpdump syntax, applied on every interface. */
  filter?: string;
  snaplen?: number;
  /** Kernel ring per interface (default 32 MiB: about a second of 300 kpps of small packets). */
  bufferMiB?: number;
  promisc?: boolean;
  /** Block timeout (default 200 ms): the longest a packet waits in the kernel before it is handed over. */
  timeoutMs?: number;
  /** LINKTYPE_* to request, e.g. 276 for SLL2 on "any" (it carries the interface index). */
  linkType?: number;
  /** Batches queued for the consumer before capture pauses (default 8); each interface has this many slots and a few more. */
  highWaterBatches?: number;
  /** The capture addon; tests pass a fake. Default: the built addon. */
  addon?: CaptureAddon;
  /**
   * One of `shards` captures sharing the packets by address pair (PACKET_FANOUT; see `--workers`): the
   * first opens with no `groups` and reports them in `fanoutGroups`; the others pass those, one per interface.
   */
  fanout?: { shards: number; groups?: readonly number[] };
}

export interface InterfaceStats {
  interface: string;
  /** Packets the kernel passed the filter (on loopback each packet counts twice). */
  received: number;
  /** Dropped because the kernel ring was full. */
  dropped: number;
  /** Dropped by the interface or driver, where the kernel knows. */
  ifDropped: number;
  /** Lost in the addon (batch memory could not be allocated). */
  addonDropped: number;
}

export interface LiveCapture extends AsyncIterable<PacketBatch> {
  readonly interfaces: readonly string[];
  /** LINKTYPE_* of each interface, by interface index. */
  readonly linkTypes: readonly number[];
  /** libpcap activation warnings, prefixed with the interface name. */
  readonly warnings: readonly string[];
  /** The PACKET_FANOUT group of each interface, by interface index (empty without fanout). */
  readonly fanoutGroups: readonly number[];
  stats(): InterfaceStats[];
  /** Replaces the kernel filter of every interface (undefined: none), e.g. when exclusions change. */
  setFilter(expression: string | undefined): void;
  /** Stops every capture thread; iteration ends after the batches already queued. Safe to call twice. */
  close(): void;
}

/** An error with a stable code: LOOPY_CAPTURE_FAILED (capture stopped), or the addon's open/filter codes. */
export class LiveCaptureError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const PERMISSION_HINT =
  'run as root or give node CAP_NET_RAW: setcap cap_net_raw+eip "$(readlink -f "$(command -v node)")"';

export function openLiveCapture(options: LiveCaptureOptions): LiveCapture {
  if (options.interfaces.length === 0) {
    throw new LiveCaptureError('LOOPY_CAPTURE_BAD_ARGUMENT', 'live capture needs at least one interface (-i NAME)');
  }
  return new MergedLiveCapture(options, options.addon ?? loadCaptureAddon());
}

class MergedLiveCapture implements LiveCapture {
  readonly interfaces: readonly string[];
  readonly linkTypes: readonly number[];
  readonly warnings: readonly string[];
  readonly fanoutGroups: number[] = [];
  private readonly handles: LiveHandle[] = [];
  private readonly pools: BatchPool[] = [];
  private readonly queue: SlotBatch[] = [];
  /** The batch the consumer holds, until it asks for the next one. */
  private lent: SlotBatch | undefined;

  private readonly highWater: number;
  private readonly lowWater: number;
  private paused = false;
  private closed = false;
  private failure: LiveCaptureError | undefined;
  private wake: (() => void) | undefined;
  private readonly trimTimer: NodeJS.Timeout;

  constructor(
    options: LiveCaptureOptions,
    private readonly addon: CaptureAddon,
  ) {
    this.interfaces = Object.freeze([...options.interfaces]);
    this.highWater = Math.max(1, options.highWaterBatches ?? 8);
    this.lowWater = Math.floor(this.highWater / 4);
    const linkTypes: number[] = [];
    const warnings: string[] = [];
    // Frozen once all handles are open; the array is shared by every batch (no per-batch copy).
    this.linkTypes = linkTypes;
    try {
      this.interfaces.forEach((device, iface) => {
        const pool = createBatchPool(this.highWater + SPARE_SLOTS, iface, options.snaplen ?? MAX_SNAPLEN, linkTypes, this.interfaces);
        this.pools.push(pool);
        const handle = addon.openLive(
          device,
          {
            pool: pool.memory,
            snaplen: options.snaplen,
            bufferBytes: options.bufferMiB === undefined ? undefined : Math.round(options.bufferMiB * 1024 * 1024),
            timeoutMs: options.timeoutMs,
            promisc: options.promisc,
            filter: options.filter,
            linkType: options.linkType,
            fanoutShards: options.fanout?.shards,
            fanoutGroup: options.fanout?.groups?.[iface],
          },
          (slot: number, count: number) => this.onBatch(slot, count, iface),
          (message) => this.onError(message),
        );
        this.handles.push(handle);
        linkTypes.push(handle.linkType);
        if (handle.warning) warnings.push(`${device}: ${handle.warning}`);
        if (handle.fanoutGroup !== undefined) this.fanoutGroups.push(handle.fanoutGroup);
      });
    } catch (err) {
      this.close();
      throw explainOpenError(err, addon);
    }
    Object.freeze(linkTypes);
    this.warnings = Object.freeze(warnings);
    // Twice per idle period: a window of batch sizes then closes within 1.5 periods, whatever the timer's jitter.
    this.trimTimer = setInterval(() => this.trimIdleSlots(), (SLOT_IDLE_SECONDS * 1000) / 2).unref();
  }

  /** After a burst, the batch pages it needed beyond the steady few go back to the kernel. */
  private trimIdleSlots(): void {
    for (const h of this.handles) this.addon.trimIdleSlots(h, SLOT_IDLE_SECONDS);
  }

  private onBatch(slot: number, count: number, iface: number): void {
    if (this.closed) return;
    const batch = this.pools[iface].batches[slot];
    batch.count = count;
    this.queue.push(batch);
    if (!this.paused && this.queue.length >= this.highWater) this.setPaused(true);
    this.notify();
  }

  private onError(message: string): void {
    if (this.closed || this.failure) return;
    this.failure = new LiveCaptureError('LOOPY_CAPTURE_FAILED', message);
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    for (const h of this.handles) this.addon.setPaused(h, paused);
  }

  setFilter(expression: string | undefined): void {
    for (const h of this.handles) this.addon.setFilter(h, expression ?? '');
  }

  stats(): InterfaceStats[] {
    return this.handles.map((h, i) => ({ interface: this.interfaces[i], ...this.addon.stats(h) }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.trimTimer);
    for (const h of this.handles) this.addon.close(h);
    this.notify();
  }

  /** The consumer asked for the next batch: it is done with the one it held, whose slot goes back. */
  private giveBackLent(): void {
    const lent = this.lent;
    if (lent === undefined) return;
    this.lent = undefined;
    if (!this.closed) this.addon.releaseSlot(this.handles[lent.iface], lent.slot);
  }

  private async next(): Promise<IteratorResult<PacketBatch>> {
    this.giveBackLent();
    for (;;) {
      const batch = this.queue.shift();
      if (batch) {
        this.lent = batch;
        if (this.paused && !this.closed && this.queue.length <= this.lowWater) this.setPaused(false);
        return { value: batch, done: false };
      }
      if (this.failure) {
        const failure = this.failure;
        this.close();
        throw failure;
      }
      if (this.closed) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<PacketBatch> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }
}

/** Slots beyond the high-water mark: the one the consumer holds, the one being filled, and some in flight. */
const SPARE_SLOTS = 4;
/** A free slot unused this long has its pages given back (checked as often). */
const SLOT_IDLE_SECONDS = 10;
/** libpcap's largest snaplen, the addon's default. */
const MAX_SNAPLEN = 262144;

function explainOpenError(err: unknown, addon: CaptureAddon): unknown {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code !== 'string' || !e.code.startsWith('LOOPY_')) return err;
  if (e.code === 'LOOPY_CAPTURE_PERMISSION_DENIED') return new LiveCaptureError(e.code, `${e.message}: ${PERMISSION_HINT}`);
  // A typo in -i is the likely cause: the names it could have been say so at once.
  const others = e.code === 'LOOPY_CAPTURE_NO_SUCH_DEVICE' ? interfacesHere(addon) : undefined;
  return new LiveCaptureError(e.code, others ? `${e.message}; ${others}` : String(e.message));
}

/** Past this many, the names of the rest are left out of a one-line error (a container host has hundreds). */
const MAX_NAMED_INTERFACES = 16;

/** "available: eth0, any, lo" for the line saying a device is not there, in libpcap's order (up ones first). */
function interfacesHere(addon: CaptureAddon): string | undefined {
  let names: string[];
  try {
    names = addon.listDevices().map((d) => d.name);
  } catch {
    return undefined;
  }
  if (names.length === 0) return 'this machine has no interface to capture on';
  const more = names.length - MAX_NAMED_INTERFACES;
  return `available: ${names.slice(0, MAX_NAMED_INTERFACES).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
