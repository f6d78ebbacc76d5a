/**
 * SIGHUP rereads the detection config of a running agent (`loopy agent -r FILE --loop`, as a user runs it):
 * one log line says what changed (and what waits for a restart) or why the new file was refused; the open
 * alert goes on under its id, and records keep coming.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentDir } from '../client/testing/real-agent.js';
import { cliCommand } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

const root = agentDir();
after(() => rmSync(root, { recursive: true, force: true }));

type Rec = Record<string, any>;
const parse = (text: string): Rec[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);

/** Bounded wait until `path` holds lines that `pred` accepts, `count` of them; returns them. */
async function linesIn(path: string, pred: (l: Rec) => boolean, count = 1): Promise<Rec[]> {
  let found: Rec[] = [];
  for (let i = 0; i < 120 && found.length < count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    found = existsSync(path) ? parse(readFileSync(path, 'utf8')).filter(pred) : [];
  }
  return found;
}

test('SIGHUP reloads the detection config: changes logged in one line, a bad file refused, the open alert kept', { timeout: 90_000 }, async () => {
  const capture = join(root, 'scan.pcap');
  writeFileSync(capture, (await generatedCapture({ seed: 9, packets: 5000, incidents: ['port_scan'] })).bytes);
  const detect = join(root, 'detect.json');
  writeFileSync(detect, JSON.stringify({ alerts: { updateInterval: 1 } }));
  const [log, out, data] = [join(root, 'agent.log'), join(root, 'records.ndjson'), join(root, 'data')];
  const noConfig = join(root, 'empty.json');
  writeFileSync(noConfig, '{}');
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, 'agent', '--config', noConfig, '-r', capture, '--loop', '--speed', '20', '--detect-config', detect, '--log', log, '--stats-out', out, '--data', data, '--listen', `unix:${join(root, 'agent.sock')}`], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const isScan = (l: Rec) => l.type === 'alert' && l.detector === 'port_scan';
  try {
    const [opened] = await linesIn(out, (l) => isScan(l) && l.state === 'open');
    assert.ok(opened, 'the scan is seen before the reload');

    // A threshold, a suppression of another detector, a capacity (fixed at start) and a webhook.
    writeFileSync(detect, `// reloaded
      { "alerts": { "updateInterval": 1 }, "detectors": { "port_scan": { "minPorts": 150, "maxSources": 10 } },
        "suppressions": [{ "detector": "dns_tunnel" }], "delivery": { "webhook": { "url": "http://127.0.0.1:9/x" } } }`);
    child.kill('SIGHUP');
    const [reloaded] = await linesIn(log, (l) => /^detection config reloaded/.test(l.msg));
    assert.equal(
      reloaded?.msg,
      'detection config reloaded: changed suppressions, detectors.port_scan.minPorts, delivery.webhook; kept until a restart: detectors.port_scan.maxSources',
    );
    assert.equal(reloaded.file, detect);

    // A mistake: refused in one line naming the file and the key; the running settings stay.
    writeFileSync(detect, '{ "detectors": { "port_scan": { "minPortz": 5 } } }');
    child.kill('SIGHUP');
    const [rejected] = await linesIn(log, (l) => /^detection config rejected/.test(l.msg));
    assert.equal(rejected?.msg, `detection config rejected, the running settings stay: ${detect}: detectors.port_scan.minPortz: unknown setting`);
    assert.equal(rejected.level, 'warn');

    // The incident open before the reloads goes on under its id: its updates keep coming, it never opens twice.
    const before = parse(readFileSync(out, 'utf8')).length;
    const later = await linesIn(out, (l) => isScan(l) && l.state === 'update', 3);
    assert.ok(later.length >= 3, 'updates after the reloads');
    const scans = parse(readFileSync(out, 'utf8')).filter(isScan);
    assert.deepEqual([...new Set(scans.map((a) => a.alert_id))], [opened.alert_id]);
    assert.equal(scans.filter((a) => a.state === 'open').length, 1);
    assert.ok(parse(readFileSync(out, 'utf8')).length > before, 'records keep coming');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
