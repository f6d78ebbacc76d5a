/**
 * SIGHUP rereads the detection config of a running agent (`loopy agent -r FILE --loop`, as a user runs it):
 * one log line says what changed (and what waits for a restart) or why the new file was refused; the open
 * alert goes on under its id, and records keep coming.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentDir } from '../client/testing/real-agent.js';
import { cliCommand } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { realPrivilegeOps } from './privileges.js';

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

test('--stats-out past --stats-out-max is moved to FILE.1 and begun again, whole lines in both, said in the log', { timeout: 90_000 }, async () => {
  const capture = join(root, 'traffic.pcap');
  writeFileSync(capture, (await generatedCapture({ seed: 5, packets: 5000 })).bytes);
  // The directory is the agent user's, as /var/log/loopy is (as root the agent runs as nobody).
  const logs = join(root, 'logs');
  mkdirSync(logs);
  const nobody = realPrivilegeOps.lookupUser('nobody')!;
  if (process.getuid?.() === 0) chownSync(logs, nobody.uid, nobody.gid);
  const [log, out, data] = [join(logs, 'bound.log'), join(logs, 'bound.ndjson'), join(root, 'data-bound')];
  const noConfig = join(root, 'empty.json');
  writeFileSync(noConfig, '{}');
  const [cmd, ...pre] = cliCommand();
  // 0.1 MiB: a few seconds of this replay.
  const child = spawn(cmd, [...pre, 'agent', '--config', noConfig, '-r', capture, '--loop', '--speed', '20', '--stats-out', out, '--stats-out-max', '0.1', '--log', log, '--data', data, '--listen', `unix:${join(root, 'bound.sock')}`], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const [moved] = await linesIn(log, (l) => /^--stats-out reached 0\.1 MiB: moved to /.test(l.msg));
    assert.equal(moved?.msg, `--stats-out reached 0.1 MiB: moved to ${out}.1, a new file begun`);
    assert.ok(moved.bytes >= 0.1 * 1048576);
    assert.ok((await linesIn(out, (l) => l.type === 'stats')).length > 0, 'the new file takes records');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
  // Every line of both files is a whole record (parse throws otherwise); the old one holds what it had.
  const older = parse(readFileSync(`${out}.1`, 'utf8'));
  assert.ok(older.length > 0 && older.some((r) => r.type === 'stats'));
  parse(readFileSync(out, 'utf8'));
});
