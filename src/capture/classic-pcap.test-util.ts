/**
 * A tiny classic-pcap reader for the capture tests (tcpdump's `-w -` output and small corpus files), so they
 * do not depend on the real file reader. Both byte orders, µs and ns magic; no pcapng.
 */
export interface ClassicFrame {
  tsSec: number;
  /** Microseconds, or nanoseconds when the file is a nanosecond pcap. */
  tsFrac: number;
  caplen: number;
  len: number;
  /** Offset of the frame's bytes in `data`. */
  offset: number;
}

export interface ClassicPcap {
  data: Buffer;
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  bigEndian: boolean;
  frames: ClassicFrame[];
}

export function readClassicPcap(data: Buffer): ClassicPcap {
  if (data.length < 24) throw new Error(`not a pcap: ${data.length} bytes`);
  const magicLE = data.readUInt32LE(0);
  let le: boolean;
  let nanosecond: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) (le = true), (nanosecond = magicLE === 0xa1b23c4d);
  else if (data.readUInt32BE(0) === 0xa1b2c3d4 || data.readUInt32BE(0) === 0xa1b23c4d)
    (le = false), (nanosecond = data.readUInt32BE(0) === 0xa1b23c4d);
  else throw new Error(`not a classic pcap (magic ${data.subarray(0, 4).toString('hex')})`);
  const u32 = (at: number) => (le ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const frames: ClassicFrame[] = [];
  for (let at = 24; at + 16 <= data.length; ) {
    const caplen = u32(at + 8);
    if (at + 16 + caplen > data.length) break; // cut off mid-frame: stop, as libpcap does
    frames.push({ tsSec: u32(at), tsFrac: u32(at + 4), caplen, len: u32(at + 12), offset: at + 16 });
    at += 16 + caplen;
  }
  return { data, linkType: u32(20) & 0x0fffffff, snaplen: u32(16), nanosecond, bigEndian: !le, frames };
}
