import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityId, communityIdOfKey } from './community-id.js';

const ip = (s: string) => Uint8Array.from(s.split('.').map(Number));

// Baseline values from the Community ID specification's README (seed 0 unless stated).
test('community id of the spec TCP example, both directions', () => {
  const a = ip('128.232.110.120');
  const b = ip('66.35.250.204');
  assert.equal(communityId(6, a, b, 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId(6, b, a, 80, 34855), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});

test('community id changes with the seed', () => {
  const a = ip('128.232.110.120');
  const b = ip('66.35.250.204');
  assert.notEqual(communityId(6, a, b, 34855, 80, 1), communityId(6, a, b, 34855, 80, 0));
});

test('icmp echo request and reply share one community id; unpaired types do not flip', () => {
  const a = ip('192.168.0.89');
  const b = ip('192.168.0.1');
  assert.equal(communityId(1, a, b, 8, 0), communityId(1, b, a, 0, 0));
  assert.notEqual(communityId(1, a, b, 3, 1), communityId(1, b, a, 3, 1));
});

/** Addresses as key words (IPv4 in one word, IPv6 as four big-endian words) and as bytes. */
function words(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0);
  return out;
}
const ip6 = (groups: number[]) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));

test('communityIdOfKey over key words equals communityId over the address bytes', () => {
  const cases: Array<[number, Uint8Array, Uint8Array, number, number]> = [
    [6, ip('128.232.110.120'), ip('66.35.250.204'), 34855, 80],
    [6, ip('66.35.250.204'), ip('128.232.110.120'), 80, 34855],
    [17, ip('10.0.0.1'), ip('10.0.0.1'), 53, 40000], // same address: the ports decide the order
    [1, ip('192.168.0.89'), ip('192.168.0.1'), 8, 0], // echo request: two-way
    [1, ip('192.168.0.1'), ip('192.168.0.89'), 0, 8], // echo reply first
    [1, ip('192.168.0.89'), ip('192.168.0.1'), 3, 1], // unreachable: one-way, never flipped
    [58, ip6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]), ip6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), 128, 129],
    [17, ip6([0xfe80, 0, 0, 0, 0, 0, 0, 0xffff]), ip6([0xfe80, 0, 0, 0, 0, 0, 0, 0x1]), 5353, 5353],
    [6, ip6([0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0x67]), ip6([0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x21]), 45878, 443],
  ];
  for (const [proto, src, dst, sport, dport] of cases) {
    const v6 = src.length === 16;
    // Originator's words at 0, responder's at 8 (as in the flow table's key, with other words between).
    const keys = new Uint32Array(16).fill(0xdeadbeef);
    keys.set(words(src), 0);
    keys.set(words(dst), 8);
    for (const seed of [0, 1]) {
      assert.equal(communityIdOfKey(proto, v6, keys, 0, 8, sport, dport, seed), communityId(proto, src, dst, sport, dport, seed), `${proto} ${sport}->${dport} seed ${seed}`);
    }
  }
  assert.equal(communityIdOfKey(6, false, Uint32Array.of(words(ip('66.35.250.204'))[0], words(ip('128.232.110.120'))[0]), 1, 0, 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});
