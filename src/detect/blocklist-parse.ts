/**
 * Blocklist files: one indicator a line — an IPv4/IPv6 address, a CIDR, or a domain (which covers its
 * subdomains; "*.evil.example" means the same). `#` starts a comment. Hosts-file lines ("0.0.0.0 evil.example",
 * as many public blocklists ship) give their name. Pure: text in, sets out, bad lines listed, never a throw.
 */
import { AddressSet, parseCidr } from './addresses.js';

export interface Blocklist {
  addresses: AddressSet;
  domains: Set<string>;
  /** Lines that are none of the above, with their line numbers (1-based). */
  invalid: Array<{ line: number; text: string }>;
}

const DOMAIN = /^(\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]+\.?$/i;
const SINK_ADDRESSES = new Set(['0.0.0.0', '127.0.0.1', '::', '::1']);

export function parseBlocklist(text: string): Blocklist {
  const out: Blocklist = { addresses: new AddressSet(), domains: new Set(), invalid: [] };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    if (parts.length === 2 && SINK_ADDRESSES.has(parts[0]) && isDomain(parts[1])) {
      out.domains.add(normalDomain(parts[1]));
      return;
    }
    if (parts.length !== 1) {
      out.invalid.push({ line: i + 1, text: raw });
      return;
    }
    if (parseCidr(line) !== undefined) out.addresses.add(line);
    else if (isDomain(line)) out.domains.add(normalDomain(line));
    else out.invalid.push({ line: i + 1, text: raw });
  });
  return out;
}

/** At least two labels, the last one (the TLD) with a letter: "300.1.2.3" is a bad address, not a name. */
function isDomain(text: string): boolean {
  const labels = text.replace(/\.$/, '').split('.');
  return DOMAIN.test(text) && labels.length >= 2 && /[a-z]/i.test(labels[labels.length - 1]);
}

function normalDomain(d: string): string {
  return d.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
}

/** The listed domain that `name` is or falls under, or undefined. */
export function blockedDomainOf(name: string, domains: ReadonlySet<string>): string | undefined {
  if (domains.size === 0) return undefined;
  let n = name.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  for (;;) {
    if (domains.has(n)) return n;
    const dot = n.indexOf('.');
    if (dot < 0) return undefined;
    n = n.slice(dot + 1);
  }
}
