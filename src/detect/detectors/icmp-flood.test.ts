/** ICMP flood from hand-built echo requests through the engine's icmp layer observer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { icmpEcho, icmpPortUnreachable, udp4, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

function pings(src: string, dst: string, t0: number, n: number, gap: number): Frame[] {
  return Array.from({ length: n }, (_, i) => ({ ts: t0 + i * gap, bytes: icmpEcho(src, dst, 8, 99, i & 0xffff) }));
}

test('1000 ICMP packets to one host within 2 s fire once, then update and close at end of input', async () => {
  const { alerts } = await runFrames(pings('10.0.0.5', '10.0.0.9', 1000, 3000, 0.001), { alerts: { updateInterval: 1 } });
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  const a = open[0];
  assert.equal(a.detector, 'icmp_flood');
  assert.equal(a.src, '10.0.0.5');
  assert.equal(a.dst, '10.0.0.9');
  assert.ok(a.ts >= 1000.999 && a.ts < 1001.1, `fired at the 1000th packet (${a.ts})`);
  assert.equal(a.evidence.counters.packets, 1000);
  assert.equal(a.evidence.counters.echo_requests, 1000);
  assert.equal(a.evidence.thresholds.in_window_peak, 1000);
  const closed = alerts.filter((x) => x.state === 'closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].alert_id, a.alert_id);
  assert.equal(closed[0].evidence.counters.packets, 3000);
  const m = /^10\.0\.0\.9 received 3000 ICMP packets from 10\.0\.0\.5 in 3 s \((\d+)\/s\)$/.exec(closed[0].message);
  assert.ok(m && Math.abs(Number(m[1]) - 1000) <= 50, closed[0].message);
});

test('ping at one a second, and a fast burst below the threshold, stay quiet', async () => {
  const { alerts } = await runFrames([...pings('10.0.0.5', '10.0.0.9', 1000, 120, 1), ...pings('10.0.0.6', '10.0.0.9', 2000, 900, 0.001)]);
  assert.deepEqual(alerts, []);
});

test('an allow-listed target is not counted', async () => {
  const { alerts } = await runFrames(pings('10.0.0.5', '10.0.0.9', 1000, 2000, 0.001), { detectors: { icmp_flood: { allowTargets: ['10.0.0.0/24'] } } });
  assert.deepEqual(alerts, []);
});

/** "172.16.x.y" / "10.x.y.z" for the i-th spoofed address. */
function spoofed(prefix: '172.16' | '10', i: number): string {
  return prefix === '10' ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `172.16.${(i >> 8) & 255}.${i & 255}`;
}

test('spoofed sources: the count is estimated in fixed memory, the first 20 listed', async () => {
  const frames = Array.from({ length: 2000 }, (_, i) => ({ ts: 1000 + i * 0.001, bytes: icmpEcho(spoofed('172.16', i), '192.168.1.9', 8, 99, i) }));
  const { alerts } = await runFrames(frames);
  const closed = alerts.filter((a) => a.state === 'closed');
  assert.equal(closed.length, 1);
  const a = closed[0];
  assert.equal(a.src, undefined);
  assert.match(a.message, /^192\.168\.1\.9 received 2000 ICMP packets from about [\d,]+ sources in 2 s \(\d+\/s\)$/);
  assert.ok(Math.abs(a.evidence.counters.sources - 2000) <= 200, `sources estimated ${a.evidence.counters.sources}`);
  assert.deepEqual(a.evidence.hosts, ['192.168.1.9', ...Array.from({ length: 20 }, (_, i) => spoofed('172.16', i))]);
});

test('one-off spoofed targets do not blind a small table to a real flood that starts after it filled', async () => {
  const frames: Array<{ ts: number; bytes: Buffer }> = [];
  let t = 1000;
  // The table fills first: 64 hosts pinged a few times each (past a quarter full, a new target is taken on its
  // second sighting), then one-off spoofed targets come...
  for (let k = 0; k < 64; k++) for (let j = 0; j < 3; j++) frames.push({ ts: (t += 0.0001), bytes: icmpEcho('172.16.0.3', `10.200.0.${k + 1}`, 8, 7, j) });
  for (let i = 0; i < 2000; i++) frames.push({ ts: (t += 0.0001), bytes: icmpEcho('172.16.0.1', spoofed('10', i + 1), 8, 99, i & 0xffff) });
  // ...and the real flood starts, among a junk target for every flood packet.
  for (let i = 0; i < 3000; i++) {
    frames.push({ ts: (t += 0.0002), bytes: icmpEcho('172.16.0.1', spoofed('10', 10_000 + i), 8, 99, i & 0xffff) });
    frames.push({ ts: (t += 0.0002), bytes: icmpEcho('172.16.0.2', '192.168.1.9', 8, 100, i & 0xffff) });
  }
  const { alerts, detection } = await runFrames(frames, { detectors: { icmp_flood: { maxTargets: 64 } } });
  const table = detection.stateReport().find((r) => r.detector === 'icmp_flood' && r.table === 'targets')!;
  assert.ok(table.size <= 64, `table holds ${table.size}`);
  assert.ok(table.declined > 1000, `junk seen once was declined (${table.declined})`);
  assert.ok(table.evicted > 0, 'the real target took a full table\'s place');
  // (The junk is also a ping sweep by 172.16.0.1: host_sweep's business.)
  const open = alerts.filter((a) => a.state === 'open' && a.detector === 'icmp_flood');
  assert.deepEqual(open.map((a) => [a.src, a.dst]), [['172.16.0.2', '192.168.1.9']]);
});

test("a ping flood and its victim's echo replies are one alert, on the victim, naming the sender", async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 3000; i++) {
    frames.push({ ts: 1000 + i * 0.001, bytes: icmpEcho('10.0.0.5', '10.0.0.9', 8, 7, i & 0xffff) });
    frames.push({ ts: 1000 + i * 0.001 + 0.0002, bytes: icmpEcho('10.0.0.9', '10.0.0.5', 0, 7, i & 0xffff) });
  }
  const open = (await runFrames(frames)).alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.src, a.dst]), [['icmp_flood', '10.0.0.5', '10.0.0.9']]);
});

test('echo replies to a host that asked for none (a reflected, smurf-like flood) still count', async () => {
  const frames: Frame[] = Array.from({ length: 2000 }, (_, i) => ({ ts: 1000 + i * 0.001, bytes: icmpEcho(`10.1.${i % 200}.1`, '10.0.0.9', 0, 7, i & 0xffff) }));
  const open = (await runFrames(frames)).alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.dst]), [['icmp_flood', '10.0.0.9']]);
});

test("a burst over in milliseconds says so, and its real rate (not the window's average)", async () => {
  // 1500 echo requests in 30 ms: 50,000 a second.
  const { alerts } = await runFrames(pings('10.0.0.5', '10.0.0.9', 1000, 1500, 0.00002));
  const closed = alerts.filter((a) => a.state === 'closed');
  assert.equal(closed.length, 1);
  const m = /^10\.0\.0\.9 received 1500 ICMP packets from 10\.0\.0\.5 in (\d+) ms \((\d+)\/s\)$/.exec(closed[0].message);
  assert.ok(m && Number(m[1]) === 30 && Math.abs(Number(m[2]) - 50_000) <= 100, closed[0].message);
});

test('port unreachables answering a host\'s own UDP are backscatter, not a flood on it; forged quotes still count', async () => {
  const answers = Array.from({ length: 3000 }, (_, i) => ({ ts: 1000 + i * 0.0005, bytes: icmpPortUnreachable('10.0.0.9', '10.0.0.66', udp4('10.0.0.66', '10.0.0.9', 1024 + i, 9, 0)) }));
  assert.deepEqual((await runFrames(answers, { detectors: { udp_flood: { enabled: false } } })).alerts, []);
  // The same errors quoting packets the recipient never sent (from a third host): an ICMP error flood.
  const forged = Array.from({ length: 3000 }, (_, i) => ({ ts: 1000 + i * 0.0005, bytes: icmpPortUnreachable('10.0.0.9', '10.0.0.66', udp4('10.0.0.77', '10.0.0.9', 1024 + i, 9, 0)) }));
  const { alerts } = await runFrames(forged);
  assert.deepEqual(alerts.filter((a) => a.state === 'open').map((a) => [a.detector, a.src, a.dst]), [['icmp_flood', '10.0.0.9', '10.0.0.66']]);
});
