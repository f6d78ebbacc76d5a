import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockedDomainOf, parseBlocklist } from './blocklist-parse.js';
import { parseAddress } from './addresses.js';

const FILE = `# threat feed, 2024-06-10
203.0.113.7
198.51.100.0/24      # a whole network
2001:db8:bad::/48
Evil.Example.
*.tracker.example
0.0.0.0 ads.example.net
not an entry
300.1.2.3
`;

test('addresses, CIDRs, domains, wildcards and hosts-file lines; bad lines listed with their numbers', () => {
  const list = parseBlocklist(FILE);
  const has = (a: string) => {
    const p = parseAddress(a)!;
    return list.addresses.contains(p.version, p.words);
  };
  assert.ok(has('203.0.113.7'));
  assert.ok(!has('203.0.113.8'));
  assert.ok(has('198.51.100.200'));
  assert.ok(has('2001:db8:bad:1::5'));
  assert.ok(!has('2001:db8:bae::5'));
  assert.deepEqual([...list.domains].sort(), ['ads.example.net', 'evil.example', 'tracker.example']);
  assert.deepEqual(list.invalid.map((i) => i.line), [8, 9]);
});

test('a name is blocked when it is a listed domain or under one', () => {
  const { domains } = parseBlocklist(FILE);
  assert.equal(blockedDomainOf('evil.example', domains), 'evil.example');
  assert.equal(blockedDomainOf('a.b.EVIL.example.', domains), 'evil.example');
  assert.equal(blockedDomainOf('notevil.example', domains), undefined);
  assert.equal(blockedDomainOf('x.tracker.example', domains), 'tracker.example');
  assert.equal(blockedDomainOf('example', domains), undefined);
});
