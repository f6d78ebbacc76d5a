/**
 * `history.flows` answers the flows still open too, marked `"open": true`: a connection shows while it lasts,
 * not only once it ended (about 10 s late, or never for one that goes on for hours). They come from the
 * engine's flow table at the moment of the query, filtered as the stored ones are and merged with them,
 * newest first. With `--workers N` each engine holds its own share of the flows: every engine is asked
 * (engine-workers.ts), each answers its newest `limit` matches, and the agent's thread merges them.
 */
import type { ConnRecord } from '../analyze/records.js';
import type { HistoryQueryParams } from './protocol/messages.js';

/** An open flow matches when it was active in [since, until) and the host, port and proto filters hold. */
function matches(r: ConnRecord, q: HistoryQueryParams): boolean {
  if (r.ts >= q.until || r.ts + (r.duration ?? 0) < q.since) return false;
  if (q.host !== undefined && r['id.orig_h'] !== q.host && r['id.resp_h'] !== q.host) return false;
  if (q.port !== undefined && r['id.orig_p'] !== q.port && r['id.resp_p'] !== q.port) return false;
  return q.proto === undefined || r.proto === q.proto;
}

export type OpenFlowsQuery = HistoryQueryParams & { limit: number };

/** The open flows that match, newest first, at most `limit` (what one engine answers). */
export function matchingOpenFlows(open: Iterable<ConnRecord>, q: OpenFlowsQuery): ConnRecord[] {
  const live: ConnRecord[] = [];
  for (const r of open) if (matches(r, q)) live.push(r);
  return live.sort(newestFirst).slice(0, q.limit);
}

/** The stored flows (newest first) with the open ones that match, newest first, at most `limit`. */
export function withOpenFlows(stored: readonly ConnRecord[], open: Iterable<ConnRecord>, q: OpenFlowsQuery): ConnRecord[] {
  return [...matchingOpenFlows(open, q), ...stored].sort(newestFirst).slice(0, q.limit);
}

function newestFirst(a: ConnRecord, b: ConnRecord): number {
  return b.ts - a.ts;
}
