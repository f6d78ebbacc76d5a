/**
 * `history.flows` answers the flows still open too, marked `"open": true`: a connection shows while it lasts,
 * not only once it ended (about 10 s late, or never for one that goes on for hours). They come from the
 * engine's flow table at the moment of the query, chosen on its columns as the stored ones are chosen
 * (analyze/flows/open-flows.ts) and written from them as JSON rows. With `--workers N` each engine holds its
 * own share of the flows: every engine is asked (engine-workers.ts) and answers its newest `limit` matches.
 * The agent's thread only merges the lists by time: it makes no object per row and stringifies nothing.
 */
import { mergedRows, type RecordRows } from '../analyze/record-rows.js';
import { JsonText } from './protocol/framing.js';
import type { HistoryQueryParams } from './protocol/messages.js';

/** A history.flows query, and the start time below which an open flow could not make the answer. */
export type OpenFlowsQuery = HistoryQueryParams & { limit: number; startedFrom?: number };

/** The open flows a query needs, given the stored rows: when these fill the limit, none older than its last. */
export function openFlowsQuery(q: HistoryQueryParams & { limit: number }, stored: RecordRows): OpenFlowsQuery {
  return stored.ts.length < q.limit ? q : { ...q, startedFrom: stored.ts[q.limit - 1] };
}

/**
 * The stored flows and each engine's open ones (every list newest first), newest first, at most `limit`, as
 * the answer's JSON text. On equal times an open flow comes first.
 */
export function withOpenFlows(stored: RecordRows, open: readonly RecordRows[], limit: number): JsonText {
  return new JsonText(mergedRows([...open, stored], limit));
}

/** Stored rows as the answer's JSON text. */
export function rowsJson(rows: RecordRows): JsonText {
  return new JsonText(mergedRows([rows], rows.ts.length));
}
