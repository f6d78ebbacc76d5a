/**
 * new_process_talker's actors when some connects come from processes already gone (the connect trace names
 * them by pid, name and unit, with no executable): the same program learns and is judged under one key
 * whichever of its connects /proc was read for in time, in either order; a server's unit that only served
 * raises the reverse-shell alert; a reused pid counts for its new program.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessRecord } from '../../analyze/records.js';
import type { SocketEvent } from '../../host/process-attribution.js';
import { parseAddress } from '../addresses.js';
import { DetectionHarness } from '../testing/harness.js';
import { newProcessTalker } from './new-process-talker.js';

const LEARN = 3;
const CURL_LIVE: Omit<ProcessRecord, 'pid'> = { name: 'curl', exe: '/usr/bin/curl', user: 'root' };
/** What the trace tells of a curl gone before /proc was read. */
const CURL_GONE: Omit<ProcessRecord, 'pid'> = { name: 'curl', user: 'root' };

function socket(kind: SocketEvent['kind'], process: ProcessRecord, remote: string, remotePort: number, ts: number, ppid = 1): SocketEvent {
  const local = parseAddress('10.1.0.1')!.words;
  const far = parseAddress(remote)!.words;
  return {
    kind, proto: 6, version: 4, local, localPort: kind === 'listen' ? remotePort : 40000, remote: kind === 'listen' ? new Uint32Array(4) : far,
    remotePort: kind === 'listen' ? 0 : remotePort, localHost: '10.1.0.1', remoteHost: kind === 'listen' ? '0.0.0.0' : remote, process, ppid, initial: false, ts,
  };
}

/** A harness whose learning (LEARN seconds) is over after `learning` ran at seconds 1 and 2. */
function afterLearning(learning: (h: DetectionHarness, ts: number) => void): DetectionHarness {
  const h = new DetectionHarness({ detectors: { new_process_talker: { learnSeconds: LEARN } } }, [newProcessTalker]);
  h.tick(1);
  learning(h, 1);
  for (let t = 2; t <= LEARN + 3; t++) h.tick(t);
  return h;
}

const talk = (h: DetectionHarness, p: ProcessRecord, port: number, ts = LEARN + 4, ppid = 1) => {
  h.tick(ts);
  h.detection.socketEvent(socket('connect', p, '10.2.0.1', port, ts, ppid));
};

test('a gone process learns under the executable a live one of its name has: neither order raises for learned ports', () => {
  for (const goneFirst of [true, false]) {
    const h = afterLearning((h, ts) => {
      const learn = [() => h.detection.socketEvent(socket('connect', { pid: 10, ...CURL_GONE }, '10.2.0.1', 8181, ts)), () => h.detection.socketEvent(socket('connect', { pid: 11, ...CURL_LIVE }, '10.2.0.1', 8282, ts))];
      for (const step of goneFirst ? learn : learn.reverse()) step();
    });
    talk(h, { pid: 20, ...CURL_LIVE }, 8181);
    talk(h, { pid: 21, ...CURL_GONE }, 8282);
    talk(h, { pid: 22, ...CURL_GONE }, 8181);
    assert.deepEqual(h.alerts.map((a) => a.message), [], `gone first: ${goneFirst}`);
    talk(h, { pid: 23, ...CURL_GONE }, 9999);
    assert.equal(h.alerts.length, 1, `gone first: ${goneFirst}`);
    assert.equal(h.alerts[0].evidence.actor, '/usr/bin/curl');
    assert.match(h.alerts[0].message, /a destination port it never used \(tcp\/9999\)/);
  }
});

test('a program seen only gone keeps its bare name as its actor, learned and judged alike', () => {
  const h = afterLearning((h, ts) => h.detection.socketEvent(socket('connect', { pid: 10, name: 'fetcher' }, '10.2.0.1', 443, ts)));
  talk(h, { pid: 11, name: 'fetcher' }, 443);
  assert.equal(h.alerts.length, 0);
  talk(h, { pid: 12, name: 'fetcher' }, 22);
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0].evidence.actor, 'fetcher');
});

test('a unit that only listened connects out, gone or alive: the reverse-shell alert, under the unit', () => {
  for (const shell of [{ name: 'bash', unit: 'web.service' }, { name: 'bash', exe: '/usr/bin/bash', unit: 'web.service' }]) {
    const h = afterLearning((h, ts) => h.detection.socketEvent(socket('listen', { pid: 10, name: 'python3', exe: '/usr/bin/python3', unit: 'web.service' }, '0.0.0.0', 8181, ts)));
    talk(h, { pid: 30, ...shell }, 4444);
    assert.equal(h.alerts.length, 1, JSON.stringify(shell));
    assert.match(h.alerts[0].message, /only listened and accepted/);
    assert.equal(h.alerts[0].evidence.actor, 'web.service');
  }
});

test('a reused pid counts for the program that holds it now: its child is judged by that one', () => {
  const h = afterLearning((h, ts) => {
    h.detection.socketEvent(socket('listen', { pid: 50, name: 'server', exe: '/usr/sbin/server' }, '0.0.0.0', 9000, ts));
    h.detection.socketEvent(socket('connect', { pid: 50, name: 'agent', exe: '/usr/bin/agent' }, '10.2.0.1', 443, ts));
  });
  // A new program whose parent is pid 50, now /usr/bin/agent (which connects out): judged by the agent's baseline, no reverse-shell shape.
  talk(h, { pid: 51, name: 'helper', exe: '/usr/bin/helper' }, 443, LEARN + 4, 50);
  assert.equal(h.alerts.length, 0, h.alerts.map((a) => a.message).join('\n'));
});
