/**
 * Addresses and networks in text (configuration, allow-lists, blocklists) to the four big-endian 32-bit words
 * the flow table keeps (IPv4 in word 0), so matching them against flows needs no strings. The inverse of
 * format-address.ts. Used by the local-network list (stats) and the detectors' address sets (detect).
 */
/**
 * Exactly node:net's isIPv4 (four decimal octets 0–255, no leading zeros), without its regular expression:
 * asked of every DNS answer and every address a detector keys, where the regex was 2–3 % of the engine.
 */
export function isIPv4Text(text: string): boolean {
  let dots = 0;
  let digits = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return false;
      dots++;
      digits = 0;
      octet = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || (digits > 0 && octet === 0)) return false;
    octet = octet * 10 + (c - 0x30);
    digits++;
    if (octet > 255) return false;
  }
  return dots === 3 && digits > 0;
}

/** 0-9, a-f, A-F. */
function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A zone's characters in node:net's IPv6 expression: letters, digits, '-', '.' and ':'. */
function isZoneChar(c: number): boolean {
  return isHexDigit(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x2e || c === 0x3a;
}

/**
 * Exactly node:net's isIPv6 (eight groups of 1–4 hex digits, or fewer with one "::" standing for at least one;
 * a dotted IPv4 tail counts as two; then an optional %zone), without its regular expression: compiling and
 * tiering that expression up took ~10 ms of every start (the local networks and allow-lists are checked then).
 */
export function isIPv6Text(text: string): boolean {
  let end = text.indexOf('%');
  if (end < 0) end = text.length;
  else if (end === text.length - 1) return false;
  for (let i = end + 1; i < text.length; i++) if (!isZoneChar(text.charCodeAt(i))) return false;
  let compressed = text.startsWith('::');
  let groups = 0;
  let i = compressed ? 2 : 0;
  while (i < end) {
    let j = i;
    while (j < end && j - i < 5 && isHexDigit(text.charCodeAt(j))) j++;
    if (j < end && text.charCodeAt(j) === 0x2e) {
      // A dotted IPv4 tail: the last thing before the zone.
      if (!isIPv4Text(text.slice(i, end))) return false;
      groups += 2;
      break;
    }
    if (j === i || j - i > 4) return false;
    groups++;
    if (j === end) break;
    if (text.charCodeAt(j) !== 0x3a) return false;
    if (text.charCodeAt(j + 1) === 0x3a && j + 1 < end) {
      if (compressed) return false;
      compressed = true;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/** Either version's address in text (node:net's isIP !== 0); IPv6's validation only for text with a colon. */
export function isAddressText(text: string): boolean {
  return isIPv4Text(text) || (text.includes(':') && isIPv6Text(text));
}

/** An address in text to its version and four words, or undefined when it is not one. */
export function parseAddress(text: string): { version: 4 | 6; words: Uint32Array } | undefined {
  const t = text.trim();
  if (isIPv4Text(t)) {
    const words = new Uint32Array(4);
    words[0] = t.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
    return { version: 4, words };
  }
  if (isIPv6Text(t)) return { version: 6, words: ipv6Words(t) };
  return undefined;
}

/** An address in text as its bytes in network order (4 for IPv4, 16 for IPv6), or undefined when it is not one. */
export function addressBytes(text: string): Uint8Array | undefined {
  const parsed = parseAddress(text);
  if (parsed === undefined) return undefined;
  const out = new Uint8Array(parsed.version === 4 ? 4 : 16);
  const view = new DataView(out.buffer);
  for (let i = 0; i < out.length / 4; i++) view.setUint32(i * 4, parsed.words[i], false);
  return out;
}

/** The masks of a prefix length over the four words (IPv4: word 0 only). */
export function prefixMasks(version: 4 | 6, prefix: number): Uint32Array {
  const masks = new Uint32Array(4);
  for (let i = 0; i < (version === 4 ? 1 : 4); i++) {
    const left = prefix - i * 32;
    masks[i] = left >= 32 ? 0xffffffff : left <= 0 ? 0 : (0xffffffff << (32 - left)) >>> 0;
  }
  return masks;
}

/** IPv6 text (already validated by node:net) to four words; handles "::", a zone and a dotted IPv4 tail. */
function ipv6Words(text: string): Uint32Array {
  let body = text.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted) {
    const v4 = parseAddress(dotted[1])!.words[0];
    body = body.slice(0, dotted.index) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = body.includes('::') ? body.split('::') : [body, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((parseInt(groups[i * 2], 16) << 16) | parseInt(groups[i * 2 + 1], 16)) >>> 0;
  return words;
}
