/**
 * Helpers for the capture tests: hand-written hex dumps to bytes, fake streams, and a reader that copies
 * every packet out of the (reused) batches so a test can look at all of them at the end.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN } from './batch.js';
import type { CaptureFile, CaptureFileInfo } from './capture-file.js';
import { captureAddonProblem } from './live-addon.js';

/** Hex dump to bytes: `#` starts a comment to the end of the line; whitespace is ignored. */
export function hexBytes(dump: string): Buffer {
  const digits = dump.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex dump: ${digits}`);
  return Buffer.from(digits, 'hex');
}

export interface ReadPacket {
  /** Offset in its batch's data buffer. */
  offset: number;
  caplen: number;
  wirelen: number;
  iface: number;
  ts: number;
  /** The captured bytes, as hex. */
  hex: string;
}

export interface ReadResult {
  packets: ReadPacket[];
  batchSizes: number[];
  linkTypes: number[];
  interfaceNames: string[] | undefined;
  info: CaptureFileInfo | undefined;
  /** What the iterator threw after the last batch, if anything. */
  error: unknown;
  bytesRead: number;
}

export async function readAll(file: CaptureFile): Promise<ReadResult> {
  const result: ReadResult = {
    packets: [],
    batchSizes: [],
    linkTypes: [],
    interfaceNames: undefined,
    info: undefined,
    error: undefined,
    bytesRead: 0,
  };
  try {
    for await (const batch of file) {
      result.batchSizes.push(batch.count);
      result.linkTypes = [...batch.linkTypes];
      result.interfaceNames = batch.interfaceNames ? [...batch.interfaceNames] : undefined;
      for (let i = 0; i < batch.count; i++) {
        const m = i * META_STRIDE;
        const offset = batch.meta[m + META_OFFSET];
        const caplen = batch.meta[m + META_CAPLEN];
        result.packets.push({
          offset,
          caplen,
          wirelen: batch.meta[m + META_WIRELEN],
          iface: batch.meta[m + META_IFACE],
          ts: batch.ts[i],
          hex: batch.data.toString('hex', offset, offset + caplen),
        });
      }
    }
  } catch (err) {
    result.error = err;
  }
  result.info = file.info();
  result.bytesRead = file.bytesRead();
  return result;
}

/** A byte stream that hands out `pieceBytes` at a time, each on a later tick, as a slow pipe would. */
export function trickle(bytes: Buffer, pieceBytes: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (at >= bytes.length) {
          this.push(null);
          return;
        }
        const piece = bytes.subarray(at, at + pieceBytes);
        at += piece.length;
        this.push(piece);
      });
    },
  });
}

/** Writes bytes to a temporary file, runs fn with its path, and removes it. */
export async function withTempFile<T>(name: string, bytes: Buffer, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'loopy-capture-'));
  try {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** True when |a - b| is within `tolerance` seconds. */
export function closeTo(a: number, b: number, tolerance = 1e-7): boolean {
  return Math.abs(a - b) <= tolerance;
}

/** Why live tests cannot run here (the addon is not built), or false; in CI a missing addon is a failure. */
export function addonSkipReason(): string | false {
  const problem = captureAddonProblem();
  if (!problem) return false;
  if (process.env.CI) throw new Error(`${problem} (required in CI)`);
  return problem;
}
