/** SSH password guessing from hand-built SSH connections through the real engine, ssh analyzer and detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_LOGIN_SIZES, failedLoginSizes } from '../../analyze/apps/ssh/testing/ssh-bytes.js';
import type { Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';
import { sshConnection } from '../testing/ssh-frames.js';

const ATTACKER = '10.0.0.66';
const SERVER = '10.0.0.9';

/** `connections` connections of `passwords` rejected passwords each, one every `every` seconds from t0. */
function guessing(src: string, connections: number, passwords: number, t0: number, every: number): Frame[] {
  return Array.from({ length: connections }, (_, i) => sshConnection(src, SERVER, 40000 + i, t0 + i * every, failedLoginSizes(passwords))).flat();
}

test('4 connections of 3 rejected passwords: one alert naming attacker, server and attempts, at the connection that crossed', async () => {
  const { alerts, records } = await runFrames(guessing(ATTACKER, 4, 3, 1000, 0.5));
  const conns = records.filter((r) => r.type === 'conn') as Array<{ service?: string }>;
  assert.equal(conns.length, 4);
  assert.ok(conns.every((c) => c.service === 'ssh'));
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  const a = open[0];
  assert.deepEqual([a.detector, a.src, a.dst, a.severity], ['ssh_guessing', ATTACKER, SERVER, 'high']);
  // The 10th attempt came in the 4th connection (3 + 3 + 3 + 3), which started 1.5 s in and took 46 ms (23 frames).
  assert.ok(a.ts > 1001.5 && a.ts < 1001.7, `raised at ${a.ts}`);
  assert.equal(a.message, `${ATTACKER} made 12 failed SSH login attempts over 4 connections to ${SERVER}:22 in 1.5 s; none succeeded`);
  assert.deepEqual(a.evidence.counters, { failed_attempts: 12, failed_connections: 4, successful_logins: 0 });
  assert.equal(alerts.at(-1)!.state, 'closed');
});

test('successful key logins, many and fast, raise nothing; neither do a few typos', async () => {
  const keyLogins = Array.from({ length: 30 }, (_, i) => sshConnection('10.0.0.5', SERVER, 41000 + i, 1000 + i * 0.3, KEY_LOGIN_SIZES)).flat();
  const typos = guessing('10.0.0.6', 2, 3, 1100, 5);
  const { alerts, records } = await runFrames([...keyLogins, ...typos].sort((x, y) => x.ts - y.ts));
  assert.equal(records.filter((r) => r.type === 'conn').length, 32);
  assert.deepEqual(alerts, []);
});

test('9 failed attempts over many connections stay under the threshold; spread over more than the window they never add up', async () => {
  const { alerts } = await runFrames([...guessing('10.0.0.7', 9, 1, 1000, 1), ...guessing('10.0.0.8', 12, 1, 2000, 120)]);
  assert.deepEqual(alerts, []);
});

test('a login that gets through after the guessing makes the incident critical and is said', async () => {
  const frames = [...guessing(ATTACKER, 4, 3, 1000, 0.5), ...sshConnection(ATTACKER, SERVER, 45000, 1005, [...failedLoginSizes(1), 28, 264, 192])];
  const { alerts } = await runFrames(frames, { alerts: { updateInterval: 1 } });
  const last = alerts.at(-1)!;
  assert.equal(last.state, 'closed');
  assert.equal(last.severity, 'critical');
  assert.match(last.message, /; 1 login from it then succeeded$/);
  assert.equal(last.evidence.counters.successful_logins, 1);
});

test('an allow-listed source raises nothing', async () => {
  const { alerts } = await runFrames(guessing(ATTACKER, 6, 3, 1000, 0.5), { detectors: { ssh_guessing: { allowSources: ['10.0.0.64/28'] } } });
  assert.deepEqual(alerts, []);
});
