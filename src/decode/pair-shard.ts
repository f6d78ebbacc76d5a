/**
 * Which of N engines a frame belongs to, by its pair of IP addresses: `loopy read --workers N` runs one
 * engine per shard, and every engine must see every packet of its flows, both directions. Hashing the
 * unordered address pair (not the 5-tuple) also keeps a pair's whole conversation in one engine, so the
 * detectors that count per pair (a port scan of one host, password guessing, a beacon, a tunnel through one
 * resolver) see all of it, as they would with one engine.
 *
 * Only the outer IP header is read, after the link layer and any VLAN tags: a tunnel's flows all go with
 * the tunnel's endpoints, which keeps them together too. Frames with no IP header found this way (ARP, other
 * link types, damaged frames) go to shard 0. Runs on the packet loop: no allocation.
 */
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN, ETHERTYPE_VLAN_9100, LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW, LINKTYPE_RAW_DLT12, LINKTYPE_RAW_DLT14,
} from './protocols/numbers.js';
import { hashBytes } from './bytes-hash.js';

/** Most VLAN tags looked past before giving up (QinQ is two). */
const MAX_VLAN_TAGS = 4;

/** BSD loopback's address families for IPv6 (they differ by OS); 2 is IPv4 everywhere. */
const AF_INET6_FAMILIES = new Set([10, 24, 28, 30]);

/**
 * The shard (0…shards-1) of the frame at `offset` (`caplen` bytes captured) of link type `linkType`.
 * Both directions of a pair give the same shard.
 */
export function pairShard(data: Uint8Array, offset: number, caplen: number, linkType: number, shards: number): number {
  if (shards <= 1) return 0;
  const ip = ipHeaderOffset(data, offset, caplen, linkType);
  if (ip < 0) return 0;
  const end = offset + caplen;
  const version = data[ip] >> 4;
  let hash: number;
  if (version === 4 && ip + 20 <= end) hash = pairHash(data, ip + 12, ip + 16, 4);
  else if (version === 6 && ip + 40 <= end) hash = pairHash(data, ip + 8, ip + 24, 16);
  else return 0;
  return hash % shards;
}

/** Where the IP header starts, or -1 when the link layer does not lead to one. */
function ipHeaderOffset(data: Uint8Array, offset: number, caplen: number, linkType: number): number {
  const end = offset + caplen;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return afterEtherType(data, offset + 12, end);
    case LINKTYPE_LINUX_SLL:
      return afterEtherType(data, offset + 14, end);
    case LINKTYPE_LINUX_SLL2:
      return offset + 20 <= end && isIpEtherType(u16(data, offset)) ? offset + 20 : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_DLT12:
    case LINKTYPE_RAW_DLT14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return offset < end ? offset : -1;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (offset + 4 >= end) return -1;
      // The family is in the writer's byte order (NULL) or network order (LOOP): either way one byte holds it.
      const family = data[offset] | data[offset + 3];
      return family === 2 || AF_INET6_FAMILIES.has(family) ? offset + 4 : -1;
    }
    default:
      return -1;
  }
}

/** The IP header after an EtherType at `at`, past VLAN tags; -1 when it is not IP. */
function afterEtherType(data: Uint8Array, at: number, end: number): number {
  for (let tags = 0; at + 2 <= end && tags <= MAX_VLAN_TAGS; tags++) {
    const type = u16(data, at);
    if (isIpEtherType(type)) return at + 2 < end ? at + 2 : -1;
    if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ && type !== ETHERTYPE_VLAN_9100) return -1;
    at += 4;
  }
  return -1;
}

function isIpEtherType(type: number): boolean {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
}

function u16(data: Uint8Array, at: number): number {
  return (data[at] << 8) | data[at + 1];
}

/**
 * A hash of the unordered pair of `length`-byte addresses at `a` and `b`: each address hashed on its own
 * (FNV-1a, then a finaliser so that consecutive addresses spread over shards), and the two combined by a
 * sum, which does not care about order.
 */
function pairHash(data: Uint8Array, a: number, b: number, length: number): number {
  return ((hashBytes(data, a, length) + hashBytes(data, b, length)) >>> 0) & 0x7fffffff;
}
