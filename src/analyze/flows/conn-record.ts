import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../../decode/packet.js';
import { formatIPv4, formatIPv6 } from '../format-address.js';
import type { ConnId, ConnRecord } from '../records.js';
import { communityIdOfKey } from './community-id.js';
import type { Connections } from './connections.js';
import { KEY_WORDS } from './flow-table.js';
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

/** The flow's endpoints as a fresh object (for tests and tools; records read the key words in place). */
export function flowEndpoints(conns: Connections, flow: number): FlowEndpoints {
  const keys = conns.table.keys;
  const base = flow * KEY_WORDS;
  const meta = keys[base + 9];
  const origIsA = conns.table.origIsA[flow] === 1;
  const a = keys.slice(base, base + 4);
  const b = keys.slice(base + 4, base + 8);
  return {
    version: (meta >>> 20) & 1 ? 6 : 4,
    proto: meta & 0xff,
    orig: origIsA ? a : b,
    resp: origIsA ? b : a,
    origPort: origPort(conns, flow),
    respPort: respPort(conns, flow),
    vlan: (meta >>> 8) & 0xfff,
    innerVlan: keys[base + 10],
  };
}

/** An address held as four words (IPv4 in word 0) in the text form of its version. */
export function formatAddress(version: number, words: Uint32Array): string {
  return version === 6 ? formatIPv6(words) : formatIPv4(words[0]);
}

// The key's layout (flow-table.ts): words 0-3 side A's address, 4-7 side B's, 8 A's port << 16 | B's port,
// 9 proto | vlan << 8 | v6 << 20, 10 the inner VLAN. Records read these in place: no copies per record.
const origIsA = (conns: Connections, flow: number): boolean => conns.table.origIsA[flow] === 1;
const origAddressAt = (conns: Connections, flow: number): number => flow * KEY_WORDS + (origIsA(conns, flow) ? 0 : 4);
const respAddressAt = (conns: Connections, flow: number): number => flow * KEY_WORDS + (origIsA(conns, flow) ? 4 : 0);
const keyMeta = (conns: Connections, flow: number): number => conns.table.keys[flow * KEY_WORDS + 9];
const isV6 = (meta: number): boolean => ((meta >>> 20) & 1) === 1;

function origPort(conns: Connections, flow: number): number {
  const ports = conns.table.keys[flow * KEY_WORDS + 8];
  return origIsA(conns, flow) ? ports >>> 16 : ports & 0xffff;
}

function respPort(conns: Connections, flow: number): number {
  const ports = conns.table.keys[flow * KEY_WORDS + 8];
  return origIsA(conns, flow) ? ports & 0xffff : ports >>> 16;
}

const v6Scratch = new Uint32Array(4);

/** The address at `at` in the key columns, as text. */
function keyAddress(keys: Uint32Array, at: number, v6: boolean): string {
  if (!v6) return formatIPv4(keys[at]);
  v6Scratch[0] = keys[at];
  v6Scratch[1] = keys[at + 1];
  v6Scratch[2] = keys[at + 2];
  v6Scratch[3] = keys[at + 3];
  return formatIPv6(v6Scratch);
}

function protoName(proto: number): ConnId['proto'] {
  return proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 ? 'icmp' : 'udp';
}

export function connIdOf(conns: Connections, flow: number): ConnId {
  const keys = conns.table.keys;
  const meta = keyMeta(conns, flow);
  return {
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': keyAddress(keys, origAddressAt(conns, flow), isV6(meta)),
    'id.orig_p': origPort(conns, flow),
    'id.resp_h': keyAddress(keys, respAddressAt(conns, flow), isV6(meta)),
    'id.resp_p': respPort(conns, flow),
    proto: protoName(meta & 0xff),
  };
}

export function connRecordOf(conns: Connections, flow: number, service: string | undefined): ConnRecord {
  const keys = conns.table.keys;
  const meta = keyMeta(conns, flow);
  const proto = meta & 0xff;
  const v6 = isV6(meta);
  const origAt = origAddressAt(conns, flow);
  const respAt = respAddressAt(conns, flow);
  const oPort = origPort(conns, flow);
  const rPort = respPort(conns, flow);
  const o = flow * 2;
  const r = o + 1;
  const history = conns.historyOf(flow);
  const isTcp = proto === IPPROTO_TCP;
  // One literal in the field order connToJson writes (and JSON.stringify would): no spread, no copies.
  const record: ConnRecord = {
    type: 'conn',
    ts: conns.firstTs[flow],
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': keyAddress(keys, origAt, v6),
    'id.orig_p': oPort,
    'id.resp_h': keyAddress(keys, respAt, v6),
    'id.resp_p': rPort,
    proto: protoName(proto),
    community_id: communityIdOfKey(proto, v6, keys, origAt, respAt, oPort, rPort),
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
  const vlan = (meta >>> 8) & 0xfff;
  const innerVlan = keys[flow * KEY_WORDS + 10];
  if (vlan !== 0) record.vlan = vlan;
  if (innerVlan !== 0) record.inner_vlan = innerVlan;
  if (isTcp && conns.rtt[flow] >= 0) record.rtt = round6(conns.rtt[flow]);
  return record;
}

/** Times are kept to the microsecond, as Zeek writes them. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
