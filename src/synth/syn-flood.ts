/**
 * A spoofed SYN flood as a capture file: every frame a TCP SYN to one target host from a random source
 * address and port, to a random destination port (as `hping3 --flood --rand-source -p ++1` sends), or to one
 * port. For the agent's flood test and the memory benchmark: the worst case for per-key state, since nearly
 * every packet brings a new flow, a new source and, across ports, a new target port.
 */
import { PcapWriter } from '../capture/pcap-writer.js';
import { ethernet, fillTransportChecksum, ipv4, tcp } from './frames.js';
import { Rng } from './prng.js';

export interface SynFloodOptions {
  packets: number;
  /** SYNs a second, in the frames' timestamps (default 100,000). */
  rate?: number;
  /** The target's IPv4 address as four bytes (default 198.51.100.7). */
  target?: readonly number[];
  /** One destination port; default random ports. */
  port?: number;
  seed?: number;
  /** Capture time of the first frame (seconds since the epoch). */
  start?: number;
}

const TARGET_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const SENDER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);

export async function writeSynFlood(path: string, options: SynFloodOptions): Promise<void> {
  const rate = options.rate ?? 100_000;
  const start = options.start ?? 1_750_000_000;
  const rng = new Rng(options.seed ?? 1);
  const writer = new PcapWriter(path, { linkType: 1 });
  const frame = Buffer.alloc(64);
  const src = new Uint8Array(4);
  const dst = Uint8Array.from(options.target ?? [198, 51, 100, 7]);
  for (let i = 0; i < options.packets; i++) {
    const s = rng.u32();
    // Never 0.x.x.x, never the target's own /8 twice over: any unicast-looking source will do.
    src.set([(s >>> 24) | 1, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff]);
    let at = ethernet(frame, 0, TARGET_MAC, SENDER_MAC, 0x0800);
    const ipAt = at;
    at = ipv4(frame, at, src, dst, 6, 20, 64, i & 0xffff);
    const l4 = at;
    const dport = options.port ?? 1 + rng.int(65535);
    at = tcp(frame, at, 1024 + rng.int(60000), dport, rng.u32(), 0, 0x02, 1024, 0, 0, 0, 0);
    fillTransportChecksum(frame, ipAt, l4, at);
    const t = start + i / rate;
    const sec = Math.floor(t);
    if (!writer.writeFrame(sec, Math.round((t - sec) * 1e6), frame, 0, at)) await writer.drain();
  }
  await writer.close();
}
