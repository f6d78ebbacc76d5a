import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetError, formatTarget, hostPortKey, parseTarget } from './target.js';

test('parses the three target forms', () => {
  assert.deepEqual(parseTarget('unix:/run/loopy/agent.sock'), { kind: 'unix', path: '/run/loopy/agent.sock' });
  assert.deepEqual(parseTarget('tls://10.0.0.5:7070'), { kind: 'tls', host: '10.0.0.5', port: 7070 });
  assert.deepEqual(parseTarget('tls://[fe80::1]:7070'), { kind: 'tls', host: 'fe80::1', port: 7070 });
  assert.deepEqual(parseTarget('ssh://web1.example.org'), { kind: 'ssh', host: 'web1.example.org', port: undefined });
  assert.deepEqual(parseTarget('ssh://root@127.0.0.1:2222'), { kind: 'ssh', host: '127.0.0.1', user: 'root', port: 2222 });
});

test('a plain word is a config name', () => {
  assert.equal(parseTarget('web1'), null);
  assert.equal(parseTarget('db-2.site_a'), null);
});

test('bad targets say what is wrong', () => {
  assert.throws(() => parseTarget('tls://10.0.0.5'), (e: Error) => e instanceof TargetError && /needs a port/.test(e.message));
  assert.throws(() => parseTarget('tls://host:99999'), /bad port '99999'/);
  assert.throws(() => parseTarget('tls://host:http'), /bad port 'http'/);
  assert.throws(() => parseTarget('tls://fe80::1:7070'), /IPv6 address in brackets/);
  assert.throws(() => parseTarget('unix:'), /no socket path/);
  assert.throws(() => parseTarget('ssh://@host'), /bad user name/);
  assert.throws(() => parseTarget('http://host:80'), /cannot understand target 'http:\/\/host:80'/);
});

test('round trip and known_agents keys', () => {
  for (const t of ['unix:/tmp/a.sock', 'tls://h:1', 'tls://[::1]:7070', 'ssh://u@h:22', 'ssh://h']) {
    assert.equal(formatTarget(parseTarget(t)!), t);
  }
  assert.equal(hostPortKey('::1', 7070), '[::1]:7070');
  assert.equal(hostPortKey('10.0.0.5', 7070), '10.0.0.5:7070');
});
