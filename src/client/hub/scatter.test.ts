/**
 * A fleet-wide question as one scatter-gather (scatter.ts), on a real nats-server with a real agent: the
 * agents that answer are merged; one that is on the hub (it answers discovery and heartbeats) but not the
 * question — an agent of an older version that knows no `loopy.fleet` — is named on stderr once `--timeout`
 * is up, and the others' answers are still printed; an empty hub is said to be empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { DISCOVER_SUBJECT, HEARTBEAT_S, agentSubjects } from '../../serve/protocol/hub-subjects.js';
import { runCliAsync } from '../../test-support/cli.js';
import { NatsServer, natsSkipReason } from '../testing/nats-server.js';
import { RealAgent, agentDir } from '../testing/real-agent.js';
import { ndjson, synthCapture as capture, until } from '../testing/hub-fixtures.js';

const skip = natsSkipReason();

test('loopy query nats://HUB: one question every agent answers; an agent that does not is named, the others printed', { skip, timeout: 60_000 }, async () => {
  const dir = agentDir();
  const nats = await NatsServer.start();
  const empty = await runCliAsync(['query', nats.url, 'status', '--json']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no agent on nats:\/\/127\.0\.0\.1:\d+ answered \(none is on the hub\)/);

  const alpha = RealAgent.start(capture(dir, 5), join(dir, 'alpha'), [`unix:${join(dir, 'alpha.sock')}`], '--stay', ['--name', 'alpha', '--hub', nats.url]);
  // An older agent: it announces itself and answers discovery, but has no loopy.fleet subscription.
  const old = await connect({ servers: nats.url });
  const announcement = JSON.stringify({ name: 'old1', host: 'h', software: 'loopy', version: '0.0.9', interfaces: [], started: 0, methods: ['status'], topics: ['stats'], heartbeat_s: HEARTBEAT_S });
  old.subscribe(DISCOVER_SUBJECT, { callback: (_e, m) => void m.respond(announcement) });
  const heartbeat = setInterval(() => old.publish(agentSubjects('old1').presence, announcement), HEARTBEAT_S * 1000);
  try {
    const r = await until('alpha answering', async () => {
      const got = await runCliAsync(['query', nats.url, 'status', '--json', '--timeout', '2s']);
      return ndjson(got.stdout).some((s) => s.agent === 'alpha') ? got : undefined;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ndjson(r.stdout).map((s) => s.agent), ['alpha']);
    assert.match(r.stderr, /loopy: no answer from old1: old1: no reply to status within 2000 ms/);
  } finally {
    clearInterval(heartbeat);
    await old.close();
    await alpha.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
