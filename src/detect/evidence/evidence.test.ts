/**
 * Evidence pcaps end to end: a scan among other traffic, through engine + detection with the ring on; the
 * pcap written for the alert is read back (openCaptureFile) and, when tcpdump is installed, by tcpdump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { META_CAPLEN, META_OFFSET, META_STRIDE } from '../../capture/batch.js';
import { openCaptureFile } from '../../capture/capture-file.js';
import { ACK, RST, SYN, tcp4, udp4, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';
import type { EvidenceSink } from './evidence-recorder.js';
import { directoryEvidenceSink } from './file-sink.js';
import { testDir } from '../../test-support/temp-dir.js';

/** Background chatter 10.0.0.7 ↔ 10.0.0.8 every 0.1 s, the scanner's own web traffic, and a 120-port scan at 1010. */
function scenario(): Frame[] {
  const frames: Frame[] = [];
  for (let t = 930; t < 1030; t += 0.1) frames.push({ ts: t, bytes: udp4('10.0.0.7', '10.0.0.8', 5000, 6000, 4) });
  frames.push({ ts: 940, bytes: tcp4('10.0.0.5', '10.0.0.9', 39999, 443, SYN, 1, 0) }); // scanner → target, 70 s before: outside the window
  frames.push({ ts: 1011, bytes: tcp4('10.0.0.5', '198.51.100.1', 41000, 443, SYN, 1, 0) }); // scanner elsewhere: not this pair
  for (let p = 1; p <= 120; p++) {
    frames.push({ ts: 1010 + p * 0.01, bytes: tcp4('10.0.0.5', '10.0.0.9', 40000, p, SYN, 1000, 0) });
    frames.push({ ts: 1010 + p * 0.01 + 0.0005, bytes: tcp4('10.0.0.9', '10.0.0.5', p, 40000, RST | ACK, 0, 1001) });
  }
  return frames.sort((a, b) => a.ts - b.ts);
}

class MemorySink implements EvidenceSink {
  readonly files = new Map<string, Buffer>();
  pathFor(alertId: string): string {
    return `mem/${alertId}.pcap`;
  }
  async write(path: string, pcap: Buffer): Promise<void> {
    this.files.set(path, pcap);
  }
}

async function readBack(pcap: Buffer): Promise<Array<{ ts: number; bytes: Buffer }>> {
  const input = new PassThrough();
  input.end(pcap);
  const out: Array<{ ts: number; bytes: Buffer }> = [];
  for await (const batch of openCaptureFile('-', { input })) {
    for (let i = 0; i < batch.count; i++) {
      const m = i * META_STRIDE;
      const start = batch.meta[m + META_OFFSET];
      out.push({ ts: batch.ts[i], bytes: Buffer.from(batch.data.subarray(start, start + batch.meta[m + META_CAPLEN])) });
    }
  }
  return out;
}

test('the evidence pcap holds the scanner↔target packets of the window, and nothing else', async () => {
  const sink = new MemorySink();
  const { alerts, detection } = await runFrames(scenario(), {}, { evidence: sink });
  const open = alerts.find((a) => a.state === 'open' && a.detector === 'port_scan')!;
  assert.ok(open, 'the scan raised its alert');
  assert.equal(open.evidence.pcap, `mem/${open.alert_id}.pcap`);
  assert.equal(detection.evidence!.written, 1);
  const frames = await readBack(sink.files.get(open.evidence.pcap!)!);
  assert.equal(frames.length, 240, 'SYN and RST of each of the 120 ports');
  for (const f of frames) {
    const src = f.bytes.subarray(26, 30).join('.');
    const dst = f.bytes.subarray(30, 34).join('.');
    assert.ok((src === '10.0.0.5' && dst === '10.0.0.9') || (src === '10.0.0.9' && dst === '10.0.0.5'), `${src} → ${dst}`);
    assert.ok(f.ts >= open.evidence.first_seen - 5 && f.ts <= open.ts + 5);
  }
  assert.deepEqual(frames[0].bytes, tcp4('10.0.0.5', '10.0.0.9', 40000, 1, SYN, 1000, 0), 'frames are copied byte for byte');
});

test('evidence files on disk are private and readable by tcpdump', { skip: spawnSync('tcpdump', ['--version']).status === 0 ? false : 'tcpdump is not installed' }, async () => {
  const dir = join(testDir('loopy-evidence-'), 'evidence');
  const { alerts } = await runFrames(scenario(), {}, { evidence: directoryEvidenceSink(dir) });
  const path = alerts.find((a) => a.state === 'open')!.evidence.pcap!;
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const r = spawnSync('tcpdump', ['-nr', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 240);
  assert.match(lines[0], /IP 10\.0\.0\.5\.40000 > 10\.0\.0\.9\.1: Flags \[S\], seq 1000, win 64240, length 0/);
  assert.match(lines[1], /IP 10\.0\.0\.9\.1 > 10\.0\.0\.5\.40000: Flags \[R\.\], seq 0, ack 1001, win 64240, length 0/);
  assert.ok(readFileSync(path).length > 24);
});
