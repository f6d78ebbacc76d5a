/**
 * DNS name helpers for the DNS detectors: the registered domain a name belongs to, and how random its
 * leftmost part looks. The registered domain is "the last two labels", three when the last two are a known
 * multi-label public suffix (co.uk, com.au...): a short built-in list covers the common ones without
 * shipping the whole Public Suffix List; users add their own with `extraSuffixes`.
 */

/** Second-level public suffixes people meet most (ccTLD registries that sell under com./co./org.). */
const MULTI_LABEL_SUFFIXES = [
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'net.uk', 'ltd.uk', 'plc.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au',
  'co.nz', 'org.nz', 'net.nz', 'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp',
  'co.kr', 'or.kr', 'com.br', 'net.br', 'org.br', 'com.cn', 'net.cn', 'org.cn', 'gov.cn',
  'com.tw', 'com.hk', 'com.sg', 'com.my', 'co.in', 'net.in', 'org.in', 'co.za', 'org.za',
  'com.mx', 'com.ar', 'com.tr', 'com.ua', 'co.il', 'co.id', 'com.pl', 'com.es', 'co.th', 'in-addr.arpa', 'ip6.arpa',
  // Hosting platforms whose customers each get a subdomain (as the Public Suffix List's private section).
  'github.io', 'herokuapp.com', 'appspot.com', 'cloudfront.net', 'azurewebsites.net', 'blogspot.com',
  's3.amazonaws.com', 'elb.amazonaws.com', 'compute.amazonaws.com', 'duckdns.org', 'ngrok.io', 'workers.dev', 'pages.dev',
];

export class DomainSplitter {
  private readonly suffixes: Set<string>;
  private readonly maxSuffixLabels: number;

  constructor(extraSuffixes: readonly string[] = []) {
    this.suffixes = new Set([...MULTI_LABEL_SUFFIXES, ...extraSuffixes.map((s) => s.toLowerCase().replace(/^\.|\.$/g, ''))]);
    this.maxSuffixLabels = Math.max(2, ...[...this.suffixes].map((s) => s.split('.').length));
  }

  /**
   * Splits a name (no trailing dot) into its registered domain and what is left of it (the subdomain, '' when
   * the name is the domain itself). Lower-cases both.
   */
  split(name: string): { domain: string; sub: string } {
    const lower = name.toLowerCase();
    const n = lower.endsWith('.') ? lower.slice(0, -1) : lower;
    // By the positions of its last dots, not an array of labels: it runs for every NXDOMAIN answer and
    // every name dns_tunnel judges. dotBefore(k): the dot before the last k labels (-1 when there are k or fewer).
    let labels = 1;
    for (let i = n.indexOf('.'); i >= 0; i = n.indexOf('.', i + 1)) labels++;
    let take = 2;
    for (let k = Math.min(this.maxSuffixLabels, labels - 1); k >= 2; k--) {
      if (this.suffixes.has(n.slice(dotBefore(n, k) + 1))) {
        take = k + 1;
        break;
      }
    }
    if (labels <= take) return { domain: n, sub: '' };
    const dot = dotBefore(n, take);
    return { domain: n.slice(dot + 1), sub: n.slice(0, dot) };
  }
}

/** The position of the dot before the name's last `k` labels, or -1 when it has no more than k. */
function dotBefore(name: string, k: number): number {
  let at = name.length;
  for (let i = 0; i < k; i++) {
    at = name.lastIndexOf('.', at - 1);
    if (at < 0) return -1;
  }
  return at;
}

/** Shannon entropy in bits per character of the text (dots ignored). */
export function entropyBits(text: string): number {
  const counts = new Map<string, number>();
  let n = 0;
  for (const ch of text) {
    if (ch === '.') continue;
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
    n++;
  }
  if (n === 0) return 0;
  let h = 0;
  for (const c of counts.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

export function longestLabel(name: string): number {
  let longest = 0;
  for (const label of name.split('.')) if (label.length > longest) longest = label.length;
  return longest;
}

/** Whether `name` is `domain` or under it (both lower case, no trailing dot). */
export function isUnder(name: string, domain: string): boolean {
  return name === domain || (name.length > domain.length && name.endsWith(domain) && name[name.length - domain.length - 1] === '.');
}

/** Whether the name is under any domain of the list. */
export function underAny(name: string, domains: readonly string[]): boolean {
  for (const d of domains) if (isUnder(name, d)) return true;
  return false;
}

/** Thresholds of `looksEncoded` (dns_tunnel's settings). */
export interface EncodedShape {
  /** A label this long is encoded data. */
  longLabel: number;
  /** Hex data (letters a-f and digits only) at least this long. */
  minHexLength: number;
  /** Data at least this long with at least `highEntropy` bits per character. */
  minSubdomainLength: number;
  highEntropy: number;
}

/** Labels shorter than this are structure ("www", "t", an ip6.arpa nibble), not data. */
const MIN_DATA_LABEL = 6;
/** Letter↔digit switches that base32/base64 data of `MIN_MIXED` characters shows and words and hostnames don't. */
const MIN_MIXED = 20;
const MIN_SWITCHES = 6;
const MIXED_ENTROPY = 3.5;

/**
 * Whether a name part (labels joined by dots, lower case) looks like encoded data: a very long label; hex
 * (dnscat2, hashes); base32/base64 (iodine), told by letters and digits interleaved at high entropy; or a
 * long random-looking run. Only labels of 6 characters or more are data: reverse names, "www" and single
 * letters are structure.
 */
export function looksEncoded(part: string, shape: EncodedShape): boolean {
  let data = '';
  let longest = 0;
  for (const label of part.split('.')) {
    if (label.length > longest) longest = label.length;
    if (label.length >= MIN_DATA_LABEL) data += label.replace(/[-_]/g, '');
  }
  if (longest >= shape.longLabel) return true;
  if (data.length < shape.minHexLength && data.length < MIN_MIXED && data.length < shape.minSubdomainLength) return false;
  let digits = 0;
  let hex = true;
  let switches = 0;
  let wasDigit = false;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (digit) digits++;
    else if (c < 97 || c > 102) hex = false;
    if (i > 0 && digit !== wasDigit) switches++;
    wasDigit = digit;
  }
  const letters = data.length - digits;
  if (hex && data.length >= shape.minHexLength && digits >= 3 && letters >= 3) return true;
  if (data.length >= MIN_MIXED && switches >= MIN_SWITCHES && entropyBits(data) >= MIXED_ENTROPY) return true;
  return data.length >= shape.minSubdomainLength && entropyBits(data) >= shape.highEntropy;
}
