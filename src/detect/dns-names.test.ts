/** DomainSplitter: the registered domain and the rest of a name, hand-checked, odd names included. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainSplitter } from './dns-names.js';

test('registered domains: two labels, three under a multi-label suffix, the user\'s suffixes too', () => {
  const s = new DomainSplitter(['corp', 'my.corp']);
  const cases: Array<[string, string, string]> = [
    ['www.example.com', 'example.com', 'www'],
    ['A.B.Example.COM.', 'example.com', 'a.b'],
    ['example.com', 'example.com', ''],
    ['com', 'com', ''],
    ['x.co.uk', 'x.co.uk', ''],
    ['a.b.co.uk', 'b.co.uk', 'a'],
    ['co.uk', 'co.uk', ''],
    ['a.b.c.s3.amazonaws.com', 'c.s3.amazonaws.com', 'a.b'],
    ['4.3.2.1.in-addr.arpa', '1.in-addr.arpa', '4.3.2'],
    ['deep.host.my.corp', 'host.my.corp', 'deep'],
    ['a..b', '.b', 'a'],
    ['', '', ''],
  ];
  for (const [name, domain, sub] of cases) assert.deepEqual(s.split(name), { domain, sub }, name);
});
