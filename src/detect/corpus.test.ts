/**
 * The benign captures of the shared corpus raise no alert at default thresholds. Benign: every file in dns/,
 * tcp/, ipv6/, large/ and mixed/, except mixed/zeek__nmap-vsn.pcap, which is an nmap host discovery (an ARP
 * sweep of 192.168.1.0/24, then TCP 80/443 probes to the 7 hosts that answered): not benign, and quiet
 * anyway (7 hosts is far below host_sweep's 50, and ARP sweeps are not a detector yet). malformed/ is damaged
 * input, not traffic: detection must run through it without failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../analyze/pipeline.js';
import type { AlertRecord } from '../analyze/records.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import { corpusPath, corpusSkipReason, readManifest } from '../test-support/corpus.js';
import { parseDetectionConfig } from './config.js';
import { DetectionEngine } from './detection-engine.js';

/** Defaults, with a small evidence ring (the ring runs too, but 64 MiB per file would only cost time). */
const CONFIG = parseDetectionConfig({ evidence: { ringMiB: 1 } });

const BENIGN_FOLDERS = ['dns/', 'tcp/', 'ipv6/', 'large/', 'mixed/'];
const NOT_BENIGN: Record<string, string> = {
  'mixed/zeek__nmap-vsn.pcap': 'nmap host discovery: ARP sweep + TCP 80/443 probes',
};

async function alertsOf(rel: string): Promise<AlertRecord[]> {
  const alerts: AlertRecord[] = [];
  const detection = new DetectionEngine({ config: CONFIG, onAlert: (a) => alerts.push(a), evidence: { pathFor: (id) => id, write: async () => {} } });
  const pipeline = new Pipeline();
  detection.attach(pipeline);
  try {
    await pipeline.run(openCaptureFile(corpusPath(rel)));
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
  }
  pipeline.finish();
  await detection.close();
  return alerts;
}

test('benign corpus files raise no alert at default thresholds', { skip: corpusSkipReason(), timeout: 300_000 }, async () => {
  const files = readManifest().map((r) => r.path).filter((p) => BENIGN_FOLDERS.some((f) => p.startsWith(f)) && !(p in NOT_BENIGN));
  assert.ok(files.length > 250, `${files.length} benign files`);
  const raised: string[] = [];
  for (const rel of files) {
    for (const a of await alertsOf(rel)) if (a.state === 'open') raised.push(`${rel}: ${a.detector}: ${a.message}`);
  }
  assert.deepEqual(raised, []);
});

test('damaged captures (malformed/) go through detection without failing', { skip: corpusSkipReason(), timeout: 300_000 }, async () => {
  const files = readManifest().map((r) => r.path).filter((p) => p.startsWith('malformed/'));
  assert.ok(files.length > 50);
  const raised: string[] = [];
  for (const rel of files) for (const a of await alertsOf(rel)) if (a.state === 'open') raised.push(`${rel}: ${a.detector}`);
  // Damaged packets must not look like attacks either.
  assert.deepEqual(raised, []);
});
