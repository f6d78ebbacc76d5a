/**
 * One direction of a TLS flow until its first handshake message is whole: in-order bytes (from the dispatch's
 * TCP stream adapter) are parsed in place when one delivery holds the whole message (the common case, no
 * copy), else kept in a buffer capped at MAX_HELLO_BYTES until readFirstHandshake says enough has arrived.
 * The owner looks at `state` after each call: SIDE_DONE with the message in the `out` it passed, or SIDE_FAILED
 * with `weird`.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { MAX_HELLO_BYTES, readFirstHandshake, W_SSL_HANDSHAKE_TOO_LONG, type FirstHandshake } from './record-layer.js';

/** The capture lost bytes before the hello was whole: what follows cannot be trusted. */
export const W_SSL_CONTENT_GAP = defineWeird('ssl_content_gap');

export const SIDE_PENDING = 0;
export const SIDE_DONE = 1;
export const SIDE_FAILED = 2;

export class HelloSide {
  state = SIDE_PENDING;
  private buf: Buffer | null = null;
  private len = 0;
  private needed = 0;

  /** Once the side is SIDE_FAILED: why (a weird id). */
  weird = 0;

  /** Back to a new side's state, for the next flow of a reused owner. */
  reset(): void {
    this.state = SIDE_PENDING;
    this.buf = null;
    this.len = 0;
    this.needed = 0;
    this.weird = 0;
  }

  /** A content gap: the record layer cannot be found again after it (bytes would be read as record headers). */
  gap(): void {
    if (this.state === SIDE_PENDING) this.fail(W_SSL_CONTENT_GAP);
  }

  /**
   * The next in-order bytes of this direction. `out` is the caller's, reused: once the side is SIDE_DONE it
   * holds the message (which may point into `data`).
   */
  data(data: Buffer, offset: number, length: number, out: FirstHandshake): void {
    if (this.state !== SIDE_PENDING) return;
    let result: FirstHandshake;
    if (this.len === 0) {
      result = readFirstHandshake(data, offset, length, out);
      if (result.status === 'incomplete') {
        this.needed = result.needed;
        this.append(data, offset, length);
        return;
      }
    } else {
      this.append(data, offset, length);
      if (this.state !== SIDE_PENDING || this.len < this.needed) return;
      result = readFirstHandshake(this.buf as Buffer, 0, this.len, out);
      if (result.status === 'incomplete') {
        this.needed = result.needed;
        return;
      }
    }
    this.buf = null;
    if (result.status === 'error') this.fail(result.weird);
    else this.state = SIDE_DONE;
  }

  /** Keeps bytes until `needed`; never more than the cap (readFirstHandshake fails before needing more). */
  private append(data: Buffer, offset: number, length: number): void {
    const room = MAX_HELLO_BYTES - this.len;
    if (room <= 0) {
      this.fail(W_SSL_HANDSHAKE_TOO_LONG);
      return;
    }
    const n = Math.min(length, room);
    if (this.buf === null || this.buf.length < this.len + n) {
      const size = Math.min(MAX_HELLO_BYTES, Math.max(this.needed, (this.buf?.length ?? 1024) * 2, this.len + n));
      const grown = Buffer.allocUnsafe(size);
      if (this.buf !== null) this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    data.copy(this.buf, this.len, offset, offset + n);
    this.len += n;
  }

  private fail(weird: number): void {
    this.state = SIDE_FAILED;
    this.buf = null;
    this.weird = weird;
  }
}
