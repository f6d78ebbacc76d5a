/**
 * Run by live-fanout.test.ts inside a network namespace: opens `members` captures of one interface in one
 * PACKET_FANOUT group (the first creates it, the others join by its id), reads them all, and once `expected`
 * IPv4 frames have come (or 15 s passed) prints one JSON line: for each member, the IPv4 address pairs it saw
 * ("a>b" as sent) and how many frames.
 */
import { META_CAPLEN, META_OFFSET, META_STRIDE, type PacketBatch } from './batch.js';
import { type LiveCapture, openLiveCapture } from './live.js';

const { iface, members, expected } = JSON.parse(process.argv[2]) as { iface: string; members: number; expected: number };
const LIMIT_MS = 15_000;

function ipv4Pair(data: Uint8Array, off: number, caplen: number): string | undefined {
  if (caplen < 34 || data[off + 12] !== 0x08 || data[off + 13] !== 0x00) return undefined;
  const ip = off + 14;
  return `${data.subarray(ip + 12, ip + 16).join('.')}>${data.subarray(ip + 16, ip + 20).join('.')}`;
}

const seen = Array.from({ length: members }, () => ({ pairs: {} as Record<string, number>, frames: 0 }));
let total = 0;
const captures: LiveCapture[] = [];
captures.push(openLiveCapture({ interfaces: [iface], timeoutMs: 20, fanout: { shards: members } }));
for (let i = 1; i < members; i++) captures.push(openLiveCapture({ interfaces: [iface], timeoutMs: 20, fanout: { shards: members, groups: captures[0].fanoutGroups } }));
process.stdout.write(`${JSON.stringify({ event: 'ready', groups: captures.map((c) => c.fanoutGroups) })}\n`);

const finish = () => {
  for (const c of captures) c.close();
  process.stdout.write(`${JSON.stringify({ event: 'final', members: seen })}\n`);
  process.exit(0);
};
setTimeout(finish, LIMIT_MS).unref();

function count(member: number, batch: PacketBatch): void {
  for (let i = 0; i < batch.count; i++) {
    const m = i * META_STRIDE;
    const pair = ipv4Pair(batch.data, batch.meta[m + META_OFFSET], batch.meta[m + META_CAPLEN]);
    if (pair === undefined) continue;
    seen[member].pairs[pair] = (seen[member].pairs[pair] ?? 0) + 1;
    seen[member].frames++;
    if (++total >= expected) finish();
  }
}

captures.forEach(async (capture, member) => {
  for await (const batch of capture) count(member, batch);
});
