/**
 * Alerts to a webhook: each alert record is POSTed as JSON (Content-Type application/json, the record as
 * the body). 2xx is delivered; 408, 429 and 5xx and network errors are retried with backoff; other 4xx are
 * permanent (the receiver will not take it, retrying would not help). The HTTP call is an injected transport.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AlertRecord } from '../../analyze/records.js';
import type { WebhookConfig } from './config.js';
import { AlertDelivery, PermanentDeliveryError, type Timers } from './retry-queue.js';

export interface HttpPost {
  (url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number }>;
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });

export class WebhookDelivery extends AlertDelivery {
  constructor(cfg: WebhookConfig, post: HttpPost = nodeHttpPost, timers?: Timers, onGiveUp?: (alert: AlertRecord, error: Error) => void) {
    super(
      cfg,
      async (alert) => {
        const { status } = await post(cfg.url, JSON.stringify(alert), { 'user-agent': 'loopy', ...cfg.headers }, cfg.timeoutMs);
        if (status >= 200 && status < 300) return;
        const message = `webhook ${cfg.url} answered HTTP ${status}`;
        if (status === 408 || status === 429 || status >= 500) throw new Error(message);
        throw new PermanentDeliveryError(message);
      },
      timers,
      onGiveUp,
    );
  }
}
