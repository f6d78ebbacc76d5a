/**
 * `loopy read -w FILE`: the packets a run keeps (those the filter matches, up to -c), written to a classic
 * pcap as `tcpdump -w` writes them, so the file holds exactly what the results describe. Once per batch, off
 * the packet loop. A pcap holds one link type: frames of another (a pcapng mixing interfaces) are left out and
 * counted, never a throw; and times from 1970 to 2106: a frame stamped outside (a pcapng's 64-bit time, its
 * signed offset) is written at the nearest time the pcap holds, and counted.
 */
import { createWriteStream } from 'node:fs';
import { type PacketBatch, META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN } from './batch.js';
import { LINKTYPE_ETHERNET, nearestPcapTime, pcapHoldsTime, PcapWriter } from './pcap-writer.js';

export class KeptPacketsWriter {
  private writer: PcapWriter | undefined;
  /** Frames left out because their link type is not the file's. */
  otherLinkType = 0;
  /** Frames whose time a pcap cannot hold (before 1970, after 2106), written at the nearest it can. */
  timesMoved = 0;

  /** `fd`: the output, already open (so a path that cannot be written is found before the run). */
  constructor(private readonly fd: number) {}

  /** The frames of `batch` that `keep` marks (all of them without a mask). */
  write(batch: PacketBatch, keep: Uint8Array | undefined): void {
    for (let i = 0; i < batch.count; i++) {
      if (keep !== undefined && keep[i] === 0) continue;
      const m = i * META_STRIDE;
      const linkType = batch.linkTypes[batch.meta[m + META_IFACE]] ?? LINKTYPE_ETHERNET;
      const writer = this.open(linkType);
      if (writer.linkType !== linkType) {
        this.otherLinkType++;
        continue;
      }
      let ts = batch.ts[i];
      if (!pcapHoldsTime(ts)) {
        ts = nearestPcapTime(ts);
        this.timesMoved++;
      }
      writer.writePacket(ts, batch.data.subarray(batch.meta[m + META_OFFSET], batch.meta[m + META_OFFSET] + batch.meta[m + META_CAPLEN]), batch.meta[m + META_WIRELEN]);
    }
  }

  get packets(): number {
    return this.writer?.packets ?? 0;
  }

  /** Waits while the file is behind (the run's back-pressure). */
  async drain(): Promise<void> {
    await this.writer?.drain();
  }

  /** Flushes and closes the file (a valid empty pcap when nothing was kept). */
  async close(): Promise<void> {
    await this.open(LINKTYPE_ETHERNET).close();
  }

  private open(linkType: number): PcapWriter {
    this.writer ??= new PcapWriter(createWriteStream('', { fd: this.fd }), { linkType });
    return this.writer;
  }
}
