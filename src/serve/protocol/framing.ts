/**
 * Newline-delimited JSON framing: one JSON-RPC message per line, UTF-8, ended by "\n" (a "\r" before it is
 * tolerated, so `socat` and `nc -C` work). The decoder never holds more than the frame limit of one
 * unfinished line: a client cannot grow the agent's memory by never sending a newline.
 */
import { MAX_FRAME_BYTES } from './messages.js';

export type Frame =
  | { kind: 'line'; text: string }
  /** The line would exceed the limit: answer FRAME_TOO_LARGE and close. */
  | { kind: 'oversized' }
  /** Not text (invalid UTF-8, or control bytes other than tab/CR): close without a reply. */
  | { kind: 'garbage' };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;

/** True for bytes no JSON text contains outside strings, and JSON strings must escape: binary input. */
function hasControlBytes(buf: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const b = buf[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0d) return true;
  }
  return false;
}

export class LineDecoder {
  private parts: Buffer[] = [];
  private pending = 0;
  private failed = false;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Feeds a chunk; returns the frames it completes. After 'oversized' or 'garbage' it returns nothing more. */
  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    if (this.failed) return frames;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const frame = this.finish(chunk, start, nl);
      frames.push(frame);
      if (frame.kind !== 'line') return frames;
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (this.pending + chunk.length - start > this.maxBytes) {
        this.fail();
        frames.push({ kind: 'oversized' });
        return frames;
      }
      // Copied: the socket may reuse the chunk's memory.
      this.parts.push(Buffer.from(chunk.subarray(start)));
      this.pending += chunk.length - start;
    }
    return frames;
  }

  private finish(chunk: Buffer, start: number, nl: number): Frame {
    let end = nl > start && chunk[nl - 1] === 0x0d ? nl - 1 : nl;
    let line: Buffer;
    if (this.parts.length === 0) {
      line = chunk.subarray(start, end);
    } else {
      line = Buffer.concat([...this.parts, chunk.subarray(start, end)]);
      if (nl === start && line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      this.parts = [];
      this.pending = 0;
    }
    end = line.length;
    if (end > this.maxBytes) {
      this.fail();
      return { kind: 'oversized' };
    }
    if (hasControlBytes(line, end)) {
      this.fail();
      return { kind: 'garbage' };
    }
    try {
      return { kind: 'line', text: utf8.decode(line) };
    } catch {
      this.fail();
      return { kind: 'garbage' };
    }
  }

  private fail(): void {
    this.failed = true;
    this.parts = [];
    this.pending = 0;
  }
}

/** One message as a line. JSON.stringify never emits a raw newline, so the frame boundary is unambiguous. */
export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * A result that is JSON text already, in parts: a history answer merged from rows the store's thread and the
 * engine's columns wrote (analyze/record-rows.ts), sent as it is rather than parsed into objects and
 * stringified again on the agent's thread.
 */
export class JsonText {
  constructor(readonly parts: readonly Uint8Array[]) {}
}

/**
 * `head`, the result as JSON, then `tail`: a reply's text (a JsonText result as its bytes, copied once). For a
 * result that is not JsonText it is exactly what JSON.stringify of the whole reply writes.
 */
export function withResult(head: string, result: unknown, tail: string): string | Buffer {
  if (result instanceof JsonText) return Buffer.concat([Buffer.from(head), ...result.parts, Buffer.from(tail)]);
  return `${head}${JSON.stringify(result ?? null)}${tail}`;
}
