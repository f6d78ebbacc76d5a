/**
 * The classic pcap format (tcpdump's savefile, pcap-savefile(5)): a 24-byte file header, then records of a
 * 16-byte header (seconds, µs or ns, captured length, wire length) followed by the captured bytes.
 * The byte order and the timestamp unit come from the magic number.
 */
import { ADVICE_DAMAGED, CaptureFileError } from './capture-errors.js';
import type { BatchBuilder, RecordParser } from './batch-builder.js';
import { maxSnaplenForLinkType } from './link-limits.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

/** Link-type field: bits 0-15 are the link type; 16-25 are reserved (must be 0); 26-31 carry FCS info. */
const LINKTYPE_MASK = 0x0000ffff;
const LINKTYPE_RESERVED_MASK = 0x03ff0000;

/** True when the first 4 bytes (read big-endian) are any of the four pcap magic numbers. */
export function isPcapMagic(magicBE: number): boolean {
  return (
    magicBE === PCAP_MAGIC_USEC ||
    magicBE === PCAP_MAGIC_NSEC ||
    magicBE === swap32(PCAP_MAGIC_USEC) ||
    magicBE === swap32(PCAP_MAGIC_NSEC)
  );
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

export class PcapParser implements RecordParser {
  needed = FILE_HEADER_LEN;
  error: CaptureFileError | undefined;
  detail: string | undefined;
  linkTypes: number[] = [];
  readonly interfaceNames = undefined;

  private headerDone = false;
  private littleEndian = true;
  /** 1e6 for µs files, 1e9 for ns files: the fraction is divided (not multiplied by 1e-6) for exact rounding. */
  private fracDivisor = 1e6;
  private maxCaplen = 0;
  snaplen = 0;
  versionMajor = 0;
  versionMinor = 0;

  constructor(private readonly file: string) {}

  parse(buf: Buffer, view: DataView, start: number, end: number, fileOffset: number, out: BatchBuilder): number {
    if (this.error) return start;
    let pos = start;
    if (!this.headerDone) {
      if (end - pos < FILE_HEADER_LEN) {
        this.needed = FILE_HEADER_LEN;
        return pos;
      }
      if (!this.parseHeader(view, pos, fileOffset)) return pos;
      pos += FILE_HEADER_LEN;
    }

    const le = this.littleEndian;
    const div = this.fracDivisor;
    const maxCaplen = this.maxCaplen;
    for (;;) {
      if (end - pos < RECORD_HEADER_LEN) {
        this.needed = RECORD_HEADER_LEN;
        return pos;
      }
      const caplen = view.getUint32(pos + 8, le);
      if (caplen > maxCaplen) {
        this.error = new CaptureFileError(
          'LOOPY_BAD_RECORD_LENGTH',
          this.file,
          fileOffset + pos,
          `record length ${caplen} is past any sane bound (${maxCaplen})`,
          ADVICE_DAMAGED,
        );
        return pos;
      }
      const recordLen = RECORD_HEADER_LEN + caplen;
      if (end - pos < recordLen) {
        this.needed = recordLen;
        return pos;
      }
      // Seconds are unsigned, as libpcap reads them: files from 2038-2106 keep their dates.
      const ts = view.getUint32(pos, le) + view.getUint32(pos + 4, le) / div;
      out.push(pos + RECORD_HEADER_LEN, caplen, view.getUint32(pos + 12, le), 0, ts);
      pos += recordLen;
    }
  }

  truncated(offset: number, have: number): CaptureFileError {
    const what = !this.headerDone
      ? `file ends after ${have} of the ${FILE_HEADER_LEN} bytes of the pcap file header`
      : have < RECORD_HEADER_LEN
        ? `file ends after ${have} of the ${RECORD_HEADER_LEN} bytes of a record header (truncated dump file)`
        : `file ends after ${have} of the ${this.needed} bytes of a record (truncated dump file)`;
    const advice = this.headerDone ? 'the file was cut short; packets before this point were read' : 'the file was cut short';
    return new CaptureFileError('LOOPY_TRUNCATED', this.file, offset, what, advice);
  }

  private parseHeader(view: DataView, pos: number, fileOffset: number): boolean {
    const magicLE = view.getUint32(pos, true);
    let nanos: boolean;
    if (magicLE === PCAP_MAGIC_USEC || magicLE === PCAP_MAGIC_NSEC) {
      this.littleEndian = true;
      nanos = magicLE === PCAP_MAGIC_NSEC;
    } else {
      this.littleEndian = false;
      nanos = view.getUint32(pos, false) === PCAP_MAGIC_NSEC;
    }
    const le = this.littleEndian;
    this.fracDivisor = nanos ? 1e9 : 1e6;
    this.versionMajor = view.getUint16(pos + 4, le);
    this.versionMinor = view.getUint16(pos + 6, le);
    this.snaplen = view.getUint32(pos + 16, le);
    const linkField = view.getUint32(pos + 20, le);
    this.detail = `pcap ${nanos ? 'nsec' : 'usec'} ${le ? 'LE' : 'BE'}`;

    // Only major version 2 exists (2.4 today; 2.0-2.3 predate 1996). tshark reads any 2.x, so we do too.
    if (this.versionMajor !== 2) {
      this.error = new CaptureFileError(
        'LOOPY_BAD_VERSION',
        this.file,
        fileOffset + pos + 4,
        `pcap version ${this.versionMajor}.${this.versionMinor} is not supported (only 2.x)`,
        'the file header is damaged or the file is not a pcap capture',
      );
      return false;
    }
    // The upper bits carry FCS info and are masked off; the reserved bits must be zero (libpcap >= 1.10.4
    // and tshark refuse such files, older tcpdump reports an unknown link type: either way, nothing to read).
    const reserved = (linkField & LINKTYPE_RESERVED_MASK) >>> 0;
    if (reserved !== 0) {
      this.error = new CaptureFileError(
        'LOOPY_BAD_LINKTYPE',
        this.file,
        fileOffset + pos + 20,
        `link-type field 0x${linkField.toString(16).padStart(8, '0')} has reserved bits set (0x${reserved.toString(16).padStart(8, '0')})`,
        'the file header is damaged',
      );
      return false;
    }
    const linkType = linkField & LINKTYPE_MASK;
    this.linkTypes = [linkType];
    this.maxCaplen = maxSnaplenForLinkType(linkType);
    this.headerDone = true;
    return true;
  }
}
