/** Where alerts go besides the record stream: a webhook and syslog, validated with zod. */
import { z } from 'zod';

const alertStates = z.array(z.enum(['open', 'update', 'closed'])).min(1).default(['open', 'update', 'closed']);

export const webhookConfigSchema = z.strictObject({
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  /** Which alert records to send. */
  states: alertStates,
  /** Attempts per alert (the first one included). */
  attempts: z.number().int().min(1).max(20).default(6),
  /** First retry delay; doubled each retry up to maxDelayMs. */
  retryDelayMs: z.number().int().min(1).default(500),
  maxDelayMs: z.number().int().min(1).default(60_000),
  timeoutMs: z.number().int().min(1).default(5_000),
  /** Alerts waiting at most; past it the oldest is dropped (and counted). */
  maxQueue: z.number().int().min(1).default(1000),
});

export const syslogConfigSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(514),
  protocol: z.enum(['udp', 'tcp']).default('udp'),
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
});

export const deliveryConfigSchema = z.strictObject({
  webhook: webhookConfigSchema.optional(),
  syslog: syslogConfigSchema.optional(),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type SyslogConfig = z.infer<typeof syslogConfigSchema>;
export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;
