/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks [type, total length, body, total length]. A file
 * holds one or more sections; each starts with a Section Header Block that sets the byte order of the section
 * and is followed by its own Interface Description Blocks (interface ids restart at 0 in every section).
 * We map (section, local id) to one global interface index for the whole file. Packets come in Enhanced
 * Packet Blocks, Simple Packet Blocks and the obsolete Packet Block; every other block is skipped by length.
 */
import { ADVICE_DAMAGED, CaptureFileError, type CaptureFileErrorCode } from './capture-errors.js';
import type { BatchBuilder, RecordParser } from './batch-builder.js';
import { maxBlockForLinkType, PCAPNG_MAX_BLOCK_DEFAULT } from './link-limits.js';
import { clockFor, DEFAULT_TSRESOL, pcapngSeconds, type InterfaceClock } from './pcapng-time.js';

/** Section Header Block type: a palindrome, so it reads the same in either byte order. */
export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;

const BLOCK_HEADER_LEN = 8;
/** Smallest possible block: header plus trailer. */
const MIN_BLOCK_LEN = 12;
const MIN_SHB_LEN = 28;
const MIN_IDB_LEN = 20;
/** EPB and PB: 8 header + 20 fixed fields + 4 trailer. */
const MIN_EPB_LEN = 32;
const MIN_SPB_LEN = 16;

const OPT_END = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

export class PcapngParser implements RecordParser {
  needed = MIN_BLOCK_LEN;
  error: CaptureFileError | undefined;
  detail: string | undefined;
  readonly linkTypes: number[] = [];
  readonly interfaceNames: string[] = [];
  /** Snapshot length per global interface (0 = unlimited). */
  readonly snaplens: number[] = [];
  private readonly clocks: InterfaceClock[] = [];

  private littleEndian = true;
  private sawLE = false;
  private sawBE = false;
  /** Global index of the current section's interface 0, and how many interfaces the section has so far. */
  private sectionBase = 0;
  private sectionInterfaces = 0;
  private inSection = false;
  private maxBlock = PCAPNG_MAX_BLOCK_DEFAULT;
  /** Timestamp of the last packet; a Simple Packet Block has none and reuses it (see parseSpb). */
  private lastTs = 0;
  sections = 0;

  constructor(private readonly file: string) {}

  parse(buf: Buffer, view: DataView, start: number, end: number, fileOffset: number, out: BatchBuilder): number {
    if (this.error) return start;
    let pos = start;
    for (;;) {
      const avail = end - pos;
      if (avail < BLOCK_HEADER_LEN) {
        this.needed = BLOCK_HEADER_LEN;
        return pos;
      }
      let le = this.littleEndian;
      const type = view.getUint32(pos, le);
      if (type === PCAPNG_SHB) {
        // The byte order of the new section is known only from its byte-order magic.
        if (avail < MIN_BLOCK_LEN) {
          this.needed = MIN_BLOCK_LEN;
          return pos;
        }
        const bom = view.getUint32(pos + 8, true);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (view.getUint32(pos + 8, false) === BYTE_ORDER_MAGIC) le = false;
        else {
          this.fail(fileOffset + pos, `section header byte-order magic 0x${hex(bom)} is not 0x1a2b3c4d`);
          return pos;
        }
      } else if (!this.inSection) {
        this.fail(fileOffset + pos, `block type 0x${hex(type)} where a section header block must start`);
        return pos;
      }
      const len = view.getUint32(pos + 4, le);
      if (len < MIN_BLOCK_LEN || (len & 3) !== 0 || len > this.maxBlock) {
        const why =
          len > this.maxBlock
            ? `is past any sane bound (${this.maxBlock})`
            : len < MIN_BLOCK_LEN
              ? 'is less than 12'
              : 'is not a multiple of 4';
        this.fail(fileOffset + pos, `block length ${len} ${why}`);
        return pos;
      }
      if (avail < len) {
        this.needed = len;
        return pos;
      }
      const trailer = view.getUint32(pos + len - 4, le);
      if (trailer !== len) {
        this.fail(fileOffset + pos, `block total length in header (${len}) and trailer (${trailer}) differ`);
        return pos;
      }
      switch (type) {
        case BT_EPB:
        case BT_PB:
          if (!this.parsePacketBlock(view, pos, len, le, type === BT_PB, fileOffset, out)) return pos;
          break;
        case BT_SPB:
          if (!this.parseSpb(view, pos, len, le, fileOffset, out)) return pos;
          break;
        case BT_IDB:
          if (!this.parseIdb(buf, view, pos, len, le, fileOffset)) return pos;
          break;
        case PCAPNG_SHB:
          if (!this.parseShb(view, pos, len, le, fileOffset)) return pos;
          break;
        default:
          break; // NRB, ISB, DSB, custom blocks...: nothing a monitor needs
      }
      pos += len;
    }
  }

  truncated(offset: number, have: number): CaptureFileError {
    const what =
      have < BLOCK_HEADER_LEN
        ? `file ends after ${have} of the ${BLOCK_HEADER_LEN} bytes of a block header`
        : `file ends after ${have} of the ${this.needed} bytes of a block`;
    return new CaptureFileError('LOOPY_TRUNCATED', this.file, offset, what, 'the file was cut short; packets before this point were read');
  }

  private fail(offset: number, reason: string, code: CaptureFileErrorCode = 'LOOPY_BAD_BLOCK'): void {
    // Before the first section is accepted nothing has been read, so the advice differs.
    const first = this.sections === 0;
    if (first && code === 'LOOPY_BAD_BLOCK' && offset === 0) code = 'LOOPY_BAD_MAGIC';
    const advice = first ? 'the file is damaged or not a pcapng capture' : ADVICE_DAMAGED;
    this.error = new CaptureFileError(code, this.file, offset, reason, advice);
  }

  private parseShb(view: DataView, pos: number, len: number, le: boolean, fileOffset: number): boolean {
    if (len < MIN_SHB_LEN) {
      this.fail(fileOffset + pos, `section header block length ${len} is less than ${MIN_SHB_LEN}`);
      return false;
    }
    const major = view.getUint16(pos + 12, le);
    const minor = view.getUint16(pos + 14, le);
    // 1.0 is the only version; 1.2 was written by some tools for the same format (libpcap and wiretap accept it).
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      this.fail(fileOffset + pos + 12, `pcapng section version ${major}.${minor} is not supported (only 1.0)`, 'LOOPY_BAD_VERSION');
      return false;
    }
    this.littleEndian = le;
    if (le) this.sawLE = true;
    else this.sawBE = true;
    this.detail = `pcapng ${this.sawLE && this.sawBE ? 'MIXED' : le ? 'LE' : 'BE'}`;
    this.inSection = true;
    this.sections++;
    this.sectionBase = this.linkTypes.length;
    this.sectionInterfaces = 0;
    return true;
  }

  private parseIdb(buf: Buffer, view: DataView, pos: number, len: number, le: boolean, fileOffset: number): boolean {
    if (len < MIN_IDB_LEN) {
      this.fail(fileOffset + pos, `interface description block length ${len} is less than ${MIN_IDB_LEN}`);
      return false;
    }
    const linkType = view.getUint16(pos + 8, le);
    const snaplen = view.getUint32(pos + 12, le);
    let name = '';
    let description = '';
    let tsresol = DEFAULT_TSRESOL;
    let offset = 0;
    // Options: [code u16, length u16, value padded to 4]..., up to the trailer.
    const optEnd = pos + len - 4;
    let p = pos + 16;
    while (optEnd - p >= 4) {
      const code = view.getUint16(p, le);
      const olen = view.getUint16(p + 2, le);
      if (code === OPT_END) break;
      if (olen > optEnd - p - 4) {
        this.fail(fileOffset + p, `interface option ${code} of length ${olen} runs past its block`);
        return false;
      }
      const v = p + 4;
      if (code === IF_NAME) name = utf8z(buf, v, olen);
      else if (code === IF_DESCRIPTION) description = utf8z(buf, v, olen);
      else if (code === IF_TSRESOL && olen >= 1) tsresol = view.getUint8(v);
      else if (code === IF_TSOFFSET && olen >= 8) {
        const lo = view.getUint32(v + (le ? 0 : 4), le);
        const hi = view.getInt32(v + (le ? 4 : 0), le);
        offset = hi * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
    this.linkTypes.push(linkType);
    this.interfaceNames.push(name || description);
    this.snaplens.push(snaplen);
    this.clocks.push(clockFor(tsresol, offset));
    this.sectionInterfaces++;
    this.maxBlock = Math.max(this.maxBlock, maxBlockForLinkType(linkType));
    return true;
  }

  private parsePacketBlock(
    view: DataView,
    pos: number,
    len: number,
    le: boolean,
    obsolete: boolean,
    fileOffset: number,
    out: BatchBuilder,
  ): boolean {
    if (len < MIN_EPB_LEN) {
      this.fail(fileOffset + pos, `packet block length ${len} is less than ${MIN_EPB_LEN}`);
      return false;
    }
    // The obsolete Packet Block has a 16-bit interface id followed by a 16-bit drop count.
    const localIf = obsolete ? view.getUint16(pos + 8, le) : view.getUint32(pos + 8, le);
    if (localIf >= this.sectionInterfaces) {
      this.fail(fileOffset + pos, this.noInterface(localIf));
      return false;
    }
    const caplen = view.getUint32(pos + 20, le);
    if (caplen > len - MIN_EPB_LEN) {
      this.fail(fileOffset + pos, `packet block's captured length ${caplen} runs past its block (${len - MIN_EPB_LEN} bytes of data)`);
      return false;
    }
    const iface = this.sectionBase + localIf;
    const ts = pcapngSeconds(view.getUint32(pos + 12, le), view.getUint32(pos + 16, le), this.clocks[iface]);
    this.lastTs = ts;
    out.push(pos + 28, caplen, view.getUint32(pos + 24, le), iface, ts);
    return true;
  }

  /**
   * A Simple Packet Block has only the wire length: it belongs to interface 0 of its section, and its
   * captured length is the wire length cut to that interface's snaplen and to the data in the block.
   * It has no timestamp; we reuse the previous packet's (0 if none) so time never jumps back to 1970.
   */
  private parseSpb(view: DataView, pos: number, len: number, le: boolean, fileOffset: number, out: BatchBuilder): boolean {
    if (len < MIN_SPB_LEN) {
      this.fail(fileOffset + pos, `simple packet block length ${len} is less than ${MIN_SPB_LEN}`);
      return false;
    }
    if (this.sectionInterfaces === 0) {
      this.fail(fileOffset + pos, this.noInterface(0));
      return false;
    }
    const iface = this.sectionBase;
    const wirelen = view.getUint32(pos + 8, le);
    let caplen = Math.min(wirelen, len - MIN_SPB_LEN);
    const snaplen = this.snaplens[iface];
    if (snaplen !== 0 && caplen > snaplen) caplen = snaplen;
    out.push(pos + 12, caplen, wirelen, iface, this.lastTs);
    return true;
  }

  private noInterface(localIf: number): string {
    return this.sectionInterfaces === 0
      ? `packet block before any interface description block in its section`
      : `packet on interface ${localIf} but the section describes only ${this.sectionInterfaces}`;
  }
}

function hex(x: number): string {
  return x.toString(16).padStart(8, '0');
}

/** An option string: UTF-8, not necessarily NUL-terminated, maybe NUL-padded. Only at IDBs, not per packet. */
function utf8z(buf: Buffer, start: number, len: number): string {
  let end = start + len;
  while (end > start && buf[end - 1] === 0) end--;
  return buf.toString('utf8', start, end);
}
