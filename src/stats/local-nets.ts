/**
 * "Which addresses are ours": a list of CIDRs matched against addresses held as four 32-bit words (IPv4 in
 * word 0, as the flow table keeps them), so a flow is classified once, at its start, without making strings.
 */
import { parseAddress, prefixMasks } from '../analyze/parse-address.js';

/**
 * The default when the user names no networks: the address ranges that are never routed on the internet
 * (RFC 1918, CGNAT RFC 6598, loopback, link-local, IPv6 unique-local and link-local), i.e. "this site".
 */
export const DEFAULT_LOCAL_NETS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

interface Net {
  version: 4 | 6;
  words: Uint32Array;
  masks: Uint32Array;
  prefix: number;
}

function hashWords(w: Uint32Array): number {
  let h = Math.imul(w[0] ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w[1] ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w[2] ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ w[3] ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

function holds(bucket: Uint32Array[], m: Uint32Array): boolean {
  for (const net of bucket) if (net[0] === m[0] && net[1] === m[1] && net[2] === m[2] && net[3] === m[3]) return true;
  return false;
}

function addV6(group: PrefixGroup, words: Uint32Array): void {
  const h = hashWords(words);
  const bucket = group.v6.get(h);
  if (bucket === undefined) group.v6.set(h, [Uint32Array.from(words)]);
  else bucket.push(Uint32Array.from(words));
}

export class LocalNetsError extends Error {
  readonly code = 'LOOPY_BAD_LOCAL_NET';
}

/**
 * The networks of one prefix length: their masks, and the masked addresses as keys (a hash lookup each). IPv4
 * keys are split on the top two bits into four sets of 30-bit numbers: V8 keeps those as small integers,
 * where a full 32-bit key would be a heap number allocated at every lookup.
 */
interface PrefixGroup {
  masks: Uint32Array;
  v4: [Set<number>, Set<number>, Set<number>, Set<number>];
  /** IPv6 networks by a 30-bit hash of their masked words (a small integer: no string per lookup), then compared. */
  v6: Map<number, Uint32Array[]>;
}

/**
 * Grouped by prefix length, so a lookup costs one mask and one hash lookup per prefix length in use (a
 * handful), not one comparison per network: a config of 500,000 networks cost a linear scan per flow
 * and stalled the agent.
 */
/** IPv4 answers remembered (a power of two). */
const V4_MEMO_SLOTS = 1024;

export class LocalNets {
  private readonly v4: PrefixGroup[] = [];
  private readonly v6: PrefixGroup[] = [];
  private readonly masked = new Uint32Array(4);
  /**
   * The last IPv4 answers, direct-mapped by address: words 2i and 2i+1 hold an address and its answer + 1
   * (0: empty). A site's few hundred busy hosts are asked about again and again (each connection, by several
   * detectors), and one read of this 8 KB table beats a Set look-up per prefix length.
   */
  private readonly v4Memo = new Int32Array(V4_MEMO_SLOTS * 2);

  /** Throws LocalNetsError naming the entry when one is not an address or address/prefix. */
  constructor(readonly cidrs: readonly string[]) {
    const byPrefix = new Map<string, PrefixGroup>();
    for (const cidr of cidrs) {
      const net = parseCidr(cidr);
      const id = `${net.version}/${net.prefix}`;
      let group = byPrefix.get(id);
      if (!group) {
        group = { masks: net.masks, v4: [new Set(), new Set(), new Set(), new Set()], v6: new Map() };
        byPrefix.set(id, group);
        (net.version === 4 ? this.v4 : this.v6).push(group);
      }
      if (net.version === 4) group.v4[net.words[0] >>> 30].add(net.words[0] & 0x3fffffff);
      else addV6(group, net.words);
    }
  }

  private containsV4(address: number): boolean {
    for (const g of this.v4) {
      const masked = address & g.masks[0];
      if (g.v4[masked >>> 30].has(masked & 0x3fffffff)) return true;
    }
    return false;
  }

  /** Whether the address at `words[offset..offset+3]` (IPv4 in the first word) is in one of the networks. */
  contains(version: number, words: Uint32Array, offset: number): boolean {
    if (version !== 6) {
      const address = words[offset] | 0;
      const slot = (Math.imul(address, 0x9e3779b1) >>> 22) << 1;
      const memo = this.v4Memo;
      if (memo[slot] === address && memo[slot + 1] !== 0) return memo[slot + 1] === 2;
      const local = this.containsV4(address);
      memo[slot] = address;
      memo[slot + 1] = local ? 2 : 1;
      return local;
    }
    const m = this.masked;
    for (const g of this.v6) {
      for (let i = 0; i < 4; i++) m[i] = (words[offset + i] & g.masks[i]) >>> 0;
      const bucket = g.v6.get(hashWords(m));
      if (bucket !== undefined && holds(bucket, m)) return true;
    }
    return false;
  }
}

function parseCidr(text: string): Net {
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) throw new LocalNetsError(`local network "${text}": not an IPv4 or IPv6 address (write e.g. 10.0.0.0/8 or 2001:db8::/32)`);
  const { version, words } = address;
  const bits = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1).trim();
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new LocalNetsError(`local network "${text}": prefix length must be 0 to ${bits}`);
  const masks = prefixMasks(version, prefix);
  for (let i = 0; i < 4; i++) words[i] = (words[i] & masks[i]) >>> 0;
  return { version, words, masks, prefix };
}
