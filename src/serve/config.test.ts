import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAgentConfig, resolveAgentSettings, validateAgentConfig } from './config.js';
import { runCli } from '../test-support/cli.js';

/** Loads `text` as if it were the file /etc/loopy/agent.json (no disk needed). */
function loadText(text: string, path = '/etc/loopy/agent.json') {
  return loadAgentConfig(path, () => text);
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'LOOPY_CONFIG');
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err.message;
  }
  assert.fail('no error');
}

test('a full config file is accepted and every key reaches the settings', () => {
  const c = loadText(JSON.stringify({
    interfaces: ['eth0', 'eth1'], filter: 'not port 22', snaplen: 128, buffer: 16, promisc: true, user: 'loopy',
    data: '/srv/loopy', log: '/var/log/loopy.log', logLevel: 'debug', statsOut: '/tmp/s.ndjson', stdout: true, detect: false, detectConfig: '/etc/loopy/detect.json',
    evidence: '/srv/evidence', maxFlows: 1000, workers: 2, localNets: ['192.0.2.0/24'], topN: 5, format: 'ecs', zeekLogs: '/var/log/loopy-zeek', zeekFormat: 'json',
  }));
  const s = resolveAgentSettings(c, {});
  assert.deepEqual(s, {
    source: { kind: 'live', interfaces: ['eth0', 'eth1'] },
    filter: 'not port 22', snaplen: 128, bufferMiB: 16, promisc: true, user: 'loopy', dataDir: '/srv/loopy',
    logFile: '/var/log/loopy.log', logLevel: 'debug', statsOut: '/tmp/s.ndjson', detect: false, detectConfig: '/etc/loopy/detect.json', evidenceDir: '/srv/evidence', stdout: true, maxFlows: 1000, workers: 2,
    localNets: ['192.0.2.0/24'], topN: 5, format: 'ecs', zeekLogs: { dir: '/var/log/loopy-zeek', format: 'json' },
    serve: { listen: [{ kind: 'unix', path: '/run/loopy/agent.sock' }] },
  });
});

test('the hub: an address, one way to log in, TLS files; each mistake one line saying what to give', () => {
  const live = { interfaces: ['any'] };
  assert.equal(resolveAgentSettings({}, live).hub, undefined);
  assert.deepEqual(resolveAgentSettings({ hub: 'nats://hub.example:4333', hubCreds: '/etc/loopy/web1.creds', hubCa: '/ca.pem' }, live).hub, {
    host: 'hub.example', port: 4333, credsFile: '/etc/loopy/web1.creds', tls: { caFile: '/ca.pem', certFile: undefined, keyFile: undefined },
  });
  assert.deepEqual(resolveAgentSettings({ hub: 'nats://10.0.0.9', hubUser: 'web1', hubPassword: 'secret' }, live).hub, { host: '10.0.0.9', port: 4222, user: 'web1', password: 'secret' });
  assert.throws(() => resolveAgentSettings({ hubCreds: '/x.creds' }, live), /--hub-creds needs --hub nats:\/\/HOST\[:PORT\]/);
  assert.throws(() => resolveAgentSettings({ hub: 'tls://h:1' }, live), /--hub 'tls:\/\/h:1': expected nats:\/\/HOST/);
  assert.throws(() => resolveAgentSettings({ hub: 'nats://h/web1' }, live), /its name is --name/);
  assert.throws(() => resolveAgentSettings({ hub: 'nats://u:p@h' }, live), /not in the address/);
  assert.throws(() => resolveAgentSettings({ hub: 'nats://h', hubUser: 'web1' }, live), /--hub-user needs a password/);
  assert.throws(() => resolveAgentSettings({ hub: 'nats://h', hubCreds: '/c', hubUser: 'u', hubPassword: 'p' }, live), /not both/);
  assert.throws(() => resolveAgentSettings({ hub: 'nats://h', hubCert: '/c.pem' }, live), /both --hub-cert and --hub-key/);
});

test('the protocol server: --listen specs, the default socket (root: /run/loopy, else DATA), metrics, TLS files', () => {
  assert.deepEqual(resolveAgentSettings({ data: '/srv/l' }, { interfaces: ['any'] }, 1000).serve, { listen: [{ kind: 'unix', path: '/srv/l/agent.sock' }] });
  const s = resolveAgentSettings(
    { listen: ['unix:/tmp/a.sock', 'tls://0.0.0.0:7441', 'tls://[::1]:7442'], metrics: '9464', tlsCert: '/c.pem', tlsKey: '/k.pem', token: 'x'.repeat(16), name: 'web-01' },
    { interfaces: ['any'] },
    0,
  );
  assert.deepEqual(s.serve, {
    listen: [{ kind: 'unix', path: '/tmp/a.sock' }, { kind: 'tls', host: '0.0.0.0', port: 7441 }, { kind: 'tls', host: '::1', port: 7442 }],
    metrics: { host: '127.0.0.1', port: 9464 }, tlsCertFile: '/c.pem', tlsKeyFile: '/k.pem', token: 'x'.repeat(16), name: 'web-01',
  });
  assert.throws(() => resolveAgentSettings({ listen: ['tcp://x:1'] }, { interfaces: ['any'] }), /expected unix:PATH or tls:\/\/HOST:PORT/);
  assert.throws(() => resolveAgentSettings({ tlsCert: '/c.pem' }, { interfaces: ['any'] }), /both --tls-cert and --tls-key/);
  assert.throws(() => resolveAgentSettings({ metrics: 'host:port' }, { interfaces: ['any'] }), /expected HOST:PORT/);
  assert.throws(() => validateAgentConfig({ token: 'short' }, 'f.json'), /16 characters or more/);
});

test('defaults: no user named (loopy, else nobody: privileges.ts), data /var/lib/loopy, info logs, no promiscuous mode', () => {
  const s = resolveAgentSettings({}, { interfaces: ['any'] });
  assert.deepEqual([s.user, s.dataDir, s.logLevel, s.promisc, s.stdout], [undefined, '/var/lib/loopy', 'info', false, false]);
});

test('errors name the file, the key path and what is expected, in one line', () => {
  assert.equal(
    configError(() => loadText('{"interfaces": ["eth0", 3]}')),
    '/etc/loopy/agent.json: key "interfaces[1]": expected an interface name, got 3',
  );
  assert.equal(
    configError(() => loadText('{"snaplen": 0}')),
    '/etc/loopy/agent.json: key "snaplen": expected a whole number from 1 to 262144, got 0',
  );
  assert.equal(
    configError(() => loadText('{"promisc": "yes"}')),
    '/etc/loopy/agent.json: key "promisc": expected true or false, got "yes"',
  );
  assert.equal(
    configError(() => loadText('{"logLevel": "loud"}')),
    '/etc/loopy/agent.json: key "logLevel": expected one of fatal, error, warn, info, debug, trace, got "loud"',
  );
  assert.match(configError(() => loadText('{"snaplne": 96}')), /^\/etc\/loopy\/agent\.json: unknown key "snaplne" \(known keys: interfaces, filter, snaplen, /);
  assert.equal(configError(() => loadText('["eth0"]')), '/etc/loopy/agent.json: expected a JSON object of settings, got ["eth0"]');
});

test('a JSON syntax error gives the line and column, comments before it counted', () => {
  // Line 3 lacks the comma after line 2: JSON.parse stops at its first quote, line 3 column 3.
  const msg = configError(() => loadText('{ // eth0 only\n  "interfaces": ["eth0"] /* the uplink */\n  "promisc": true\n}', '/tmp/a.json'));
  assert.match(msg, /^\/tmp\/a\.json: not valid JSON at line 3, column 3: /);
});

test('comments and trailing commas are allowed, as in tsconfig', () => {
  const text = '// the agent\n{\n  "interfaces": ["eth0",], /* the uplink */\n  "filter": "port 53", // "not port 22"\n}\n';
  assert.deepEqual(loadText(text), { interfaces: ['eth0'], filter: 'port 53' });
});

test('a config that is not JSON is never quoted back: a path to a secret file prints none of it', () => {
  const shadow = 'root:$6$saltsalt$hashhashhash:19500:0:99999:7:::\ndaemon:*:19500:0:99999:7:::\n';
  const msg = configError(() => loadAgentConfig('/etc/loopy/agent.json', () => shadow));
  assert.equal(msg, '/etc/loopy/agent.json: not valid JSON at line 1, column 1: fix the file (it must be one JSON object of settings)');
  assert.ok(!msg.includes('root') && !msg.includes('$6$'));
});

test('the default path may be absent; a path given with --config must exist', () => {
  const absent = () => {
    throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  };
  assert.deepEqual(loadAgentConfig(undefined, absent), {});
  assert.equal(
    configError(() => loadAgentConfig('/nowhere/agent.json', absent)),
    '/nowhere/agent.json: cannot read the config file (no such file): give an existing file with --config FILE',
  );
});

test('flags are checked by the same schema and named by their flag', () => {
  assert.equal(
    configError(() => validateAgentConfig({ snaplen: 'abc' }, 'command line')),
    'command line: -s/--snaplen: expected a whole number from 1 to 262144, got "abc"',
  );
  // The flow table's own bound (flow ids keep 22 bits for the slot): beyond it, refused here, not later.
  assert.equal(
    configError(() => validateAgentConfig({ maxFlows: 5_000_000 }, 'command line')),
    'command line: --max-flows: expected a whole number from 1 to 4194304, got 5000000',
  );
  assert.equal(
    configError(() => validateAgentConfig({ speed: -2 }, 'command line')),
    'command line: --speed: expected a replay speed factor above 0 (1 = real time), got -2',
  );
});

test('flags win over the file; a replay asked on the command line replaces the file\'s interfaces', () => {
  const file = { interfaces: ['eth0'], snaplen: 96, user: 'loopy', filter: 'tcp' };
  const s = resolveAgentSettings(file, { interfaces: ['eth1'], user: 'daemon' });
  assert.deepEqual([s.source, s.snaplen, s.user, s.filter], [{ kind: 'live', interfaces: ['eth1'] }, 96, 'daemon', 'tcp']);
  const r = resolveAgentSettings({ interfaces: ['eth0'] }, { read: 'x.pcap', max: true });
  assert.deepEqual(r.source, { kind: 'replay', file: 'x.pcap', speed: undefined, max: true, loop: false, stay: false });
});

test('impossible combinations are refused with what to do', () => {
  assert.match(configError(() => resolveAgentSettings({}, {})), /^nothing to capture: give -i IFACE/);
  assert.match(configError(() => resolveAgentSettings({}, { interfaces: ['eth0'], read: 'x.pcap' })), /^-i and -r cannot be used together/);
  assert.equal(configError(() => resolveAgentSettings({}, { interfaces: ['eth0'], loop: true })), '--loop only applies to a replay (-r FILE)');
  assert.equal(configError(() => resolveAgentSettings({}, { read: 'x.pcap', snaplen: 64 })), '-s/--snaplen only applies to live capture (-i IFACE)');
  assert.match(configError(() => resolveAgentSettings({}, { read: 'x.pcap', speed: 2, max: true })), /^--speed and --max cannot be used together/);
  assert.match(configError(() => resolveAgentSettings({}, { interfaces: ['eth0'], localNets: ['10.0.0.0/33'] })), /^--local-net: local network "10\.0\.0\.0\/33": prefix length/);
});

test('loopy agent with a bad config file: one line on stderr, exit status 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-config-'));
  try {
    const path = join(dir, 'agent.json');
    writeFileSync(path, '{"interfaces": "eth0"}');
    const r = runCli(['agent', '--config', path]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `loopy: ${path}: key "interfaces": expected a list of interface names, e.g. ["eth0"], got "eth0"\n`);
    // An empty config file, so whatever /etc/loopy/agent.json holds on this machine plays no part.
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{}');
    const flags = runCli(['agent', '-i', 'eth0', '--buffer', 'lots', '--config', empty]);
    assert.equal(flags.status, 2);
    assert.match(flags.stderr, /^loopy: command line: --buffer: expected the kernel ring size in MiB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
