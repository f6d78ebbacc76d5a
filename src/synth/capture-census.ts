/**
 * An independent count of what a generated pcap holds, straight from its bytes: the generator's tests
 * hold its ground truth against this, so it shares no code with the generator (its own header walk and
 * checksum arithmetic). It reads classic little-endian pcap of Ethernet frames only: what the generator
 * writes. Conn states follow from the flags each side sent, the way Zeek's conn_state reads them.
 */

export interface Census {
  packets: number;
  bytes: number;
  ipv4Packets: number;
  ipv6Packets: number;
  vlanPackets: number;
  tcpPackets: number;
  udpPackets: number;
  icmpPackets: number;
  /** Frames whose IPv4 header or transport checksum does not verify. */
  badChecksums: number;
  /** Frames whose timestamp is earlier than the one before. */
  outOfOrder: number;
  tcpStates: Record<string, number>;
  /** Segments whose data was all sent before (the same sequence numbers again), SYN repeats included. */
  retransmissions: number;
  dnsQueries: number;
  dnsResponses: number;
  dnsNxdomain: number;
  dnsQtypes: Record<number, number>;
  clientHellos: number;
  serverNames: Record<string, number>;
  httpMethods: Record<string, number>;
  httpStatuses: Record<string, number>;
  echoRequests: number;
  echoReplies: number;
  /** Per TCP connection (orig addr:port > resp addr:port): packets each way. */
  tcpConnections: Map<string, { state: string; origPkts: number; respPkts: number }>;
  /** Source address of each SYN-only segment by destination port, for scans. */
  synsBySource: Map<string, Set<string>>;
  /** DNS query names by client address. */
  dnsNamesBySource: Map<string, string[]>;
  /** 802.1Q ids seen. */
  vlans: Set<number>;
}

interface TcpSide {
  syn: boolean;
  fin: boolean;
  rst: boolean;
  next: number;
  started: boolean;
}

export function takeCensus(file: Buffer): Census {
  const c: Census = {
    packets: 0, bytes: 0, ipv4Packets: 0, ipv6Packets: 0, vlanPackets: 0, tcpPackets: 0, udpPackets: 0, icmpPackets: 0,
    badChecksums: 0, outOfOrder: 0, tcpStates: {}, retransmissions: 0, dnsQueries: 0, dnsResponses: 0, dnsNxdomain: 0,
    dnsQtypes: {}, clientHellos: 0, serverNames: {}, httpMethods: {}, httpStatuses: {}, echoRequests: 0, echoReplies: 0,
    tcpConnections: new Map(), synsBySource: new Map(), dnsNamesBySource: new Map(), vlans: new Set(),
  };
  if (file.readUInt32LE(0) !== 0xa1b2c3d4 || file.readUInt32LE(20) !== 1) throw new Error('census: expects a little-endian µs pcap of Ethernet');
  const sides = new Map<string, { orig: TcpSide; resp: TcpSide; origKey: string }>();
  let lastTs = -1;
  for (let at = 24; at + 16 <= file.length; ) {
    const ts = file.readUInt32LE(at) * 1e6 + file.readUInt32LE(at + 4);
    const caplen = file.readUInt32LE(at + 8);
    const frame = file.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    c.packets++;
    c.bytes += caplen;
    if (ts < lastTs) c.outOfOrder++;
    lastTs = ts;
    let o = 12;
    let type = frame.readUInt16BE(o);
    if (type === 0x8100) {
      c.vlanPackets++;
      c.vlans.add(frame.readUInt16BE(14) & 0xfff);
      o += 4;
      type = frame.readUInt16BE(o);
    }
    o += 2;
    let proto: number;
    let l4: number;
    let end: number;
    let src: string;
    let dst: string;
    let pseudo: number;
    if (type === 0x0800) {
      c.ipv4Packets++;
      if (fold(sum(frame, o, o + 20)) !== 0xffff) c.badChecksums++;
      proto = frame[o + 9];
      end = o + frame.readUInt16BE(o + 2);
      l4 = o + (frame[o] & 15) * 4;
      src = Array.from(frame.subarray(o + 12, o + 16)).join('.');
      dst = Array.from(frame.subarray(o + 16, o + 20)).join('.');
      pseudo = sum(frame, o + 12, o + 20) + proto + (end - l4);
    } else if (type === 0x86dd) {
      c.ipv6Packets++;
      proto = frame[o + 6];
      l4 = o + 40;
      end = l4 + frame.readUInt16BE(o + 4);
      src = v6Text(frame.subarray(o + 8, o + 24));
      dst = v6Text(frame.subarray(o + 24, o + 40));
      pseudo = sum(frame, o + 8, o + 40) + proto + (end - l4);
    } else {
      continue;
    }
    if (proto === 1) pseudo = 0; // ICMPv4 has no pseudo-header
    if (fold(sum(frame, l4, end, pseudo)) !== 0xffff) c.badChecksums++;
    if (proto === 6) {
      c.tcpPackets++;
      tcpSegment(c, sides, frame, l4, end, src, dst);
    } else if (proto === 17) {
      c.udpPackets++;
      const sport = frame.readUInt16BE(l4);
      const dport = frame.readUInt16BE(l4 + 2);
      if (sport === 53 || dport === 53) dns(c, frame, l4 + 8, src);
    } else if (proto === 1 || proto === 58) {
      c.icmpPackets++;
      const t = frame[l4];
      if (t === 8 || t === 128) c.echoRequests++;
      if (t === 0 || t === 129) c.echoReplies++;
    }
  }
  for (const [key, s] of sides) {
    const state = connState(s.orig, s.resp);
    c.tcpStates[state] = (c.tcpStates[state] ?? 0) + 1;
    const entry = c.tcpConnections.get(key);
    if (entry) entry.state = state;
  }
  return c;
}

function connState(o: TcpSide, r: TcpSide): string {
  if (r.rst) return r.syn ? 'RSTR' : 'REJ';
  if (o.rst) return 'RSTO';
  if (o.fin && r.fin) return 'SF';
  if (o.syn && !r.started) return 'S0';
  return 'OTH';
}

function tcpSegment(c: Census, sides: Map<string, { orig: TcpSide; resp: TcpSide; origKey: string }>, f: Buffer, l4: number, end: number, src: string, dst: string): void {
  const sport = f.readUInt16BE(l4);
  const dport = f.readUInt16BE(l4 + 2);
  const seq = f.readUInt32BE(l4 + 4);
  const flags = f[l4 + 13];
  const data = l4 + (f[l4 + 12] >> 4) * 4;
  const len = end - data;
  const fwd = `${src}:${sport}>${dst}:${dport}`;
  const rev = `${dst}:${dport}>${src}:${sport}`;
  let conn = sides.get(fwd) ?? sides.get(rev);
  if (!conn) {
    const side = (): TcpSide => ({ syn: false, fin: false, rst: false, next: 0, started: false });
    conn = { orig: side(), resp: side(), origKey: fwd };
    sides.set(fwd, conn);
    c.tcpConnections.set(fwd, { state: '', origPkts: 0, respPkts: 0 });
  }
  const fromOrig = conn.origKey === fwd;
  const me = fromOrig ? conn.orig : conn.resp;
  const counts = c.tcpConnections.get(conn.origKey)!;
  if (fromOrig) counts.origPkts++;
  else counts.respPkts++;
  const syn = (flags & 0x02) !== 0;
  if (syn && !(flags & 0x10)) {
    const set = c.synsBySource.get(src) ?? new Set<string>();
    set.add(`${dst}:${dport}`);
    c.synsBySource.set(src, set);
  }
  if (flags & 0x04) me.rst = true;
  if (flags & 0x01) me.fin = true;
  const span = len + (syn ? 1 : 0) + (flags & 0x01 ? 1 : 0);
  if (span > 0) {
    if (me.started && ((seq + span - me.next) | 0) <= 0) {
      c.retransmissions++;
      return;
    }
    me.next = (seq + span) >>> 0;
  }
  if (!(flags & 0x04)) me.started = true;
  if (syn) me.syn = true;
  if (len > 0) appPayload(c, f, data, len);
}

function appPayload(c: Census, f: Buffer, at: number, len: number): void {
  if (len > 5 && f[at] === 0x16 && f[at + 1] === 3 && f[at + 5] === 1) {
    c.clientHellos++;
    const sni = serverName(f, at + 9);
    if (sni) c.serverNames[sni] = (c.serverNames[sni] ?? 0) + 1;
    return;
  }
  const head = f.toString('latin1', at, at + Math.min(len, 16));
  const request = /^(GET|POST|PUT|HEAD|DELETE) \//.exec(head);
  if (request) c.httpMethods[request[1]] = (c.httpMethods[request[1]] ?? 0) + 1;
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
  if (status) c.httpStatuses[status[1]] = (c.httpStatuses[status[1]] ?? 0) + 1;
}

/** SNI from a ClientHello body starting at `at` (after the 4-byte handshake header). */
function serverName(f: Buffer, at: number): string | undefined {
  let o = at + 2 + 32;
  o += 1 + f[o];
  o += 2 + f.readUInt16BE(o);
  o += 1 + f[o];
  const end = o + 2 + f.readUInt16BE(o);
  for (o += 2; o + 4 <= end; ) {
    const type = f.readUInt16BE(o);
    const len = f.readUInt16BE(o + 2);
    if (type === 0) return f.toString('ascii', o + 9, o + 9 + f.readUInt16BE(o + 7));
    o += 4 + len;
  }
  return undefined;
}

function dns(c: Census, f: Buffer, at: number, src: string): void {
  const flags = f.readUInt16BE(at + 2);
  let o = at + 12;
  const labels: string[] = [];
  while (f[o] !== 0) {
    labels.push(f.toString('latin1', o + 1, o + 1 + f[o]));
    o += 1 + f[o];
  }
  const qtype = f.readUInt16BE(o + 1);
  c.dnsQtypes[qtype] = (c.dnsQtypes[qtype] ?? 0) + 1;
  if (flags & 0x8000) {
    c.dnsResponses++;
    if ((flags & 15) === 3) c.dnsNxdomain++;
  } else {
    c.dnsQueries++;
    const names = c.dnsNamesBySource.get(src) ?? [];
    names.push(labels.join('.'));
    c.dnsNamesBySource.set(src, names);
  }
}

function sum(b: Buffer, start: number, end: number, initial = 0): number {
  let s = initial;
  for (let i = start; i < end; i += 2) s += i + 1 < end ? b.readUInt16BE(i) : b[i] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

function v6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
