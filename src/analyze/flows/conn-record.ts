import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../../decode/packet.js';
import { formatIPv4, formatIPv6 } from '../format-address.js';
import type { ConnId, ConnRecord } from '../records.js';
import { communityId } from './community-id.js';
import type { Connections } from './connections.js';
import { KEY_WORDS } from './flow-table.js';
import { datagramConnState, tcpConnState } from './tcp-state.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Zeek-style connection uid ("C" + 17 base62 characters), derived from the flow's serial number. */
export function uidFor(serial: number, seed = 0x9e3779b9): string {
  let a = mix32((serial >>> 0) ^ seed);
  let b = mix32(((serial / 4294967296) >>> 0) ^ a ^ 0x85ebca6b);
  let out = 'C';
  for (let i = 0; i < 17; i++) {
    out += BASE62[(a >>> 0) % 62];
    a = Math.floor((a >>> 0) / 62) + (b & 0x3f) * 69273666;
    b = mix32(b + i);
  }
  return out;
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

export function flowEndpoints(conns: Connections, flow: number): FlowEndpoints {
  const keys = conns.table.keys;
  const base = flow * KEY_WORDS;
  const a = keys.slice(base, base + 4);
  const b = keys.slice(base + 4, base + 8);
  const portA = keys[base + 8] >>> 16;
  const portB = keys[base + 8] & 0xffff;
  const meta = keys[base + 9];
  const origIsA = conns.table.origIsA[flow] === 1;
  return {
    version: (meta >>> 20) & 1 ? 6 : 4,
    proto: meta & 0xff,
    orig: origIsA ? a : b,
    resp: origIsA ? b : a,
    origPort: origIsA ? portA : portB,
    respPort: origIsA ? portB : portA,
    vlan: (meta >>> 8) & 0xfff,
    innerVlan: (meta >>> 21) & 0xfff,
  };
}

/** An address held as four words (IPv4 in word 0) in the text form of its version. */
export function formatAddress(version: number, words: Uint32Array): string {
  return version === 6 ? formatIPv6(words) : formatIPv4(words[0]);
}

function protoName(proto: number): ConnId['proto'] {
  return proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 ? 'icmp' : 'udp';
}

export function connIdOf(conns: Connections, flow: number, ep = flowEndpoints(conns, flow)): ConnId {
  return {
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': formatAddress(ep.version, ep.orig),
    'id.orig_p': ep.origPort,
    'id.resp_h': formatAddress(ep.version, ep.resp),
    'id.resp_p': ep.respPort,
    proto: protoName(ep.proto),
  };
}

const origBytes16 = Buffer.alloc(16);
const respBytes16 = Buffer.alloc(16);

/** The address as bytes in a reused buffer (valid until the next call with the same buffer). */
function addressBytes(version: number, words: Uint32Array, into: Buffer): Uint8Array {
  const n = version === 6 ? 4 : 1;
  for (let i = 0; i < n; i++) into.writeUInt32BE(words[i], i * 4);
  return into.subarray(0, n * 4);
}

export function connRecordOf(conns: Connections, flow: number, service: string | undefined): ConnRecord {
  const ep = flowEndpoints(conns, flow);
  const o = flow * 2;
  const r = o + 1;
  const history = conns.historyOf(flow);
  const isTcp = ep.proto === IPPROTO_TCP;
  const record: ConnRecord = {
    type: 'conn',
    ts: conns.firstTs[flow],
    ...connIdOf(conns, flow, ep),
    community_id: communityId(ep.proto, addressBytes(ep.version, ep.orig, origBytes16), addressBytes(ep.version, ep.resp, respBytes16), ep.origPort, ep.respPort),
    duration: round6(conns.lastTs[flow] - conns.firstTs[flow]),
    orig_bytes: conns.bytes[o],
    resp_bytes: conns.bytes[r],
    conn_state: isTcp
      ? tcpConnState(conns.state[o], conns.state[r], history, conns.bytes[o], conns.bytes[r])
      : ep.proto === IPPROTO_ICMP || ep.proto === IPPROTO_ICMPV6
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
  if (ep.vlan !== 0) record.vlan = ep.vlan;
  if (ep.innerVlan !== 0) record.inner_vlan = ep.innerVlan;
  if (isTcp && conns.rtt[flow] >= 0) record.rtt = round6(conns.rtt[flow]);
  return record;
}

/** Times are kept to the microsecond, as Zeek writes them. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
