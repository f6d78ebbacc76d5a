/**
 * Detection settings: alert lifecycle, evidence, suppressions, local networks, delivery, and each detector's
 * thresholds and allow-lists. Validated with zod; every field has a default, so `{}` is a full config, and an
 * error names the key ("detectors.port_scan.minPorts: expected a number") so the user can find it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_LOCAL_NETS } from '../stats/local-nets.js';
import { cidrListSchema, cidrSchema } from './detector-config.js';
import { deliveryConfigSchema } from './delivery/config.js';
import { DETECTORS } from './detectors/index.js';
import type { DetectorCommonConfig, DetectorRegistration } from './types.js';

/** When a suppression ends: an ISO 8601 date or seconds since the epoch. */
const untilSchema = z
  .union([z.number().positive(), z.string()], { error: 'a date (e.g. 2025-07-01T00:00:00Z) or seconds since the epoch' })
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not a date (write e.g. 2025-07-01T00:00:00Z)' });
      return z.NEVER;
    }
    return ms / 1000;
  });

export const suppressionSchema = z
  .strictObject({
    /** Detector name; absent = every detector. */
    detector: z.string().min(1).optional(),
    src: cidrSchema.optional(),
    dst: cidrSchema.optional(),
    /** The unit or container of the process behind the alert (`nginx.service`): the process detectors'. */
    unit: z.string().min(1).optional(),
    /** Capture time the suppression ends; absent = never. */
    until: untilSchema.optional(),
    reason: z.string().optional(),
  })
  .refine((s) => s.detector !== undefined || s.src !== undefined || s.dst !== undefined || s.unit !== undefined, { message: 'give at least one of detector, src, dst, unit' });

export type SuppressionConfig = z.infer<typeof suppressionSchema>;

const alertsSchema = z.strictObject({
  /** Seconds without new activity after which an incident's alert closes. */
  quietPeriod: z.number().positive().default(60),
  /** Least seconds between two `update` records of one alert. */
  updateInterval: z.number().min(0).default(10),
  /** Community IDs kept per alert. */
  maxCommunityIds: z.number().int().min(0).default(20),
  /** Which stream of ids alerts take (apart from flows'); the process's id seed makes them unique per process. */
  idSeed: z.number().int().min(0).max(0xffffffff).default(0x5bd1e995),
});

const evidenceSchema = z.strictObject({
  /** Seconds of packets before the incident's first sign and after the alert fired. */
  before: z.number().min(0).default(5),
  after: z.number().min(0).default(5),
  /** Size of the in-memory packet ring. */
  ringMiB: z.number().positive().max(4096).default(64),
  /** Bytes kept of each frame in the ring (the evidence pcap's snaplen). */
  snaplen: z.number().int().min(64).max(262144).default(1600),
  /** Packets per evidence file at most. */
  maxPackets: z.number().int().min(1).default(10_000),
});

function schemaFor(registrations: readonly DetectorRegistration[]) {
  const detectors: Record<string, z.ZodType> = {};
  for (const r of registrations) detectors[r.name] = (r.config as unknown as z.ZodObject).prefault({});
  return z.strictObject({
    alerts: alertsSchema.prefault({}),
    evidence: evidenceSchema.prefault({}),
    suppressions: z.array(suppressionSchema).default([]),
    /** "This site", for baseline detectors (new services are reported for local hosts only). */
    localNets: cidrListSchema.default([...DEFAULT_LOCAL_NETS]),
    delivery: deliveryConfigSchema.prefault({}),
    detectors: z.strictObject(detectors).prefault({}),
  });
}

export interface DetectionConfig {
  alerts: z.infer<typeof alertsSchema>;
  evidence: z.infer<typeof evidenceSchema>;
  suppressions: SuppressionConfig[];
  localNets: string[];
  delivery: z.infer<typeof deliveryConfigSchema>;
  detectors: Record<string, DetectorCommonConfig & Record<string, unknown>>;
}

/** A bad detection config: `issues` are "key: problem" lines; the message is all of them on one line. */
export class DetectionConfigError extends Error {
  readonly code = 'LOOPY_BAD_DETECT_CONFIG';
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`${source}: ${issues.join('; ')}`);
  }
}

export function parseDetectionConfig(input: unknown, registrations: readonly DetectorRegistration[] = DETECTORS, source = 'detection config'): DetectionConfig {
  const result = schemaFor(registrations).safeParse(input ?? {});
  if (result.success) return result.data as DetectionConfig;
  throw new DetectionConfigError(source, result.error.issues.flatMap(describeIssue));
}

export function defaultDetectionConfig(registrations: readonly DetectorRegistration[] = DETECTORS): DetectionConfig {
  return parseDetectionConfig({}, registrations);
}

/** Reads and validates a JSON config file; errors name the file and the key. */
export function loadDetectionConfig(path: string, registrations: readonly DetectorRegistration[] = DETECTORS): DetectionConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DetectionConfigError(path, [`cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DetectionConfigError(path, [`not valid JSON (${(err as Error).message})`]);
  }
  return parseDetectionConfig(json, registrations, path);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = at.startsWith('detectors') && at.split('.').length === 1 ? ' (no detector has that name)' : '';
    return issue.keys.map((k) => `${at ? `${at}.` : ''}${k}: unknown setting${known}`);
  }
  return [`${at || '(top level)'}: ${issue.message}`];
}
