/**
 * Addresses as text, written the way tshark and Zeek write them: IPv4 dotted quad, IPv6 per RFC 5952
 * (lower case, no leading zeros, the longest run of two or more zero groups as "::", the first one on a tie,
 * IPv4-mapped addresses as ::ffff:a.b.c.d). Node has a parser (node:net) but no formatter for raw bytes.
 * Only called when a record leaves the hot path.
 */

/**
 * Texts of the IPv4 addresses formatted lately: the same hosts come back in record after record (two per
 * conn record, two per dns record), and a lookup costs a fraction of building the string again. Bounded:
 * emptied when full (a flood of spoofed sources turns it over, it never grows).
 */
const v4Texts = new Map<number, string>();
const V4_TEXTS_MAX = 16_384;

/** `n` is the address as an unsigned 32-bit number, first octet in the high byte. */
export function formatIPv4(n: number): string {
  const key = n >>> 0;
  let text = v4Texts.get(key);
  if (text === undefined) {
    text = `${(key >>> 24) & 0xff}.${(key >>> 16) & 0xff}.${(key >>> 8) & 0xff}.${key & 0xff}`;
    if (v4Texts.size >= V4_TEXTS_MAX) v4Texts.clear();
    v4Texts.set(key, text);
  }
  return text;
}

/** IPv4 from four bytes at `offset`. */
export function formatIPv4Bytes(buf: Uint8Array, offset = 0): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** `words` holds the address as four big-endian 32-bit words from `offset` (as Packet.src/dst do). */
export function formatIPv6(words: Uint32Array | readonly number[], offset = 0): string {
  const groups = scratchGroups;
  for (let i = 0; i < 4; i++) {
    const w = words[offset + i] >>> 0;
    groups[i * 2] = w >>> 16;
    groups[i * 2 + 1] = w & 0xffff;
  }
  return formatGroups(groups);
}

/** IPv6 from sixteen bytes at `offset`. */
export function formatIPv6Bytes(buf: Uint8Array, offset = 0): string {
  const groups = scratchGroups;
  for (let i = 0; i < 8; i++) groups[i] = (buf[offset + i * 2] << 8) | buf[offset + i * 2 + 1];
  return formatGroups(groups);
}

const scratchGroups = new Uint16Array(8);

function formatGroups(g: Uint16Array): string {
  // RFC 5952 section 5: ::ffff:0:0/96 is written with the IPv4 part dotted.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6] >>> 8}.${g[6] & 0xff}.${g[7] >>> 8}.${g[7] & 0xff}`;
  }
  // Longest run of zero groups, at least two long; the first wins a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += g[i].toString(16);
  }
  return out;
}
