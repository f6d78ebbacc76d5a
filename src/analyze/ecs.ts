/**
 * Records in the Elastic Common Schema (`--format ecs`), so Filebeat, Elastic and OpenSearch take them as they
 * are: `@timestamp`, `event.*`, `source.*` / `destination.*`, `network.*` (with the Community ID), `dns.*`,
 * `tls.*`, `http.*`, `url.*`, `rule.*` for alerts. What ECS has no field for stays under `loopy.*` (and the uid
 * under `zeek.session_id`, where Elastic's Zeek module puts it). ECS_FIELD_TYPES lists every field written and
 * its Elasticsearch type; docs/records.md shows the table. Made after the packet loop, a record at a time.
 */
import { addressBytes, parseAddress } from './parse-address.js';
import { communityId } from './flows/community-id.js';
import type { AlertRecord, ConnId, ConnRecord, DnsRecord, TlsRecord, WeirdRecord } from './records.js';
import type { HttpRecord } from './apps/http/record.js';
import { isoTimeOf } from './time-text.js';

export const ECS_VERSION = '8.11.0';

/** Every field `toEcs` writes, as a dotted path, and its Elasticsearch type. */
export const ECS_FIELD_TYPES = {
  '@timestamp': 'date', 'ecs.version': 'keyword', message: 'match_only_text',
  'event.kind': 'keyword', 'event.category': 'keyword', 'event.type': 'keyword', 'event.dataset': 'keyword',
  'event.module': 'keyword', 'event.id': 'keyword', 'event.action': 'keyword', 'event.start': 'date', 'event.end': 'date',
  'event.duration': 'long', 'event.severity': 'long', 'event.outcome': 'keyword',
  'source.ip': 'ip', 'source.port': 'long', 'source.bytes': 'long', 'source.packets': 'long',
  'destination.ip': 'ip', 'destination.port': 'long', 'destination.bytes': 'long', 'destination.packets': 'long', 'destination.domain': 'keyword',
  'network.transport': 'keyword', 'network.type': 'keyword', 'network.protocol': 'keyword', 'network.community_id': 'keyword',
  'network.bytes': 'long', 'network.packets': 'long', 'network.vlan.id': 'keyword', 'network.inner.vlan.id': 'keyword',
  'dns.id': 'keyword', 'dns.type': 'keyword', 'dns.question.name': 'keyword', 'dns.question.type': 'keyword', 'dns.question.class': 'keyword',
  'dns.response_code': 'keyword', 'dns.header_flags': 'keyword', 'dns.answers.data': 'keyword', 'dns.answers.ttl': 'long',
  'tls.version': 'keyword', 'tls.version_protocol': 'keyword', 'tls.cipher': 'keyword', 'tls.client.server_name': 'keyword',
  'tls.next_protocol': 'keyword', 'tls.established': 'boolean', 'tls.client.ja3': 'keyword', 'tls.server.ja3s': 'keyword',
  'http.version': 'keyword', 'http.request.method': 'keyword', 'http.request.body.bytes': 'long', 'http.response.status_code': 'long',
  'http.response.body.bytes': 'long', 'url.original': 'wildcard', 'url.domain': 'keyword', 'url.path': 'wildcard', 'url.query': 'keyword',
  'user_agent.original': 'keyword',
  'rule.name': 'keyword', 'related.ip': 'ip', 'zeek.session_id': 'keyword',
  'loopy.conn_state': 'keyword', 'loopy.history': 'keyword', 'loopy.rtt': 'double', 'loopy.weird.name': 'keyword', 'loopy.weird.count': 'long',
  'loopy.alert.state': 'keyword', 'loopy.alert.severity': 'keyword', 'loopy.alert.closed_reason': 'keyword', 'loopy.alert.evidence': 'flattened',
  'loopy.record': 'flattened',
} as const;
export type EcsFieldType = (typeof ECS_FIELD_TYPES)[keyof typeof ECS_FIELD_TYPES];

type Doc = Record<string, unknown>;

/** ECS's severity scale for alerts (as Elastic's detection rules map low … critical). */
const SEVERITY = { low: 21, medium: 47, high: 73, critical: 99 } as const;
const TRANSPORT_NUMBER = { tcp: 6, udp: 17 } as const;

/** A record as an ECS document. */
export function toEcs(record: { type: string }): Doc {
  switch (record.type) {
    case 'conn': return connEcs(record as ConnRecord);
    case 'dns': return dnsEcs(record as DnsRecord);
    case 'tls': return tlsEcs(record as TlsRecord & { cipher?: string; next_protocol?: string; ja3?: string; ja3s?: string });
    case 'http': return httpEcs(record as HttpRecord);
    case 'weird': return weirdEcs(record as WeirdRecord);
    case 'alert': return alertEcs(record as AlertRecord);
    default: return otherEcs(record as Doc);
  }
}

/**
 * An ISO 8601 time (ms, as Elasticsearch's `date` keeps it) from seconds since the epoch; a time no date
 * holds (a damaged capture's) as epoch milliseconds, the other form Elasticsearch's default date format reads:
 * whole digits (String() would write 1e+21 and up in exponent form), within the 64-bit long it parses them to.
 */
function isoTime(seconds: number): string {
  return isoTimeOf(seconds) ?? epochMillisText(seconds);
}

const LONG_MAX = 2n ** 63n - 1n;

function epochMillisText(seconds: number): string {
  const ms = seconds * 1000;
  if (!(Math.abs(ms) < 2 ** 63)) return String(ms < 0 ? -LONG_MAX : LONG_MAX);
  return BigInt(Math.round(ms)).toString();
}

function base(ts: number, dataset: string, kind: string, category: string[], type: string[]): Doc {
  return {
    '@timestamp': isoTime(ts), ecs: { version: ECS_VERSION },
    event: { kind, category, type, dataset: `loopy.${dataset}`, module: 'loopy' },
  };
}

/** source, destination and network from a flow's identity; the Community ID computed when the record has none. */
function endpoints(id: ConnId, knownCommunityId?: string): Doc {
  const v6 = id['id.orig_h'].includes(':');
  const transport = id.proto === 'icmp' && v6 ? 'ipv6-icmp' : id.proto;
  const network: Doc = { transport, type: v6 ? 'ipv6' : 'ipv4' };
  const cid = knownCommunityId ?? flowCommunityId(id);
  if (cid !== undefined) network.community_id = cid;
  return {
    source: { ip: id['id.orig_h'], port: id['id.orig_p'] },
    destination: { ip: id['id.resp_h'], port: id['id.resp_p'] },
    network,
    zeek: { session_id: id.uid },
  };
}

/** Community ID v1 (seed 0) of a TCP or UDP flow's 5-tuple (ICMP's needs its type and code: conn records carry it). */
function flowCommunityId(id: ConnId): string | undefined {
  if (id.proto === 'icmp') return undefined;
  const orig = addressBytes(id['id.orig_h']);
  const resp = addressBytes(id['id.resp_h']);
  if (orig === undefined || resp === undefined) return undefined;
  return communityId(TRANSPORT_NUMBER[id.proto], orig, resp, id['id.orig_p'], id['id.resp_p']);
}

/** Merges ECS objects one level down (`event`, `network`…), so a record's parts add to the base's. */
function merge(...docs: Doc[]): Doc {
  const out: Doc = {};
  for (const doc of docs) {
    for (const [key, value] of Object.entries(doc)) {
      const had = out[key];
      out[key] = isObject(had) && isObject(value) ? { ...had, ...value } : value;
    }
  }
  return out;
}

function isObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Zeek's service names as ECS's network.protocol (lower case application protocol names). */
function protocolOf(service: string): string {
  return service === 'ssl' ? 'tls' : service;
}

function connEcs(r: ConnRecord): Doc {
  const network: Doc = { bytes: r.orig_bytes + r.resp_bytes, packets: r.orig_pkts + r.resp_pkts };
  if (r.service !== undefined) network.protocol = protocolOf(r.service.split(',')[0]);
  if (r.vlan !== undefined) network.vlan = { id: String(r.vlan) };
  if (r.inner_vlan !== undefined) network.inner = { vlan: { id: String(r.inner_vlan) } };
  const loopy: Doc = { conn_state: r.conn_state };
  if (r.history !== '') loopy.history = r.history; // ICMP has none
  if (r.rtt !== undefined) loopy.rtt = r.rtt;
  return merge(
    base(r.ts, 'conn', 'event', ['network'], ['connection']),
    endpoints(r, r.community_id),
    {
      event: { start: isoTime(r.ts), end: isoTime(r.ts + r.duration), duration: Math.round(r.duration * 1e9) },
      source: { bytes: r.orig_bytes, packets: r.orig_pkts },
      destination: { bytes: r.resp_bytes, packets: r.resp_pkts },
      network,
      loopy,
    },
  );
}

function dnsEcs(r: DnsRecord): Doc {
  const dns: Doc = { id: String(r.trans_id), type: r.rcode === undefined ? 'query' : 'answer' };
  const question: Doc = {};
  if (r.query !== undefined) question.name = r.query;
  if (r.qtype_name !== undefined) question.type = r.qtype_name;
  if (r.qclass_name !== undefined) question.class = r.qclass_name;
  if (Object.keys(question).length > 0) dns.question = question;
  if (r.rcode_name !== undefined) dns.response_code = r.rcode_name;
  const flags = (['AA', 'TC', 'RD', 'RA'] as const).filter((f) => r[f]);
  if (flags.length > 0) dns.header_flags = flags;
  if (r.answers !== undefined) dns.answers = r.answers.map((data, i) => ({ data, ttl: Math.round(r.TTLs?.[i] ?? 0) }));
  const event: Doc = {};
  if (r.rtt !== undefined) event.duration = Math.round(r.rtt * 1e9);
  if (r.rcode_name !== undefined) event.outcome = r.rcode === 0 ? 'success' : 'failure';
  return merge(base(r.ts, 'dns', 'event', ['network'], ['protocol']), endpoints(r), { event, network: { protocol: 'dns' }, dns });
}

/** Zeek's `TLSv12` as ECS's `1.2` (tls.version) and `tls` (tls.version_protocol); SSLv3 as `3.0` and `ssl`. */
function tlsVersion(v: string): { version: string; version_protocol: string } | undefined {
  const m = /^(TLS|SSL)v(\d)(\d)$/.exec(v);
  return m === null ? undefined : { version: `${m[2]}.${m[3]}`, version_protocol: m[1].toLowerCase() };
}

function tlsEcs(r: TlsRecord & { cipher?: string; next_protocol?: string; ja3?: string; ja3s?: string }): Doc {
  const tls: Doc = { ...(r.version !== undefined ? tlsVersion(r.version) : undefined) };
  if (r.cipher !== undefined) tls.cipher = r.cipher;
  if (r.next_protocol !== undefined) tls.next_protocol = r.next_protocol;
  if (r.established !== undefined) tls.established = r.established;
  const client: Doc = {};
  if (r.server_name !== undefined) client.server_name = r.server_name;
  if (r.ja3 !== undefined) client.ja3 = r.ja3;
  if (Object.keys(client).length > 0) tls.client = client;
  if (r.ja3s !== undefined) tls.server = { ja3s: r.ja3s };
  const extra: Doc = r.server_name !== undefined ? { destination: { domain: r.server_name } } : {};
  return merge(base(r.ts, 'tls', 'event', ['network'], ['protocol']), endpoints(r), { network: { protocol: 'tls' }, tls }, extra);
}

function httpEcs(r: HttpRecord): Doc {
  const request: Doc = { body: { bytes: r.request_body_len } };
  if (r.method !== undefined) request.method = r.method;
  const response: Doc = { body: { bytes: r.response_body_len } };
  if (r.status_code !== undefined) response.status_code = r.status_code;
  const http: Doc = { request, response };
  if (r.version !== undefined) http.version = r.version;
  const url: Doc = {};
  if (r.uri !== undefined) {
    url.original = r.uri;
    const q = r.uri.indexOf('?');
    url.path = q < 0 ? r.uri : r.uri.slice(0, q);
    if (q >= 0) url.query = r.uri.slice(q + 1);
  }
  if (r.host !== undefined) url.domain = r.host.replace(/:\d+$/, '');
  const doc: Doc = { network: { protocol: 'http' }, http };
  if (Object.keys(url).length > 0) doc.url = url;
  if (r.user_agent !== undefined) doc.user_agent = { original: r.user_agent };
  return merge(base(r.ts, 'http', 'event', ['network', 'web'], ['protocol']), endpoints(r), doc);
}

/** A flow's weird has its endpoints, Community ID and uid, as the flow's other documents. */
function weirdEcs(r: WeirdRecord): Doc {
  const doc = merge(base(r.ts, 'weird', 'event', ['network'], ['info']), { event: { action: r.name }, loopy: { weird: { name: r.name, count: r.count } } });
  return hasConnId(r) ? merge(doc, endpoints(r)) : doc;
}

function hasConnId(r: Partial<ConnId>): r is ConnId {
  return r.uid !== undefined && r['id.orig_h'] !== undefined && r['id.resp_h'] !== undefined && r.proto !== undefined;
}

function alertEcs(r: AlertRecord): Doc {
  const doc: Doc = {
    message: r.message,
    event: { id: r.alert_id, severity: SEVERITY[r.severity], start: isoTime(r.evidence.first_seen), end: isoTime(r.evidence.last_seen) },
    rule: { name: r.detector },
    loopy: { alert: { state: r.state, severity: r.severity, evidence: r.evidence, ...(r.closed_reason ? { closed_reason: r.closed_reason } : {}) } },
  };
  if (r.src !== undefined) doc.source = { ip: r.src };
  if (r.dst !== undefined) doc.destination = { ip: r.dst };
  if (r.community_ids.length > 0) doc.network = { community_id: r.community_ids };
  const hosts = r.evidence.hosts.filter((h) => parseAddress(h) !== undefined);
  if (hosts.length > 0) doc.related = { ip: hosts };
  return merge(base(r.ts, 'alert', 'alert', ['intrusion_detection', 'network'], ['info']), doc);
}

/** Loopy's own records (stats every second, the summary): metrics, their fields kept under loopy.record. */
function otherEcs(r: Doc): Doc {
  const { type, ts, ...rest } = r;
  const seconds = typeof ts === 'number' ? ts : typeof r.last_ts === 'number' ? r.last_ts : Date.now() / 1000;
  return merge(base(seconds, String(type), 'metric', ['network'], ['info']), { loopy: { record: rest } });
}
