/** Records for the store's tests, built by hand with the fields the engine fills, and a throwaway directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { StatsSecond } from '../stats/stats-record.js';
import type { AlertLike } from './types.js';

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const parent = mkdtempSync(join(tmpdir(), 'loopy-store-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, 'data');
}

/** A stats second whose counters derive from `n` so sums are checkable; talkers a.b.c.d with known bytes. */
export function statsSecond(ts: number, n: number, talkers: Array<[string, number]> = []): StatsSecond {
  return {
    type: 'stats',
    ts,
    duration: 1,
    packets: n,
    bytes: n * 100,
    packets_in: n - (n >> 1),
    packets_out: n >> 1,
    bytes_in: (n - (n >> 1)) * 100,
    bytes_out: (n >> 1) * 100,
    interfaces: [{ name: 'eth0', packets: n, bytes: n * 100, received: n, dropped: n % 3, if_dropped: 0, drop_pct: 0, received_total: 0, dropped_total: 0 }],
    protocols: { tcp: n },
    top_talkers: talkers.map(([host, bytes]) => ({ host, bytes, packets: Math.ceil(bytes / 100), flows: 1, local: false })),
    flows_active: 0,
    flows_opened: n % 5,
    flows_closed: 0,
    dns: { queries: n % 7, answers: 0, rcodes: {} },
    weirds: {},
    cpu_percent: 1.5,
    rss_bytes: 50e6,
  };
}

export function connRecord(ts: number, orig: string, origPort: number, resp: string, respPort: number, proto: ConnRecord['proto'] = 'tcp'): ConnRecord {
  return {
    type: 'conn', _path: 'conn',
    ts,
    uid: `C${Math.round(ts * 1000).toString(36)}${origPort}`,
    'id.orig_h': orig,
    'id.orig_p': origPort,
    'id.resp_h': resp,
    'id.resp_p': respPort,
    proto,
    community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    service: respPort === 443 ? 'ssl' : undefined,
    duration: 1.25,
    orig_bytes: 517,
    resp_bytes: 4_096,
    conn_state: 'SF',
    history: 'ShADadFf',
    orig_pkts: 9,
    orig_ip_bytes: 993,
    resp_pkts: 8,
    resp_ip_bytes: 4_520,
    vlan: 12,
    rtt: 0.0213,
    orig_retrans: 0,
    resp_retrans: 1,
    orig_ooo: 0,
    resp_ooo: 0,
  };
}

export function dnsRecord(ts: number, client: string, query: string, rcode: 'NOERROR' | 'NXDOMAIN'): DnsRecord {
  return {
    type: 'dns', _path: 'dns',
    ts,
    uid: `D${Math.round(ts * 1000).toString(36)}`,
    'id.orig_h': client,
    'id.orig_p': 53_124,
    'id.resp_h': '192.0.2.53',
    'id.resp_p': 53,
    proto: 'udp',
    trans_id: 0x1c2d,
    rtt: 0.004,
    query,
    qclass: 1,
    qclass_name: 'C_INTERNET',
    qtype: 1,
    qtype_name: 'A',
    rcode: rcode === 'NOERROR' ? 0 : 3,
    rcode_name: rcode,
    AA: false,
    TC: false,
    RD: true,
    RA: true,
    Z: 0,
    answers: rcode === 'NOERROR' ? ['198.51.100.7'] : undefined,
    TTLs: rcode === 'NOERROR' ? [300] : undefined,
    rejected: false,
  };
}

export function alertRecord(id: string, ts: number, state: 'open' | 'update' | 'closed', stateTs = ts): AlertLike {
  return {
    type: 'alert', _path: 'notice',
    ts,
    alert_id: id,
    state,
    state_ts: stateTs,
    detector: 'port_scan',
    severity: 'high',
    message: `10.0.0.66 probed 120 ports of 10.0.0.5`,
    src: '10.0.0.66',
    dst: '10.0.0.5',
    evidence: { counters: { ports: 120 }, thresholds: { ports: 100 }, hosts: ['10.0.0.66', '10.0.0.5'], first_seen: ts, last_seen: stateTs },
    community_ids: [],
  };
}
