/**
 * One direction of DNS over TCP (RFC 1035 4.2.2 / RFC 7766): the 2-byte length framing over the in-order
 * bytes the dispatch's TCP stream adapter delivers. Messages that arrive whole in one delivery are handed over
 * in place; a message split over deliveries is gathered into a per-direction buffer.
 *
 * After a content gap (bytes the capture lost), or when the capture joined the stream without its SYN, the
 * framing is unknown, so each delivery's start is tried as a message boundary (with a length prefix, or, as
 * when the prefix went out in a lost segment, without one) and data that fits neither is dropped until one
 * fits. Never throws: lost framing is reported through `lost` (a weird).
 */
import { DNS_HEADER_LENGTH } from './message.js';

/** Bytes the adapter keeps past a hole for DNS (the registration's maxPendingBytes): messages are small. */
export const DNS_TCP_MAX_PENDING_BYTES = 16 * 1024;

export interface DnsTcpHandlers {
  /** Parses without side effects: the message length consumed, or -1 when the bytes are not a DNS message. */
  probe(buf: Buffer, offset: number, length: number): number;
  /** A framed message, whose last byte came in a segment captured at `ts`. */
  message(buf: Buffer, offset: number, length: number, ts: number): void;
  /** Framing was lost: a gap skipped, a bad length, or a message split off by the end of the flow. */
  lost(kind: 'gap' | 'bad_length' | 'truncated'): void;
}

export class DnsTcpFraming {
  /** Unknown framing: try each delivery's start as a message boundary. */
  private resync = false;
  /** The next message was framed by a guess: check it parses before trusting the framing. */
  private tentative = false;
  /** First byte of a length prefix split across deliveries, or -1. */
  private prefixHigh = -1;
  /** Length of the message being gathered, or -1 while reading the prefix. */
  private need = -1;
  private acc: Buffer | null = null;
  private accLength = 0;
  /** Capture time of the bytes being framed. */
  private ts = 0;

  /** `joinedMidStream`: the stream's first byte is not known to start a message (no SYN was seen). */
  constructor(
    private readonly handlers: DnsTcpHandlers,
    joinedMidStream: boolean,
  ) {
    this.resync = joinedMidStream;
  }

  /** End of the flow (after the adapter's flush): a message still incomplete is lost. */
  end(): void {
    if (this.need >= 0 || this.prefixHigh >= 0) this.handlers.lost('truncated');
    this.resetFraming();
  }

  /** Bytes the capture never showed: whatever was being framed is lost, and the next boundary unknown. */
  gap(): void {
    this.handlers.lost('gap');
    this.resetFraming();
    this.resync = true;
  }

  private resetFraming(): void {
    this.prefixHigh = -1;
    this.need = -1;
    this.accLength = 0;
    this.tentative = false;
  }

  /** The next in-order bytes of the stream, captured at `ts`. */
  data(data: Buffer, offset: number, length: number, ts: number): void {
    this.ts = ts;
    if (this.resync && !this.findBoundary(data, offset, length)) return;
    let off = offset;
    let left = length;
    while (left > 0) {
      if (this.need < 0) {
        // The 2-byte length prefix, possibly split across segments.
        if (this.prefixHigh < 0 && left >= 2) {
          this.need = data.readUInt16BE(off);
          off += 2;
          left -= 2;
        } else if (this.prefixHigh < 0) {
          this.prefixHigh = data[off++];
          left--;
          continue;
        } else {
          this.need = (this.prefixHigh << 8) | data[off++];
          this.prefixHigh = -1;
          left--;
        }
        if (this.need < DNS_HEADER_LENGTH) {
          this.handlers.lost('bad_length');
          this.resetFraming();
          this.resync = true;
          return;
        }
      }
      if (this.accLength === 0 && left >= this.need) {
        const n = this.need;
        this.need = -1;
        if (!this.complete(data, off, n)) return;
        off += n;
        left -= n;
        continue;
      }
      const acc = this.gatherBuffer(this.need);
      const take = Math.min(this.need - this.accLength, left);
      data.copy(acc, this.accLength, off, off + take);
      this.accLength += take;
      off += take;
      left -= take;
      if (this.accLength === this.need) {
        const n = this.need;
        this.need = -1;
        this.accLength = 0;
        if (!this.complete(acc, 0, n)) return;
      }
    }
  }

  /** Hands over a framed message; false when a guessed framing proved wrong (the rest of the segment is dropped). */
  private complete(buf: Buffer, offset: number, length: number): boolean {
    if (this.tentative) {
      if (this.handlers.probe(buf, offset, length) < 0) {
        this.resetFraming();
        this.resync = true;
        return false;
      }
      this.tentative = false;
    }
    this.handlers.message(buf, offset, length, this.ts);
    return true;
  }

  /**
   * In resync mode, at a segment start: decides whether a message starts here. Returns true to go on framing
   * from here; false when the segment was consumed (a prefix-less message) or dropped.
   */
  private findBoundary(data: Buffer, offset: number, length: number): boolean {
    const h = this.handlers;
    const prefixed = length >= 2 ? data.readUInt16BE(offset) : -1;
    if (prefixed >= DNS_HEADER_LENGTH && 2 + prefixed <= length && h.probe(data, offset + 2, prefixed) >= 0) {
      this.resync = false;
      return true;
    }
    // The length prefix went out in a segment we did not see: the segment is exactly one message.
    if (length >= DNS_HEADER_LENGTH && h.probe(data, offset, length) === length) {
      this.resync = false;
      this.tentative = true;
      h.message(data, offset, length, this.ts);
      return false;
    }
    // A message longer than this segment: trust a plausible header (or a bare prefix) until it completes.
    if (length < 2 || (prefixed >= DNS_HEADER_LENGTH && 2 + prefixed > length && (length < 2 + DNS_HEADER_LENGTH || plausibleHeader(data, offset + 2)))) {
      this.resync = false;
      this.tentative = true;
      return true;
    }
    return false;
  }

  private gatherBuffer(size: number): Buffer {
    if (!this.acc || this.acc.length < size) {
      const grown = Buffer.allocUnsafe(Math.max(size, 512));
      if (this.acc && this.accLength > 0) this.acc.copy(grown, 0, 0, this.accLength);
      this.acc = grown;
    }
    return this.acc;
  }
}

/** A header worth waiting for: a known opcode and a question count real traffic uses. */
function plausibleHeader(buf: Buffer, offset: number): boolean {
  const opcode = (buf[offset + 2] >> 3) & 0x0f;
  const qdcount = buf.readUInt16BE(offset + 4);
  return (opcode <= 2 || (opcode >= 4 && opcode <= 6)) && qdcount <= 16;
}
