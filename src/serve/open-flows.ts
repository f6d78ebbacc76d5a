/**
 * `history.flows` answers the flows still open too, marked `"open": true`: a connection shows while it lasts,
 * not only once it ended (about 10 s late, or never for one that goes on for hours). They come from the
 * engine's flow table at the moment of the query, filtered as the stored ones are and merged with them,
 * newest first.
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

/** The stored flows (newest first) with the open ones that match, newest first, at most `limit`. */
export function withOpenFlows(stored: readonly ConnRecord[], open: Iterable<ConnRecord>, q: HistoryQueryParams & { limit: number }): ConnRecord[] {
  const live: ConnRecord[] = [];
  for (const r of open) if (matches(r, q)) live.push(r);
  return [...live, ...stored].sort((a, b) => b.ts - a.ts).slice(0, q.limit);
}
