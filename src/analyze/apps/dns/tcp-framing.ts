/**
 * One direction of DNS over TCP (RFC 1035 4.2.2 / RFC 7766): a StreamReassembler for order, then the 2-byte
 * length framing. Messages that arrive whole in one segment are handed over in place; a message split over
 * segments is gathered into a per-direction buffer.
 *
 * Lost segments: the reassembler waits for a hole to fill (it might be mere reordering). The receiver's ACK
 * tells the two apart: once the peer acknowledges bytes we never saw, they were lost to the capture and the
 * reassembler skips them (a content gap; also past MAX_HELD_BYTES kept, and at the flow's end). After a gap,
 * or when the capture starts without the SYN, the framing is unknown, so each segment start is tried as a
 * message boundary (with a length prefix, or, as when the prefix went out in a lost segment, without one)
 * and data that fits neither is dropped until one fits.
 */
import { StreamReassembler } from '../stream.js';
import { DNS_HEADER_LENGTH } from './message.js';

/** Bytes kept past a hole; beyond this the hole is declared lost without waiting for an ACK. */
const MAX_HELD_BYTES = 16 * 1024;

export interface DnsTcpHandlers {
  /** Parses without side effects: the message length consumed, or -1 when the bytes are not a DNS message. */
  probe(buf: Buffer, offset: number, length: number): number;
  /** A framed message. */
  message(buf: Buffer, offset: number, length: number): void;
  /** Framing was lost: a gap skipped, a bad length, or a message split off by the end of the flow. */
  lost(kind: 'gap' | 'bad_length' | 'truncated'): void;
}

export class DnsTcpDirection {
  private readonly reassembler: StreamReassembler;
  private started = false;
  private sawSyn = false;

  // ---- framing
  /** Unknown framing: try each segment start as a message boundary. */
  private resync = false;
  /** The next message was framed by a guess: check it parses before trusting the framing. */
  private tentative = false;
  /** First byte of a length prefix split across segments, or -1. */
  private prefixHigh = -1;
  /** Length of the message being gathered, or -1 while reading the prefix. */
  private need = -1;
  private acc: Buffer | null = null;
  private accLength = 0;

  constructor(private readonly handlers: DnsTcpHandlers) {
    this.reassembler = new StreamReassembler(
      (data, offset, length) => this.frame(data, offset, length),
      () => this.gap(),
      MAX_HELD_BYTES,
    );
  }

  /** A SYN (or SYN-ACK) from this direction: data starts at isn + 1, at a message boundary. */
  syn(isn: number): void {
    if (this.started) return;
    this.sawSyn = true;
    this.started = true;
    this.reassembler.setInitialSequence(isn);
  }

  segment(seq: number, data: Buffer, offset: number, length: number): void {
    if (length <= 0) return;
    if (!this.started) {
      this.started = true;
      this.resync = !this.sawSyn;
    }
    this.reassembler.push(seq, data, offset, length);
  }

  /** The other direction acknowledged up to `ack`. */
  peerAcked(ack: number): void {
    this.reassembler.acked(ack);
  }

  /** End of the flow: deliver what is held past any gap; a message still incomplete is lost. */
  finish(): void {
    this.reassembler.flush();
    if (this.need >= 0 || this.prefixHigh >= 0) this.handlers.lost('truncated');
    this.resetFraming();
  }

  /** The reassembler skipped bytes it never got: whatever was being framed is lost, and the next boundary unknown. */
  private gap(): void {
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

  private frame(data: Buffer, offset: number, length: number): void {
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
    this.handlers.message(buf, offset, length);
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
      h.message(data, offset, length);
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
