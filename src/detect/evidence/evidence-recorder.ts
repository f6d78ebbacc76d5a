/**
 * Evidence pcaps: when an alert opens, the packets of the hosts/flows involved, from `before` seconds ahead
 * of the incident's first sign to `after` seconds past the alert, are written as a classic pcap beside the
 * alert. The "after" part has not been captured yet when the alert fires, so a request waits until capture
 * time passes its end (or input ends), then the frames are picked out of the packet ring by decoding each
 * one in the window (off the packet path: only when a file is due). Writing goes through an injected sink.
 */
import { PcapBytes } from '../../capture/pcap-writer.js';
import { Dissector } from '../../decode/dissector.js';
import { Packet } from '../../decode/packet.js';
import { defaultProtocols } from '../../decode/protocols/index.js';
import { WeirdCounter } from '../../decode/weirds.js';
import { hostKeyOf, type HostKey } from '../addresses.js';
import type { AlertSignal } from '../types.js';
import type { PacketRing } from './packet-ring.js';

export interface EvidenceSink {
  /** Where the pcap of this alert will be (put in the alert record before the file exists). */
  pathFor(alertId: string): string;
  write(path: string, pcap: Buffer): Promise<void>;
}

export interface EvidenceOptions {
  before: number;
  after: number;
  maxPackets: number;
}

interface Request {
  alertId: string;
  path: string;
  from: number;
  to: number;
  hosts: Set<HostKey>;
  pairs: Set<string>;
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);

export class EvidenceRecorder {
  private readonly pending: Request[] = [];
  private readonly writes: Promise<void>[] = [];
  private readonly dissector: Dissector;
  private readonly pkt = new Packet();
  private viewOf: Buffer | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Files written, and what went wrong writing the others. */
  written = 0;
  readonly failures: Array<{ path: string; error: Error }> = [];

  constructor(
    private readonly ring: PacketRing,
    private readonly sink: EvidenceSink,
    private readonly options: EvidenceOptions,
  ) {
    this.dissector = new Dissector(defaultProtocols, new WeirdCounter(), () => {});
  }

  get waiting(): number {
    return this.pending.length;
  }

  request(alertId: string, signal: AlertSignal): string {
    const path = this.sink.pathFor(alertId);
    const req: Request = {
      alertId,
      path,
      from: Math.min(signal.first_seen, signal.ts) - this.options.before,
      to: signal.ts + this.options.after,
      hosts: new Set(),
      pairs: new Set(),
    };
    this.widenRequest(req, signal);
    this.pending.push(req);
    return path;
  }

  /** The incident went on before its file was written: include its new hosts too. */
  widen(alertId: string, signal: AlertSignal): void {
    const req = this.pending.find((r) => r.alertId === alertId);
    if (req) this.widenRequest(req, signal);
  }

  private widenRequest(req: Request, signal: AlertSignal): void {
    const scope = signal.capture;
    for (const h of scope?.hosts ?? []) req.hosts.add(h);
    for (const [a, b] of scope?.pairs ?? []) req.pairs.add(pairKey(a, b));
  }

  /**
   * Writes the files whose window has passed at capture time `now`, then lets the ring drop frames no file
   * waits for that are older than RING_MAX_AGE (the memory of a burst goes back once it is over).
   */
  second(now: number): void {
    let keepFrom = now - RING_MAX_AGE;
    for (let i = 0; i < this.pending.length; ) {
      if (now >= this.pending[i].to) this.writeOut(this.pending.splice(i, 1)[0]);
      else keepFrom = Math.min(keepFrom, this.pending[i++].from);
    }
    this.ring.expire(keepFrom);
  }

  /** End of input: writes every file still waiting, with what was captured. */
  finish(): void {
    for (const req of this.pending.splice(0)) this.writeOut(req);
  }

  /** Resolves when every file handed to the sink is written (failures are kept in `failures`). */
  async settle(): Promise<void> {
    await Promise.all(this.writes.splice(0));
  }

  /** The frames of a request, oldest first. */
  private select(req: Request): { linkType: number; pcap: PcapBytes } {
    const pcap = new PcapBytes();
    let linkType = -1;
    const pkt = this.pkt;
    this.ring.forEach(req.from, req.to, (data, offset, caplen, wirelen, ts, lt) => {
      if (linkType !== -1 && lt !== linkType) return; // a classic pcap has one link type
      if (this.viewOf !== data) {
        this.viewOf = data;
        this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      }
      pkt.reset(data, this.view, offset, caplen, wirelen, ts, lt, 0);
      this.dissector.dissect(pkt);
      if (!matches(req, pkt)) return;
      linkType = lt;
      pcap.add(ts, data, offset, caplen, wirelen);
      return pcap.count < this.options.maxPackets;
    });
    // Holding on to the last chunk read would keep it alive after the ring lets it go.
    this.viewOf = undefined;
    this.view = EMPTY_VIEW;
    pkt.reset(EMPTY, EMPTY_VIEW, 0, 0, 0, 0, -1, 0);
    return { linkType, pcap };
  }

  private writeOut(req: Request): void {
    const selected = this.select(req);
    const pcap = selected.pcap.bytes(selected.linkType < 0 ? 1 : selected.linkType);
    this.writes.push(
      this.sink.write(req.path, pcap).then(
        () => {
          this.written++;
        },
        (error: Error) => {
          this.failures.push({ path: req.path, error });
        },
      ),
    );
  }
}

/**
 * Seconds of capture time the ring keeps frames no evidence file waits for: ample for the 5 s before an
 * alert's first sign, and short enough that an idle agent holds no ring of old traffic.
 */
const RING_MAX_AGE = 20;

function pairKey(a: HostKey, b: HostKey): string {
  const x = String(a);
  const y = String(b);
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

const ARP_ETHERNET_IPV4 = 28;

function matches(req: Request, pkt: Packet): boolean {
  let src: HostKey;
  let dst: HostKey;
  const a = pkt.arpOffset;
  if (a >= 0 && pkt.frameEnd - a >= ARP_ETHERNET_IPV4 && pkt.data[a + 4] === 6 && pkt.data[a + 5] === 4) {
    src = pkt.data.readInt32BE(a + 14);
    dst = pkt.data.readInt32BE(a + 24);
  } else if (pkt.ipVersion === 4 || pkt.ipVersion === 6) {
    src = hostKeyOf(pkt.ipVersion, pkt.src);
    dst = hostKeyOf(pkt.ipVersion, pkt.dst);
  } else {
    return false;
  }
  if (req.hosts.has(src) || req.hosts.has(dst)) return true;
  return req.pairs.size > 0 && req.pairs.has(pairKey(src, dst));
}
