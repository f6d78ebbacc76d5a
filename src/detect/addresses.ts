/**
 * Addresses as detectors keep them. A host key is the IPv4 address as a signed 32-bit number (V8 keeps
 * those unboxed: making, comparing and hashing one as a Map key allocates nothing; 192.168.x.x as an
 * unsigned number would be a heap number) or, for IPv6, its RFC 5952 text (IPv6 is the minority: a string
 * per new flow is fine).
 * AddressSet matches addresses and CIDRs (allow-lists, suppressions, the blocklist) against the flow table's
 * four-word form without making strings for IPv4.
 */
import { formatIPv4, formatIPv6 } from '../analyze/format-address.js';
import { mix32 } from '../analyze/mix32.js';
import { parseAddress, prefixMasks } from '../analyze/parse-address.js';

export { parseAddress };

export type HostKey = number | string;

/** IPv6 texts remembered by hostKeyOf (a power of two). */
const V6_TEXT_SLOTS = 512;
/** Slot i's address in words 4i..4i+3, and its text. */
const v6Words = new Uint32Array(V6_TEXT_SLOTS * 4);
const v6Texts: Array<string | undefined> = new Array<string | undefined>(V6_TEXT_SLOTS).fill(undefined);

/**
 * The key of an address held as words (IPv4 in words[offset]). IPv6 keys are texts: the last ones made are
 * remembered, direct-mapped by address, since the same hosts' connections, pairs and lookups ask again and
 * again and formatting one costs a string and a few hundred nanoseconds.
 */
export function hostKeyOf(version: number, words: Uint32Array, offset = 0): HostKey {
  if (version !== 6) return words[offset] | 0;
  const a = words[offset];
  const b = words[offset + 1];
  const c = words[offset + 2];
  const d = words[offset + 3];
  const slot = mix32(a ^ mix32(b ^ mix32(c ^ mix32(d)))) & (V6_TEXT_SLOTS - 1);
  const w = slot << 2;
  const known = v6Texts[slot];
  if (known !== undefined && v6Words[w] === a && v6Words[w + 1] === b && v6Words[w + 2] === c && v6Words[w + 3] === d) return known;
  const text = formatIPv6(offset === 0 ? words : words.subarray(offset, offset + 4));
  v6Words[w] = a;
  v6Words[w + 1] = b;
  v6Words[w + 2] = c;
  v6Words[w + 3] = d;
  v6Texts[slot] = text;
  return text;
}

/** A 32-bit hash of a host key (an IPv4 number mixed, an IPv6 or other text by FNV-1a), for hash tables and filters. */
export function hostKeyHash(key: HostKey | string): number {
  if (typeof key === 'number') return mix32(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function hostText(key: HostKey): string {
  return typeof key === 'number' ? formatIPv4(key) : key;
}

/** A host key's address as the flow table's four words (IPv4 in word 0), for a flow sample made late. */
export function hostKeyWords(key: HostKey): Uint32Array {
  if (typeof key === 'number') return Uint32Array.of(key >>> 0, 0, 0, 0);
  return parseAddress(key)?.words ?? new Uint32Array(4);
}

/** The host key of an address in text (IPv6 normalised to RFC 5952), or undefined. */
export function hostKeyOfText(text: string): HostKey | undefined {
  const a = parseAddress(text);
  return a === undefined ? undefined : hostKeyOf(a.version, a.words);
}

export interface Cidr {
  version: 4 | 6;
  words: Uint32Array;
  prefix: number;
}

/** "10.0.0.0/8", "2001:db8::/32" or a bare address; undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const bits = address.version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  const words = address.words;
  const masks = prefixMasks(address.version, prefix);
  for (let i = 0; i < 4; i++) words[i] = (words[i] & masks[i]) >>> 0;
  return { version: address.version, words, prefix };
}

/**
 * A set of addresses and networks. Entries are grouped by prefix length, so a lookup costs one hash probe
 * per distinct prefix length in the set (a few), however long the list: a 100 000-line blocklist of
 * addresses is one Set lookup.
 */
export class AddressSet {
  /** IPv4: prefix length → masked addresses (signed 32-bit, as host keys). */
  private readonly v4 = new Map<number, { mask: number; nets: Set<number> }>();
  /** IPv6: prefix length → masked addresses as 32 hex digits. */
  private readonly v6 = new Map<number, { masks: Uint32Array; nets: Set<string> }>();
  private readonly texts: string[] = [];

  /** Throws a RangeError naming the entry when one is not an address or CIDR. */
  static of(entries: readonly string[]): AddressSet {
    const set = new AddressSet();
    for (const e of entries) {
      if (!set.add(e)) throw new RangeError(`"${e}" is not an IP address or CIDR (write e.g. 10.0.0.5, 10.0.0.0/8 or 2001:db8::/32)`);
    }
    return set;
  }

  get size(): number {
    return this.texts.length;
  }

  entries(): readonly string[] {
    return this.texts;
  }

  /** Adds an address or CIDR; false when the text is neither. */
  add(text: string): boolean {
    const cidr = parseCidr(text.trim());
    if (cidr === undefined) return false;
    this.texts.push(text.trim());
    if (cidr.version === 4) {
      let group = this.v4.get(cidr.prefix);
      if (group === undefined) {
        group = { mask: prefixMasks(4, cidr.prefix)[0], nets: new Set() };
        this.v4.set(cidr.prefix, group);
      }
      group.nets.add(cidr.words[0] | 0);
    } else {
      let group = this.v6.get(cidr.prefix);
      if (group === undefined) {
        group = { masks: prefixMasks(6, cidr.prefix), nets: new Set() };
        this.v6.set(cidr.prefix, group);
      }
      group.nets.add(hex128(cidr.words, 0, group.masks));
    }
    return true;
  }

  /** Whether the address at words[offset..] (IPv4 in the first word) is in the set. */
  contains(version: number, words: Uint32Array, offset = 0): boolean {
    if (version !== 6) {
      if (this.v4.size === 0) return false;
      const a = words[offset];
      for (const group of this.v4.values()) if (group.nets.has(a & group.mask)) return true;
      return false;
    }
    if (this.v6.size === 0) return false;
    for (const group of this.v6.values()) if (group.nets.has(hex128(words, offset, group.masks))) return true;
    return false;
  }

  containsV4(address: number): boolean {
    for (const group of this.v4.values()) if (group.nets.has(address & group.mask)) return true;
    return false;
  }

  /** For addresses in text (allow-lists checked when an alert is raised, off the packet path). */
  containsText(text: string): boolean {
    const a = parseAddress(text);
    return a !== undefined && this.contains(a.version, a.words);
  }

  containsKey(key: HostKey): boolean {
    return typeof key === 'number' ? this.containsV4(key) : this.containsText(key);
  }
}

function hex128(words: Uint32Array, offset: number, masks: Uint32Array): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += ((words[offset + i] & masks[i]) >>> 0).toString(16).padStart(8, '0');
  return out;
}

/** Multicast, broadcast and unspecified destinations: never the target of a scan or a flood we can judge. */
export function isGroupAddress(version: number, words: Uint32Array, offset = 0): boolean {
  if (version === 6) return words[offset] >>> 24 === 0xff || (words[offset] | words[offset + 1] | words[offset + 2] | words[offset + 3]) === 0;
  const a = words[offset] >>> 0;
  return a >>> 28 === 0xe || a === 0xffffffff || a === 0 || (a & 0xff) === 0xff;
}
