import * as crypto from 'node:crypto';

/**
 * Community ID v1 (Corelight's spec): a hash of the flow tuple that every tool computes the same way, so a
 * flow can be found across Zeek, Suricata, Loopy and agents. Computed once per record, never per packet.
 */
const ICMP_COUNTERPART = new Map<number, number>([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17],
]);
const ICMP6_COUNTERPART = new Map<number, number>([
  [128, 129], [129, 128], [130, 131], [131, 130], [133, 134], [134, 133], [135, 136], [136, 135],
  [139, 140], [140, 139], [144, 145], [145, 144],
]);

/** The counterpart type of an ICMP/ICMPv6 type (echo 8 ↔ 0...), or -1 for one-way types. No allocation. */
export function icmpCounterpart(proto: number, type: number): number {
  return (proto === 58 ? ICMP6_COUNTERPART : ICMP_COUNTERPART).get(type) ?? -1;
}

/** ICMP types that have a counterpart map to (type, counterpart) ports; others are one-way (type, code). */
export function icmpPorts(proto: number, type: number, code: number): { sport: number; dport: number; oneWay: boolean } {
  const map = proto === 58 ? ICMP6_COUNTERPART : ICMP_COUNTERPART;
  const counterpart = map.get(type);
  return counterpart === undefined ? { sport: type, dport: code, oneWay: true } : { sport: type, dport: counterpart, oneWay: false };
}

/** Address bytes (4 or 16) and ports in the flow's sending direction. For ICMP pass type/code as ports. */
export function communityId(proto: number, src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seed = 0): string {
  let oneWay = false;
  if (proto === 1 || proto === 58) ({ sport, dport, oneWay } = icmpPorts(proto, sport, dport));
  const hasPorts = proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58;
  if (!oneWay && !isOrdered(src, dst, sport, dport)) {
    [src, dst] = [dst, src];
    [sport, dport] = [dport, sport];
  }
  // seed(2) | src | dst | proto(1) | pad(1) | sport(2) | dport(2), hashed in one call.
  const input = Buffer.allocUnsafe(2 + src.length + dst.length + 2 + (hasPorts ? 4 : 0));
  input.writeUInt16BE(seed & 0xffff, 0);
  input.set(src, 2);
  input.set(dst, 2 + src.length);
  let at = 2 + src.length + dst.length;
  input[at++] = proto;
  input[at++] = 0;
  if (hasPorts) {
    input.writeUInt16BE(sport & 0xffff, at);
    input.writeUInt16BE(dport & 0xffff, at + 2);
  }
  return `1:${sha1Base64(input)}`;
}

// seed(2) | src | dst | proto(1) | pad(1) | sport(2) | dport(2): one reused input per address size, as a
// conn record is made per flow and a Buffer per hash was a measurable share of the GC work.
const keyInputV4 = Buffer.alloc(2 + 4 + 4 + 2 + 4);
const keyInputV6 = Buffer.alloc(2 + 16 + 16 + 2 + 4);

/**
 * The Community ID of a flow whose addresses are words in the flow table's key columns (`keys[origAt...]`,
 * one word for IPv4, four big-endian words for IPv6), in the originator → responder direction: the same
 * string as `communityId` over the addresses' bytes, without allocating anything but the result.
 * Flows exist only for TCP, UDP, ICMP and ICMPv6, which all carry ports (or ICMP's type/code equivalents).
 */
export function communityIdOfKey(proto: number, v6: boolean, keys: Uint32Array, origAt: number, respAt: number, origPort: number, respPort: number, seed = 0): string {
  let sport = origPort;
  let dport = respPort;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const counterpart = icmpCounterpart(proto, sport);
    if (counterpart < 0) oneWay = true;
    else dport = counterpart;
  }
  const words = v6 ? 4 : 1;
  let srcAt = origAt;
  let dstAt = respAt;
  if (!oneWay && !isOrderedWords(keys, srcAt, dstAt, words, sport, dport)) {
    srcAt = respAt;
    dstAt = origAt;
    const p = sport;
    sport = dport;
    dport = p;
  }
  const input = v6 ? keyInputV6 : keyInputV4;
  input[0] = (seed >>> 8) & 0xff;
  input[1] = seed & 0xff;
  let at = 2;
  for (let i = 0; i < words; i++, at += 4) putWord(input, at, keys[srcAt + i]);
  for (let i = 0; i < words; i++, at += 4) putWord(input, at, keys[dstAt + i]);
  input[at++] = proto;
  input[at++] = 0;
  input[at++] = (sport >>> 8) & 0xff;
  input[at++] = sport & 0xff;
  input[at++] = (dport >>> 8) & 0xff;
  input[at] = dport & 0xff;
  return `1:${sha1Base64(input)}`;
}

function putWord(into: Buffer, at: number, word: number): void {
  into[at] = word >>> 24;
  into[at + 1] = (word >>> 16) & 0xff;
  into[at + 2] = (word >>> 8) & 0xff;
  into[at + 3] = word & 0xff;
}

/** As isOrdered over the addresses' bytes: big-endian words compare as their bytes do. */
function isOrderedWords(keys: Uint32Array, aAt: number, bAt: number, words: number, aport: number, bport: number): boolean {
  for (let i = 0; i < words; i++) {
    const a = keys[aAt + i];
    const b = keys[bAt + i];
    if (a !== b) return a < b;
  }
  return aport <= bport;
}

/** crypto.hash (Node ≥ 20.12) is a one-shot without a Hash object; fall back to createHash elsewhere. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'base64') => string }).hash;
function sha1Base64(input: Buffer): string {
  return oneShot ? oneShot('sha1', input, 'base64') : crypto.createHash('sha1').update(input).digest('base64');
}

function isOrdered(a: Uint8Array, b: Uint8Array, aport: number, bport: number): boolean {
  const c = Buffer.compare(a, b);
  return c < 0 || (c === 0 && aport <= bport);
}
