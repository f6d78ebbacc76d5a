/** Webhook delivery against a real HTTP receiver on 127.0.0.1 (bounded: a handful of requests, short delays). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALERT } from '../testing/alert-fixture.js';
import { parseDetectionConfig } from '../config.js';
import { createHmac } from 'node:crypto';
import type { Timers } from './retry-queue.js';
import { WebhookDelivery, retryAfterMs } from './webhook.js';


interface Received {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** A receiver that answers each request with the next status of `statuses` (the last one repeats) and Retry-After of `retryAfter`. */
async function receiver(statuses: number[], retryAfter: string[] = []): Promise<{ server: Server; url: string; got: Received[]; wait: (n: number) => Promise<void> }> {
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
      const wait = retryAfter[got.length - 1];
      if (wait !== undefined) res.setHeader('retry-after', wait);
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

test('with a secret, each request is signed: the receiver recomputes HMAC-SHA256 over "TIMESTAMP.BODY"', { timeout: 10_000 }, async () => {
  const r = await receiver([200]);
  try {
    const secret = 'correct horse battery staple';
    const hook = new WebhookDelivery(config(r.url, { secret }));
    hook.deliver(ALERT);
    await r.wait(1);
    await hook.close(2000);
    const { headers, body } = r.got[0];
    const timestamp = String(headers['x-loopy-timestamp']);
    assert.match(timestamp, /^\d{10}$/);
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 600, 'the time it was sent');
    // What the README tells a receiver to do, with node:crypto.
    const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    assert.equal(headers['x-loopy-signature'], expected);
    // A body changed on the way no longer matches.
    const forged = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body.replace('port_scan', 'nothing')}`).digest('hex')}`;
    assert.notEqual(headers['x-loopy-signature'], forged);
  } finally {
    r.server.close();
  }
});

test('without a secret, no signature headers', { timeout: 10_000 }, async () => {
  const r = await receiver([200]);
  try {
    const hook = new WebhookDelivery(config(r.url));
    hook.deliver(ALERT);
    await r.wait(1);
    await hook.close(2000);
    assert.equal(r.got[0].headers['x-loopy-signature'], undefined);
    assert.equal(r.got[0].headers['x-loopy-timestamp'], undefined);
  } finally {
    r.server.close();
  }
});

/** Real timers that note each delay asked for and fire after 1 ms, so a test sees the wait without taking it. */
function notedTimers(): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return setTimeout(fn, 1);
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}

test('429 and 503 with Retry-After: the next try waits what the receiver asked (seconds or an HTTP date), not the backoff', { timeout: 10_000 }, async () => {
  const now = Date.parse('2024-06-10T06:00:00Z');
  const r = await receiver([429, 503, 503, 200], ['7', 'Mon, 10 Jun 2024 06:00:30 GMT', 'soon']);
  try {
    const timers = notedTimers();
    const hook = new WebhookDelivery(config(r.url, { attempts: 5 }), undefined, timers, undefined, () => now);
    hook.deliver(ALERT);
    await r.wait(4);
    // The 200 is read back after the receiver has it; close()'s deadline would run on these fast timers too.
    for (let i = 0; i < 200 && hook.stats.sent === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(r.got.map((g) => g.status), [429, 503, 503, 200]);
    // 7 s; the date 30 s after now; an unreadable value falls back to the backoff (20 × 2², capped at maxDelayMs 40).
    assert.deepEqual(timers.delays.slice(0, 3), [7000, 30_000, 40]);
    assert.equal(hook.stats.sent, 1);
    await hook.close(2000);
  } finally {
    r.server.close();
  }
});

test('a Retry-After longer than maxRetryAfterMs is not waited for: the usual backoff', { timeout: 10_000 }, async () => {
  const r = await receiver([503, 200], ['3600']);
  try {
    const timers = notedTimers();
    const hook = new WebhookDelivery(config(r.url, { maxRetryAfterMs: 60_000 }), undefined, timers);
    hook.deliver(ALERT);
    await r.wait(2);
    await hook.close(2000);
    assert.equal(timers.delays[0], 20);
  } finally {
    r.server.close();
  }
});

test('retryAfterMs reads delay-seconds and HTTP dates; anything else is undefined', () => {
  const now = Date.parse('2024-06-10T06:00:00Z');
  assert.equal(retryAfterMs('120', now), 120_000);
  assert.equal(retryAfterMs(' 0 ', now), 0);
  assert.equal(retryAfterMs('Mon, 10 Jun 2024 06:01:00 GMT', now), 60_000);
  assert.equal(retryAfterMs('Mon, 10 Jun 2024 05:00:00 GMT', now), 0, 'a date in the past: at once');
  assert.equal(retryAfterMs('-5', now), undefined);
  assert.equal(retryAfterMs('later', now), undefined);
  assert.equal(retryAfterMs(undefined, now), undefined);
});
