/**
 * Detection settings: alert lifecycle, evidence, suppressions, local networks, delivery, and each detector's
 * thresholds and allow-lists. Validated with zod; every field has a default, so `{}` is a full config, and an
 * error names the key ("detectors.port_scan.minPorts: expected a number") so the user can find it.
 */
import { readFileSync } from 'node:fs';
import stripJsonComments from 'strip-json-comments';
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
    detector: z.string().min(1).optional().describe('Detector name; absent = every detector.'),
    src: cidrSchema.optional().describe('Source address or CIDR.'),
    dst: cidrSchema.optional().describe('Destination address or CIDR.'),
    unit: z.string().min(1).optional().describe("The unit or container of the process behind the alert (`nginx.service`): the process detectors'."),
    until: untilSchema.optional().describe('Capture time the suppression ends; absent = never.'),
    reason: z.string().optional().describe('Why, for whoever reads the config or the log.'),
  })
  .refine((s) => s.detector !== undefined || s.src !== undefined || s.dst !== undefined || s.unit !== undefined, { message: 'give at least one of detector, src, dst, unit' });

export type SuppressionConfig = z.infer<typeof suppressionSchema>;

const alertsSchema = z.strictObject({
  quietPeriod: z.number().positive().default(60).describe("Seconds without new activity after which an incident's alert closes."),
  updateInterval: z.number().min(0).default(10).describe('Least seconds between two `update` records of one alert.'),
  maxCommunityIds: z.number().int().min(0).default(20).describe('Community IDs kept per alert.'),
  idSeed: z.number().int().min(0).max(0xffffffff).default(0x5bd1e995).describe("Which stream of ids alerts take (apart from flows'); the process's id seed makes them unique per process."),
});

const evidenceSchema = z.strictObject({
  before: z.number().min(0).default(5).describe("Seconds of packets before the incident's first sign and after the alert fired."),
  after: z.number().min(0).default(5).describe('Seconds of packets after the alert fired.'),
  ringMiB: z.number().positive().max(4096).default(64).describe('Size of the in-memory packet ring.'),
  snaplen: z.number().int().min(64).max(262144).default(1600).describe("Bytes kept of each frame in the ring (the evidence pcap's snaplen)."),
  maxPackets: z.number().int().min(1).default(10_000).describe('Packets per evidence file at most.'),
});

/** The whole detection config's schema (also what `loopy config-schema detection` prints). */
export function detectionConfigSchema(registrations: readonly DetectorRegistration[] = DETECTORS) {
  const detectors: Record<string, z.ZodType> = {};
  for (const r of registrations) {
    detectors[r.name] = (r.config as unknown as z.ZodObject).prefault({}).describe(`${r.name}: its thresholds and allow-lists (docs/detectors.md, under ${r.name})`);
  }
  return z.strictObject({
    $schema: z.string().optional().describe('The JSON Schema this file follows, for editors (loopy config-schema detection); not read.'),
    alerts: alertsSchema.prefault({}).describe('Alert lifecycle: when an incident closes, how often it updates.'),
    evidence: evidenceSchema.prefault({}).describe('The pcap of the packets around each alert.'),
    suppressions: z.array(suppressionSchema).default([]).describe('Alerts not raised: by detector, source, destination and/or unit, until a time.'),
    localNets: cidrListSchema.default([...DEFAULT_LOCAL_NETS]).describe('"This site", for baseline detectors (new services are reported for local hosts only).'),
    delivery: deliveryConfigSchema.prefault({}).describe('Where alerts go besides the records: a webhook, syslog.'),
    detectors: z.strictObject(detectors).prefault({}).describe('Each detector by name: enabled, severity, allowSources, allowTargets and its own thresholds (docs/detectors.md).'),
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
  const result = detectionConfigSchema(registrations).safeParse(input ?? {});
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
    // Comments and trailing commas allowed, as in the agent's config file.
    json = JSON.parse(stripJsonComments(text, { trailingCommas: true }));
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
