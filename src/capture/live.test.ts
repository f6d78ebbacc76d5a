import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { META_STRIDE } from './batch.js';
import {
  type CaptureAddon,
  type CaptureCounters,
  type LiveHandle,
  type LiveOpenOptions,
  captureAddonProblem,
  tryLoadCaptureAddon,
} from './live-addon.js';
import { LiveCaptureError, liveBatchToPacketBatch, openLiveCapture } from './live.js';
import {
  CLOSED_N,
  IF_CAP,
  OPEN_N,
  captureWhileSending,
  setUpNamespaces,
  tearDownNamespaces,
} from './live-netns.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');
const underTsx = import.meta.url.endsWith('.ts');

// ---------------------------------------------------------------------------------------------------------
// The wrapper, driven by a fake addon: conversion, merging, back-pressure, errors, close.

type BatchCb = (data: Buffer, meta: Uint32Array, count: number) => void;

class FakeAddon {
  readonly opened: Array<{ device: string; options: LiveOpenOptions; onBatch: BatchCb; onError: (m: string) => void }> = [];
  readonly paused: Array<[string, boolean]> = [];
  readonly closed: string[] = [];
  failOn?: { device: string; code: string; message: string };

  openLive(device: string, options: LiveOpenOptions, onBatch: BatchCb, onError: (m: string) => void): LiveHandle {
    if (this.failOn?.device === device) throw Object.assign(new Error(this.failOn.message), { code: this.failOn.code });
    this.opened.push({ device, options, onBatch, onError });
    return { device, linkType: device === 'any' ? 113 : 1, snaplen: 262144, warning: null };
  }
  stats(h: LiveHandle): CaptureCounters {
    return { received: 10, dropped: h.device === 'any' ? 2 : 0, ifDropped: 0, addonDropped: 0 };
  }
  close(h: LiveHandle): void {
    this.closed.push(h.device);
  }
  setPaused(h: LiveHandle, paused: boolean): void {
    this.paused.push([h.device, paused]);
  }
  datalink(h: LiveHandle): number {
    return h.linkType;
  }
  asAddon(): CaptureAddon {
    return this as unknown as CaptureAddon;
  }
}

/** The addon's 5-word layout: offset, caplen, len, ts_sec, ts_usec per packet. */
function liveMeta(...packets: Array<[number, number, number, number, number]>): Uint32Array {
  return Uint32Array.from(packets.flat());
}

test('addon meta becomes PacketBatch meta (stride 4, interface index) and float seconds', () => {
  const data = Buffer.from('00112233445566778899', 'hex');
  const meta = liveMeta([0, 4, 60, 1700000000, 250000], [4, 6, 1514, 1700000001, 999999]);
  const b = liveBatchToPacketBatch(data, meta, 2, 3, [1, 1, 1, 113], ['a', 'b', 'c', 'any']);
  assert.equal(b.count, 2);
  assert.equal(b.data, data);
  assert.deepEqual([...b.meta], [0, 4, 60, 3, 4, 6, 1514, 3]);
  assert.equal(b.meta.length, 2 * META_STRIDE);
  assert.deepEqual([...b.ts], [1700000000.25, 1700000001.999999]);
  assert.deepEqual(b.linkTypes, [1, 1, 1, 113]);
});

test('two interfaces merge in arrival order, each frame tagged with its interface', async () => {
  const fake = new FakeAddon();
  const cap = openLiveCapture({ interfaces: ['eth0', 'any'], filter: 'udp', bufferMiB: 8, addon: fake.asAddon() });
  assert.deepEqual(cap.linkTypes, [1, 113]);
  assert.deepEqual(fake.opened.map((o) => [o.device, o.options.filter, o.options.bufferBytes]), [
    ['eth0', 'udp', 8 << 20],
    ['any', 'udp', 8 << 20],
  ]);
  fake.opened[1].onBatch(Buffer.alloc(10), liveMeta([0, 10, 10, 5, 0]), 1);
  fake.opened[0].onBatch(Buffer.alloc(20), liveMeta([0, 10, 10, 6, 0], [10, 10, 10, 7, 0]), 2);
  const it = cap[Symbol.asyncIterator]();
  const first = (await it.next()).value!;
  const second = (await it.next()).value!;
  assert.deepEqual([first.count, first.meta[3], first.ts[0]], [1, 1, 5]);
  assert.deepEqual([second.count, second.meta[3], second.meta[7], second.ts[1]], [2, 0, 0, 7]);
  assert.deepEqual(second.interfaceNames, ['eth0', 'any']);
  assert.deepEqual(cap.stats().map((s) => [s.interface, s.dropped]), [['eth0', 0], ['any', 2]]);
  const pending = it.next();
  cap.close();
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.deepEqual(fake.closed, ['eth0', 'any']);
});

test('a consumer that falls behind pauses every handle, and catching up resumes them', async () => {
  const fake = new FakeAddon();
  const cap = openLiveCapture({ interfaces: ['eth0', 'eth1'], highWaterBatches: 4, addon: fake.asAddon() });
  const push = () => fake.opened[0].onBatch(Buffer.alloc(1), liveMeta([0, 1, 1, 0, 0]), 1);
  for (let i = 0; i < 3; i++) push();
  assert.deepEqual(fake.paused, []);
  push(); // the fourth queued batch reaches the high-water mark
  assert.deepEqual(fake.paused, [['eth0', true], ['eth1', true]]);
  const it = cap[Symbol.asyncIterator]();
  await it.next(); // 3 left, above the low-water mark (1)
  await it.next(); // 2 left
  assert.equal(fake.paused.length, 2);
  await it.next(); // 1 left: resume
  assert.deepEqual(fake.paused.slice(2), [['eth0', false], ['eth1', false]]);
  await it.return!();
  assert.deepEqual(fake.closed, ['eth0', 'eth1']);
});

test('a capture error ends iteration with LOOPY_CAPTURE_FAILED after the queued batches', async () => {
  const fake = new FakeAddon();
  const cap = openLiveCapture({ interfaces: ['eth0'], addon: fake.asAddon() });
  fake.opened[0].onBatch(Buffer.alloc(1), liveMeta([0, 1, 1, 0, 0]), 1);
  fake.opened[0].onError('capture on eth0 stopped: The interface disappeared');
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const b of cap) got.push(b.count);
    })(),
    (err: LiveCaptureError) => err.code === 'LOOPY_CAPTURE_FAILED' && /interface disappeared/.test(err.message),
  );
  assert.deepEqual(got, [1]);
  assert.deepEqual(fake.closed, ['eth0']);
});

test('when one interface cannot be opened, those already open are closed and the error says what to do', () => {
  const fake = new FakeAddon();
  fake.failOn = {
    device: 'eth1',
    code: 'LOOPY_CAPTURE_PERMISSION_DENIED',
    message: "cannot capture on eth1: You don't have permission to perform this capture on that device",
  };
  assert.throws(
    () => openLiveCapture({ interfaces: ['eth0', 'eth1'], addon: fake.asAddon() }),
    (err: LiveCaptureError) =>
      err.code === 'LOOPY_CAPTURE_PERMISSION_DENIED' && /CAP_NET_RAW/.test(err.message) && !err.message.includes('\n'),
  );
  assert.deepEqual(fake.closed, ['eth0']);
});

test('without the addon, importing is fine and live capture says in one line what to install', () => {
  // A child process, because the addon is loaded once per process.
  const code = `
    const live = await import(${JSON.stringify(new URL('./live.js', import.meta.url).href.replace(/\.js$/, underTsx ? '.ts' : '.js'))});
    const filter = await import(${JSON.stringify(new URL('./bpf-filter.js', import.meta.url).href.replace(/\.js$/, underTsx ? '.ts' : '.js'))});
    const out = {};
    for (const [name, f] of [['live', () => live.openLiveCapture({ interfaces: ['lo'] })], ['filter', () => filter.compilePacketFilter('tcp', 1)]]) {
      try { f(); out[name] = 'no error'; } catch (e) { out[name] = { code: e.code, message: e.message }; }
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, [...(underTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, LOOPY_CAPTURE_ADDON: '/nonexistent/loopy_capture.node' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, { code: string; message: string }>;
  for (const name of ['live', 'filter']) {
    assert.equal(out[name].code, 'LOOPY_CAPTURE_ADDON_MISSING', name);
    assert.match(out[name].message, /^live capture needs the capture addon, which was not built \(no \/nonexistent\/loopy_capture\.node\): apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy$/);
  }
});

// ---------------------------------------------------------------------------------------------------------
// The real addon.

function addonSkipReason(): string | false {
  const problem = captureAddonProblem();
  if (!problem) return false;
  if (process.env.CI) throw new Error(`${problem} (required in CI)`);
  return problem;
}
const addonSkip = addonSkipReason();

test('a device that cannot be opened gives one line with libpcap\'s text and what to do (or the devices there are)', { skip: addonSkip }, () => {
  // libpcap checks the permission first: as root the device is missing, otherwise the socket is refused.
  const root = process.getuid?.() === 0;
  assert.throws(
    () => openLiveCapture({ interfaces: ['loopy-no-such0'] }),
    (err: LiveCaptureError) =>
      !err.message.includes('\n') &&
      /^cannot capture on loopy-no-such0: /.test(err.message) &&
      (root
        ? err.code === 'LOOPY_CAPTURE_NO_SUCH_DEVICE' && /No such device.*; available: .*\blo\b/.test(err.message)
        : err.code === 'LOOPY_CAPTURE_PERMISSION_DENIED' && /permission.*CAP_NET_RAW/.test(err.message)),
  );
});

test('the addon reports its libpcap and lists devices', { skip: addonSkip }, () => {
  const addon = tryLoadCaptureAddon()!;
  assert.match(addon.libVersion(), /^libpcap version \d+\.\d+/);
  const devices = addon.listDevices();
  assert.ok(devices.some((d) => d.name === 'lo' && d.loopback), 'lo is listed as a loopback device');
  for (const d of devices) assert.ok(Array.isArray(d.addresses), d.name);
});

// ---------------------------------------------------------------------------------------------------------
// Real traffic between two network namespaces joined by a veth pair (root only).

function rootSkipReason(): string | false {
  if (addonSkip) return addonSkip;
  let reason: string | false = false;
  if (process.getuid?.() !== 0) reason = 'live capture tests need root (they create network namespaces)';
  else if (spawnSync('ip', ['-V']).status !== 0) reason = 'the ip command (iproute2) is not installed';
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING live capture tests: ${reason}`);
  return reason;
}

describe('live capture between two network namespaces', { skip: rootSkipReason() }, () => {
  before(setUpNamespaces);
  after(tearDownNamespaces);

  test('captures every datagram and every ICMP reply, and reports kernel counters', async () => {
    const final = await captureWhileSending({ interfaces: [IF_CAP] },
      ([c]) => c.udp >= OPEN_N + CLOSED_N && c.icmp >= CLOSED_N);
    assert.deepEqual(final.linkTypes, [1]);
    const [c] = final.counts;
    assert.equal(c.udp, OPEN_N + CLOSED_N, 'UDP datagrams in');
    assert.equal(c.icmp, CLOSED_N, 'ICMP port unreachable out');
    const [s] = final.stats;
    assert.equal(s.interface, IF_CAP);
    for (const key of ['received', 'dropped', 'ifDropped', 'addonDropped']) assert.equal(typeof s[key], 'number', key);
    assert.ok((s.received as number) >= c.frames, `kernel received ${s.received} >= delivered ${c.frames}`);
    assert.equal(s.dropped, 0, 'no kernel drops at this rate');
  });

  test('a kernel filter keeps only what it matches', async () => {
    const final = await captureWhileSending({ interfaces: [IF_CAP], filter: 'udp' },
      ([c]) => c.udp >= OPEN_N + CLOSED_N);
    assert.deepEqual(final.counts[0], { ...final.counts[0], udp: OPEN_N + CLOSED_N, icmp: 0, other: 0 });
  });

  test('"any" gives Linux cooked headers (SLL by default, SLL2 on request)', async () => {
    const sll = await captureWhileSending({ interfaces: ['any'], filter: 'udp or icmp' },
      ([c]) => c.udp >= OPEN_N + CLOSED_N && c.icmp >= CLOSED_N);
    assert.deepEqual(sll.linkTypes, [113]);
    assert.deepEqual([sll.counts[0].udp, sll.counts[0].icmp], [OPEN_N + CLOSED_N, CLOSED_N]);
    const sll2 = await captureWhileSending({ interfaces: ['any'], filter: 'udp', linkType: 276 },
      ([c]) => c.udp >= OPEN_N + CLOSED_N);
    assert.deepEqual(sll2.linkTypes, [276]);
    assert.deepEqual([sll2.counts[0].udp, sll2.counts[0].other], [OPEN_N + CLOSED_N, 0]);
  });

  test('a paused handle reads nothing; resumed, it delivers what the kernel ring kept', async () => {
    // Directly on the addon, on this namespace's loopback, with a short block timeout (20 ms).
    const addon = tryLoadCaptureAddon()!;
    const port = 42000 + (process.pid % 1000);
    const batches: Array<{ data: Buffer; meta: Uint32Array; count: number }> = [];
    let wake = () => {};
    const h = addon.openLive('lo', { filter: `udp dst port ${port}`, timeoutMs: 20 },
      (data, meta, count) => (batches.push({ data, meta, count }), wake()), (m) => assert.fail(m));
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
      assert.ok(pred(), `timed out waiting until ${what}`);
    };
    const delivered = () => batches.reduce((n, b) => n + b.count, 0);
    const s = createSocket('udp4');
    try {
      // A first datagram, delivered: the capture thread is now back inside pcap_dispatch, blocked until the
      // kernel retires the next block. Pausing must interrupt that wait, not just stop the next one.
      s.send('w', port, '127.0.0.1');
      await until(() => delivered() === 1, 'the first datagram is delivered');
      addon.setPaused(h, true);
      for (let i = 0; i < 5; i++) s.send(`p${i}`, port, '127.0.0.1');
      // On loopback the kernel counts each packet twice (out and in): 12 once all 6 went through the ring.
      await until(() => addon.stats(h).received >= 12, 'the kernel has all 5 datagrams');
      // Ten block timeouts: long enough for a running thread to have handed them over.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(delivered(), 1, 'nothing delivered while paused');
      addon.setPaused(h, false);
      await until(() => delivered() >= 6, '5 more packets are delivered');
      const payloads: string[] = [];
      for (const b of batches) {
        for (let i = 0; i < b.count; i++) {
          const [off, caplen, len] = b.meta.subarray(i * 5, i * 5 + 3);
          assert.equal(caplen, len);
          payloads.push(b.data.toString('latin1', off + 14 + 20 + 8, off + caplen)); // Ethernet + IPv4 + UDP
        }
      }
      assert.deepEqual(payloads, ['w', 'p0', 'p1', 'p2', 'p3', 'p4']);
      assert.equal(addon.stats(h).dropped, 0);
    } finally {
      s.close();
      addon.close(h);
      addon.close(h); // twice is fine
    }
    assert.equal(typeof addon.stats(h).received, 'number', 'stats after close are the last counters');
  });

  test('two interfaces at once: each frame carries the index of the interface it came from', async () => {
    const LOOP_N = 7;
    const final = await captureWhileSending({ interfaces: [IF_CAP, 'lo'], filter: 'udp', loopbackDatagrams: LOOP_N },
      ([veth, lo]) => veth.udp >= OPEN_N + CLOSED_N && lo.udp >= LOOP_N);
    assert.deepEqual(final.linkTypes, [1, 1]);
    assert.deepEqual(final.counts.map((c) => c.udp), [OPEN_N + CLOSED_N, LOOP_N]);
    assert.deepEqual(final.stats.map((s) => s.interface), [IF_CAP, 'lo']);
  });
});
