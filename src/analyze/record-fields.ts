/**
 * Every field of each record type, in one fixed order: Zeek's log order (conn.log, dns.log), then Loopy's
 * additions, as docs/records.md lists them. What tabular outputs (`loopy query --csv`) use as their columns,
 * so a header never depends on which rows happened to come back. The JSON writers keep their own order.
 * A field added to a record type fails to compile until it has its place here.
 */
import type { AlertRecord, ConnRecord, DnsRecord } from './records.js';

export const CONN_FIELDS = [
  'type', 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes',
  'community_id', 'vlan', 'inner_vlan', 'rtt', 'orig_retrans', 'resp_retrans', 'orig_ooo', 'resp_ooo',
  'orig_process', 'resp_process',
] as const satisfies ReadonlyArray<keyof ConnRecord>;

export const DNS_FIELDS = [
  'type', 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'rtt', 'query',
  'qclass', 'qclass_name', 'qtype', 'qtype_name', 'rcode', 'rcode_name', 'AA', 'TC', 'RD', 'RA', 'Z', 'answers',
  'TTLs', 'rejected',
] as const satisfies ReadonlyArray<keyof DnsRecord>;

/** An alert's fields, then the agent's acknowledgement (docs/protocol.md) that history adds to it. */
export const ALERT_FIELDS = [
  'type', 'ts', 'alert_id', 'state', 'state_ts', 'detector', 'severity', 'message', 'src', 'dst', 'evidence',
  'community_ids', 'closed_reason', 'acknowledged', 'acknowledged_at', 'acknowledged_by',
] as const satisfies ReadonlyArray<keyof AlertRecord | 'acknowledged' | 'acknowledged_at' | 'acknowledged_by'>;

/** Compiles only when `Fields` names every key of `R`. */
// `_path` is left out: a table's rows are of one kind, which `type` already says.
type Covers<R, Fields extends readonly string[]> = Exclude<keyof R, Fields[number] | '_path'> extends never ? true : Exclude<keyof R, Fields[number] | '_path'>;
const everyConnField: Covers<ConnRecord, typeof CONN_FIELDS> = true;
const everyDnsField: Covers<DnsRecord, typeof DNS_FIELDS> = true;
const everyAlertField: Covers<AlertRecord, typeof ALERT_FIELDS> = true;
void [everyConnField, everyDnsField, everyAlertField];
