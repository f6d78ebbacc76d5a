/**
 * Derived figures the views share: the latest rates of an agent, series for sparklines and charts, the alert
 * counts, and the `/` filter. Pure functions of snapshots.
 */
import { displayText } from '../analyze/display-text.js';
import type { AlertRecord, DnsRecord } from '../analyze/records.js';
import type { PanelLine } from './components/Panel.js';
import type { StatsSecond } from '../stats/stats-record.js';
import type { AgentSnapshot } from './agent-store.js';

export function lastSecond(agent: AgentSnapshot): StatsSecond | undefined {
  return agent.seconds[agent.seconds.length - 1];
}

/** Drop % of the last second over all the agent's interfaces (the kernel's drops over what it saw). */
export function dropPercent(s: StatsSecond | undefined): number {
  if (!s) return 0;
  let received = 0;
  let dropped = 0;
  for (const i of s.interfaces) {
    received += i.received;
    dropped += i.dropped;
  }
  return received === 0 ? 0 : (dropped / received) * 100;
}

/** One value per second; seconds without a record read 0, so gaps show as gaps. */
export function perSecond(seconds: readonly StatsSecond[], pick: (s: StatsSecond) => number, count: number, endTs?: number): number[] {
  const out = new Array<number>(count).fill(0);
  if (seconds.length === 0) return out;
  const end = endTs ?? Math.floor(seconds[seconds.length - 1].ts);
  for (let i = seconds.length - 1; i >= 0; i--) {
    const s = seconds[i];
    const slot = count - 1 - (end - Math.floor(s.ts));
    if (slot < 0) break;
    if (slot < count) out[slot] += pick(s) / (s.duration > 0 ? s.duration : 1);
  }
  return out;
}

/** Sums per-second series of several agents aligned on their common latest second. */
export function combinedPerSecond(agents: readonly AgentSnapshot[], pick: (s: StatsSecond) => number, count: number): number[] {
  let end = -Infinity;
  for (const a of agents) {
    const s = lastSecond(a);
    if (s && Math.floor(s.ts) > end) end = Math.floor(s.ts);
  }
  const out = new Array<number>(count).fill(0);
  if (end === -Infinity) return out;
  for (const a of agents) {
    const series = perSecond(a.seconds, pick, count, end);
    for (let i = 0; i < count; i++) out[i] += series[i];
  }
  return out;
}

/** A DNS name as a person reads it: Zeek's escapes decoded (display-text.ts), the root as ".", none as "-". */
export function dnsName(query: string | undefined): string {
  if (query === undefined) return '-';
  return query === '' ? '.' : displayText(query);
}

/** Names of the records `pick` keeps with how many times each was asked, most asked first. */
export function countNames(records: readonly DnsRecord[], pick: (r: DnsRecord) => boolean): PanelLine[] {
  const counts = new Map<string, number>();
  for (const r of records) if (r.query !== undefined && pick(r)) counts.set(r.query, (counts.get(r.query) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([q, n]) => ({ name: dnsName(q), value: String(n) }));
}

/** Most severe first. */
export const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/** The name an address has in the passive DNS of the first of these agents that knows it (for rows merged over agents). */
export function nameIn(agents: readonly AgentSnapshot[], address: string): string | undefined {
  for (const a of agents) {
    const name = a.names.nameOf(address);
    if (name !== undefined) return name;
  }
  return undefined;
}

export function isOpenAlert(a: AlertRecord): boolean {
  return a.state !== 'closed';
}

export function openAlertCount(agent: AgentSnapshot): number {
  let n = 0;
  for (const a of agent.alerts) if (isOpenAlert(a)) n++;
  return n;
}

/**
 * The `/` filter: space-separated terms, all must match (case-insensitive substring of any field);
 * a term starting with "!" must match none.
 */
export function matchesFilter(filter: string, fields: readonly (string | number | undefined)[]): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter((t) => t.length > 0);
  if (terms.length === 0) return true;
  const hay = fields.filter((f) => f !== undefined).map((f) => String(f).toLowerCase());
  for (const term of terms) {
    const negate = term.startsWith('!') && term.length > 1;
    const needle = negate ? term.slice(1) : term;
    const found = hay.some((h) => h.includes(needle));
    if (found === negate) return false;
  }
  return true;
}

export function connectionLabel(agent: AgentSnapshot): { text: string; ok: boolean } {
  const s = agent.state;
  switch (s.state) {
    case 'connected':
      return { text: 'connected', ok: true };
    case 'connecting':
      return { text: s.attempt > 1 ? `connecting #${s.attempt}` : 'connecting', ok: false };
    case 'disconnected':
      // retryInMs < 0: the client gave up (wrong token, changed certificate...): retrying cannot help.
      return { text: s.retryInMs < 0 ? 'down, gave up' : `down, retry ${Math.ceil(s.retryInMs / 1000)}s`, ok: false };
    case 'closed':
      return { text: 'closed', ok: false };
  }
}
