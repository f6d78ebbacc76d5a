/**
 * The records Loopy emits (NDJSON, `type` first). Field names follow Zeek's conn.log / dns.log so that
 * existing jq recipes and Zeek/ECS pipelines work; docs/records.md documents each field.
 */

/**
 * The Zeek log each record type goes to (`_path` in the record, as in Zeek's JSON logs; the file name with
 * --zeek-logs). Records without one (summary, stats) are Loopy's own and never go to a Zeek log.
 */
export const ZEEK_PATHS = { conn: 'conn', dns: 'dns', tls: 'ssl', http: 'http', ssh: 'ssh', weird: 'weird', alert: 'notice' } as const;
export type ZeekPath = (typeof ZEEK_PATHS)[keyof typeof ZEEK_PATHS];

/** The Zeek log of a record type, or undefined for Loopy's own records. */
export function zeekPathOf(type: string): ZeekPath | undefined {
  return Object.hasOwn(ZEEK_PATHS, type) ? ZEEK_PATHS[type as keyof typeof ZEEK_PATHS] : undefined;
}

/** The connection identity shared by conn, dns, tls and http records. */
export interface ConnId {
  uid: string;
  'id.orig_h': string;
  'id.orig_p': number;
  'id.resp_h': string;
  'id.resp_p': number;
  proto: 'tcp' | 'udp' | 'icmp';
}

/**
 * Writes a record's head, the fields every application record starts with (type, _path, ts, then the
 * ConnId's), into a record being made by its constructor: in this order, as JSON.stringify then writes them.
 */
export function setRecordHead<T extends string, P extends string>(
  into: ConnId & { type: T; _path: P; ts: number },
  type: T,
  path: P,
  ts: number,
  id: ConnId,
): void {
  into.type = type;
  into._path = path;
  into.ts = ts;
  into.uid = id.uid;
  into['id.orig_h'] = id['id.orig_h'];
  into['id.orig_p'] = id['id.orig_p'];
  into['id.resp_h'] = id['id.resp_h'];
  into['id.resp_p'] = id['id.resp_p'];
  into.proto = id.proto;
}

export interface ConnRecord extends ConnId {
  type: 'conn';
  _path: 'conn';
  ts: number;
  community_id: string;
  service?: string;
  duration: number;
  orig_bytes: number;
  resp_bytes: number;
  conn_state: string;
  history: string;
  orig_pkts: number;
  orig_ip_bytes: number;
  resp_pkts: number;
  resp_ip_bytes: number;
  vlan?: number;
  inner_vlan?: number;
  rtt?: number;
  orig_retrans: number;
  resp_retrans: number;
  orig_ooo: number;
  resp_ooo: number;
  /** The process behind the originator, when it is a socket on this host (the agent only: src/host/). */
  orig_process?: ProcessRecord;
  /** The process behind the responder, when it is a socket on this host (a listener's owner at least). */
  resp_process?: ProcessRecord;
}

/** Who owns a local socket: fields that are not known (an exe not readable, no systemd unit) are absent. */
export interface ProcessRecord {
  pid: number;
  /** The command name (/proc/PID/comm). */
  name: string;
  exe?: string;
  user?: string;
  /** The systemd unit or container (docker:ID, podman:ID…) its cgroup names. */
  unit?: string;
}

export interface DnsRecord extends ConnId {
  type: 'dns';
  _path: 'dns';
  ts: number;
  trans_id: number;
  rtt?: number;
  query?: string;
  qclass?: number;
  qclass_name?: string;
  qtype?: number;
  qtype_name?: string;
  rcode?: number;
  rcode_name?: string;
  AA: boolean;
  TC: boolean;
  RD: boolean;
  RA: boolean;
  Z: number;
  answers?: string[];
  TTLs?: number[];
  rejected: boolean;
}

export interface TlsRecord extends ConnId {
  type: 'tls';
  _path: 'ssl';
  ts: number;
  server_name?: string;
  /** Negotiated version from the ServerHello ("TLSv12", "TLSv13"...) or, without one, the client's highest offer. */
  version?: string;
  client_version?: string;
  established?: boolean;
}

/**
 * Weirds of a flow: one record per name when the flow ends, with its uid and id.* (ts: the first one's time).
 * Weirds without a flow: one per name at the end of the input, without uid or id.* (ts: the last packet's).
 */
export interface WeirdRecord extends Partial<ConnId> {
  type: 'weird';
  _path: 'weird';
  ts: number;
  name: string;
  count: number;
}

export interface SummaryRecord {
  type: 'summary';
  packets: number;
  bytes: number;
  first_ts: number | null;
  last_ts: number | null;
  link_types: Record<string, number>;
  protocols: Record<string, number>;
  weirds: Record<string, number>;
  unsupported_link_types: Record<string, number>;
  flows: number;
  flows_evicted: number;
  dns_transactions: number;
}

/** What an alert rests on: the counters that fired and their thresholds, who and what was involved, when. */
export interface AlertEvidence {
  counters: Record<string, number>;
  thresholds: Record<string, number>;
  hosts: string[];
  ports?: number[];
  names?: string[];
  first_seen: number;
  last_seen: number;
  /** The evidence pcap (written once the seconds after the alert have been captured). */
  pcap?: string;
  [extra: string]: unknown;
}

/** One incident's alert: emitted when it fires (open), as it goes on (update, rate-limited), and when it closes. */
export interface AlertRecord {
  type: 'alert';
  /** Zeek's notice.log is where an alert goes among Zeek logs. */
  _path: 'notice';
  /** Capture time when the alert fired (the same in every record of one alert). */
  ts: number;
  alert_id: string;
  state: 'open' | 'update' | 'closed';
  /** Capture time of this record (= ts for open). */
  state_ts: number;
  detector: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  message: string;
  src?: string;
  dst?: string;
  evidence: AlertEvidence;
  community_ids: string[];
  /** Closed records: 'quiet' (nothing new for the quiet period), 'suppressed', or 'end_of_input'. */
  closed_reason?: 'quiet' | 'suppressed' | 'end_of_input';
}

export type LoopyRecord = ConnRecord | DnsRecord | TlsRecord | WeirdRecord | SummaryRecord | AlertRecord | { type: string; [field: string]: unknown };
