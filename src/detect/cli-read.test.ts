/** `loopy read` with detection, as a user runs it (a child process, real files). */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTORS } from './detectors/index.js';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertRecord } from '../analyze/records.js';
import { META_CAPLEN, META_OFFSET, META_STRIDE } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import type { GroundTruth } from '../synth/generate.js';
import { writeSynFlood } from '../synth/syn-flood.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { testDir } from '../test-support/temp-dir.js';

let dir: string;
let scanFile: string;
let cleanFile: string;
let truth: GroundTruth;

before(async () => {
  dir = testDir('loopy-read-detect-');
  const scan = await generatedCapture({ seed: 5, packets: 8000, incidents: ['port_scan'] });
  truth = scan.truth;
  scanFile = join(dir, 'scan.pcap');
  writeFileSync(scanFile, scan.bytes);
  cleanFile = join(dir, 'clean.pcap');
  writeFileSync(cleanFile, (await generatedCapture({ seed: 6, packets: 5000 })).bytes);
});

test('read --json: alert records among the others, open before closed, the summary still last', () => {
  const r = runCli(['read', scanFile, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const records = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const alerts = records.filter((x) => x.type === 'alert') as unknown as AlertRecord[];
  assert.deepEqual(alerts.map((a) => a.state).filter((s) => s !== 'update'), ['open', 'closed']);
  assert.equal(alerts[0].detector, 'port_scan');
  assert.equal(alerts[0].src, truth.incidents[0].source);
  assert.equal(alerts[0].dst, truth.incidents[0].target);
  assert.deepEqual(Object.keys(alerts[0]).slice(0, 4), ['type', '_path', 'ts', 'alert_id']);
  assert.ok(alerts[0].community_ids.length > 0);
  assert.equal(records.at(-1)!.type, 'summary');
  assert.ok(records.findIndex((x) => x.type === 'alert' && x.state === 'closed') < records.length - 1);
});

test('the summary shows an Alerts section first, within 80 columns; a clean capture says none', () => {
  const r = runCli(['read', scanFile]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.every((l) => [...l].length <= 80));
  const at = lines.indexOf('Alerts (1)');
  assert.ok(at > 0 && at < lines.indexOf('Protocols (packets, share of all packets)'), 'before the protocols');
  assert.match(lines[at + 1], new RegExp(`^  MEDIUM   port_scan: ${truth.incidents[0].source.replace(/\./g, '\\.')} scanned 1024 TCP ports on`));
  const clean = runCli(['read', cleanFile]);
  assert.ok(clean.stdout.includes(`\nAlerts: none (${DETECTORS.length} detectors ran)\n`), clean.stdout);
});

test('--no-detect: no alerts and no section', () => {
  const r = runCli(['read', scanFile, '--json', '--no-detect']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('"type":"alert"'));
  assert.ok(!runCli(['read', scanFile, '--no-detect']).stdout.includes('Alerts'));
});

test('--detect-config: thresholds apply; a bad key is a one-line usage error naming it', () => {
  const quiet = join(dir, 'quiet.json');
  writeFileSync(quiet, JSON.stringify({ detectors: { port_scan: { minPorts: 2000, slowMinPorts: 2000 } } }));
  const r = runCli(['read', scanFile, '--json', '--detect-config', quiet]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('"type":"alert"'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ detectors: { port_scan: { minPort: 5 } } }));
  const e = runCli(['read', scanFile, '--detect-config', bad]);
  assert.equal(e.status, 2);
  assert.equal(e.stderr, `loopy: ${bad}: detectors.port_scan.minPort: unknown setting\n`);
});

test('--evidence DIR: a pcap per alert, named in the alert, holding the scanner\'s packets', async () => {
  const evidence = join(dir, 'evidence');
  const r = runCli(['read', scanFile, '--json', '--evidence', evidence]);
  assert.equal(r.status, 0, r.stderr);
  const open = r.stdout.split('\n').filter((l) => l.includes('"type":"alert"')).map((l) => JSON.parse(l) as AlertRecord)[0];
  assert.equal(open.evidence.pcap, join(evidence, `${open.alert_id}.pcap`));
  assert.deepEqual(readdirSync(evidence), [`${open.alert_id}.pcap`]);
  let packets = 0;
  let fromScanner = 0;
  for await (const batch of openCaptureFile(open.evidence.pcap!)) {
    for (let i = 0; i < batch.count; i++) {
      const at = batch.meta[i * META_STRIDE + META_OFFSET];
      if (batch.meta[i * META_STRIDE + META_CAPLEN] < 34) continue;
      packets++;
      if (batch.data.subarray(at + 26, at + 30).join('.') === truth.incidents[0].source) fromScanner++;
    }
  }
  assert.ok(packets >= 2 * truth.incidents[0].probes, `${packets} packets: each probe and its answer`);
  assert.equal(fromScanner, truth.incidents[0].probes + truth.incidents[0].open!.length, 'SYNs plus the RSTs to open ports');
});

test('a spoofed flood: the flood is named, and the summary says which detection tables reached their bounds', async () => {
  const flood = join(dir, 'spoofed.pcap');
  await writeSynFlood(flood, { packets: 30_000, rate: 10_000, seed: 3 });
  const r = runCli(['read', flood]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /syn_flood: 198\.51\.100\.7 got 30000 TCP SYNs without a completed\s+handshake on/);
  assert.match(r.stdout, /\(10000\/s\)/, 'the measured rate: 30,000 in 3 s');
  const at = r.stdout.indexOf('Detection tables at their bounds');
  assert.ok(at > 0, r.stdout);
  // A quarter of port_scan's 20,000 sources taken as they came; the rest seen once and declined.
  const m = /port_scan sources: (\d+)\/20000 held, (\d+) new declined/.exec(r.stdout.slice(at));
  assert.ok(m && Number(m[1]) >= 5000 && Number(m[1]) < 6000 && Number(m[1]) + Number(m[2]) === 30_000, r.stdout.slice(at));
});
