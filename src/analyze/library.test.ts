import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { encodePcap, LINKTYPE_ETHERNET } from '../capture/pcap-writer.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { tcp4, udp4 } from '../test-support/frames.js';
import { openFile, packets, records, tcpdumpFlags, type PacketSummary } from './library.js';

// ARP request "who-has 10.0.0.2 tell 10.0.0.1" as tcpdump -nr prints it, written byte by byte:
// broadcast destination, source 02:00:00:00:00:01, type 0806; htype 1, ptype 0800, sizes 6/4, op 1 (request),
// sender MAC/IP, target MAC 0/IP.
const ARP_REQUEST = Buffer.from('ffffffffffff020000000001' + '0806' + '0001080006040001' + '0200000000010a000001' + '0000000000000a000002', 'hex');

/** TCP flag bytes of the frames, and the flags `tcpdump -nr` printed for them: [S] [S.] [.] [P.] [F.] [S] [SEW]. */
const FLAG_BYTES = [0x02, 0x12, 0x10, 0x18, 0x11, 0x02, 0xc2];
const TCPDUMP_FLAGS = ['S', 'S.', '.', 'P.', 'F.', 'S', 'SEW'];

function mixedCapture(): Buffer {
  const frames = FLAG_BYTES.map((f, i) => ({ ts: 1 + i, data: tcp4('10.0.0.1', '10.0.0.2', 1000 + i, 80, f, 1, 1) }));
  frames.push({ ts: 9, data: udp4('10.0.0.3', '10.0.0.4', 5353, 53, 4) });
  frames.push({ ts: 10, data: ARP_REQUEST });
  return encodePcap(LINKTYPE_ETHERNET, frames);
}

async function withFile<T>(bytes: Buffer, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'loopy-library-'));
  try {
    const path = join(dir, 'x.pcap');
    await writeFile(path, bytes);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('tcpdumpFlags writes tcpdump\'s letters in tcpdump\'s order', () => {
  assert.deepEqual(FLAG_BYTES.map(tcpdumpFlags), TCPDUMP_FLAGS);
  // `tcpdump -nr` printed [FP.U] for FIN|PSH|ACK|URG, [R] for RST, [none] for no flag.
  assert.equal(tcpdumpFlags(0x39), 'FP.U');
  assert.equal(tcpdumpFlags(0x04), 'R');
  assert.equal(tcpdumpFlags(0), 'none');
});

test('packets() gives one plain summary per frame, as tcpdump reads them', async () => {
  const all = await withFile(mixedCapture(), (path) => collect(packets(openFile(path))));
  assert.equal(all.length, 9);
  assert.deepEqual(all[0], { ts: 1, len: 54, caplen: 54, iface: 0, proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', ip_proto: 6, sport: 1000, dport: 80, flags: 'S', tcp_flags: 2 });
  assert.deepEqual(all.slice(0, 7).map((p) => p.flags), TCPDUMP_FLAGS);
  assert.deepEqual(all[7], { ts: 9, len: 46, caplen: 46, iface: 0, proto: 'udp', src: '10.0.0.3', dst: '10.0.0.4', ip_proto: 17, sport: 5353, dport: 53 });
  assert.deepEqual(all[8], { ts: 10, len: 42, caplen: 42, iface: 0, proto: 'arp' } satisfies PacketSummary);
});

test('openFile with a filter keeps what tcpdump keeps', { skip: captureAddonProblem() ?? false }, async () => {
  await withFile(mixedCapture(), async (path) => {
    // `tcpdump -nr x.pcap 'tcp[tcpflags] == tcp-syn'` printed the frames at 1 s and 6 s; 'udp' the one at 9 s.
    const syns = await collect(packets(openFile(path, { filter: 'tcp[tcpflags] == tcp-syn' })));
    assert.deepEqual(syns.map((p) => [p.ts, p.sport]), [[1, 1000], [6, 1005]]);
    const udp = await collect(packets(openFile(path, { filter: 'udp' })));
    assert.deepEqual(udp.map((p) => p.ts), [9]);
    await assert.rejects(collect(packets(openFile(path, { filter: 'tcp port' }))), (e: unknown) => (e as { code?: string }).code === 'LOOPY_BAD_FILTER');
  });
});

test('records() yields what the engine emits, in the same order, summary last', async () => {
  const { bytes, truth } = await generatedCapture({ seed: 21, packets: 3000 });
  await withFile(bytes, async (path) => {
    const direct = await runEngineOnFile(path);
    const got = await collect(records(openFile(path)));
    assert.deepEqual(got, direct.records);
    assert.equal(got.at(-1)!.type, 'summary');
    assert.equal((got.at(-1) as { packets: number }).packets, truth.packets);
    assert.equal(got.filter((r) => r.type === 'dns').length, truth.dns.queries);
  });
});

test('records() can be left early without reading the rest', async () => {
  const { bytes } = await generatedCapture({ seed: 22, packets: 2000 });
  await withFile(bytes, async (path) => {
    let n = 0;
    for await (const rec of records(openFile(path), { timeouts: { udpIdle: 1 } })) {
      assert.ok(rec.type !== 'summary');
      if (++n === 5) break;
    }
    assert.equal(n, 5);
  });
});
