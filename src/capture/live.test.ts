import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  type BatchPoolMemory,
  type CaptureAddon,
  type CaptureCounters,
  type LiveHandle,
  type LiveOpenOptions,
  tryLoadCaptureAddon,
} from './live-addon.js';
import { addonSkipReason } from './capture-test-support.js';
import { LiveCaptureError, openLiveCapture } from './live.js';
import { createBatchPool } from './batch-pool.js';
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

type SlotCb = (slot: number, count: number) => void;
/** A frame for the fake: its length and capture time (seconds, microseconds). */
type FakeFrame = [length: number, sec: number, usec: number];

/** Plays the addon's part of the pool: fills a free slot as the capture thread does, and takes slots back. */
class FakeAddon {
  readonly opened: Array<{ device: string; options: LiveOpenOptions; pool: BatchPoolMemory; onBatch: SlotCb; onError: (m: string) => void; free: number[] }> = [];
  readonly paused: Array<[string, boolean]> = [];
  readonly closed: string[] = [];
  readonly released: Array<[string, number]> = [];
  failOn?: { device: string; code: string; message: string };
  /** The id the next new fanout group gets: the kernel's first unique id after boot is 0. */
  nextGroup = 0;

  openLive(device: string, options: LiveOpenOptions & { pool: BatchPoolMemory }, onBatch: SlotCb, onError: (m: string) => void): LiveHandle {
    if (this.failOn?.device === device) throw Object.assign(new Error(this.failOn.message), { code: this.failOn.code });
    const free = Array.from({ length: options.pool.slots }, (_, i) => options.pool.slots - 1 - i);
    this.opened.push({ device, options, pool: options.pool, onBatch, onError, free });
    const handle = { device, linkType: device === 'any' ? 113 : 1, snaplen: 262144, warning: null };
    if ((options.fanoutShards ?? 0) < 2) return handle;
    return { ...handle, fanoutGroup: options.fanoutGroup ?? this.nextGroup++ };
  }
  /** Writes `frames` into a free slot of handle `index` (rows: offset, caplen, wirelen, iface; float seconds) and hands it over. */
  deliver(index: number, ...frames: FakeFrame[]): number {
    const { pool, onBatch, free } = this.opened[index];
    const slot = free.pop()!;
    const rows = new Uint32Array(pool.rows, slot * pool.slotRows * 16, pool.slotRows * 4);
    const ts = new Float64Array(pool.ts, slot * pool.slotRows * 8, pool.slotRows);
    let offset = 0;
    frames.forEach(([length, sec, usec], i) => {
      rows.set([offset, length, length, pool.iface], i * 4);
      ts[i] = sec + usec / 1e6;
      new Uint8Array(pool.data, slot * pool.slotBytes + offset, length).fill(i + 1);
      offset += length;
    });
    onBatch(slot, frames.length);
    return slot;
  }
  releaseSlot(h: LiveHandle, slot: number): void {
    const opened = this.opened.find((o) => o.device === h.device)!;
    assert.ok(!opened.free.includes(slot), `slot ${slot} of ${h.device} released twice`);
    opened.free.push(slot);
    this.released.push([h.device, slot]);
  }
  trimIdleSlots(): number {
    return 0;
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

test('fanout: later members join the groups the first made, group 0 included (the first unique id after boot)', () => {
  const fake = new FakeAddon();
  const first = openLiveCapture({ interfaces: ['eth0', 'eth1'], addon: fake.asAddon(), fanout: { shards: 2 } });
  assert.deepEqual(first.fanoutGroups, [0, 1]);
  const second = openLiveCapture({ interfaces: ['eth0', 'eth1'], addon: fake.asAddon(), fanout: { shards: 2, groups: first.fanoutGroups } });
  assert.deepEqual(fake.opened.slice(2).map((o) => o.options.fanoutGroup), [0, 1], 'each joins its interface\'s group, not a new one');
  assert.deepEqual(second.fanoutGroups, [0, 1]);
  const alone = openLiveCapture({ interfaces: ['eth0'], addon: fake.asAddon() });
  assert.deepEqual(alone.fanoutGroups, [], 'no fanout: no group');
  for (const c of [first, second, alone]) c.close();
});

test('each interface gets its own pool of slots; a slot goes back when the consumer asks for the next batch', async () => {
  const fake = new FakeAddon();
  const cap = openLiveCapture({ interfaces: ['eth0', 'any'], highWaterBatches: 4, snaplen: 2000, addon: fake.asAddon() });
  assert.deepEqual(fake.opened.map((o) => [o.pool.iface, o.pool.slots, o.pool.slotBytes]), [
    [0, 8, 2 << 20],
    [1, 8, 2 << 20],
  ]);
  const first = fake.deliver(0, [60, 1700000000, 250000], [1514, 1700000001, 999999]);
  const it = cap[Symbol.asyncIterator]();
  const batch = (await it.next()).value!;
  assert.equal(batch.count, 2);
  assert.deepEqual([...batch.meta.subarray(0, 8)], [0, 60, 60, 0, 60, 1514, 1514, 0]);
  assert.deepEqual([...batch.ts.subarray(0, 2)], [1700000000.25, 1700000001.999999]);
  assert.deepEqual([batch.data[0], batch.data[59], batch.data[60]], [1, 1, 2]);
  assert.deepEqual(fake.released, [], 'the consumer still holds the batch');
  fake.deliver(0, [42, 5, 0]);
  await it.next();
  assert.deepEqual(fake.released, [['eth0', first]]);
  await it.return!();
  assert.deepEqual(fake.released.length, 1, 'no release after close');
});

test('two interfaces merge in arrival order, each frame tagged with its interface', async () => {
  const fake = new FakeAddon();
  const cap = openLiveCapture({ interfaces: ['eth0', 'any'], filter: 'udp', bufferMiB: 8, addon: fake.asAddon() });
  assert.deepEqual(cap.linkTypes, [1, 113]);
  assert.deepEqual(fake.opened.map((o) => [o.device, o.options.filter, o.options.bufferBytes]), [
    ['eth0', 'udp', 8 << 20],
    ['any', 'udp', 8 << 20],
  ]);
  fake.deliver(1, [10, 5, 0]);
  fake.deliver(0, [10, 6, 0], [10, 7, 0]);
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
  const push = () => fake.deliver(0, [1, 0, 0]);
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
  fake.deliver(0, [1, 0, 0]);
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
    assert.match(out[name].message, /^live capture needs the capture addon, which was not built \(no \/nonexistent\/loopy_capture\.node\): apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy-netmon$/);
  }
});

// ---------------------------------------------------------------------------------------------------------
// The real addon.

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
    // The capture thread goes by its name (top -H, ps -L, the live bench's CPU by thread).
    const threadNames = readdirSync('/proc/self/task').map((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());
    assert.ok(threadNames.includes('loopy-capture'), `threads: ${threadNames.join(', ')}`);
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

  test('pooled: two slots carry 30 one-packet batches, each slot reused once given back; a double release throws', async () => {
    const addon = tryLoadCaptureAddon()!;
    const port = 43000 + (process.pid % 1000);
    const pool = createBatchPool(2, 7, 65535, [1], ['lo']);
    const seen: Array<{ slot: number; payload: string; iface: number; ts: number }> = [];
    let wake = () => {};
    const h = addon.openLive('lo', { filter: `udp dst port ${port}`, timeoutMs: 20, packetsPerCall: 1, pool: pool.memory },
      (slot: number, count: number) => {
        const b = pool.batches[slot];
        assert.equal(count, 1);
        const off = b.meta[0];
        seen.push({ slot, payload: b.data.toString('latin1', off + 14 + 20 + 8, off + b.meta[1]), iface: b.meta[3], ts: b.ts[0] });
        addon.releaseSlot(h, slot);
        wake();
      }, (m) => assert.fail(m));
    const s = createSocket('udp4');
    const before = Date.now() / 1000;
    try {
      for (let i = 0; i < 30; i++) {
        s.send(`n${i}`, port, '127.0.0.1');
        for (let t = 0; t < 200 && seen.length <= i; t++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
      }
      assert.deepEqual(seen.map((x) => x.payload), Array.from({ length: 30 }, (_, i) => `n${i}`));
      assert.deepEqual(new Set(seen.map((x) => x.slot)).size <= 2, true, 'only the two slots were used');
      assert.ok(seen.every((x) => x.iface === 7 && x.ts >= before - 1 && x.ts <= Date.now() / 1000 + 1), 'rows carry the interface and the time');
      assert.throws(() => addon.releaseSlot(h, seen[0].slot), /not lent/);
      assert.throws(() => addon.releaseSlot(h, 5), /not lent/);
    } finally {
      s.close();
      addon.close(h);
    }
    addon.releaseSlot(h, 0); // after close: a no-op
  });

  test('pooled: a slot kept warm by a trickle gives back the pages a burst wrote beyond what the trickle needs', async () => {
    const addon = tryLoadCaptureAddon()!;
    const port = 44000 + (process.pid % 1000);
    const pool = createBatchPool(2, 0, 65535, [1], ['lo']);
    const seen: Array<{ slot: number; bytes: number }> = [];
    let wake = () => {};
    const h = addon.openLive('lo', { filter: `udp dst port ${port}`, timeoutMs: 20, packetsPerCall: 1, pool: pool.memory },
      (slot: number, count: number) => {
        seen.push({ slot, bytes: pool.batches[slot].meta[1] });
        addon.releaseSlot(h, slot);
        wake();
      }, (m) => assert.fail(m));
    const s = createSocket('udp4');
    const send = async (bytes: number) => {
      const before = seen.length;
      s.send(Buffer.alloc(bytes, 0x61), port, '127.0.0.1');
      for (let t = 0; t < 200 && seen.length === before; t++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
      assert.equal(seen.length, before + 1, `the ${bytes}-byte datagram was delivered`);
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await send(60_000); // the burst: 14 pages of the slot written
      assert.equal(addon.trimIdleSlots(h, 1), 0, 'within the first second nothing is given back');
      await sleep(1100);
      await send(100); // the trickle keeps the same slot in use...
      assert.equal(addon.trimIdleSlots(h, 1), 0, "...and the window held the burst's batch: nothing to give back yet");
      await sleep(1100);
      await send(100);
      const released = addon.trimIdleSlots(h, 1);
      // 60,042 bytes written, 142 still needed: the whole pages between (14 or 15, as the slot is aligned).
      assert.ok(released >= 14 * 4096 && released <= 15 * 4096, `the pages beyond the trickle's batch went back (${released} bytes)`);
      assert.equal(addon.trimIdleSlots(h, 1), 0, 'and only once');
      await send(9000); // a page given back reads as zeros and is written again
      assert.equal(new Set(seen.map((x) => x.slot)).size, 1, 'one slot carried every batch');
      assert.deepEqual(seen.map((x) => x.bytes), [60_042, 142, 142, 9042]);
      const last = pool.batches[seen[3].slot];
      assert.equal(last.data.toString('latin1', last.meta[0] + 42, last.meta[0] + 9042), 'a'.repeat(9000));
      assert.equal(addon.trimIdleSlots(h, 3600), 0, 'nothing has been idle for an hour');
      const idle = addon.trimIdleSlots(h, 0);
      assert.ok(idle >= 4096 && idle <= 3 * 4096, `a free slot idle for 0 s gives back what it wrote (${idle} bytes)`);
      assert.equal(addon.trimIdleSlots(h, 0), 0, 'and only once until it is used again');
    } finally {
      s.close();
      addon.close(h);
    }
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
