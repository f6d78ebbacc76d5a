import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../../decode/packet.js';
import { formatIPv4, formatIPv6 } from '../format-address.js';
import type { ConnId, ConnRecord } from '../records.js';
import { communityIdOfKey } from './community-id.js';
import type { Connections } from './connections.js';
import { datagramConnState, tcpConnState } from './tcp-state.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_CODES = Array.from(BASE62, (c) => c.charCodeAt(0));
/** Char codes of a uid being made: one String.fromCharCode call instead of 17 concatenations. */
const uidCodes: number[] = new Array<number>(18).fill(0x43); // 'C'

/** A Zeek-style connection uid ("C" + 17 base62 characters), derived from the flow's serial number. */
export function uidFor(serial: number, seed = 0x9e3779b9): string {
  let a = mix32((serial >>> 0) ^ seed);
  let b = mix32(((serial / 4294967296) >>> 0) ^ a ^ 0x85ebca6b);
  for (let i = 0; i < 17; i++) {
    uidCodes[i + 1] = BASE62_CODES[(a >>> 0) % 62];
    a = Math.floor((a >>> 0) / 62) + (b & 0x3f) * 69273666;
    b = mix32(b + i);
  }
  return String.fromCharCode.apply(null, uidCodes);
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Endpoint addresses and ports of a flow in originator → responder order. */
export interface FlowEndpoints {
  version: number;
  proto: number;
  orig: Uint32Array;
  resp: Uint32Array;
  origPort: number;
  respPort: number;
  vlan: number;
  innerVlan: number;
}

/** The flow's endpoints as a fresh object (for tests and tools; records copy into scratch words instead). */
export function flowEndpoints(conns: Connections, flow: number): FlowEndpoints {
  const t = conns.table;
  return {
    version: t.versionOf(flow),
    proto: t.protoOf(flow),
    orig: t.origAddress(flow, new Uint32Array(4)),
    resp: t.respAddress(flow, new Uint32Array(4)),
    origPort: t.origPort(flow),
    respPort: t.respPort(flow),
    vlan: t.vlanOf(flow),
    innerVlan: t.innerVlanOf(flow),
  };
}

/** An address held as four words (IPv4 in word 0) in the text form of its version. */
export function formatAddress(version: number, words: Uint32Array): string {
  return version === 6 ? formatIPv6(words) : formatIPv4(words[0]);
}

/** The originator's address in words 0-3, the responder's in 4-7: read once per record, never allocated. */
const endpointWords = new Uint32Array(8);
const origWords = endpointWords.subarray(0, 4);
const respWords = endpointWords.subarray(4, 8);

function protoName(proto: number): ConnId['proto'] {
  return proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 ? 'icmp' : 'udp';
}

export function connIdOf(conns: Connections, flow: number): ConnId {
  const t = conns.table;
  const version = t.versionOf(flow);
  return {
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': formatAddress(version, t.origAddress(flow, origWords)),
    'id.orig_p': t.origPort(flow),
    'id.resp_h': formatAddress(version, t.respAddress(flow, respWords)),
    'id.resp_p': t.respPort(flow),
    proto: protoName(t.protoOf(flow)),
  };
}

export function connRecordOf(conns: Connections, flow: number, service: string | undefined): ConnRecord {
  const t = conns.table;
  const proto = t.protoOf(flow);
  const version = t.versionOf(flow);
  t.origAddress(flow, origWords);
  t.respAddress(flow, respWords);
  const oPort = t.origPort(flow);
  const rPort = t.respPort(flow);
  const o = flow * 2;
  const r = o + 1;
  const history = conns.historyOf(flow);
  const isTcp = proto === IPPROTO_TCP;
  // One literal in the field order connToJson writes (and JSON.stringify would): no spread, no copies.
  const record: ConnRecord = {
    type: 'conn',
    ts: conns.firstTs[flow],
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': formatAddress(version, origWords),
    'id.orig_p': oPort,
    'id.resp_h': formatAddress(version, respWords),
    'id.resp_p': rPort,
    proto: protoName(proto),
    community_id: communityIdOfKey(proto, version === 6, endpointWords, 0, 4, oPort, rPort),
    duration: round6(conns.lastTs[flow] - conns.firstTs[flow]),
    orig_bytes: conns.bytes[o],
    resp_bytes: conns.bytes[r],
    conn_state: isTcp
      ? tcpConnState(conns.state[o], conns.state[r], history, conns.bytes[o], conns.bytes[r])
      : proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6
        ? 'OTH'
        : datagramConnState(conns.pkts[o], conns.pkts[r]),
    history,
    orig_pkts: conns.pkts[o],
    orig_ip_bytes: conns.ipBytes[o],
    resp_pkts: conns.pkts[r],
    resp_ip_bytes: conns.ipBytes[r],
    orig_retrans: conns.retrans[o],
    resp_retrans: conns.retrans[r],
    orig_ooo: conns.outOfOrder[o],
    resp_ooo: conns.outOfOrder[r],
  };
  if (service !== undefined) record.service = service;
  const vlan = t.vlanOf(flow);
  const innerVlan = t.innerVlanOf(flow);
  if (vlan !== 0) record.vlan = vlan;
  if (innerVlan !== 0) record.inner_vlan = innerVlan;
  if (isTcp && conns.rtt[flow] >= 0) record.rtt = round6(conns.rtt[flow]);
  return record;
}

/** Times are kept to the microsecond, as Zeek writes them. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
