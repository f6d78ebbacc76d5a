/**
 * Who opened each TCP connection of this host, as the kernel tells it at connect() time: an eBPF program
 * on the tracepoint sock:inet_sock_set_state writes each connect and its outcome to a ring buffer, joined
 * by socket in C (native/src/connect-trace.c, connect-program.c). A process that connects and exits
 * within milliseconds is named, which no /proc walk can promise, and at no cost per connection beyond a
 * record read. Every network namespace's connects come (the tracepoint is global): the caller sorts them.
 * Opened while the agent may still load BPF programs (root, or CAP_BPF + CAP_PERFMON), read after it
 * dropped them; read between capture batches, never on the packet loop.
 */
import { type CaptureAddon, type ConnectTraceHandle, tryLoadCaptureAddon } from '../capture/live-addon.js';

/** A connection and the process that opened it (the arrays are the record's own). */
export interface TracedConnect {
  version: 4 | 6;
  /** SYN_SENT → CLOSE: refused or failed, else established. */
  refused: boolean;
  local: Uint32Array;
  localPort: number;
  remote: Uint32Array;
  remotePort: number;
  /** The process (tgid), its uid and cgroup (v2 id: the inode of its directory), and comm, at connect(). */
  pid: number;
  uid: number;
  cgroupId: number;
  name: string;
}

/** What process attribution reads connects from (tests pass their own). */
export interface ConnectSource {
  read(): TracedConnect[];
  stats(): ConnectTraceStats;
  close(): void;
}

export interface ConnectTraceStats {
  events: number;
  joined: number;
  /** Outcomes whose connect was not seen (made before the trace opened, or the ring was full). */
  unjoined: number;
  /** Connects waiting for their outcome pushed out by another that hashed to the same slot. */
  evicted: number;
}

const RECORD = 72;
/** Records read per call into one reused buffer. */
const BATCH = 1024;
/** 1 MiB: about 10,000 events (two a connection), seconds of 1,000 connections a second between reads. */
const RING_BYTES = 1 << 20;

function words(buf: Buffer, at: number, version: 4 | 6): Uint32Array {
  const out = new Uint32Array(4);
  for (let i = 0; i < (version === 4 ? 1 : 4); i++) out[i] = buf.readUInt32BE(at + 4 * i);
  return out;
}

/** A 72-byte record of connectTraceRead. */
export function parseTracedConnect(buf: Buffer, at: number): TracedConnect {
  const version = buf[at] === 10 ? 6 : 4;
  const comm = buf.subarray(at + 56, at + 72);
  const end = comm.indexOf(0);
  return {
    version, refused: buf[at + 1] !== 1, localPort: buf.readUInt16LE(at + 2), remotePort: buf.readUInt16LE(at + 4),
    pid: buf.readUInt32LE(at + 8), uid: buf.readUInt32LE(at + 12), cgroupId: buf.readUInt32LE(at + 16) + buf.readUInt32LE(at + 20) * 2 ** 32,
    local: words(buf, at + 24, version), remote: words(buf, at + 40, version), name: comm.toString('utf8', 0, end < 0 ? 16 : end),
  };
}

export class ConnectTrace implements ConnectSource {
  private readonly out = Buffer.alloc(BATCH * RECORD);
  private readonly counts = new Float64Array(4);
  private handle: ConnectTraceHandle | undefined;

  private constructor(private readonly addon: CaptureAddon, handle: ConnectTraceHandle) {
    this.handle = handle;
  }

  /** The trace, or why it cannot be had (no addon, an old kernel, no tracefs, not privileged). */
  static open(addon: CaptureAddon | undefined = tryLoadCaptureAddon()): ConnectTrace | string {
    if (addon?.connectTraceOpen === undefined) return 'the capture addon has no connect trace (rebuild it: npm rebuild loopy-netmon)';
    try {
      return new ConnectTrace(addon, addon.connectTraceOpen(RING_BYTES));
    } catch (err) {
      return (err as Error).message;
    }
  }

  read(): TracedConnect[] {
    const found: TracedConnect[] = [];
    if (this.handle === undefined) return found;
    for (;;) {
      const n = this.addon.connectTraceRead!(this.handle, this.out, this.counts);
      for (let i = 0; i < n; i++) found.push(parseTracedConnect(this.out, i * RECORD));
      if (n < BATCH) return found;
    }
  }

  stats(): ConnectTraceStats {
    return { events: this.counts[0], joined: this.counts[1], unjoined: this.counts[2], evicted: this.counts[3] };
  }

  close(): void {
    if (this.handle !== undefined) this.addon.connectTraceClose!(this.handle);
    this.handle = undefined;
  }
}
