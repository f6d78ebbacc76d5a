/**
 * Records of the shapes an agent sends (docs/records.md), for fakes that answer in its place: clients check
 * every reply against the protocol's schemas (src/serve/protocol/results.ts), so a fake must answer in full.
 */
import type { ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { AgentStatus } from '../../serve/status.js';
import type { StatsSecond } from '../../stats/stats-record.js';
import type { SeriesPoint } from '../../store/types.js';

export function wireStatus(pid: number): AgentStatus {
  return {
    type: 'agent_status', pid, user: 'loopy', started: 1, updated: 2, state: 'running', source: 'replay', filter: null, interfaces: [],
    packets_per_s: 0, bytes_per_s: 0, drop_pct: 0, drop_pct_total: 0, weirds_per_s: 0, cpu_percent: 0, rss_bytes: 0,
    flows_active: 0, packets_total: 0, bytes_total: 0, clients: 1, uptime_s: 1,
  };
}

export function wireStats(ts: number): StatsSecond {
  return {
    type: 'stats', ts, duration: 1, packets: 1, bytes: 60, packets_in: 1, packets_out: 0, bytes_in: 60, bytes_out: 0, interfaces: [],
    protocols: {}, top_talkers: [], flows_active: 0, flows_opened: 0, flows_closed: 0, dns: { queries: 0, answers: 0, rcodes: {} },
    weirds: {}, cpu_percent: 0, rss_bytes: 0,
  };
}

const ID = { 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000, 'id.resp_h': '10.0.0.53', 'id.resp_p': 53, proto: 'udp' } as const;

export function wireConn(uid: string, ts = 100): ConnRecord {
  return {
    type: 'conn', _path: 'conn', ts, uid, ...ID, community_id: '1:x', duration: 0, orig_bytes: 0, resp_bytes: 0, conn_state: 'SF', history: 'Dd',
    orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 60, orig_retrans: 0, resp_retrans: 0, orig_ooo: 0, resp_ooo: 0,
  };
}

export function wireDns(query: string, ts = 100): DnsRecord {
  return { type: 'dns', _path: 'dns', ts, uid: 'D1', ...ID, trans_id: 1, query, AA: false, TC: false, RD: true, RA: true, Z: 0, rejected: false };
}

export function wireSeriesPoint(ts: number, packets: number): SeriesPoint {
  return { ts, packets, bytes: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0, flows_opened: 0, dns_queries: 0, dropped: 0, alerts: 0 };
}
