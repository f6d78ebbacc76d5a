/**
 * Generated captures with known incidents (src/synth: the ground truth says who did what, when): each
 * incident raises exactly its alert — right detector, source and target, within 2 s of capture time of its
 * first packet — and nothing else; captures without incidents raise nothing at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Pipeline } from '../analyze/pipeline.js';
import type { AlertRecord } from '../analyze/records.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { INCIDENT_KINDS, type GroundTruth, type IncidentKind } from '../synth/generate.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { AddressSet } from './addresses.js';
import { isUnder } from './dns-names.js';
import { DetectionEngine } from './detection-engine.js';

async function detect(bytes: Buffer): Promise<AlertRecord[]> {
  const alerts: AlertRecord[] = [];
  const detection = new DetectionEngine({ onAlert: (a) => alerts.push(a) });
  const pipeline = new Pipeline();
  detection.attach(pipeline);
  const input = new PassThrough();
  input.end(bytes);
  await pipeline.run(openCaptureFile('-', { input }));
  pipeline.finish();
  await detection.close();
  return alerts;
}

/** What each incident must raise, checked against the ground truth. */
const EXPECT: Record<IncidentKind, (a: AlertRecord, t: GroundTruth['incidents'][number]) => void> = {
  port_scan: (a, t) => {
    assert.equal(a.detector, 'port_scan');
    assert.equal(a.dst, t.target);
    assert.equal(a.evidence.counters.distinct_ports, t.probes, 'every port probed is counted');
    assert.equal(a.evidence.counters.half_open, t.open!.length, 'open ports answered SYN-ACK');
  },
  host_sweep: (a, t) => {
    assert.equal(a.detector, 'host_sweep');
    assert.deepEqual(a.evidence.ports, [t.port]);
    const subnet = AddressSet.of([t.target]);
    for (const h of a.evidence.hosts.slice(1)) assert.ok(subnet.containsText(h), `${h} in ${t.target}`);
    assert.equal(a.evidence.counters.distinct_hosts, t.probes);
    assert.equal(a.evidence.counters.answered, t.open!.length);
  },
  dns_tunnel: (a, t) => {
    assert.equal(a.detector, 'dns_tunnel');
    assert.equal(a.dst, t.target, 'the resolver');
    assert.ok(isUnder(t.domain!, a.evidence.domain as string), `${t.domain} under ${a.evidence.domain}`);
    assert.equal(a.evidence.counters.queries, t.probes);
  },
  nxdomain_burst: (a, t) => {
    assert.equal(a.detector, 'nxdomain_burst');
    assert.equal(a.dst, t.target);
    assert.equal(a.evidence.counters.nxdomain_answers, t.probes);
  },
};

for (const kind of INCIDENT_KINDS) {
  test(`a generated ${kind} raises exactly its alert, within 2 s`, { timeout: 60_000 }, async () => {
    const { bytes, truth } = await generatedCapture({ seed: 11, packets: 20_000, incidents: [kind] });
    const alerts = await detect(bytes);
    const incident = truth.incidents[0];
    const opened = alerts.filter((a) => a.state === 'open');
    assert.deepEqual(opened.map((a) => `${a.detector} ${a.src}`), [`${kind} ${incident.source}`]);
    assert.ok(opened[0].ts - incident.start <= 2, `fired ${(opened[0].ts - incident.start).toFixed(2)} s after the first packet`);
    const final = alerts.filter((a) => a.alert_id === opened[0].alert_id).at(-1)!;
    assert.equal(final.state, 'closed');
    EXPECT[kind](final, incident);
  });
}

test('all four incidents in one capture: four alerts, one each', { timeout: 60_000 }, async () => {
  const { bytes, truth } = await generatedCapture({ seed: 12, packets: 30_000, incidents: INCIDENT_KINDS });
  const opened = (await detect(bytes)).filter((a) => a.state === 'open');
  assert.deepEqual(opened.map((a) => `${a.detector} ${a.src}`).sort(), truth.incidents.map((i) => `${i.kind} ${i.source}`).sort());
});

test('generated captures without incidents raise no alert at all', { timeout: 120_000 }, async () => {
  for (const [seed, packets] of [[1, 60_000], [2, 30_000], [3, 30_000]] as const) {
    const { bytes } = await generatedCapture({ seed, packets });
    assert.deepEqual((await detect(bytes)).map((a) => `${a.detector}: ${a.message}`), [], `seed ${seed}`);
  }
});
