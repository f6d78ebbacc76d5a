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

test('nats:// targets: every agent on a hub, or one; the agent name kept whole; mistakes say the forms', () => {
  assert.deepEqual(parseTarget('nats://hub.example'), { kind: 'nats', host: 'hub.example', port: 4222 });
  assert.deepEqual(parseTarget('nats://10.0.0.9:4333/web1.example.com'), { kind: 'nats', host: '10.0.0.9', port: 4333, agent: 'web1.example.com' });
  assert.deepEqual(parseTarget('nats://viewer:s3cret@[::1]:4222/db1'), { kind: 'nats', host: '::1', port: 4222, agent: 'db1', user: 'viewer', password: 's3cret' });
  assert.equal(formatTarget(parseTarget('nats://h:4222/web1.example.com')!), 'nats://h:4222/web1.example.com');
  assert.throws(() => parseTarget('nats://h/a/b'), /an agent name has no '\/'/);
  assert.throws(() => parseTarget('nats://h?x=1'), /nats:\/\/HOST\[:PORT\]\/AGENT \(one\)/);
});
