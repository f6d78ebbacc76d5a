import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../../decode/packet.js';
import { formatIPv4, formatIPv6 } from '../format-address.js';
import type { ConnId, ConnRecord } from '../records.js';
import { communityIdOfKey } from './community-id.js';
import type { Connections } from './connections.js';
import type { FlowOwnerLookup, FlowOwners } from './flow-owners.js';
import { datagramConnState, tcpConnState } from './tcp-state.js';
import { uidFor } from './uid.js';

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

/** An address held as four words from `offset` (IPv4 in the first) in the text form of its version. */
export function formatAddress(version: number, words: Uint32Array, offset = 0): string {
  return version === 6 ? formatIPv6(words, offset) : formatIPv4(words[offset]);
}

/** The originator's address in words 0-3, the responder's in 4-7: read once per record, never allocated. */
const endpointWords = new Uint32Array(8);
const origWords = endpointWords.subarray(0, 4);
const respWords = endpointWords.subarray(4, 8);

/** The record's name of a flow's IP protocol. */
export function connProtoName(proto: number): ConnId['proto'] {
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
    proto: connProtoName(t.protoOf(flow)),
  };
}

export function connRecordOf(conns: Connections, flow: number, service: string | undefined, owners?: FlowOwners): ConnRecord {
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
  // One literal in the field order connToJson writes (and JSON.stringify would): no spread, no copies.
  const record: ConnRecord = {
    type: 'conn', _path: 'conn',
    ts: conns.firstTs[flow],
    uid: uidFor(conns.serial[flow]),
    'id.orig_h': formatAddress(version, origWords),
    'id.orig_p': oPort,
    'id.resp_h': formatAddress(version, respWords),
    'id.resp_p': rPort,
    proto: connProtoName(proto),
    community_id: communityIdOfKey(proto, version === 6, endpointWords, 0, 4, oPort, rPort),
    duration: round6(conns.lastTs[flow] - conns.firstTs[flow]),
    orig_bytes: conns.bytes[o],
    resp_bytes: conns.bytes[r],
    conn_state: connStateOf(conns, flow, proto, history),
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
  if (proto === IPPROTO_TCP && conns.rtt[flow] >= 0) record.rtt = round6(conns.rtt[flow]);
  if (owners?.orig !== undefined) record.orig_process = owners.orig;
  if (owners?.resp !== undefined) record.resp_process = owners.resp;
  return record;
}

function connStateOf(conns: Connections, flow: number, proto: number, history: string): string {
  const o = flow * 2;
  const r = o + 1;
  if (proto === IPPROTO_TCP) return tcpConnState(conns.state[o], conns.state[r], history, conns.bytes[o], conns.bytes[r]);
  return proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 ? 'OTH' : datagramConnState(conns.pkts[o], conns.pkts[r]);
}

/** A conn record's number fields, in the order `ConnView.numbers` writes them (NaN: the record has none). */
export const CONN_NUMBERS = ['duration', 'orig_bytes', 'resp_bytes', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes',
  'orig_retrans', 'resp_retrans', 'orig_ooo', 'resp_ooo', 'vlan', 'inner_vlan', 'rtt'] as const;

/**
 * A flow that just ended (or one still open that a query asks for), as its conn record's fields read straight
 * from the flow table: what a consumer that keeps flows in columns (the history store) reads instead of the
 * record, so that a closed flow costs no object and no string on the packet loop. The strings that only the key determines (uid and community_id:
 * `connKeyTexts`; the hosts: `formatAddress`) are made wherever the consumer likes (the store, on its thread).
 * One view is reused for every flow: read it during the call, never keep it.
 */
export class ConnView {
  flow = -1;
  service: string | undefined;
  /** Who tells the processes behind a flow's ends (the agent's process attribution); none: records have none. */
  ownerLookup: FlowOwnerLookup | undefined;
  private cached: ConnRecord | undefined;
  private ownersAsked = false;
  private cachedOwners: FlowOwners | undefined;

  constructor(private readonly conns: Connections) {}

  /** Points the view at a flow that is ending (the engine's job), or one still open (open-flows.ts). */
  set(flow: number, service: string | undefined): void {
    this.flow = flow;
    this.service = service;
    this.cached = undefined;
    this.ownersAsked = false;
    this.cachedOwners = undefined;
  }

  /** The conn record, made once per flow however many consumers ask. */
  record(): ConnRecord {
    return (this.cached ??= connRecordOf(this.conns, this.flow, this.service, this.owners()));
  }

  /** The local processes at the flow's ends (undefined without attribution or when neither end is known). */
  owners(): FlowOwners | undefined {
    if (this.ownersAsked || this.ownerLookup === undefined) return this.cachedOwners;
    this.ownersAsked = true;
    const t = this.conns.table;
    const f = this.flow;
    t.origAddress(f, origWords);
    t.respAddress(f, respWords);
    this.cachedOwners = this.ownerLookup.ownersOf(t.versionOf(f), t.protoOf(f), origWords, t.origPort(f), respWords, t.respPort(f));
    return this.cachedOwners;
  }

  get ts(): number {
    return this.conns.firstTs[this.flow];
  }

  /** The flow's serial number: `uidFor(serial)` is its uid. */
  get serial(): number {
    return this.conns.serial[this.flow];
  }

  /** IP protocol number (6, 17, 1, 58). */
  get proto(): number {
    return this.conns.table.protoOf(this.flow);
  }

  get version(): number {
    return this.conns.table.versionOf(this.flow);
  }

  get origPort(): number {
    return this.conns.table.origPort(this.flow);
  }

  get respPort(): number {
    return this.conns.table.respPort(this.flow);
  }

  /** The originator's address into out[at..at+3], the responder's into out[at+4..at+7] (IPv4 in the first word). */
  addresses(out: Uint32Array, at: number): void {
    const t = this.conns.table;
    t.origAddress(this.flow, out, at);
    t.respAddress(this.flow, out, at + 4);
  }

  /** CONN_NUMBERS into out[0..13], exactly as the record has them. */
  numbers(out: Float64Array): void {
    const c = this.conns;
    const f = this.flow;
    const o = f * 2;
    const r = o + 1;
    const vlan = c.table.vlanOf(f);
    const innerVlan = c.table.innerVlanOf(f);
    out[0] = round6(c.lastTs[f] - c.firstTs[f]);
    out[1] = c.bytes[o];
    out[2] = c.bytes[r];
    out[3] = c.pkts[o];
    out[4] = c.ipBytes[o];
    out[5] = c.pkts[r];
    out[6] = c.ipBytes[r];
    out[7] = c.retrans[o];
    out[8] = c.retrans[r];
    out[9] = c.outOfOrder[o];
    out[10] = c.outOfOrder[r];
    out[11] = vlan !== 0 ? vlan : NaN;
    out[12] = innerVlan !== 0 ? innerVlan : NaN;
    out[13] = this.proto === IPPROTO_TCP && c.rtt[f] >= 0 ? round6(c.rtt[f]) : NaN;
  }

  history(): string {
    return this.conns.historyOf(this.flow);
  }

  /** The conn_state; pass the history when it was read already (it is worked out from the flags each time). */
  connState(history = this.history()): string {
    return connStateOf(this.conns, this.flow, this.proto, history);
  }
}

/**
 * The strings of a conn record that only the flow's key determines, from its words as `ConnView.addresses`
 * writes them, besides its hosts: those are `formatAddress(version, words, at)` and `(..., at + 4)`, which a
 * consumer that sees the same hosts again and again (the store) makes once per address.
 */
export function connKeyTexts(proto: number, version: number, words: Uint32Array, at: number, origPort: number, respPort: number, serial: number): { uid: string; communityId: string } {
  return { uid: uidFor(serial), communityId: communityIdOfKey(proto, version === 6, words, at, at + 4, origPort, respPort) };
}

/** Times are kept to the microsecond, as Zeek writes them. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
