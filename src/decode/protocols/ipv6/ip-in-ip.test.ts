import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, ipv6 } from '../test-helpers.js';

// IP in IP goes through the IpProto table (4 → IPv4, 41 → IPv6); each inner IP header counts a tunnel level.

// tshark -r corpus/ipv6/zeek__tunnels-6in4.pcap -x, frame 1: IPv4 1.2.3.4 → 5.6.7.8 protocol 41, then IPv6
// dead::beef → cafe::babe with UDP 30000 → 13000 and 4 bytes "XXXX".
const SIX_IN_FOUR = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00   ..............E.
0010  00 48 00 01 00 00 40 29 6a 79 01 02 03 04 05 06   .H....@)jy......
0020  07 08 60 00 00 00 00 0c 11 40 de ad 00 00 00 00   ..\`......@......
0030  00 00 00 00 00 00 00 00 be ef ca fe 00 00 00 00   ................
0040  00 00 00 00 00 00 00 00 ba be 75 30 32 c8 00 0c   ..........u02...
0050  83 d2 58 58 58 58                                 ..XXXX
`;

// tshark -r corpus/ipv6/zeek__tunnels-4in6.pcap -x, frame 1: IPv6 2002:4637:d5d3::4637:d5d3 → 2001:4860:0:2001::68
// next header 4, then IPv4/TCP SYN 70.55.213.211:31337 → 192.88.99.1:80.
const FOUR_IN_SIX = `
0000  00 90 1a 41 65 41 00 16 cf 41 9c 20 86 dd 60 00   ...AeA...A. ..\`.
0010  00 00 00 28 04 40 20 02 46 37 d5 d3 00 00 00 00   ...(.@ .F7......
0020  00 00 46 37 d5 d3 20 01 48 60 00 00 20 01 00 00   ..F7.. .H\`.. ...
0030  00 00 00 00 00 68 45 00 00 28 00 01 00 00 40 06   .....hE..(....@.
0040  3b 6b 46 37 d5 d3 c0 58 63 01 7a 69 00 50 00 00   ;kF7...Xc.zi.P..
0050  00 00 00 00 00 00 50 02 20 00 d5 c4 00 00         ......P. .....
`;

// tshark -r corpus/ipv6/zeek__tunnels-6in6in6.pcap -x, frame 1: IPv6 in IPv6 in IPv6, the innermost
// dead::beef → cafe::babe with UDP 30000 → 13000.
const SIX_IN_SIX_IN_SIX = `
0000  ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00   ..............\`.
0010  00 00 00 5c 29 40 fe ed 00 00 00 00 00 00 00 00   ...\\)@..........
0020  00 00 00 00 be ef fe ed 00 00 00 00 00 00 00 00   ................
0030  00 00 00 00 ca fe 60 00 00 00 00 34 29 40 ba be   ......\`....4)@..
0040  00 00 00 00 00 00 00 00 00 00 00 00 be ef de ad   ................
0050  00 00 00 00 00 00 00 00 00 00 00 00 ba be 60 00   ..............\`.
0060  00 00 00 0c 11 40 de ad 00 00 00 00 00 00 00 00   .....@..........
0070  00 00 00 00 be ef ca fe 00 00 00 00 00 00 00 00   ................
0080  00 00 00 00 ba be 75 30 32 c8 00 0c 83 d2 58 58   ......u02.....XX
0090  58 58                                             XX
`;

test('6in4: the inner IPv6 replaces the outer addresses, one tunnel level', () => {
  const { transports, weirds } = dissectHex(SIX_IN_FOUR);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.ipVersion, 6);
  assert.equal(t.ipOffset, 34);
  assert.deepEqual(t.src, ipv6('dead::beef'));
  assert.deepEqual(t.dst, ipv6('cafe::babe'));
  assert.equal(Buffer.from(t.payloadHex, 'hex').toString(), 'XXXX');
});

test('4in6: the inner IPv4 clears the upper address words', () => {
  const t = dissectHex(FOUR_IN_SIX).transports[0];
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.ipVersion, 4);
  assert.deepEqual(t.src, [ipv4('70.55.213.211'), 0, 0, 0]);
  assert.deepEqual(t.dst, [ipv4('192.88.99.1'), 0, 0, 0]);
  assert.equal(t.srcPort, 31337);
});

test('6in6in6: two tunnel levels', () => {
  const t = dissectHex(SIX_IN_SIX_IN_SIX).transports[0];
  assert.equal(t.tunnelDepth, 2);
  assert.equal(t.ipOffset, 14 + 80);
  assert.deepEqual(t.src, ipv6('dead::beef'));
  assert.equal(t.dstPort, 13000);
});
