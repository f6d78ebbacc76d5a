/**
 * The open flows a query asks for, chosen on the flow table's columns: active in [since, until), with the
 * host, port and protocol asked, the newest `limit` of them by start time. Only those become records: a broad
 * query at 300 kpps used to build a conn record for every open flow (100,000 and more) on the capture
 * thread, which stalled the capture (14 % of the packets lost in the live bench) and took ~500 MB of heap.
 */
import { parseAddress } from '../parse-address.js';
import { connProtoName } from './conn-record.js';
import type { Connections } from './connections.js';

export interface OpenFlowFilter {
  since: number;
  until: number;
  limit: number;
  host?: string;
  port?: number;
  proto?: string;
}

/** Flow indexes of the matching open flows, newest first (by start time), at most `limit`. */
export function selectOpenFlows(conns: Connections, q: OpenFlowFilter): number[] {
  const table = conns.table;
  const host = q.host === undefined ? undefined : parseAddress(q.host);
  if (q.host !== undefined && host === undefined) return [];
  const words = new Uint32Array(4);
  const matched: number[] = [];
  for (let flow = 0; flow < table.extent; flow++) {
    if (!table.isLive(flow)) continue;
    const start = conns.firstTs[flow];
    if (start >= q.until || conns.lastTs[flow] < q.since) continue;
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
