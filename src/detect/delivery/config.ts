/** Where alerts go besides the record stream: a webhook and syslog, validated with zod (docs/detectors.md). */
import { z } from 'zod';

/** What both targets take: which records, and how their queue retries. */
const queueShape = {
  states: z.array(z.enum(['open', 'update', 'closed'])).min(1).default(['open', 'update', 'closed']).describe('Which alert records to send (default all three).'),
  attempts: z.number().int().min(1).max(20).default(6).describe('Attempts per alert, the first one included.'),
  retryDelayMs: z.number().int().min(1).default(500).describe('First retry delay in ms; doubled each retry up to maxDelayMs.'),
  maxDelayMs: z.number().int().min(1).default(60_000).describe('Longest retry delay in ms.'),
  maxQueue: z.number().int().min(1).default(1000).describe('Alerts waiting at most; past it the oldest is dropped (and counted).'),
};

export const webhookConfigSchema = z.strictObject({
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' }).describe('Where each alert record is POSTed as JSON (http:// or https://).'),
  headers: z.record(z.string(), z.string()).default({}).describe('Headers sent with each request, e.g. authorization.'),
  secret: z
    .string()
    .min(16, { message: 'at least 16 characters' })
    .optional()
    .describe('Signs each request: X-Loopy-Signature is sha256=HMAC-SHA256(secret, X-Loopy-Timestamp + "." + body) in hex.'),
  timeoutMs: z.number().int().min(1).default(5_000).describe('How long one request may take, in ms.'),
  maxRetryAfterMs: z.number().int().min(0).default(600_000).describe("Longest wait a 429 or 503's Retry-After may ask for, in ms; past it, the usual backoff."),
  ...queueShape,
});

export const syslogConfigSchema = z
  .strictObject({
    host: z.string().min(1).describe('The syslog receiver.'),
    port: z.number().int().min(1).max(65535).optional().describe('Default 514, or 6514 over TLS.'),
    protocol: z.enum(['udp', 'tcp', 'tls']).default('udp').describe('udp (RFC 5426), tcp (RFC 6587 octet counting) or tls (RFC 5425: the same frames over TLS).'),
    ca: z.string().min(1).optional().describe("With tls: a PEM file of the CA that signed the receiver's certificate (default: the system's CAs)."),
    facility: z.number().int().min(0).max(23).default(16).describe('RFC 5424 facility number (16 = local0).'),
    appName: z.string().regex(/^[!-~]{1,48}$/, { message: 'printable ASCII without spaces, at most 48 characters' }).default('loopy').describe('The APP-NAME field.'),
    hostname: z.string().regex(/^[!-~]{1,255}$/, { message: 'printable ASCII without spaces' }).optional().describe("The HOSTNAME field; default the machine's host name."),
    ...queueShape,
  })
  .refine((c) => c.ca === undefined || c.protocol === 'tls', { message: 'applies to protocol "tls" only', path: ['ca'] });

export const deliveryConfigSchema = z.strictObject({
  webhook: webhookConfigSchema.optional().describe('POST each alert record to a URL.'),
  syslog: syslogConfigSchema.optional().describe('Send each alert record to syslog as an RFC 5424 message.'),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type SyslogConfig = z.infer<typeof syslogConfigSchema>;
export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;

/** Whether the config names a target at all: without one, nothing of delivery (sockets, http, tls) is loaded. */
export function hasDeliveryTargets(config: DeliveryConfig): boolean {
  return config.webhook !== undefined || config.syslog !== undefined;
}
