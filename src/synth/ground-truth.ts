/**
 * What the generator wrote, counted as it wrote it, so tests can hold Loopy's output against it exactly.
 * Connection states are Zeek's conn_state values for the packets as emitted (every session runs to its
 * end: the generator stops starting sessions, never cuts one off).
 */

export type TcpConnState = 'SF' | 'S0' | 'REJ' | 'RSTO' | 'RSTR';
export const TCP_CONN_STATES: readonly TcpConnState[] = ['SF', 'S0', 'REJ', 'RSTO', 'RSTR'];

export type IncidentKind = 'port_scan' | 'host_sweep' | 'dns_tunnel' | 'nxdomain_burst';

export interface IncidentTruth {
  kind: IncidentKind;
  /** The address doing it. */
  source: string;
  /** port_scan: the one host scanned; host_sweep: the swept subnet; DNS incidents: the resolver. */
  target: string;
  /** host_sweep: the port probed on every host. */
  port?: number;
  /** DNS incidents: the domain the names end in (the burst's names each end in a random TLD label of its list). */
  domain?: string;
  /** Seconds since the epoch of the first and last packet of the incident. */
  start: number;
  end: number;
  /** Scans: probes sent (one connection each). DNS incidents: queries sent. */
  probes: number;
  /** Scans: ports / hosts that answered SYN-ACK. */
  open?: string[];
}

/** One TCP or UDP connection as conn.log would show it (only with `details: true`). */
export interface ConnTruth {
  proto: 'tcp' | 'udp' | 'icmp';
  'id.orig_h': string;
  'id.orig_p': number;
  'id.resp_h': string;
  'id.resp_p': number;
  /** TCP: Zeek conn_state; UDP/ICMP: 'SF' when answered, 'S0' when not. */
  conn_state: string;
  service?: string;
  orig_bytes: number;
  resp_bytes: number;
  orig_pkts: number;
  resp_pkts: number;
  orig_ip_bytes: number;
  resp_ip_bytes: number;
  orig_retrans: number;
  resp_retrans: number;
}

export interface GroundTruth {
  seed: number;
  linkType: number;
  /** Seconds since the epoch of the first and last frame. */
  firstTs: number;
  lastTs: number;
  packets: number;
  /** Frame bytes (captured = on the wire; short frames padded to 60 as on Ethernet). */
  bytes: number;
  /** Sum of IP total lengths (IPv6: payload length + 40). */
  ipBytes: number;
  ipv4Packets: number;
  ipv6Packets: number;
  vlanPackets: number;
  tcpPackets: number;
  udpPackets: number;
  /** ICMP and ICMPv6. */
  icmpPackets: number;
  tcp: {
    connections: number;
    states: Record<TcpConnState, number>;
    ipv6Connections: number;
    /** Payload bytes by sequence space, retransmissions excluded (conn.log orig_bytes / resp_bytes). */
    origBytes: number;
    respBytes: number;
    /** Data segments sent twice (the copy counts here, once). */
    origRetransmits: number;
    respRetransmits: number;
    /** SYNs sent again to an unanswering server (connections in S0). */
    synRetransmits: number;
    /** Connections whose payload identifies the protocol (conn.log service): http, ssl, ssh. */
    services: Record<string, number>;
  };
  udp: {
    /** One per DNS/NTP transaction: each uses its own source port. */
    flows: number;
    dnsFlows: number;
    ntpFlows: number;
    /** Flows whose request got no answer. */
    unanswered: number;
  };
  icmp: {
    echoRequests: number;
    echoReplies: number;
    /** Ping runs (one identifier each). */
    sessions: number;
  };
  dns: {
    queries: number;
    responses: number;
    unanswered: number;
    nxdomain: number;
    /** Responses whose answer section starts with a CNAME. */
    cnameResponses: number;
    /** Resource records in all answer sections. */
    answerRecords: number;
    ipv6Queries: number;
    qtypes: Record<string, number>;
    rcodes: Record<string, number>;
  };
  tls: {
    clientHellos: number;
    withoutSni: number;
    serverNames: Record<string, number>;
    /** Negotiated version per ServerHello: TLSv13 / TLSv12. */
    versions: Record<string, number>;
  };
  http: {
    requests: number;
    responses: number;
    methods: Record<string, number>;
    statuses: Record<string, number>;
    hosts: Record<string, number>;
  };
  ssh: { sessions: number };
  incidents: IncidentTruth[];
  /** Every connection, in start order (only with `details: true`). */
  connections?: ConnTruth[];
}

export function emptyGroundTruth(seed: number, linkType: number, details: boolean): GroundTruth {
  return {
    seed,
    linkType,
    firstTs: 0,
    lastTs: 0,
    packets: 0,
    bytes: 0,
    ipBytes: 0,
    ipv4Packets: 0,
    ipv6Packets: 0,
    vlanPackets: 0,
    tcpPackets: 0,
    udpPackets: 0,
    icmpPackets: 0,
    tcp: {
      connections: 0,
      states: { SF: 0, S0: 0, REJ: 0, RSTO: 0, RSTR: 0 },
      ipv6Connections: 0,
      origBytes: 0,
      respBytes: 0,
      origRetransmits: 0,
      respRetransmits: 0,
      synRetransmits: 0,
      services: {},
    },
    udp: { flows: 0, dnsFlows: 0, ntpFlows: 0, unanswered: 0 },
    icmp: { echoRequests: 0, echoReplies: 0, sessions: 0 },
    dns: { queries: 0, responses: 0, unanswered: 0, nxdomain: 0, cnameResponses: 0, answerRecords: 0, ipv6Queries: 0, qtypes: {}, rcodes: {} },
    tls: { clientHellos: 0, withoutSni: 0, serverNames: {}, versions: {} },
    http: { requests: 0, responses: 0, methods: {}, statuses: {}, hosts: {} },
    ssh: { sessions: 0 },
    incidents: [],
    ...(details ? { connections: [] } : {}),
  };
}

export function bump(counts: Record<string, number>, key: string | number, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}
