import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientConfigError, defaultConfigDir, loadClientConfig, parseClientConfig, resolveTarget } from './client-config.js';
import { testDir } from '../test-support/temp-dir.js';

const P = '/home/u/.config/loopy/config.json';

test('a valid config resolves names to targets with their token', () => {
  const dir = testDir('loopy-cfg-');
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ agents: { web1: { target: 'tls://10.0.0.5:7070', token: 's3cret' }, local: { target: 'unix:/run/loopy.sock' } } }));
  assert.deepEqual(resolveTarget('web1', path), { name: 'web1', target: { kind: 'tls', host: '10.0.0.5', port: 7070 }, token: 's3cret', fingerprint: undefined });
  assert.deepEqual(resolveTarget('unix:/x', path).target, { kind: 'unix', path: '/x' });
  assert.throws(() => resolveTarget('web2', path), /no agent named 'web2' in .*config\.json \(known: web1, local\)/);
});

test('a missing file is an empty config', () => {
  assert.deepEqual(loadClientConfig(join(tmpdir(), 'no-such-dir-loopy', 'config.json')), { agents: {} });
});

test('errors name the key', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseClientConfig(text, P), (e: Error) => e instanceof ClientConfigError && re.test(e.message), text);
  bad('{', /config\.json is not valid JSON/);
  bad('{"agents":{"web1":{"target":5}}}', /config\.json: agents\.web1\.target: /);
  bad('{"agents":{"web1":{}}}', /agents\.web1\.target/);
  bad('{"agents":{"web1":{"target":"tls://h"}}}', /agents\.web1\.target: target 'tls:\/\/h' needs a port/);
  bad('{"agents":{"web1":{"target":"web2"}}}', /agents\.web1\.target: 'web2' is a name/);
  bad('{"agents":{"web1":{"target":"unix:/a","tokn":"x"}}}', /agents\.web1: .*tokn/);
  bad('{"agent":{}}', /\(top level\): .*agent/);
});

test('config dir: LOOPY_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
  assert.equal(defaultConfigDir({ LOOPY_CONFIG_DIR: '/etc/x' }), '/etc/x');
  assert.equal(defaultConfigDir({ XDG_CONFIG_HOME: '/xdg' }), '/xdg/loopy');
  assert.match(defaultConfigDir({}), /\.config\/loopy$/);
});
