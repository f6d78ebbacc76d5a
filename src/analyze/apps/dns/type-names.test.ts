import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opcodeName, qclassName, qtypeName, rcodeName } from './type-names.js';

// Expected names from Zeek's scripts/base/protocols/dns/consts.zeek (query_types, classes, base_errors, opcodes).
test('qtype names, with Zeek\'s fallback', () => {
  assert.deepEqual([1, 28, 5, 33, 64, 65, 255, 257, 41].map(qtypeName), ['A', 'AAAA', 'CNAME', 'SRV', 'SVCB', 'HTTPS', '*', 'CAA', 'OPT']);
  assert.equal(qtypeName(54), 'query-54');
});

test('qclass names, with the mDNS unicast bit left in (as Zeek logs it)', () => {
  assert.deepEqual([1, 3, 254, 255].map(qclassName), ['C_INTERNET', 'C_CHAOS', 'C_NONE', 'C_ANY']);
  assert.equal(qclassName(0x8001), 'qclass-32769');
});

test('rcode names cover the 12-bit extended codes', () => {
  assert.deepEqual([0, 2, 3, 5, 8, 16, 23].map(rcodeName), ['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', 'NXRRSet', 'BADVERS', 'BADCOOKIE']);
  assert.equal(rcodeName(4095), 'rcode-4095');
});

test('opcode names', () => {
  assert.deepEqual([0, 4, 5, 3].map(opcodeName), ['query', 'notify', 'dynamic-update', 'opcode-3']);
});
