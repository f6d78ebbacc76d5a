/** Where alerts go besides the record stream: a webhook and syslog, validated with zod. */
import { z } from 'zod';

const alertStates = z.array(z.enum(['open', 'update', 'closed'])).min(1).default(['open', 'update', 'closed']);

export const webhookConfigSchema = z.strictObject({
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  /**
   * Signs each delivery: X-Loopy-Signature carries HMAC-SHA256 of "TIMESTAMP.BODY" with this secret, where
   * TIMESTAMP is X-Loopy-Timestamp (README, Alerts to a webhook).
   */
  secret: z.string().min(16, { message: 'at least 16 characters' }).optional(),
  /** Which alert records to send. */
  states: alertStates,
  /** Attempts per alert (the first one included). */
  attempts: z.number().int().min(1).max(20).default(6),
  /** First retry delay; doubled each retry up to maxDelayMs. */
  retryDelayMs: z.number().int().min(1).default(500),
  maxDelayMs: z.number().int().min(1).default(60_000),
  timeoutMs: z.number().int().min(1).default(5_000),
  /** Longest wait a 429 or 503's Retry-After may ask for; past it, the usual backoff. */
  maxRetryAfterMs: z.number().int().min(0).default(600_000),
  /** Alerts waiting at most; past it the oldest is dropped (and counted). */
  maxQueue: z.number().int().min(1).default(1000),
});

export const syslogConfigSchema = z.strictObject({
  host: z.string().min(1),
  /** Default 514, or 6514 over TLS. */
  port: z.number().int().min(1).max(65535).optional(),
  /** tls: RFC 5425, octet-counted frames over TLS, the receiver's certificate checked. */
  protocol: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  /** With tls: a PEM file of the CA that signed the receiver's certificate (default: the system's CAs). */
  ca: z.string().min(1).optional(),
  /** RFC 5424 facility number (16 = local0). */
  facility: z.number().int().min(0).max(23).default(16),
  appName: z.string().regex(/^[!-~]{1,48}$/, { message: 'printable ASCII without spaces, at most 48 characters' }).default('loopy'),
  /** HOSTNAME field; default the machine's host name. */
  hostname: z.string().regex(/^[!-~]{1,255}$/, { message: 'printable ASCII without spaces' }).optional(),
  states: alertStates,
  attempts: z.number().int().min(1).max(20).default(6),
  retryDelayMs: z.number().int().min(1).default(500),
  maxDelayMs: z.number().int().min(1).default(60_000),
  maxQueue: z.number().int().min(1).default(1000),
}).refine((c) => c.ca === undefined || c.protocol === 'tls', { message: 'applies to protocol "tls" only', path: ['ca'] });

export const deliveryConfigSchema = z.strictObject({
  webhook: webhookConfigSchema.optional(),
  syslog: syslogConfigSchema.optional(),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type SyslogConfig = z.infer<typeof syslogConfigSchema>;
export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;
