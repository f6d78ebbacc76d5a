/**
 * Connected sockets to look up at the next poll, one 36-byte request each as socketLookup takes them
 * (native/src/sock-diag.c): filled from the engine's new flows, so no allocation per flow; bounded (past
 * `capacity` a poll is due anyway, and the full dump each second catches what did not fit).
 */
const REQUEST = 36;

class Requests {
  readonly buf: Buffer;
  count = 0;

  constructor(readonly capacity: number) {
    this.buf = Buffer.alloc(capacity * REQUEST);
  }

  add(local: Uint32Array, localPort: number, remote: Uint32Array, remotePort: number, words: number): boolean {
    if (this.count >= this.capacity) return false;
    const at = this.count++ * REQUEST;
    this.buf.fill(0, at, at + 32);
    for (let i = 0; i < words; i++) {
      this.buf.writeUInt32BE(local[i] >>> 0, at + 4 * i);
      this.buf.writeUInt32BE(remote[i] >>> 0, at + 16 + 4 * i);
    }
    this.buf.writeUInt16LE(localPort, at + 32);
    this.buf.writeUInt16LE(remotePort, at + 34);
    return true;
  }
}

export class LookupQueue {
  private readonly v4: Requests;
  private readonly v6: Requests;
  /** Requests that did not fit. */
  overflowed = 0;

  constructor(capacity = 4096) {
    this.v4 = new Requests(capacity);
    this.v6 = new Requests(capacity);
  }

  get size(): number {
    return this.v4.count + this.v6.count;
  }

  add(version: number, local: Uint32Array, localPort: number, remote: Uint32Array, remotePort: number): void {
    const ok = version === 4 ? this.v4.add(local, localPort, remote, remotePort, 1) : this.v6.add(local, localPort, remote, remotePort, 4);
    if (!ok) this.overflowed++;
  }

  /** The requests of one family (a view: use before the next add), and empties it. */
  take(version: 4 | 6): Buffer | undefined {
    const r = version === 4 ? this.v4 : this.v6;
    if (r.count === 0) return undefined;
    const out = r.buf.subarray(0, r.count * REQUEST);
    r.count = 0;
    return out;
  }
}
