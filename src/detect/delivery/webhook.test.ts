/** Webhook delivery against a real HTTP receiver on 127.0.0.1 (bounded: a handful of requests, short delays). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALERT } from '../testing/alert-fixture.js';
import { parseDetectionConfig } from '../config.js';
import { WebhookDelivery } from './webhook.js';


interface Received {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A receiver that answers each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ server: Server; url: string; got: Received[]; wait: (n: number) => Promise<void> }> {
  const got: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const status = statuses[Math.min(got.length, statuses.length - 1)];
      got.push({ status, body, headers: req.headers });
      res.statusCode = status;
      res.end();
      for (const w of waiters) if (got.length >= w.n) w.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  return { server, url, got, wait: (n) => new Promise<void>((resolve) => (got.length >= n ? resolve() : waiters.push({ n, resolve }))) };
}

function config(url: string, extra: object = {}) {
  return parseDetectionConfig({ delivery: { webhook: { url, retryDelayMs: 20, maxDelayMs: 40, attempts: 3, timeoutMs: 2000, headers: { authorization: 'Bearer t0ken' }, ...extra } } }).delivery.webhook!;
}

test('POSTs the alert as JSON; a 503 is retried, then the 200 delivers it', { timeout: 10_000 }, async () => {
  const r = await receiver([503, 200]);
  try {
    const hook = new WebhookDelivery(config(r.url));
    hook.deliver(ALERT);
    await r.wait(2);
    await hook.close(2000);
    assert.deepEqual(r.got.map((g) => g.status), [503, 200]);
    assert.deepEqual(JSON.parse(r.got[1].body), ALERT);
    assert.equal(r.got[1].headers['content-type'], 'application/json');
    assert.equal(r.got[1].headers.authorization, 'Bearer t0ken');
    assert.deepEqual({ sent: hook.stats.sent, retries: hook.stats.retries, failed: hook.stats.failed }, { sent: 1, retries: 1, failed: 0 });
  } finally {
    r.server.close();
  }
});

test('a 400 is permanent (one request); unwanted states are not sent', { timeout: 10_000 }, async () => {
  const r = await receiver([400]);
  try {
    const failures: string[] = [];
    const hook = new WebhookDelivery(config(r.url, { states: ['open'] }), undefined, undefined, (a, e) => failures.push(`${a.alert_id}: ${e.message}`));
    hook.deliver({ ...ALERT, state: 'update' });
    hook.deliver(ALERT);
    await r.wait(1);
    await hook.close(2000);
    assert.equal(r.got.length, 1);
    assert.deepEqual(failures, [`AVGo6oKnmKqf7yTsdn: webhook ${r.url} answered HTTP 400`]);
  } finally {
    r.server.close();
  }
});

test('a receiver that is not there: retried, then given up, without holding anything up', { timeout: 10_000 }, async () => {
  const r = await receiver([200]);
  const url = r.url;
  await new Promise<void>((resolve) => r.server.close(() => resolve()));
  const failures: string[] = [];
  const hook = new WebhookDelivery(config(url), undefined, undefined, (_a, e) => failures.push(e.message));
  hook.deliver(ALERT);
  await hook.close(5000);
  assert.equal(hook.stats.failed, 1);
  assert.match(failures[0], /ECONNREFUSED/);
});
