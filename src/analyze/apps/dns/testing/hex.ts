/**
 * Bytes for tests: `tshark -x` dumps pasted as they are, and hand-built messages written as commented hex.
 */

/** The bytes of a `tshark -x` (or `tcpdump -xx`-like "0000  00 11 ...") dump, from byte `skip` on (to drop link/IP/UDP headers). */
export function fromTsharkDump(dump: string, skip = 0): Buffer {
  const bytes: number[] = [];
  for (const line of dump.split('\n')) {
    const m = /^\s*([0-9a-f]{4})\s\s(.*)$/i.exec(line);
    if (!m) continue;
    // Hex columns occupy 16 * 3 characters after the offset; the ASCII column follows.
    for (const tok of m[2].slice(0, 48).split(' ')) if (/^[0-9a-f]{2}$/i.test(tok)) bytes.push(parseInt(tok, 16));
  }
  return Buffer.from(bytes.slice(skip));
}

/** Hex with whitespace and `# comments` (to the end of the line) ignored. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}
