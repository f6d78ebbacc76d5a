/**
 * Finding the next HTTP/1.x message after a content gap (the bytes after a gap are an unknown part of some
 * message): the line tests, and StartLineFinder, which scans line starts across segments. The tests are
 * stricter than the head parsers on purpose: a body line that happens to start with "GET " must not be
 * taken for a request, so the version is required. Each test gets one whole line, [start, end) without its
 * CR LF. Pure.
 */
import { indexOfByte } from './head.js';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
/** A start line longer than this is not waited for (request targets are rarely past 8 KiB). */
const MAX_START_LINE = 8 * 1024;

export type StartLineTest = (buf: Buffer, start: number, end: number) => boolean;

/** "HTTP/d.d" at [at, at + 8). */
function isVersion(buf: Buffer, at: number): boolean {
  return (
    buf[at] === 0x48 && buf[at + 1] === 0x54 && buf[at + 2] === 0x54 && buf[at + 3] === 0x50 && buf[at + 4] === 0x2f &&
    isDigit(buf[at + 5]) && buf[at + 6] === 0x2e && isDigit(buf[at + 7])
  );
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Methods are upper-case tokens in practice ("GET", "M-SEARCH", "CCM_POST"); 24 covers the WebDAV ones. */
const MAX_METHOD = 24;

/** `METHOD SP request-target SP HTTP/d.d` (RFC 9112 3). */
export function isRequestLine(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && i - start <= MAX_METHOD && ((buf[i] >= 0x41 && buf[i] <= 0x5a) || buf[i] === 0x5f || buf[i] === 0x2d)) i++;
  if (i === start || i - start > MAX_METHOD || i >= end || buf[i] !== SP) return false;
  const versionAt = end - 8;
  if (versionAt < i + 3 || buf[versionAt - 1] !== SP || !isVersion(buf, versionAt)) return false;
  // The target: at least one byte, no controls, no spaces.
  for (let t = i + 1; t < versionAt - 1; t++) if (buf[t] <= SP || buf[t] === 0x7f) return false;
  return true;
}

/** `HTTP/d.d SP ddd [SP reason]` (RFC 9112 4). */
export function isStatusLine(buf: Buffer, start: number, end: number): boolean {
  if (end - start < 12 || !isVersion(buf, start) || buf[start + 8] !== SP) return false;
  if (!isDigit(buf[start + 9]) || !isDigit(buf[start + 10]) || !isDigit(buf[start + 11])) return false;
  return end - start === 12 || buf[start + 12] === SP;
}

/**
 * Scans for a line that passes `test`, at line starts only: the first byte after a gap (restart) and each
 * byte after a LF. A candidate line cut by the end of a segment is copied (up to MAX_START_LINE) and judged
 * when its LF arrives; if it passes, `keep` gets the copy (the head so far) before find returns.
 */
export class StartLineFinder {
  private line: Buffer | null = null;
  private lineLen = 0;
  private atLineStart = false;

  constructor(
    private readonly test: StartLineTest,
    private readonly keep: (line: Buffer, length: number) => void,
  ) {}

  /** A gap: the next byte fed may start a line. */
  restart(): void {
    this.lineLen = 0;
    this.atLineStart = true;
  }

  /**
   * Where the next message starts in data[at, end): its offset, or, for a start line kept from earlier
   * segments, the offset of its LF (after `keep`). -1 when there is none yet: all the bytes are used up.
   */
  find(data: Buffer, at: number, end: number): number {
    if (this.lineLen > 0) {
      const nl = indexOfByte(data, LF, at, end);
      const stop = nl < 0 ? end : nl;
      const fits = this.lineLen + (stop - at) <= MAX_START_LINE;
      if (fits) {
        data.copy(this.line as Buffer, this.lineLen, at, stop);
        this.lineLen += stop - at;
      }
      if (nl < 0) {
        if (!fits) this.lineLen = 0;
        return -1;
      }
      const line = this.line as Buffer;
      const length = this.lineLen;
      this.lineLen = 0;
      if (fits && this.test(line, 0, length > 0 && line[length - 1] === CR ? length - 1 : length)) {
        this.keep(line, length);
        return nl;
      }
      at = nl + 1;
      this.atLineStart = true;
    }
    let p = at;
    if (!this.atLineStart) {
      const nl = indexOfByte(data, LF, at, end);
      if (nl < 0) return -1;
      p = nl + 1;
    }
    while (p < end) {
      const nl = indexOfByte(data, LF, p, end);
      if (nl < 0) {
        if (end - p <= MAX_START_LINE) {
          if (this.line === null) this.line = Buffer.allocUnsafe(MAX_START_LINE);
          data.copy(this.line, 0, p, end);
          this.lineLen = end - p;
        }
        this.atLineStart = false;
        return -1;
      }
      if (this.test(data, p, nl > p && data[nl - 1] === CR ? nl - 1 : nl)) {
        this.atLineStart = false;
        return p;
      }
      p = nl + 1;
    }
    this.atLineStart = true;
    return -1;
  }
}
