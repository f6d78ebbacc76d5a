/**
 * Run by live.test.ts inside a network namespace (`ip netns exec NS node ... this-file '{json}'`): captures
 * with openLiveCapture and reports on stdout, one JSON object per line:
 *   {"event":"ready","linkTypes":[...]}          once the capture is open
 *   {"event":"progress","counts":[...]}          after each batch
 *   {"event":"final","counts":[...],"stats":[...],"linkTypes":[...]}   after "stop" on stdin (or 30 s)
 * counts[i] = { udp, icmp, other, frames, bytes } for interface i. Classifying frames here (not with the
 * project's decoder) keeps this test about capture only.
 */
import { createSocket } from 'node:dgram';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from './batch.js';
import { openLiveCapture } from './live.js';

interface ChildConfig {
  interfaces: string[];
  filter?: string;
  linkType?: number;
  /** Bind this UDP port so datagrams to it get no ICMP port-unreachable. */
  listenPort?: number;
  /** After "ready", send this many datagrams to 127.0.0.1:9 (closed port). */
  loopbackDatagrams?: number;
}

interface Counts {
  udp: number;
  icmp: number;
  other: number;
  frames: number;
  bytes: number;
}

const HARD_LIMIT_MS = 30_000;

/** IPv4 protocol number of a frame, or -1 when it is not IPv4. */
function ipv4Protocol(data: Buffer, off: number, caplen: number, linkType: number): number {
  let ip: number;
  let etherType: number;
  if (linkType === 1) {
    etherType = data.readUInt16BE(off + 12);
    ip = off + 14;
    while ((etherType === 0x8100 || etherType === 0x88a8) && ip + 4 <= off + caplen) {
      etherType = data.readUInt16BE(ip + 2);
      ip += 4;
    }
  } else if (linkType === 113) {
    etherType = data.readUInt16BE(off + 14);
    ip = off + 16;
  } else if (linkType === 276) {
    etherType = data.readUInt16BE(off);
    ip = off + 20;
  } else {
    return -1;
  }
  if (etherType !== 0x0800 || ip + 20 > off + caplen) return -1;
  return data[ip + 9];
}

function count(batch: PacketBatch, counts: Counts[]): void {
  for (let i = 0; i < batch.count; i++) {
    const m = i * META_STRIDE;
    const iface = batch.meta[m + META_IFACE];
    const c = counts[iface];
    const proto = ipv4Protocol(batch.data, batch.meta[m + META_OFFSET], batch.meta[m + META_CAPLEN], batch.linkTypes[iface]);
    if (proto === 17) c.udp++;
    else if (proto === 1) c.icmp++;
    else c.other++;
    c.frames++;
    c.bytes += batch.meta[m + META_WIRELEN];
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as ChildConfig;
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const capture = openLiveCapture({ interfaces: config.interfaces, filter: config.filter, linkType: config.linkType });
  const counts: Counts[] = config.interfaces.map(() => ({ udp: 0, icmp: 0, other: 0, frames: 0, bytes: 0 }));
  const sockets = [];
  if (config.listenPort) {
    const listener = createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(config.listenPort, resolve));
    sockets.push(listener);
  }
  const stop = () => capture.close();
  process.stdin.on('data', (d) => d.toString().includes('stop') && stop());
  const limit = setTimeout(stop, HARD_LIMIT_MS);
  say({ event: 'ready', linkTypes: capture.linkTypes, warnings: capture.warnings });
  if (config.loopbackDatagrams) {
    const s = createSocket('udp4');
    for (let i = 0; i < config.loopbackDatagrams; i++) s.send(`loop ${i}`, 9, '127.0.0.1');
    sockets.push(s);
  }
  for await (const batch of capture) {
    count(batch, counts);
    say({ event: 'progress', counts });
  }
  clearTimeout(limit);
  say({ event: 'final', counts, stats: capture.stats(), linkTypes: capture.linkTypes });
  for (const s of sockets) s.close();
  process.stdin.destroy();
}

main().catch((err: Error & { code?: string }) => {
  process.stdout.write(`${JSON.stringify({ event: 'error', code: err.code, message: err.message })}\n`);
  process.exit(1);
});
