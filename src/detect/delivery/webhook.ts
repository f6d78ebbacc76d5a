/**
 * Alerts to a webhook: each alert record is POSTed as JSON (Content-Type application/json, the record as
 * the body). 2xx is delivered; 408, 429 and 5xx and network errors are retried with backoff; other 4xx are
 * permanent (the receiver will not take it, retrying would not help). A 429 or 503 with Retry-After (seconds
 * or an HTTP date) is retried after that wait, up to maxRetryAfterMs. With a `secret`, each request is signed
 * (X-Loopy-Timestamp, X-Loopy-Signature: sha256=HMAC-SHA256(secret, "TIMESTAMP.BODY") in hex), as GitHub
 * and Stripe sign theirs, so the receiver can tell a forged or replayed alert. The HTTP call is an injected
 * transport.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AlertRecord } from '../../analyze/records.js';
import type { WebhookConfig } from './config.js';
import { AlertDelivery, PermanentDeliveryError, RetryLaterError, type Timers } from './retry-queue.js';

export interface HttpPost {
  (url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; retryAfter?: string }>;
}

/** POST with node:http(s); resolves with the status once the response has been read, rejects on network errors. */
export const nodeHttpPost: HttpPost = (url, body, headers, timeoutMs) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        res.resume();
        const retryAfter = res.headers['retry-after'];
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(retryAfter === undefined ? {} : { retryAfter }) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });

/** The signature headers of one delivery: the receiver recomputes the HMAC over "TIMESTAMP.BODY" and compares. */
export function webhookSignature(secret: string, body: string, timestamp: number): Record<string, string> {
  const t = String(Math.floor(timestamp));
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return { 'x-loopy-timestamp': t, 'x-loopy-signature': `sha256=${mac}` };
}

/** Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as milliseconds from `nowMs`; undefined if unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An IMF-fixdate names its day and month; Date.parse alone would also take "-5" as a year.
  const at = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export class WebhookDelivery extends AlertDelivery {
  constructor(cfg: WebhookConfig, post: HttpPost = nodeHttpPost, timers?: Timers, onGiveUp?: (alert: AlertRecord, error: Error) => void, now: () => number = Date.now) {
    super(
      cfg,
      async (alert) => {
        const body = JSON.stringify(alert);
        const signature = cfg.secret === undefined ? {} : webhookSignature(cfg.secret, body, now() / 1000);
        const { status, retryAfter } = await post(cfg.url, body, { 'user-agent': 'loopy', ...cfg.headers, ...signature }, cfg.timeoutMs);
        if (status >= 200 && status < 300) return;
        const message = `webhook ${cfg.url} answered HTTP ${status}`;
        const wait = status === 429 || status === 503 ? retryAfterMs(retryAfter, now()) : undefined;
        if (wait !== undefined && wait <= cfg.maxRetryAfterMs) throw new RetryLaterError(`${message} (Retry-After ${retryAfter})`, wait);
        if (status === 408 || status === 429 || status >= 500) throw new Error(message);
        throw new PermanentDeliveryError(message);
      },
      timers,
      onGiveUp,
    );
  }
}
