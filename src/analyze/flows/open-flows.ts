/**
 * The open flows a query asks for, chosen on the flow table's columns: active in [since, until), with the
 * host, port and protocol asked, the newest `limit` of them by start time. Only those are written, as JSON
 * rows straight from the columns (no record object): a broad query at 300 kpps used to build a conn record
 * for every open flow (100,000 and more) on the capture thread, which stalled the capture (14 % of the
 * packets lost in the live bench) and took ~500 MB of heap.
 */
import { parseAddress } from '../parse-address.js';
import { RowsBuilder, type RecordRows } from '../record-rows.js';
import { connViewJsonRoom, writeConnViewJson } from './conn-json.js';
import { connProtoName, ConnView, formatAddress, round6 } from './conn-record.js';
import type { Connections } from './connections.js';

export interface OpenFlowFilter {
  since: number;
  until: number;
  limit: number;
  host?: string;
  port?: number;
  proto?: string;
  /**
   * Only flows that started at or after this time: a history answer's open flows older than the newest
   * `limit` stored ones would not be in it (on equal times an open flow comes first).
   */
  startedFrom?: number;
}

/** Flow indexes of the matching open flows, newest first (by start time), at most `limit`. */
export function selectOpenFlows(conns: Connections, q: OpenFlowFilter): number[] {
  const table = conns.table;
  const host = q.host === undefined ? undefined : parseAddress(q.host);
  // The host as records write it, as the store matches it: another spelling of an address matches nothing.
  if (q.host !== undefined && (host === undefined || formatAddress(host.version, host.words) !== q.host)) return [];
  const words = new Uint32Array(4);
  const matched: number[] = [];
  const startedFrom = q.startedFrom ?? -Infinity;
  for (let flow = 0; flow < table.extent; flow++) {
    if (!table.isLive(flow)) continue;
    const start = conns.firstTs[flow];
    // Active until ts + duration, as its record says (the duration to the microsecond).
    if (start >= q.until || start + round6(conns.lastTs[flow] - start) < q.since || start < startedFrom) continue;
    if (q.proto !== undefined && connProtoName(table.protoOf(flow)) !== q.proto) continue;
    if (q.port !== undefined && table.origPort(flow) !== q.port && table.respPort(flow) !== q.port) continue;
    if (host !== undefined && !hasHost(conns, flow, host.version, host.words, words)) continue;
    matched.push(flow);
  }
  matched.sort((a, b) => conns.firstTs[b] - conns.firstTs[a]);
  return matched.length > q.limit ? matched.slice(0, q.limit) : matched;
}

function hasHost(conns: Connections, flow: number, version: 4 | 6, host: Uint32Array, scratch: Uint32Array): boolean {
  if (conns.table.versionOf(flow) !== version) return false;
  const n = version === 4 ? 1 : 4;
  return sameWords(conns.table.origAddress(flow, scratch), host, n) || sameWords(conns.table.respAddress(flow, scratch), host, n);
}

function sameWords(a: Uint32Array, b: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

const OPEN_MARK = Buffer.from(',"open":true}');

/**
 * The flows (newest first) as JSON rows, each the line `loopy read --json` writes for its conn record with
 * `"open":true` added last: what JSON.stringify({ ...record, open: true }) writes, without the record.
 */
export function openConnRows(conns: Connections, flows: readonly number[], serviceOf: (flow: number) => string | undefined): RecordRows {
  const view = new ConnView(conns);
  const rows = new RowsBuilder(flows.length, flows.length * 420);
  for (const flow of flows) {
    view.set(flow, serviceOf(flow));
    const history = view.history();
    const buf = rows.room(connViewJsonRoom(history, view.service) + OPEN_MARK.length);
    // The record's closing brace gives way to the mark, which closes it.
    const end = writeConnViewJson(buf, rows.at, view, history) - 1;
    rows.end(end + OPEN_MARK.copy(buf, end), view.ts);
  }
  return rows.done();
}
