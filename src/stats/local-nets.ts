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
  v6: Set<string>;
}

/**
 * Grouped by prefix length, so a lookup costs one mask and one hash lookup per prefix length in use (a
 * handful), not one comparison per network: a config of 500,000 networks cost a linear scan per flow
 * and stalled the agent.
 */
export class LocalNets {
  private readonly v4: PrefixGroup[] = [];
  private readonly v6: PrefixGroup[] = [];
  private readonly masked = new Uint32Array(4);

  /** Throws LocalNetsError naming the entry when one is not an address or address/prefix. */
  constructor(readonly cidrs: readonly string[]) {
    const byPrefix = new Map<string, PrefixGroup>();
    for (const cidr of cidrs) {
      const net = parseCidr(cidr);
      const id = `${net.version}/${net.prefix}`;
      let group = byPrefix.get(id);
      if (!group) {
        group = { masks: net.masks, v4: [new Set(), new Set(), new Set(), new Set()], v6: new Set() };
        byPrefix.set(id, group);
        (net.version === 4 ? this.v4 : this.v6).push(group);
      }
      if (net.version === 4) group.v4[net.words[0] >>> 30].add(net.words[0] & 0x3fffffff);
      else group.v6.add(wordsKey(net.words, 0));
    }
  }

  /** Whether the address at `words[offset..offset+3]` (IPv4 in the first word) is in one of the networks. */
  contains(version: number, words: Uint32Array, offset: number): boolean {
    if (version !== 6) {
      const address = words[offset];
      for (const g of this.v4) {
        const masked = address & g.masks[0];
        if (g.v4[masked >>> 30].has(masked & 0x3fffffff)) return true;
      }
      return false;
    }
    const m = this.masked;
    for (const g of this.v6) {
      for (let i = 0; i < 4; i++) m[i] = (words[offset + i] & g.masks[i]) >>> 0;
      if (g.v6.has(wordsKey(m, 0))) return true;
    }
    return false;
  }
}

function wordsKey(words: Uint32Array, offset: number): string {
  return `${words[offset]}:${words[offset + 1]}:${words[offset + 2]}:${words[offset + 3]}`;
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
