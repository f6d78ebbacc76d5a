/**
 * Live capture from one or more interfaces as an async stream of PacketBatch, the same unit the file
 * readers produce. Each interface is one addon handle (its own thread and kernel ring); their batches are
 * merged in arrival order, each frame tagged with its interface index.
 *
 * Back-pressure: when the consumer falls `highWaterBatches` behind, every handle is paused; the kernel
 * ring absorbs what arrives and, when full, drops and counts it (stats().dropped). Memory never grows
 * without bound and loss is never hidden.
 */
import {
  type CaptureAddon,
  type LiveHandle,
  LIVE_META_CAPLEN,
  LIVE_META_OFFSET,
  LIVE_META_TS_SEC,
  LIVE_META_TS_USEC,
  LIVE_META_WIRELEN,
  LIVE_META_WORDS,
  loadCaptureAddon,
} from './live-addon.js';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from './batch.js';

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
  /** Batches queued for the consumer before capture pauses (default 8). */
  highWaterBatches?: number;
  /** The capture addon; tests pass a fake. Default: the built addon. */
  addon?: CaptureAddon;
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

/** Converts the addon's 5-word meta (offset, caplen, len, ts_sec, ts_usec) to a PacketBatch. */
export function liveBatchToPacketBatch(
  data: Buffer,
  liveMeta: Uint32Array,
  count: number,
  iface: number,
  linkTypes: readonly number[],
  interfaceNames?: readonly string[],
): PacketBatch {
  const meta = new Uint32Array(count * META_STRIDE);
  const ts = new Float64Array(count);
  for (let i = 0, j = 0, k = 0; i < count; i++, j += LIVE_META_WORDS, k += META_STRIDE) {
    meta[k + META_OFFSET] = liveMeta[j + LIVE_META_OFFSET];
    meta[k + META_CAPLEN] = liveMeta[j + LIVE_META_CAPLEN];
    meta[k + META_WIRELEN] = liveMeta[j + LIVE_META_WIRELEN];
    meta[k + META_IFACE] = iface;
    ts[i] = liveMeta[j + LIVE_META_TS_SEC] + liveMeta[j + LIVE_META_TS_USEC] / 1e6;
  }
  return { data, count, meta, ts, linkTypes, interfaceNames };
}

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
  private readonly handles: LiveHandle[] = [];
  private readonly queue: PacketBatch[] = [];
  private readonly highWater: number;
  private readonly lowWater: number;
  private paused = false;
  private closed = false;
  private failure: LiveCaptureError | undefined;
  private wake: (() => void) | undefined;

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
        const handle = addon.openLive(
          device,
          {
            snaplen: options.snaplen,
            bufferBytes: options.bufferMiB === undefined ? undefined : Math.round(options.bufferMiB * 1024 * 1024),
            timeoutMs: options.timeoutMs,
            promisc: options.promisc,
            filter: options.filter,
            linkType: options.linkType,
          },
          (data, meta, count) => this.onBatch(data, meta, count, iface),
          (message) => this.onError(message),
        );
        this.handles.push(handle);
        linkTypes.push(handle.linkType);
        if (handle.warning) warnings.push(`${device}: ${handle.warning}`);
      });
    } catch (err) {
      this.close();
      throw explainOpenError(err, addon);
    }
    Object.freeze(linkTypes);
    this.warnings = Object.freeze(warnings);
  }

  private onBatch(data: Buffer, meta: Uint32Array, count: number, iface: number): void {
    if (this.closed) return;
    this.queue.push(liveBatchToPacketBatch(data, meta, count, iface, this.linkTypes, this.interfaces));
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
    for (const h of this.handles) this.addon.close(h);
    this.notify();
  }

  private async next(): Promise<IteratorResult<PacketBatch>> {
    for (;;) {
      const batch = this.queue.shift();
      if (batch) {
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
