/**
 * Alert delivery beside the record stream: the webhook and syslog the config names, behind one
 * `deliver(alert)` that never blocks. Transports default to the real sockets; tests and the agent may pass
 * their own.
 */
import type { AlertRecord } from '../../analyze/records.js';
import type { DeliveryConfig } from './config.js';
import type { DeliveryStats, Timers } from './retry-queue.js';
import { SyslogDelivery, type SyslogTransport } from './syslog.js';
import { WebhookDelivery, type HttpPost } from './webhook.js';

export { deliveryConfigSchema, hasDeliveryTargets, type DeliveryConfig, type SyslogConfig, type WebhookConfig } from './config.js';
export { RetryQueue, PermanentDeliveryError, RetryLaterError, realTimers, type DeliveryStats, type Timers } from './retry-queue.js';
export { SyslogDelivery, formatSyslog5424, octetCounted, syslogPort, tcpSyslogTransport, tlsSyslogTransport, udpSyslogTransport, type SyslogTransport, type SyslogFormat } from './syslog.js';
export { WebhookDelivery, nodeHttpPost, retryAfterMs, webhookSignature, type HttpPost } from './webhook.js';

export interface DeliveryDeps {
  httpPost?: HttpPost;
  syslogTransport?: SyslogTransport;
  timers?: Timers;
  /** Told when an alert could not be delivered (after its retries): one log line. */
  onGiveUp?: (target: 'webhook' | 'syslog', alert: AlertRecord, error: Error) => void;
}

export class AlertDelivery {
  readonly webhook: WebhookDelivery | undefined;
  readonly syslog: SyslogDelivery | undefined;

  constructor(config: DeliveryConfig, deps: DeliveryDeps = {}) {
    if (config.webhook) this.webhook = new WebhookDelivery(config.webhook, deps.httpPost, deps.timers, deps.onGiveUp && ((a, e) => deps.onGiveUp!('webhook', a, e)));
    if (config.syslog) this.syslog = new SyslogDelivery(config.syslog, deps.syslogTransport, deps.timers, deps.onGiveUp && ((a, e) => deps.onGiveUp!('syslog', a, e)));
  }

  deliver(alert: AlertRecord): void {
    this.webhook?.deliver(alert);
    this.syslog?.deliver(alert);
  }

  stats(): { webhook?: DeliveryStats; syslog?: DeliveryStats } {
    return { webhook: this.webhook?.stats, syslog: this.syslog?.stats };
  }

  /** Waits up to `deadlineMs` for queued alerts to go out, then drops the rest. */
  async close(deadlineMs = 5000): Promise<void> {
    await Promise.all([this.webhook?.close(deadlineMs), this.syslog?.close(deadlineMs)]);
  }
}
