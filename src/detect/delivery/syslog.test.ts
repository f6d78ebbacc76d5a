/** RFC 5424 formatting, and delivery to real UDP, TCP and TLS receivers on 127.0.0.1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { parseDetectionConfig } from '../config.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import selfsigned from 'selfsigned';
import { SyslogDelivery, formatSyslog5424, octetCounted, syslogPort } from './syslog.js';
import { ALERT } from '../testing/alert-fixture.js';
import { testDir } from '../../test-support/temp-dir.js';

const FORMAT = { facility: 16, hostname: 'web-01', appName: 'loopy', procId: '4242' };

test('an alert as an RFC 5424 line: PRI, version, timestamp, header fields, structured data, message', () => {
  assert.equal(
    formatSyslog5424(ALERT, FORMAT),
    '<132>1 2024-06-10T06:13:22.001Z web-01 loopy 4242 port_scan [loopy@32473 alert_id="AVGo6oKnmKqf7yTsdn" state="open" severity="medium" src="192.168.10.250" dst="192.168.20.10" first_seen="1718000001.671446" last_seen="1718000002.000796" community_id="1:LQU9qZlK+B5F3KDmev6m5PMibrg="] 192.168.10.250 scanned 100 TCP ports on 192.168.20.10 in 0.3 s',
  );
  // local0 (16) × 8 + warning (4) = 132. Closed alerts are informational (6); high is error (3).
  assert.match(formatSyslog5424({ ...ALERT, state: 'closed' }, FORMAT), /^<134>1 .* closed: 192\.168/);
  assert.match(formatSyslog5424({ ...ALERT, severity: 'high' }, FORMAT), /^<131>1 /);
  // SD-PARAM values escape ", \ and ]; header fields lose spaces and control characters.
  const odd = formatSyslog5424({ ...ALERT, src: 'a"b\\c]d' }, { ...FORMAT, hostname: 'my host\n' });
  assert.match(odd, / myhost loopy /);
  assert.ok(odd.includes('src="a\\"b\\\\c\\]d"'));
  assert.equal(octetCounted('héllo').toString(), '6 héllo');
});

test('UDP: one datagram per alert', { timeout: 10_000 }, async () => {
  const server = createSocket('udp4');
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  const got: string[] = [];
  const arrived = new Promise<void>((resolve) => server.on('message', (m) => got.push(m.toString()) === 2 && resolve()));
  try {
    const cfg = parseDetectionConfig({ delivery: { syslog: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, hostname: 'web-01' } } }).delivery.syslog!;
    const syslog = new SyslogDelivery(cfg, undefined, undefined, undefined, '4242');
    syslog.deliver(ALERT);
    syslog.deliver({ ...ALERT, state: 'closed' });
    await arrived;
    await syslog.close(2000);
    assert.equal(got[0], formatSyslog5424(ALERT, FORMAT));
    assert.match(got[1], /^<134>1 /);
  } finally {
    server.close();
  }
});

test('TCP: octet-counted frames on one connection', { timeout: 10_000 }, async () => {
  let buffered = '';
  const frames: string[] = [];
  let done: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (done = resolve));
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let m = /^(\d+) /.exec(buffered); m && buffered.length >= m[0].length + Number(m[1]); m = /^(\d+) /.exec(buffered)) {
        frames.push(buffered.slice(m[0].length, m[0].length + Number(m[1])));
        buffered = buffered.slice(m[0].length + Number(m[1]));
      }
      if (frames.length === 3) done();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const cfg = parseDetectionConfig({ delivery: { syslog: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, protocol: 'tcp', hostname: 'web-01' } } }).delivery.syslog!;
    const syslog = new SyslogDelivery(cfg, undefined, undefined, undefined, '4242');
    for (const state of ['open', 'update', 'closed'] as const) syslog.deliver({ ...ALERT, state });
    await arrived;
    await syslog.close(2000);
    assert.deepEqual(frames.map((f) => f.slice(0, 6)), ['<132>1', '<132>1', '<134>1']);
    assert.equal(frames[0], formatSyslog5424(ALERT, FORMAT));
  } finally {
    server.close();
  }
});

/** A TLS syslog receiver on 127.0.0.1 with a certificate of its own CA (one self-signed certificate: the CA is itself). */
async function tlsReceiver(): Promise<{ server: TlsServer; port: number; caFile: string; frames: string[]; wait: (n: number) => Promise<void> }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'syslog-test' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  } as Parameters<typeof selfsigned.generate>[1]);
  const dir = testDir('loopy-syslog-tls-');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pems.cert);
  const frames: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createTlsServer({ cert: pems.cert, key: pems.private }, (socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      // RFC 5425 §4.3: MSG-LEN SP SYSLOG-MSG, MSG-LEN in octets.
      for (let m = /^([1-9]\d*) /.exec(buffered); m && Buffer.byteLength(buffered) >= m[0].length + Number(m[1]); m = /^([1-9]\d*) /.exec(buffered)) {
        const rest = Buffer.from(buffered.slice(m[0].length));
        frames.push(rest.subarray(0, Number(m[1])).toString());
        buffered = rest.subarray(Number(m[1])).toString();
      }
      for (const w of waiters) if (frames.length >= w.n) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, caFile, frames, wait: (n) => new Promise<void>((resolve) => (frames.length >= n ? resolve() : waiters.push({ n, resolve }))) };
}

test('TLS (RFC 5425): octet-counted frames to a receiver whose certificate the configured CA signed', { timeout: 20_000 }, async () => {
  const r = await tlsReceiver();
  try {
    const cfg = parseDetectionConfig({ delivery: { syslog: { host: '127.0.0.1', port: r.port, protocol: 'tls', ca: r.caFile, hostname: 'web-01' } } }).delivery.syslog!;
    const syslog = new SyslogDelivery(cfg, undefined, undefined, undefined, '4242');
    syslog.deliver(ALERT);
    syslog.deliver({ ...ALERT, state: 'closed', message: 'ünïcode counts in octets' });
    await r.wait(2);
    await syslog.close(2000);
    assert.equal(r.frames[0], formatSyslog5424(ALERT, FORMAT));
    assert.match(r.frames[1], /^<134>1 .* closed: ünïcode counts in octets$/);
  } finally {
    r.server.close();
  }
});

test('TLS without the receiver\'s CA: the certificate is refused, nothing is sent, the alert is given up', { timeout: 20_000 }, async () => {
  const r = await tlsReceiver();
  try {
    const cfg = parseDetectionConfig({ delivery: { syslog: { host: '127.0.0.1', port: r.port, protocol: 'tls', attempts: 2, retryDelayMs: 10 } } }).delivery.syslog!;
    const failures: string[] = [];
    const syslog = new SyslogDelivery(cfg, undefined, undefined, (_a, e) => failures.push(e.message), '4242');
    syslog.deliver(ALERT);
    await syslog.close(5000);
    assert.equal(syslog.stats.failed, 1);
    assert.match(failures[0], /self[- ]signed certificate/i);
    assert.equal(r.frames.length, 0);
  } finally {
    r.server.close();
  }
});

test('syslog config: TLS defaults to port 6514; ca applies to tls only', () => {
  const tls = parseDetectionConfig({ delivery: { syslog: { host: 'logs', protocol: 'tls' } } }).delivery.syslog!;
  assert.equal(syslogPort(tls), 6514);
  assert.equal(syslogPort(parseDetectionConfig({ delivery: { syslog: { host: 'logs' } } }).delivery.syslog!), 514);
  assert.throws(() => parseDetectionConfig({ delivery: { syslog: { host: 'logs', ca: '/etc/ca.pem' } } }), /delivery\.syslog\.ca: applies to protocol "tls" only/);
});
