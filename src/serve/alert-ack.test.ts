/**
 * alerts.ack end to end in the agent: the real runtime with detection and its history store, a replayed port
 * scan fed through a fake capture, and two raw clients on the unix socket. One acknowledges; the other sees it
 * at once; history.alerts returns it; later records of the alert keep it, in the live stream and in the store.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openCaptureFile } from '../capture/capture-file.js';
import { HistoryStore } from '../store/history-store.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { runAgent } from './agent.js';
import { FakeClock, FakeSource, fakeRootPrivileges, memoryLogger } from './agent.test-util.js';
import type { AgentSettings } from './config.js';
import { ErrorCode } from './protocol/errors.js';
import { RawClient } from './raw-client.test-util.js';

const root = mkdtempSync(join(tmpdir(), 'loopy-alert-ack-'));
// Traversable: the agent checks that the user it becomes can reach its data directory below this one.
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));

type Alert = Record<string, unknown> & { alert_id: string; state: string };

test('one client acknowledges an alert: every subscriber sees it, history keeps it, later states carry it', async () => {
  // Capture time near the wall clock: the agent's store enforces retention by it.
  const T0 = Math.floor(Date.now() / 1000);
  const clock = new FakeClock(T0);
  const source = new FakeSource();
  const logs: Array<Record<string, unknown>> = [];
  const sock = join(root, 'agent.sock');
  const dataDir = join(root, 'data');
  const settings: AgentSettings = {
    source: { kind: 'live', interfaces: ['fake0'] }, promisc: false, user: 'nobody', dataDir, logLevel: 'debug', stdout: false,
    serve: { listen: [{ kind: 'unix', path: sock }] },
  };
  const agent = await runAgent(settings, { clock, openCapture: source.factory, logger: memoryLogger(logs), privileges: fakeRootPrivileges([]) });
  const a = await RawClient.unix(sock);
  const b = await RawClient.unix(sock);
  try {
    await a.request('hello', { versions: [1], client: { name: 'ui-a', version: '1' } });
    await b.request('hello', { versions: [1], client: { name: 'ui-b', version: '2' } });
    for (const c of [a, b]) await c.request('subscribe', { topics: ['alerts'] });

    // The generator's port scan (seed 4, as the agent's detection test), its packets as the capture gives them.
    const input = new PassThrough();
    input.end((await generatedCapture({ seed: 4, packets: 4000, incidents: ['port_scan'], startTime: T0 })).bytes);
    for await (const batch of openCaptureFile('-', { input })) {
      // idle() asked before the agent's loop runs again: it resolves once this batch is processed.
      source.push(batch);
      await source.idle();
    }
    clock.tick();
    const alertsOf = (c: RawClient) => c.events.filter((e) => e.topic === 'alerts').map((e) => e.record as Alert);
    await b.until(() => alertsOf(b).some((r) => r.state !== 'closed'));
    const alert = alertsOf(b).find((r) => r.state !== 'closed')!;
    assert.equal(alert.detector, 'port_scan');
    assert.equal(alert.acknowledged, undefined, 'not acknowledged before anyone did');
    const seenByB = alertsOf(b).length;

    const reply = await a.request('alerts.ack', { alert_id: alert.alert_id });
    const ack = { acknowledged: true, acknowledged_at: clock.now(), acknowledged_by: 'ui-a 1' };
    assert.deepEqual(reply.result, { alert_id: alert.alert_id, ...ack });
    // B is told: the alert's latest record again, with the acknowledgement.
    await b.until(() => alertsOf(b).length > seenByB);
    const resent = alertsOf(b)[seenByB];
    assert.deepEqual(resent, { ...alertsOf(b).filter((r) => r.alert_id === alert.alert_id).at(-2), ...ack });
    assert.ok(alertsOf(a).some((r) => r.alert_id === alert.alert_id && r.acknowledged === true), 'the acknowledging client is a subscriber too');

    // The ack survives a history query (the store has it at once, not only after the next second's flush).
    const stored = (await b.request('history.alerts', { since: T0 - 60, until: T0 + 3600 })).result as Alert[];
    const row = stored.find((r) => r.alert_id === alert.alert_id)!;
    assert.deepEqual([row.acknowledged, row.acknowledged_at, row.acknowledged_by], [true, ack.acknowledged_at, 'ui-a 1']);

    // A second acknowledgement (B, later) gets the first one back and sends nothing new.
    clock.tick();
    const again = await b.request('alerts.ack', { alert_id: alert.alert_id });
    assert.deepEqual(again.result, { alert_id: alert.alert_id, ...ack });
    assert.equal((await b.request('alerts.ack', { alert_id: 'A-no-such-alert' })).error?.code, ErrorCode.NOT_FOUND);
    // A suppression naming no address is the client's mistake (INVALID_PARAMS), not the agent's failure.
    const badCidr = await b.request('alerts.suppress', { source: '10.0.0.0/99', expires_at: clock.now() + 60 });
    assert.equal(badCidr.error?.code, ErrorCode.INVALID_PARAMS);
    assert.match(badCidr.error!.message, /"10\.0\.0\.0\/99" is not an IP address or CIDR/);
    assert.ok(!logs.some((l) => l.msg === 'failure answering a client'), 'nothing logged as the agent failing');
    assert.ok(logs.some((l) => l.msg === 'alert acknowledged' && l.client === 'ui-a 1' && l.alert_id === alert.alert_id));

    // Stopping ends the input: detection closes the alert; its closed record still carries the acknowledgement.
    const before = alertsOf(b).length;
    agent.stop();
    await b.until(() => alertsOf(b).slice(before).some((r) => r.alert_id === alert.alert_id && r.state === 'closed'));
    const closed = alertsOf(b).slice(before).find((r) => r.alert_id === alert.alert_id && r.state === 'closed')!;
    assert.equal(closed.closed_reason, 'end_of_input');
    assert.deepEqual([closed.acknowledged, closed.acknowledged_at, closed.acknowledged_by], [true, ack.acknowledged_at, 'ui-a 1']);
    assert.equal((await agent.done).code, 0);

    // And in the store, for the next start of the agent.
    const store = HistoryStore.open(dataDir);
    try {
      const kept = store.alert(alert.alert_id)!;
      assert.deepEqual([kept.state, kept.acknowledged, kept.acknowledged_by], ['closed', true, 'ui-a 1']);
    } finally {
      store.close();
    }
  } finally {
    a.close();
    b.close();
    agent.stop();
    await agent.done;
  }
});
