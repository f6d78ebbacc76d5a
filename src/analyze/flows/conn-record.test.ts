/**
 * conn records read the flow table's key words in place: checked here for the cases the word layout makes
 * tricky (IPv6, a flow flipped at its SYN-ACK so the originator is side B, both VLAN tags, ICMP type/code
 * as ports), against values worked out by hand and against the byte-based Community ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, Packet, TCP_ACK, TCP_SYN } from '../../decode/packet.js';
import type { ConnRecord } from '../records.js';
import { communityId } from './community-id.js';
import { connIdOf, connKeyTexts, connRecordOf, flowEndpoints, formatAddress } from './conn-record.js';
import { uidFor } from './uid.js';
import { Connections, DEFAULT_TIMEOUTS, updatedFlow } from './connections.js';

function harness() {
  const ended: ConnRecord[] = [];
  const conns: Connections = new Connections(64, DEFAULT_TIMEOUTS, (flow) => ended.push(connRecordOf(conns, flow, 'dns')));
  return { conns, ended, pkt: new Packet() };
}

function address(pkt: Packet, v6: boolean, src: readonly number[], dst: readonly number[]): void {
  pkt.ipVersion = v6 ? 6 : 4;
  pkt.src.fill(0);
  pkt.dst.fill(0);
  pkt.src.set(src);
  pkt.dst.set(dst);
}

// Inner VLAN 4094: the highest id, all 12 bits (the key once kept 11 of them).
test('IPv6 with both VLAN tags, first seen at the SYN-ACK: the SYN-ACK receiver is the originator', () => {
  const { conns, ended, pkt } = harness();
  // Server 2001:db8::1 port 443 answers client 2001:db8::2 port 40000 (the server's address is the smaller).
  address(pkt, true, [0x20010db8, 0, 0, 1], [0x20010db8, 0, 0, 2]);
  Object.assign(pkt, { ts: 100.5, transport: IPPROTO_TCP, srcPort: 443, dstPort: 40000, tcpFlags: TCP_SYN | TCP_ACK, seq: 7, window: 1000, vlan: 100, innerVlan: 4094, ipLength: 60 });
  const flow = updatedFlow(conns.update(pkt));
  const ep = flowEndpoints(conns, flow);
  assert.deepEqual([...ep.orig], [0x20010db8, 0, 0, 2]);
  assert.deepEqual([ep.origPort, ep.respPort, ep.vlan, ep.innerVlan, ep.version], [40000, 443, 100, 4094, 6]);
  assert.deepEqual(connIdOf(conns, flow), { uid: uidFor(1), 'id.orig_h': '2001:db8::2', 'id.orig_p': 40000, 'id.resp_h': '2001:db8::1', 'id.resp_p': 443, proto: 'tcp' });
  conns.finishAll();
  const r = ended[0];
  const bytes = (w: number[]) => Uint8Array.from(w.flatMap((x) => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff]));
  assert.equal(r.community_id, communityId(IPPROTO_TCP, bytes([0x20010db8, 0, 0, 2]), bytes([0x20010db8, 0, 0, 1]), 40000, 443));
  assert.deepEqual([r.history, r.vlan, r.inner_vlan, r.service, r.resp_pkts, r.resp_ip_bytes], ['^h', 100, 4094, 'dns', 1, 60]);
});

test('ICMP echo: type and counterpart as ports, the Community ID spec value, no VLAN fields', () => {
  const { conns, ended, pkt } = harness();
  // The spec's ICMP example: 192.168.0.89 → 192.168.0.1 echo request (type 8, code 0).
  address(pkt, false, [0xc0a80059], [0xc0a80001]);
  Object.assign(pkt, { ts: 5, transport: IPPROTO_ICMP, icmpType: 8, icmpCode: 0, vlan: 0, innerVlan: 0, ipLength: 84, payloadWireLength: 56 });
  conns.update(pkt);
  conns.finishAll();
  const r = ended[0];
  assert.deepEqual([r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p'], r.proto, r.conn_state], ['192.168.0.89', 8, '192.168.0.1', 0, 'icmp', 'OTH']);
  assert.equal(r.community_id, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
  assert.ok(!('vlan' in r) && !('inner_vlan' in r) && !('rtt' in r));
});

test('a UDP flow keeps its originator when the answer comes first from the smaller address', () => {
  const { conns, ended, pkt } = harness();
  address(pkt, false, [0x0a000009], [0x0a000001]); // 10.0.0.9:5000 → 10.0.0.1:53
  Object.assign(pkt, { ts: 1, transport: IPPROTO_UDP, srcPort: 5000, dstPort: 53, vlan: 0, innerVlan: 0, ipLength: 40, payloadWireLength: 12 });
  conns.update(pkt);
  conns.finishAll();
  assert.deepEqual([ended[0]['id.orig_h'], ended[0]['id.orig_p'], ended[0]['id.resp_h'], ended[0]['id.resp_p'], ended[0].history], ['10.0.0.9', 5000, '10.0.0.1', 53, 'D']);
});

test('a new flow in the slot of an ended one gets its own uid and addresses', () => {
  const { conns, ended, pkt } = harness();
  address(pkt, false, [0x0a000009], [0x0a000001]); // 10.0.0.9:5000 → 10.0.0.1:53
  Object.assign(pkt, { ts: 1, transport: IPPROTO_UDP, srcPort: 5000, dstPort: 53, vlan: 0, innerVlan: 0, ipLength: 40, payloadWireLength: 12 });
  const flow = updatedFlow(conns.update(pkt));
  const id = connIdOf(conns, flow);
  assert.equal(connIdOf(conns, flow).uid, id.uid);
  conns.end(flow, 'closed');
  assert.equal(ended[0].uid, id.uid);
  assert.equal(ended[0]['id.orig_h'], '10.0.0.9');
  address(pkt, false, [0x0a000007], [0x0a000002]); // 10.0.0.7:6000 → 10.0.0.2:53, in the freed slot
  pkt.srcPort = 6000;
  assert.equal(updatedFlow(conns.update(pkt)), flow);
  const next = connIdOf(conns, flow);
  assert.deepEqual([next['id.orig_h'], next['id.orig_p'], next['id.resp_h']], ['10.0.0.7', 6000, '10.0.0.2']);
  assert.notEqual(next.uid, id.uid);
  conns.finishAll();
  assert.deepEqual([ended[1].uid, ended[1]['id.orig_h']], [next.uid, '10.0.0.7']);
});

test('a batch row of key words deep in a column (as the store reads them) gives that row\'s texts, IPv4 and IPv6', () => {
  // Two rows of eight words: an IPv4 flow at 0 and an IPv6 flow at 8 (2001:db8::1 -> 2001:db8::2).
  const words = new Uint32Array(16);
  words[0] = 0x0a000005;
  words[4] = 0x5db8d822;
  words.set([0x20010db8, 0, 0, 1, 0x20010db8, 0, 0, 2], 8);
  assert.equal(formatAddress(4, words, 0), '10.0.0.5');
  assert.equal(formatAddress(4, words, 4), '93.184.216.34');
  const v6 = connKeyTexts(IPPROTO_UDP, 6, words, 8, 40_000, 53, 2);
  assert.equal(formatAddress(6, words, 8), '2001:db8::1');
  assert.equal(formatAddress(6, words, 12), '2001:db8::2');
  assert.equal(connKeyTexts(IPPROTO_TCP, 4, words, 0, 51_000, 443, 1).uid, uidFor(1));
  assert.equal(v6.uid, uidFor(2));
  const bytes = (last: string) => Buffer.from(`20010db8000000000000000000000${last}`, 'hex');
  assert.equal(v6.communityId, communityId(IPPROTO_UDP, bytes('001'), bytes('002'), 40_000, 53));
});
