/**
 * One direction of an HTTP/1.x connection as a sequence of messages: heads are parsed (buffered only when a
 * head spans segments), bodies are skipped by Content-Length or chunked framing without copying, so the next
 * message on a persistent or pipelined connection is found. Malformed framing stops it for good (weird).
 *
 * Content gaps (bytes the capture lost, see skipGap) do not stop it. As in Zeek, a gap inside a body whose
 * remaining length is known only costs body bytes. Anywhere else the message is finished as far as it is
 * known, and the stream resynchronises at the next line that starts a message (request or status line), as
 * Zeek's Spicy analyzers do; the bytes before that line are skipped.
 * Pure: bytes in, handler calls out.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { FRAME_CHUNKED, FRAME_INVALID, FRAME_TUNNEL, FRAME_UNTIL_CLOSE, parseChunkSize } from './framing.js';
import { indexOfByte, MAX_HEAD_BYTES, type HeadResult } from './head.js';
import { StartLineFinder, type StartLineTest } from './message-start.js';

export const W_HTTP_BAD_CHUNK_SIZE = defineWeird('HTTP_bad_chunk_size');
export const W_HTTP_BAD_CHUNK_END = defineWeird('http_bad_chunk_end');
export const W_HTTP_BAD_TRANSFER_ENCODING = defineWeird('http_bad_transfer_encoding');

const MAX_LINE_BYTES = 8 * 1024;
const LF = 0x0a;
const CR = 0x0d;

const P_HEAD = 0;
const P_BODY = 1;
const P_CHUNK_SIZE = 2;
const P_CHUNK_DATA = 3;
const P_CHUNK_END = 4;
const P_TRAILER = 5;
const P_UNTIL_CLOSE = 6;
const P_STOPPED = 7;
/** After a gap: skipping bytes until a line that starts a message. */
const P_RESYNC = 8;

export interface MessageHandler<H> {
  /** A whole head: returns its body framing (a length, or FRAME_* from framing.ts). */
  onHead(head: H): number;
  /** `length` bytes of (de-chunked) body. */
  onBody(length: number): void;
  /** `length` bytes of the current body were lost in a gap; Zeek counts them in the body length. */
  onBodyGap(length: number): void;
  onMessageEnd(): void;
  /** A gap swallowed the start of (at least) one message: nothing of it is known. */
  onMessageLost(): void;
  /** Framing lost: the stream has stopped. */
  onError(weird: number): void;
}

export type HeadParser<H> = (buf: Buffer, offset: number, length: number) => HeadResult<H>;

export class HttpMessageStream<H> {
  private phase = P_HEAD;
  private remaining = 0;
  private headBuf: Buffer | null = null;
  private headLen = 0;
  private lineBuf: Buffer | null = null;
  private lineLen = 0;
  /**
   * Finds the next message start after a gap; a start line it kept goes into the head buffer. Made at the
   * first gap: most streams never meet one, and a stream lives as long as its flow.
   */
  private finder: StartLineFinder | null = null;

  constructor(
    private readonly parseHead: HeadParser<H>,
    private readonly startsMessage: StartLineTest,
    private readonly handler: MessageHandler<H>,
  ) {}

  /** Back to a new stream's state, for the next flow of a reused owner; buffers are let go, not kept. */
  reset(): void {
    this.phase = P_HEAD;
    this.remaining = 0;
    this.headBuf = null;
    this.headLen = 0;
    this.lineBuf = null;
    this.lineLen = 0;
    this.finder = null;
  }

  get stopped(): boolean {
    return this.phase === P_STOPPED;
  }

  /** True while a body runs to the connection's close (its end is the flow's end). */
  get untilClose(): boolean {
    return this.phase === P_UNTIL_CLOSE;
  }

  /** Stops parsing (tunnel, or the other direction lost framing). */
  stop(): void {
    this.phase = P_STOPPED;
    this.headBuf = null;
    this.lineBuf = null;
  }

  /**
   * `length` bytes of the stream were lost (the reassembler gave up on a gap); the next bytes fed come after
   * them. Inside a body of known remaining length they are body bytes and parsing goes on; otherwise the
   * message is finished as far as it is known and the stream looks for the next message start.
   */
  skipGap(length: number): void {
    switch (this.phase) {
      case P_STOPPED:
        return;
      case P_UNTIL_CLOSE:
        this.handler.onBodyGap(length); // everything up to the close is body
        return;
      case P_BODY:
      case P_CHUNK_DATA: {
        const inBody = Math.min(length, this.remaining);
        this.remaining -= inBody;
        this.handler.onBodyGap(inBody);
        if (inBody === length) {
          if (this.remaining > 0) return;
          if (this.phase === P_BODY) this.endMessage();
          else this.phase = P_CHUNK_END;
          return;
        }
        const framedByLength = this.phase === P_BODY;
        this.endMessage();
        // Bytes past the end of a Content-Length body belong to a message that started in the gap. (A chunked
        // body's end is not known: the gap may hold only more chunks.)
        if (framedByLength) this.handler.onMessageLost();
        break;
      }
      case P_HEAD:
        this.interruptHead();
        break;
      case P_RESYNC:
        break;
      default: // chunk-size line, chunk end, trailer section
        this.endMessage();
    }
    if (this.phase === P_STOPPED) return;
    this.phase = P_RESYNC;
    this.headBuf = null;
    this.headLen = 0;
    this.lineLen = 0;
    this.finder ??= new StartLineFinder(this.startsMessage, (line, length) => this.appendHead(line, 0, length));
    this.finder.restart();
  }

  /** The stream ended (flow end): a head cut short is reported as far as it is known, as after a gap. */
  end(): void {
    if (this.phase === P_HEAD && this.headLen > 0) this.interruptHead();
    if (this.phase !== P_STOPPED) this.stop();
  }

  /** A gap in a head: reports the head from its complete lines, if they hold the first line; else the message is lost. */
  private interruptHead(): void {
    const buf = this.headBuf;
    let lastLf = this.headLen - 1;
    while (lastLf >= 0 && (buf as Buffer)[lastLf] !== LF) lastLf--;
    if (buf === null || lastLf < 0) {
      this.handler.onMessageLost();
      return;
    }
    // The lines known, closed with a blank line (allocates, but only once per gap).
    const known = Buffer.allocUnsafe(lastLf + 3);
    buf.copy(known, 0, 0, lastLf + 1);
    known[lastLf + 1] = CR;
    known[lastLf + 2] = LF;
    const result = this.parseHead(known, 0, known.length);
    if (result.status !== 'ok') {
      this.handler.onMessageLost();
      return;
    }
    this.handler.onHead(result.head); // its body framing no longer matters: the body is cut
    if (this.phase !== P_STOPPED) this.endMessage();
  }

  feed(data: Buffer, offset: number, length: number): void {
    const end = offset + length;
    let at = offset;
    while (at < end && this.phase !== P_STOPPED) {
      switch (this.phase) {
        case P_HEAD:
          at = this.readHead(data, at, end);
          break;
        case P_BODY:
        case P_CHUNK_DATA: {
          const n = Math.min(this.remaining, end - at);
          this.remaining -= n;
          at += n;
          this.handler.onBody(n);
          if (this.remaining === 0) {
            if (this.phase === P_BODY) this.endMessage();
            else this.phase = P_CHUNK_END;
          }
          break;
        }
        case P_UNTIL_CLOSE:
          this.handler.onBody(end - at);
          at = end;
          break;
        case P_RESYNC: {
          // P_RESYNC is entered only by skipGap, which made the finder.
          const start = this.finder!.find(data, at, end);
          if (start < 0) return;
          this.phase = P_HEAD;
          at = start;
          break;
        }
        default:
          at = this.readLine(data, at, end);
      }
    }
  }

  private readHead(data: Buffer, at: number, end: number): number {
    if (this.headLen === 0) {
      // Stray CRLFs between messages are allowed (RFC 9112 2.2). NULs too: a TCP keep-alive probe carries one
      // garbage byte (usually 0) that reads as stream data when it is the first segment a capture has.
      while (at < end && (data[at] === CR || data[at] === LF || data[at] === 0)) at++;
      if (at === end) return end;
      const result = this.parseHead(data, at, end - at);
      if (result.status === 'ok') return this.startBody(result.head, at + result.consumed, end);
      if (result.status === 'error') return this.fail(result.weird, end);
      this.appendHead(data, at, end);
      return end;
    }
    const before = this.headLen;
    this.appendHead(data, at, end);
    const result = this.parseHead(this.headBuf as Buffer, 0, this.headLen);
    if (result.status === 'incomplete') return end;
    this.headLen = 0;
    this.headBuf = null;
    if (result.status === 'error') return this.fail(result.weird, end);
    return this.startBody(result.head, at + (result.consumed - before), end);
  }

  /** Keeps a partial head; stops at one byte past the cap so the parser reports contentline_size_exceeded. */
  private appendHead(data: Buffer, at: number, end: number): void {
    const n = Math.min(end - at, MAX_HEAD_BYTES + 1 - this.headLen);
    if (n <= 0) return;
    if (this.headBuf === null || this.headBuf.length < this.headLen + n) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_HEAD_BYTES + 1, Math.max(2048, (this.headLen + n) * 2)));
      if (this.headBuf !== null) this.headBuf.copy(grown, 0, 0, this.headLen);
      this.headBuf = grown;
    }
    data.copy(this.headBuf, this.headLen, at, at + n);
    this.headLen += n;
  }

  private startBody(head: H, at: number, end: number): number {
    const framing = this.handler.onHead(head);
    if (this.phase === P_STOPPED) return end;
    if (framing > 0) {
      this.phase = P_BODY;
      this.remaining = framing;
    } else if (framing === 0) this.endMessage();
    else if (framing === FRAME_CHUNKED) this.phase = P_CHUNK_SIZE;
    else if (framing === FRAME_UNTIL_CLOSE) this.phase = P_UNTIL_CLOSE;
    else if (framing === FRAME_TUNNEL) this.stop();
    else if (framing === FRAME_INVALID) return this.fail(W_HTTP_BAD_TRANSFER_ENCODING, end);
    return at;
  }

  private endMessage(): void {
    this.phase = P_HEAD;
    this.handler.onMessageEnd();
  }

  /** Chunk-size, chunk-end and trailer lines; a line split over segments is kept in a small buffer. */
  private readLine(data: Buffer, at: number, end: number): number {
    const nl = indexOfByte(data, LF, at, end);
    if (nl < 0 || this.lineLen > 0) {
      const stop = nl < 0 ? end : nl;
      if (this.lineLen + (stop - at) > MAX_LINE_BYTES) return this.fail(this.phase === P_CHUNK_END ? W_HTTP_BAD_CHUNK_END : W_HTTP_BAD_CHUNK_SIZE, end);
      if (this.lineBuf === null) this.lineBuf = Buffer.allocUnsafe(MAX_LINE_BYTES);
      data.copy(this.lineBuf, this.lineLen, at, stop);
      this.lineLen += stop - at;
      if (nl < 0) return end;
      const lineEnd = this.lineLen > 0 && this.lineBuf[this.lineLen - 1] === CR ? this.lineLen - 1 : this.lineLen;
      this.lineLen = 0;
      this.onLine(this.lineBuf, 0, lineEnd);
      return nl + 1;
    }
    this.onLine(data, at, nl > at && data[nl - 1] === CR ? nl - 1 : nl);
    return nl + 1;
  }

  private onLine(buf: Buffer, start: number, end: number): void {
    if (this.phase === P_CHUNK_SIZE) {
      const size = parseChunkSize(buf, start, end);
      if (size < 0) this.fail(W_HTTP_BAD_CHUNK_SIZE, 0);
      else if (size === 0) this.phase = P_TRAILER;
      else {
        this.phase = P_CHUNK_DATA;
        this.remaining = size;
      }
    } else if (this.phase === P_CHUNK_END) {
      if (end !== start) this.fail(W_HTTP_BAD_CHUNK_END, 0);
      else this.phase = P_CHUNK_SIZE;
    } else if (end === start) {
      this.endMessage(); // the blank line after the (possibly empty) trailer section
    }
  }

  private fail(weird: number, end: number): number {
    this.stop();
    this.handler.onError(weird);
    return end;
  }
}
