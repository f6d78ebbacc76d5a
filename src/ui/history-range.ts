/**
 * The History view's time ranges: the presets, the resolution that suits each, and typed ranges
 * ("2026-11-20 10:00 .. 2026-11-20 12:30", "-3h", "2026-11-20 10:00 .. +30m"), all in UTC.
 */
import type { Resolution } from '../client/agent-client.js';

export interface TimeRange {
  since: number;
  until: number;
  label: string;
}

export const PRESETS: ReadonlyArray<{ label: string; seconds: number }> = [
  { label: 'last hour', seconds: 3600 },
  { label: 'last day', seconds: 86400 },
  { label: 'last week', seconds: 7 * 86400 },
];

export function presetRange(index: number, now: number): TimeRange {
  const p = PRESETS[index % PRESETS.length];
  const until = Math.floor(now);
  return { since: until - p.seconds, until, label: p.label };
}

/** Aim for a few hundred points at most: seconds for up to 10 minutes, minutes up to two days, else hours. */
export function resolutionFor(range: TimeRange): { resolution: Resolution; step: number } {
  const span = range.until - range.since;
  if (span <= 600) return { resolution: '1s', step: 1 };
  if (span <= 2 * 86400) return { resolution: '1m', step: 60 };
  return { resolution: '1h', step: 3600 };
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

function parseSpan(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

function parseTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!m) return undefined;
  const parts = [Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)] as const;
  const d = new Date(Date.UTC(...parts));
  // Date.UTC rolls 2024-13-45 over into 2025: reject any field that did not survive.
  const back = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  return back.every((v, i) => v === parts[i]) ? d.getTime() / 1000 : undefined;
}

/** A typed range, or an error saying what was expected. */
export function parseRange(text: string, now: number): TimeRange | { error: string } {
  const t = text.trim();
  const usage = 'type "-3h", "2026-11-20 10:00 .. 2026-11-20 12:00" or "2026-11-20 10:00 .. +30m" (UTC)';
  if (t.startsWith('-')) {
    const span = parseSpan(t.slice(1));
    if (span === undefined) return { error: usage };
    return { since: Math.floor(now - span), until: Math.floor(now), label: `last ${t.slice(1)}` };
  }
  const parts = t.split('..').map((p) => p.trim());
  if (parts.length !== 2) return { error: usage };
  const since = parseTime(parts[0]);
  if (since === undefined) return { error: `"${parts[0]}": ${usage}` };
  const span = parts[1].startsWith('+') ? parseSpan(parts[1].slice(1)) : undefined;
  const until = span !== undefined ? since + span : parseTime(parts[1]);
  if (until === undefined) return { error: `"${parts[1]}": ${usage}` };
  if (until <= since) return { error: 'the end must come after the start' };
  return { since, until, label: t };
}
