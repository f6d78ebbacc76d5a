import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, TCP_OPTS_SYN, ethernet, fillTransportChecksum, icmp, internetChecksum, ipv4, ipv6,
  onesSum, padEthernet, tcp, udp,
} from './frames.js';
import { dnsQuery } from './dns.js';
import { formatIpv6, parseIpv4, parseIpv6 } from './hosts.js';

const CLIENT_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x0a, 0x10, 0x14]);
const ROUTER_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x0a, 0x00, 0x01]);

test('IPv4 header checksum: the worked example of RFC 1071 style (Wikipedia "IPv4 header checksum")', () => {
  // 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7: 192.168.0.1 -> 192.168.0.199, UDP, TTL 64, length 115.
  const b = Buffer.alloc(20);
  ipv4(b, 0, parseIpv4('192.168.0.1'), parseIpv4('192.168.0.199'), PROTO_UDP, 95, 64, 0);
  b[6] = 0x40; // the example has DF set too
  assert.equal(b.toString('hex'), '45000073000040004011b861c0a80001c0a800c7');
  assert.equal(internetChecksum(b, 0, 20), 0, 'a header with its checksum sums to 0xffff');
});

test('odd-length data is summed with a zero pad byte', () => {
  assert.equal(onesSum(Uint8Array.from([0x01, 0x02, 0x03]), 0, 3, 0), 0x0102 + 0x0300);
});

test('TCP SYN with Linux options, checksum over the IPv4 pseudo-header', () => {
  // tcpdump -r -vv -X of this frame: "192.168.10.20.40000 > 203.0.113.10.443: Flags [S], cksum 0xa05e (correct),
  // seq 16909060, win 64240, options [mss 1460,sackOK,TS val 1000 ecr 0,nop,wscale 7]", IP id 7238, DF, ttl 64.
  const expected =
    '0200000a0001' + '0200000a1014' + '0800' +
    '4500003c1c46400040 0617af c0a80a14 cb00710a'.replace(/ /g, '') +
    '9c40 01bb 01020304 00000000 a002 faf0 a05e 0000'.replace(/ /g, '') +
    '020405b4 0402 080a000003e800000000 01 030307'.replace(/ /g, '');
  const b = Buffer.alloc(128);
  let o = ethernet(b, 0, ROUTER_MAC, CLIENT_MAC, 0x0800);
  const ip = o;
  o = ipv4(b, o, parseIpv4('192.168.10.20'), parseIpv4('203.0.113.10'), PROTO_TCP, 40, 64, 0x1c46);
  const l4 = o;
  o = tcp(b, o, 40000, 443, 0x01020304, 0, 0x02, 64240, TCP_OPTS_SYN, 1000, 0, 1460);
  fillTransportChecksum(b, ip, l4, o);
  assert.equal(b.subarray(0, o).toString('hex'), expected);
});

test('DNS query over IPv6 in a VLAN-tagged frame, UDP checksum over the IPv6 pseudo-header', () => {
  // tcpdump -e -vv: "vlan 10, p 0, ethertype IPv6, (flowlabel 0x12345, hlim 64, next-header UDP (17) payload length: 41)
  // 2001:db8:10::14.50000 > 2001:db8:10::1.53: [udp sum ok] 48879+ A? www.example.com. (33)"
  const expected =
    '0200000a0001' + '0200000a1014' + '8100000a' + '86dd' +
    '60012345' + '0029' + '11' + '40' + '20010db8001000000000000000000014' + '20010db8001000000000000000000001' +
    'c350' + '0035' + '0029' + 'd723' +
    'beef01000001000000000000' + '03777777076578616d706c6503636f6d00' + '0001' + '0001';
  const q = dnsQuery(0xbeef, 'www.example.com', 1);
  const b = Buffer.alloc(200);
  let o = ethernet(b, 0, ROUTER_MAC, CLIENT_MAC, 0x86dd, 10);
  const ip = o;
  o = ipv6(b, o, parseIpv6('2001:db8:10::14'), parseIpv6('2001:db8:10::1'), PROTO_UDP, 8 + q.length, 64, 0x12345);
  const l4 = o;
  o = udp(b, o, 50000, 53, q.length);
  q.copy(b, o);
  o += q.length;
  fillTransportChecksum(b, ip, l4, o);
  assert.equal(b.subarray(0, o).toString('hex'), expected);
});

test('ICMPv6 echo request: checksum includes the pseudo-header', () => {
  // tcpdump -vv: "2001:db8:10::14 > 2001:db8:10::1: [icmp6 sum ok] ICMP6, echo request, id 258, seq 1" (payload "ping").
  const b = Buffer.alloc(100);
  let o = ethernet(b, 0, ROUTER_MAC, CLIENT_MAC, 0x86dd);
  const ip = o;
  o = ipv6(b, o, parseIpv6('2001:db8:10::14'), parseIpv6('2001:db8:10::1'), PROTO_ICMPV6, 12, 64, 0);
  const l4 = o;
  o = icmp(b, o, 128, 0, 0x0102, 1);
  o += b.write('ping', o, 'latin1');
  fillTransportChecksum(b, ip, l4, o);
  assert.equal(b.subarray(l4, o).toString('hex'), '8000443e01020001' + '70696e67');
});

test('ICMP echo request: no pseudo-header, and a short frame is zero-padded to 60 bytes', () => {
  // tshark: icmp.checksum 0x182c, status Good; tcpdump -e: "length 60 ... ICMP echo request, id 258, seq 1, length 12".
  const b = Buffer.alloc(100, 0xee); // garbage where the padding goes, to prove it is cleared
  let o = ethernet(b, 0, ROUTER_MAC, CLIENT_MAC, 0x0800);
  const ip = o;
  o = ipv4(b, o, parseIpv4('192.168.10.20'), parseIpv4('192.168.10.1'), PROTO_ICMP, 12, 64, 0xabcd);
  const l4 = o;
  o = icmp(b, o, 8, 0, 0x0102, 1);
  o += b.write('ping', o, 'latin1');
  fillTransportChecksum(b, ip, l4, o);
  const end = padEthernet(b, 0, o);
  assert.equal(end, 60);
  assert.equal(
    b.subarray(0, end).toString('hex'),
    '0200000a0001' + '0200000a1014' + '0800' + '45000020abcd40004001f9a9c0a80a14c0a80a01' + '0800182c01020001' + '70696e67' + '00'.repeat(14),
  );
});

test('UDP checksum that computes to zero is sent as 0xffff', () => {
  // Find a payload word that makes the sum come out 0: the checksum field must then read ffff (RFC 768).
  const b = Buffer.alloc(100);
  let o = ipv4(b, 0, parseIpv4('10.0.0.1'), parseIpv4('10.0.0.2'), PROTO_UDP, 10, 64, 0);
  const l4 = o;
  o = udp(b, o, 1000, 2000, 2);
  b.writeUInt16BE(0, o);
  fillTransportChecksum(b, 0, l4, o + 2);
  const c = b.readUInt16BE(l4 + 6);
  b.writeUInt16BE(c, o); // the word equal to the checksum makes the complement sum 0
  fillTransportChecksum(b, 0, l4, o + 2);
  assert.equal(b.readUInt16BE(l4 + 6), 0xffff);
});

test('IPv6 text follows RFC 5952', () => {
  assert.equal(formatIpv6(parseIpv6('2001:db8:10::1d')), '2001:db8:10::1d');
  assert.equal(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(parseIpv6('::1')), '::1');
  assert.equal(formatIpv6(parseIpv6('2001:db8:1:2:3:4:5:6')), '2001:db8:1:2:3:4:5:6');
});
