/** Fragment reassembly through the dissector: hand-built IPv4 and IPv6 fragments of one UDP datagram. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dissector } from './dissector.js';
import { FragmentReassembler } from './ip-fragments.js';
import { Packet } from './packet.js';
import { defaultProtocols } from './protocols/index.js';
import { WeirdCounter } from './weirds.js';

const LINKTYPE_RAW = 101;

/** A UDP datagram 10.0.0.1:1000 → 10.0.0.2:53 with `size` payload bytes (0, 1, 2, ...). */
function udpDatagram(size: number): Buffer {
  const udp = Buffer.alloc(8 + size);
  udp.writeUInt16BE(1000, 0);
  udp.writeUInt16BE(53, 2);
  udp.writeUInt16BE(8 + size, 4);
  for (let i = 0; i < size; i++) udp[8 + i] = i & 0xff;
  return udp;
}

/** IPv4 fragment: 20-byte header with id 0x1234, offset in bytes, MF flag. */
function ipv4Fragment(data: Buffer, offset: number, more: boolean): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + data.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE((more ? 0x2000 : 0) | (offset / 8), 6);
  h[8] = 64;
  h[9] = 17;
  h.writeUInt32BE(0x0a000001, 12);
  h.writeUInt32BE(0x0a000002, 16);
  return Buffer.concat([h, data]);
}

/** IPv6 fragment: fixed header + fragment header (id 0xabcdef01). */
function ipv6Fragment(data: Buffer, offset: number, more: boolean): Buffer {
  const h = Buffer.alloc(48);
  h[0] = 0x60;
  h.writeUInt16BE(8 + data.length, 4);
  h[6] = 44;
  h[7] = 64;
  h[23] = 1; // ::1
  h[39] = 2; // ::2
  h[40] = 17;
  h.writeUInt16BE(offset | (more ? 1 : 0), 42);
  h.writeUInt32BE(0xabcdef01, 44);
  return Buffer.concat([h, data]);
}

function harness() {
  const weirds = new WeirdCounter();
  const seen: Array<{ sport: number; dport: number; payload: number; ipLength: number }> = [];
  const pkt = new Packet();
  const dissector = new Dissector(defaultProtocols, weirds, (p) => seen.push({ sport: p.srcPort, dport: p.dstPort, payload: p.payloadLength, ipLength: p.ipLength }), new FragmentReassembler(weirds));
  let ts = 100;
  const feed = (frame: Buffer, at?: number) => {
    ts = at ?? ts + 0.001;
    pkt.reset(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length, frame.length, ts, LINKTYPE_RAW, 0);
    dissector.dissect(pkt);
  };
  return { weirds, seen, feed, dissector };
}

test('IPv4: two fragments out of order make one UDP datagram, counted once', () => {
  const h = harness();
  const udp = udpDatagram(1200);
  h.feed(ipv4Fragment(udp.subarray(800), 800, false));
  assert.equal(h.seen.length, 0);
  h.feed(ipv4Fragment(udp.subarray(0, 800), 0, true));
  assert.deepEqual(h.seen, [{ sport: 1000, dport: 53, payload: 1200, ipLength: 20 + 1208 }]);
});

test('IPv6: three fragments make one datagram; a missing piece makes none and times out as a weird', () => {
  const h = harness();
  const udp = udpDatagram(2000);
  h.feed(ipv6Fragment(udp.subarray(0, 1000), 0, true));
  h.feed(ipv6Fragment(udp.subarray(1000, 1504), 1000, true));
  h.feed(ipv6Fragment(udp.subarray(1504), 1504, false));
  assert.deepEqual(h.seen, [{ sport: 1000, dport: 53, payload: 2000, ipLength: 40 + 2008 }]);
  // Layers count frames: three frames carry an IPv6 header (the reassembled datagram's is the last one's).
  assert.equal(h.dissector.layerCounts().ipv6, 3);
  assert.equal(h.dissector.layerCounts().udp, 1);
  h.feed(ipv6Fragment(udp.subarray(0, 1000), 0, true), 200);
  h.feed(ipv4Fragment(udpDatagram(8), 0, true), 240); // another datagram, past the 30 s limit of the first
  assert.equal(h.weirds.get('fragment_timeout'), 1);
  assert.equal(h.seen.length, 1);
});

test('overlapping fragments: the first received wins, and the overlap is a weird', () => {
  const h = harness();
  const udp = udpDatagram(16);
  const forged = Buffer.from(udp.subarray(8, 24)).fill(0xee);
  h.feed(ipv4Fragment(udp.subarray(0, 16), 0, true));
  h.feed(ipv4Fragment(forged, 8, false)); // rewrites bytes 8..15 and adds 16..23
  assert.equal(h.seen.length, 1);
  assert.equal(h.weirds.get('fragment_overlap'), 1);
});

test('observers are called for the layers they name, each of several in turn', () => {
  const weirds = new WeirdCounter();
  let udpSeen = 0;
  const order: string[] = [];
  const dissector = new Dissector(defaultProtocols, weirds, () => {});
  dissector.observe('udp', () => udpSeen++);
  dissector.observe('udp', () => order.push('second'));
  dissector.observe('ipv4', () => order.push('ipv4'));
  const pkt = new Packet();
  const frame = ipv4Fragment(udpDatagram(4), 0, false);
  pkt.reset(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length, frame.length, 1, LINKTYPE_RAW, 0);
  dissector.dissect(pkt);
  assert.equal(udpSeen, 1);
  assert.deepEqual(order, ['ipv4', 'second']);
  assert.throws(() => dissector.observe('nosuch', () => {}), /no decoder named nosuch/);
});
