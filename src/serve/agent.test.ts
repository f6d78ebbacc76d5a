import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { LiveCaptureError } from '../capture/live.js';
import { batchOf } from '../test-support/frames.js';
import { runAgent } from './agent.js';
import { CLIENT, SERVER, TCP_ORIG_BYTES, TCP_RESP_BYTES, dnsTransaction, tcpConnection } from './agent-frames.test-util.js';
import { FakeClock, FakeSource, TextSink, fakeRootPrivileges, memoryLogger } from './agent.test-util.js';
import type { AgentSettings } from './config.js';
import type { ConnectSource } from '../host/connect-trace.js';
import { readAgentStatus } from './status.js';

const T0 = 1_700_000_000;
const root = mkdtempSync(join(tmpdir(), 'loopy-agent-'));
// Traversable: the agent checks that the user it becomes can reach its data directory below this one.
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

function settings(over: Partial<AgentSettings> = {}): AgentSettings {
  return {
    source: { kind: 'live', interfaces: ['fake0'] },
    promisc: false,
    user: 'nobody',
    dataDir: join(root, `data${++runs}`),
    logLevel: 'debug',
    stdout: true,
    ...over,
  };
}

type Rec = Record<string, any>;

/** Everything a test needs to drive one agent. */
function harness(source = new FakeSource()) {
  const clock = new FakeClock(T0);
  const records: Rec[] = [];
  const logs: Rec[] = [];
  const calls: string[] = [];
  const stdout = new TextSink();
  let cpuMicros = 0;
  const deps = {
    clock,
    openCapture: source.factory,
    logger: memoryLogger(logs),
    privileges: fakeRootPrivileges(calls),
    // No eBPF program loaded by a unit test: attribution by /proc alone, whose capture wakes every 20 ms.
    openConnectTrace: (): ConnectSource | string => 'no connect trace in this test',
    stdout,
    onRecord: (r: object) => records.push(r as Rec),
    // A quarter of a core: 250 ms of CPU per second of clock.
    processSample: () => ({ cpuMicros: (cpuMicros = (clock.now() - T0) * 250_000), rssBytes: 50e6 }),
  };
  return { clock, records, logs, calls, stdout, deps, source, cpu: () => cpuMicros };
}

const ofType = (records: Rec[], type: string) => records.filter((r) => r.type === type);

test('records flow out, one stats record per second, status each second, and a clean stop', async () => {
  const h = harness();
  const s = settings();
  const agent = await runAgent(s, h.deps);
  const nobody = process.getuid!() === 0 ? 65534 : process.getuid!();
  const nogroup = process.getuid!() === 0 ? 65534 : process.getgid!();
  assert.deepEqual(h.calls, ['setgroups([])', `setgid(${nogroup})`, `setuid(${nobody})`, 'setuid(0)']);
  assert.ok(h.logs.some((l) => /^capture open; dropped root privileges to user nobody/.test(l.msg)), 'the drop is logged');
  // A root agent keeps what process attribution needs across the drop: the capture wakes every 20 ms for it.
  assert.deepEqual(h.source.requests, [{ kind: 'live', interfaces: ['fake0'], filter: undefined, snaplen: undefined, bufferMiB: undefined, promisc: false, timeoutMs: 20 }]);

  // Second 1: a DNS transaction; the kernel has seen 2 packets.
  h.source.push(batchOf(dnsTransaction(T0 + 0.2)));
  await h.source.idle();
  h.source.counters = { received: 2, dropped: 0, ifDropped: 0, addonDropped: 0 };
  h.clock.tick();
  // Second 2: a TCP connection; the kernel saw 9 more and dropped 1 of them (counters are cumulative).
  h.source.push(batchOf(tcpConnection(T0 + 1.3)));
  await h.source.idle();
  h.source.counters = { received: 11, dropped: 1, ifDropped: 3, addonDropped: 0 };
  h.clock.tick();
  // Second 3: nothing.
  h.clock.tick();

  const stats = ofType(h.records, 'stats');
  assert.deepEqual(stats.map((r) => [r.ts, r.duration, r.packets]), [[T0 + 1, 1, 2], [T0 + 2, 1, 8], [T0 + 3, 1, 0]]);
  // The engine's share of each interface: all of it, with one interface.
  assert.deepEqual(stats.map((r) => [r.interfaces[0].packets, r.interfaces[0].bytes]), stats.map((r) => [r.packets, r.bytes]));
  assert.deepEqual(stats.map(({ interfaces: [{ packets: _p, bytes: _b, ...kernel }] }) => kernel), [
    { name: 'fake0', received: 2, dropped: 0, if_dropped: 0, drop_pct: 0, received_total: 2, dropped_total: 0 },
    { name: 'fake0', received: 9, dropped: 1, if_dropped: 3, drop_pct: 11.111, received_total: 11, dropped_total: 1 },
    { name: 'fake0', received: 0, dropped: 0, if_dropped: 0, drop_pct: 0, received_total: 11, dropped_total: 1 },
  ]);
  assert.deepEqual(stats.map((r) => [r.cpu_percent, r.rss_bytes]), [[25, 50e6], [25, 50e6], [25, 50e6]]);
  assert.deepEqual(stats.map((r) => [r.flows_opened, r.dns.queries, r.dns.rcodes]), [[1, 1, { NOERROR: 1 }], [1, 0, {}], [0, 0, {}]]);

  const dns = ofType(h.records, 'dns');
  assert.equal(dns.length, 1);
  assert.deepEqual([dns[0].query, dns[0].answers, dns[0].rcode_name, dns[0]['id.orig_h']], ['example.com', ['93.184.216.34'], 'NOERROR', CLIENT]);

  const status = readAgentStatus(s.dataDir, T0 + 3);
  assert.ok(status.ok, JSON.stringify(status));
  assert.equal(status.status.updated, T0 + 3);
  assert.equal(status.status.cpu_percent, 25);
  assert.deepEqual(status.status.interfaces.map((i) => [i.name, i.state, i.received, i.dropped, i.if_dropped]), [['fake0', 'capturing', 11, 1, 3]]);
  assert.equal(statSync(s.dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(s.dataDir, 'status.json')).mode & 0o777, 0o600);

  agent.stop('test over');
  agent.stop('again'); // twice is fine
  assert.deepEqual(await agent.done, { code: 0, reason: 'test over' });
  assert.equal(h.clock.pending, 0, 'the per-second timer is cancelled');
  const conns = ofType(h.records, 'conn');
  const tcp = conns.find((c) => c.proto === 'tcp');
  assert.deepEqual(
    [tcp?.conn_state, tcp?.orig_bytes, tcp?.resp_bytes, tcp?.orig_pkts, tcp?.resp_pkts, tcp?.['id.resp_h']],
    ['SF', TCP_ORIG_BYTES, TCP_RESP_BYTES, 5, 3, SERVER],
  );
  assert.equal(conns.length, 2);
  const summary = ofType(h.records, 'summary');
  assert.deepEqual(summary.map((r) => r.packets), [10]);
  // The stop rolls a last (partial) second, after the engine's final records.
  assert.equal(h.records.at(-1)!.type, 'stats');
  assert.equal(ofType(h.records, 'stats').length, 4);
  // --stdout received exactly what the callback did.
  assert.deepEqual(h.stdout.records(), JSON.parse(JSON.stringify(h.records)));
  const after = readAgentStatus(s.dataDir, T0 + 3);
  assert.equal(after.ok, false);
  assert.match((after as { reason: string }).reason, /^the agent is not running \(it stopped/);
});

test('a capture that fails ends the agent with status 1 after flushing what it had', async () => {
  const h = harness();
  const s = settings();
  const agent = await runAgent(s, h.deps);
  h.source.push(batchOf(dnsTransaction(T0 + 0.1)));
  await h.source.idle();
  h.source.fail(new LiveCaptureError('LOOPY_CAPTURE_FAILED', 'capture on fake0 stopped: The interface disappeared'));
  assert.deepEqual(await agent.done, { code: 1, reason: 'capture on fake0 stopped: The interface disappeared' });
  assert.deepEqual(ofType(h.records, 'summary').map((r) => r.packets), [2]);
  assert.ok(h.logs.some((l) => l.level === 'error' && l.code === 'LOOPY_CAPTURE_FAILED'));
  const status = readAgentStatus(s.dataDir, T0);
  assert.equal(status.ok, false);
  assert.equal(status.status?.state, 'failed');
  assert.equal(status.status?.interfaces[0].state, 'failed');
});

test('not root: no privilege calls, and the log says so', async () => {
  const h = harness();
  const calls: string[] = [];
  const agent = await runAgent(settings(), {
    ...h.deps,
    privileges: { ...fakeRootPrivileges(calls), geteuid: () => 1000, getuid: () => 1000, effectiveCaps: () => 1n << 13n },
  });
  agent.stop();
  await agent.done;
  assert.deepEqual(calls, []);
  assert.ok(h.logs.some((l) => l.msg === 'running as uid 1000 with CAP_NET_RAW: no privileges to drop'));
});

test('an exclusion added while running reaches the kernel filter of the open handles', async () => {
  const source = new FakeSource('live', { canSetFilter: true });
  const h = harness(source);
  const agent = await runAgent(settings({ filter: 'udp or tcp' }), h.deps);
  assert.equal((source.requests[0] as { filter?: string }).filter, 'udp or tcp');
  agent.exclusions.add({ kind: 'listen', proto: 'tcp', port: 9000 });
  assert.deepEqual(source.filters, ['(udp or tcp) and not ((tcp and ((src port 9000) or (dst port 9000))))']);
  agent.stop();
  await agent.done;
});

const noAddon = captureAddonProblem() ?? false;

test('without a settable kernel filter, exclusions added later are applied in user space', { skip: noAddon }, async () => {
  const h = harness();
  const agent = await runAgent(settings(), h.deps);
  agent.exclusions.add({ kind: 'listen', proto: 'tcp', port: 9000 });
  assert.ok(h.logs.some((l) => l.level === 'warn' && /applied in user space/.test(l.msg)));
  h.source.push(batchOf([...dnsTransaction(T0 + 0.1), ...tcpConnection(T0 + 0.2)]));
  await h.source.idle();
  agent.stop();
  await agent.done;
  assert.deepEqual(ofType(h.records, 'summary').map((r) => r.packets), [2], 'only the DNS packets are counted');
  assert.deepEqual(ofType(h.records, 'conn').map((r) => r.proto), ['udp']);
});

test('a replay applies the -f filter and the exclusions in user space', { skip: noAddon }, async () => {
  const source = new FakeSource('replay');
  const h = harness(source);
  const agent = await runAgent(settings({ source: { kind: 'replay', file: 'x.pcap', max: true, loop: false }, filter: 'tcp or udp' }), h.deps);
  agent.exclusions.add({ kind: 'listen', proto: 'udp', port: 53 });
  source.push(batchOf([...dnsTransaction(T0 + 0.1), ...tcpConnection(T0 + 0.2)]));
  await source.idle();
  source.close();
  assert.equal((await agent.done).code, 0);
  assert.deepEqual(ofType(h.records, 'summary').map((r) => r.packets), [8]);
});

test('a bad -f expression stops the start with libpcap\'s message', { skip: noAddon }, async () => {
  const h = harness();
  await assert.rejects(runAgent(settings({ filter: 'tcp and and' }), h.deps), (err: Error & { code: string }) =>
    err.code === 'LOOPY_BAD_FILTER' && /^-f 'tcp and and': /.test(err.message) && !err.message.includes('\n'));
  assert.equal(h.source.requests.length, 0, 'no capture was opened');
});

test('an unwritable data directory is one line saying what to do', async () => {
  const h = harness();
  const file = join(root, 'not-a-dir');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, '');
  await assert.rejects(runAgent(settings({ dataDir: join(file, 'data') }), h.deps), (err: Error & { code: string }) =>
    err.code === 'LOOPY_AGENT_START' && err.message === `cannot use ${join(file, 'data')} as the data directory (ENOTDIR): run as root or as its owner, or give another --data DIR`);
  assert.ok(readFileSync(file, 'utf8') === '');
});

test('with the connect trace, the capture keeps its default block timeout (the trace names connects, not the capture\'s pace)', async () => {
  const h = harness();
  let closed = 0;
  const trace: ConnectSource = { read: () => [], stats: () => ({ events: 0, joined: 0, unjoined: 0, evicted: 0 }), close: () => void closed++ };
  const agent = await runAgent(settings(), { ...h.deps, openConnectTrace: () => trace });
  assert.deepEqual(h.source.requests, [{ kind: 'live', interfaces: ['fake0'], filter: undefined, snaplen: undefined, bufferMiB: undefined, promisc: false }]);
  agent.stop('test over');
  assert.deepEqual(await agent.done, { code: 0, reason: 'test over' });
  assert.equal(closed, 1, 'the trace is closed at the stop');
});
