/**
 * Text for a person, from record fields: Zeek's `\xNN` escapes of UTF-8 names decoded for display, and
 * columns measured in terminal cells (a CJK character takes two, a combining accent none), not UTF-16 units.
 * One module, below both the UI (src/ui) and `loopy read`'s summary (src/stats), so they show a name the same
 * way. For display only: records keep Zeek's escaping. Never on the packet loop.
 */
import stringWidth from 'string-width';

const ESCAPE_RUN = /(?:\\x[89a-fA-F][0-9a-fA-F])+/g;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Bytes ≥ 0x80 as text: each well-formed UTF-8 sequence decoded, every other byte left as `\xNN`. */
function decodeRun(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceLength(bytes[i]);
    let text: string | undefined;
    if (n > 0 && i + n <= bytes.length) {
      try {
        text = strictUtf8.decode(bytes.subarray(i, i + n));
      } catch {
        text = undefined;
      }
    }
    // C1 controls (U+0080–U+009F) stay escaped: a terminal may act on them.
    if (text !== undefined && text.codePointAt(0)! >= 0xa0) {
      out += text;
      i += n;
    } else {
      out += `\\x${bytes[i].toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/**
 * A name as records carry it (`\xe5\xb0\x8f\xe7\x8c\xab.local`) as a person reads it (`小猫.local`). Only
 * escapes of bytes ≥ 0x80 are decoded, and only into printable characters: control bytes and invalid UTF-8
 * stay escaped, so nothing a packet carries can reach the terminal as a control sequence.
 */
export function displayText(escaped: string): string {
  if (!escaped.includes('\\x')) return escaped;
  return escaped.replace(ESCAPE_RUN, (run) => {
    const bytes = new Uint8Array(run.length / 4);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 4 + 2, i * 4 + 4), 16);
    return decodeRun(bytes);
  });
}

// eslint-disable-next-line no-control-regex
const PLAIN = /^[\x20-\x7e]*$/;

/** Terminal cells `text` takes. */
export function cellWidth(text: string): number {
  return PLAIN.test(text) ? text.length : stringWidth(text);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Exactly `width` cells: cut (ending in "…", never half a wide character) or padded with spaces, on the
 * right for 'left' alignment, on the left for 'right'.
 */
export function fitCells(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const cells = cellWidth(text);
  if (cells > width) return cutCells(text, width - 1) + '…';
  const pad = ' '.repeat(width - cells);
  return align === 'left' ? text + pad : pad + text;
}

/** The longest start of `text` within `width` cells, padded with a space where a wide character did not fit. */
function cutCells(text: string, width: number): string {
  const [head] = splitCells(text, width);
  return head + ' '.repeat(width - cellWidth(head));
}

/** `text` split where its first `width` cells end, never inside a character (a wide one that would not fit waits). */
export function splitCells(text: string, width: number): [string, string] {
  if (PLAIN.test(text)) return [text.slice(0, width), text.slice(width)];
  let used = 0;
  let at = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) break;
    used += w;
    at += segment.length;
  }
  return [text.slice(0, at), text.slice(at)];
}
