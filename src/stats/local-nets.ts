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
}

export class LocalNetsError extends Error {
  readonly code = 'LOOPY_BAD_LOCAL_NET';
}

export class LocalNets {
  private readonly v4: Net[] = [];
  private readonly v6: Net[] = [];

  /** Throws LocalNetsError naming the entry when one is not an address or address/prefix. */
  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const net = parseCidr(cidr);
      (net.version === 4 ? this.v4 : this.v6).push(net);
    }
  }

  /** Whether the address at `words[offset..offset+3]` (IPv4 in the first word) is in one of the networks. */
  contains(version: number, words: Uint32Array, offset: number): boolean {
    const nets = version === 6 ? this.v6 : this.v4;
    const n = version === 6 ? 4 : 1;
    outer: for (const net of nets) {
      for (let i = 0; i < n; i++) {
        if (((words[offset + i] ^ net.words[i]) & net.masks[i]) !== 0) continue outer;
      }
      return true;
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
  return { version, words, masks };
}
