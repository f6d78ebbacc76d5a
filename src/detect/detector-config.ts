/** zod pieces every detector's config is built from (kept apart from config.ts so detectors import no registry). */
import { z } from 'zod';
import { parseCidr } from './addresses.js';

export const severitySchema = z.enum(['low', 'medium', 'high', 'critical']);

export const cidrSchema = z.string().refine((s) => parseCidr(s.trim()) !== undefined, { message: 'not an IP address or CIDR (write e.g. 10.0.0.5, 10.0.0.0/8 or 2001:db8::/32)' });

export const cidrListSchema = z.array(cidrSchema).default([]);

/** A whole number of at least `min`, with its default. */
export function count(defaultValue: number, min = 1): z.ZodDefault<z.ZodNumber> {
  return z.number().int().min(min).default(defaultValue);
}

/** Seconds (may be fractional), above zero. */
export function seconds(defaultValue: number): z.ZodDefault<z.ZodNumber> {
  return z.number().positive().default(defaultValue);
}

/** A detector's config: the common fields (enabled, severity, allow-lists) and its own, all with defaults. */
export function detectorConfig<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject({
    enabled: z.boolean().default(true).describe('Run this detector (default true).'),
    severity: severitySchema.optional().describe("Its alerts' severity, instead of the detector's own."),
    allowSources: cidrListSchema.describe('Addresses or CIDRs whose traffic never counts as a source.'),
    allowTargets: cidrListSchema.describe('Addresses or CIDRs whose traffic never counts as a target.'),
    ...shape,
  });
}

/** Domain names as users write them in allow-lists: lower case, no trailing dot. */
export const domainListSchema = z
  .array(z.string().regex(/^[A-Za-z0-9_*.-]+\.?$/, { message: 'not a domain name' }))
  .default([])
  .transform((list) => list.map((d) => d.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '')));
