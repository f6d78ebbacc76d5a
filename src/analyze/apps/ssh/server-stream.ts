/**
 * One direction of an SSH connection, read as far as it is readable (RFC 4253): optional text lines, the
 * version banner "SSH-protoversion-softwareversion", then unencrypted binary packets (uint32 packet_length,
 * byte padding_length, payload, padding) up to NEWKEYS (message 21); after it each delivered chunk is one
 * encrypted packet, as Zeek counts them. Bounds checked, never throws: what does not parse ends the reading.
 */

const NEWKEYS = 21;
/** Text before the banner that we read at most (RFC 4253 lets a server send lines first). */
const MAX_PREAMBLE = 8192;
/** RFC 4253 §6.1: implementations must handle 35000-byte packets; anything far above is not SSH. */
const MAX_PACKET = 262_144;
const SSH_DASH = [0x53, 0x53, 0x48, 0x2d]; // "SSH-"

export const READ_BANNER = 0;
export const READ_PLAIN = 1;
export const READ_ENCRYPTED = 2;
/** Not SSH, or nothing more to learn. */
export const READ_DONE = 3;

export class SshStream {
  phase = READ_BANNER;
  /** Major version from the banner: 1 or 2 ("SSH-1.99-" is 2), 0 until read. */
  version = 0;
  /** Bytes of the current line matched against "SSH-" (-1: the line is not the banner). */
  private matched = 0;
  /** The banner's protoversion ("2.0", "1.99"...), read up to its '-': major and minor numbers (-1: none). */
  private major = -1;
  private minor = -1;
  private versionEnded = false;
  private inBanner = false;
  private preamble = 0;
  /** Binary packet parsing: header bytes still wanted, the length being read, bytes to skip. */
  private headerAt = 0;
  private packetLength = 0;
  private skip = 0;
  /** The packet being skipped is NEWKEYS: encryption starts after it. */
  private lastPlain = false;

  /**
   * Reads a chunk; returns the length of the encrypted packet it was (0 when none). The rest of the chunk
   * that ends NEWKEYS is not counted: a server sends EXT_INFO there (RFC 8308), while its answers to the
   * client's encrypted requests come a round trip later, in chunks of their own.
   */
  data(buf: Buffer, offset: number, length: number): number {
    if (this.phase === READ_ENCRYPTED) return length;
    const end = offset + length;
    let at = offset;
    if (this.phase === READ_BANNER) at = this.banner(buf, at, end);
    if (this.phase === READ_PLAIN) this.plain(buf, at, end);
    return 0;
  }

  private banner(buf: Buffer, at: number, end: number): number {
    while (at < end && this.phase === READ_BANNER) {
      const b = buf[at++];
      if (++this.preamble > MAX_PREAMBLE) this.phase = READ_DONE;
      else if (b === 0x0a) this.endLine();
      else if (this.inBanner) this.versionChar(b);
      else if (this.matched >= 0) {
        this.matched = b === SSH_DASH[this.matched] ? this.matched + 1 : -1;
        if (this.matched === SSH_DASH.length) this.inBanner = true;
      }
    }
    return at;
  }

  /** A character of the banner after "SSH-": the protoversion, digits and one dot, runs to the next '-'. */
  private versionChar(b: number): void {
    if (this.versionEnded) return;
    if (b >= 0x30 && b <= 0x39 && this.minor < 1000) {
      if (this.minor >= 0) this.minor = this.minor * 10 + (b - 0x30);
      else this.major = Math.max(this.major, 0) * 10 + (b - 0x30);
    } else if (b === 0x2e && this.minor < 0 && this.major >= 0) this.minor = 0;
    else this.versionEnded = true;
  }

  private endLine(): void {
    if (this.inBanner) {
      // "1.99" is a server that speaks 2.0 and 1.x (RFC 4253 §5.1).
      this.version = this.major === 2 || (this.major === 1 && this.minor === 99) ? 2 : this.major === 1 ? 1 : 0;
      this.phase = this.version === 2 ? READ_PLAIN : READ_DONE;
    }
    this.matched = 0;
  }

  /** Whether the banner line has started ("SSH-" read): enough to name the service. */
  get sawBanner(): boolean {
    return this.inBanner;
  }

  private plain(buf: Buffer, at: number, end: number): void {
    while (at < end && this.phase === READ_PLAIN) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - at);
        this.skip -= n;
        at += n;
        if (this.skip === 0 && this.lastPlain) this.phase = READ_ENCRYPTED;
        continue;
      }
      const b = buf[at++];
      if (this.headerAt < 4) {
        this.packetLength = this.packetLength * 256 + b;
        this.headerAt++;
      } else if (this.headerAt === 4) {
        this.headerAt++; // padding_length
      } else {
        this.nextPacket(b);
      }
    }
  }

  /** The message number of a packet whose length was read: skip the rest of it. */
  private nextPacket(msg: number): void {
    const length = this.packetLength;
    this.headerAt = 0;
    this.packetLength = 0;
    if (length < 2 || length > MAX_PACKET) {
      this.phase = READ_DONE;
      return;
    }
    this.skip = length - 2;
    if (msg !== NEWKEYS) return;
    this.lastPlain = true;
    if (this.skip === 0) this.phase = READ_ENCRYPTED;
  }
}
