/**
 * Errors for capture files that cannot be read (any further). A damaged file is a user-facing problem, so the
 * message is one line: which file, at which byte, what is wrong, and what to do. The code is stable for scripts.
 */

export type CaptureFileErrorCode =
  /** The first bytes are neither a pcap magic number nor a pcapng section header. */
  | 'LOOPY_BAD_MAGIC'
  /** pcap major version is not 2, or a pcapng section version is not 1.0 / 1.2. */
  | 'LOOPY_BAD_VERSION'
  /** The pcap header's link-type field has reserved bits set (libpcap refuses such files too). */
  | 'LOOPY_BAD_LINKTYPE'
  /** The file ends inside a header, a record or a block. */
  | 'LOOPY_TRUNCATED'
  /** A pcap record claims a captured length past any sane bound for its link type. */
  | 'LOOPY_BAD_RECORD_LENGTH'
  /** A pcapng block is malformed: bad length, trailer mismatch, unknown interface, option overrun... */
  | 'LOOPY_BAD_BLOCK'
  /** The file (or stdin) cannot be opened or read. */
  | 'LOOPY_FILE_UNREADABLE';

/** The advice that ends a message about damage found after the header: what was read still counts. */
export const ADVICE_DAMAGED = 'the file is damaged; packets before this point were read';

export class CaptureFileError extends Error {
  override readonly name = 'CaptureFileError';

  constructor(
    readonly code: CaptureFileErrorCode,
    /** The path as the user gave it ('stdin' for '-'). */
    readonly file: string,
    /** Byte offset in the file of the header, record or block at fault (0 when the file could not be opened). */
    readonly offset: number,
    /** What is wrong, without file or offset, e.g. 'record length 4294967295 is past any sane bound (262144)'. */
    readonly reason: string,
    /** What the user can do about it. */
    advice: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: byte ${offset}: ${reason}: ${advice}`, options);
  }
}

/** For open/read failures, where there is no meaningful offset: `<file>: cannot read: <why>: <advice>`. */
export function unreadableError(file: string, offset: number, cause: unknown): CaptureFileError {
  const err = cause as NodeJS.ErrnoException;
  const why = err && typeof err === 'object' && typeof err.message === 'string' ? err.message : String(cause);
  const advice =
    err?.code === 'ENOENT'
      ? 'check the path'
      : err?.code === 'EACCES' || err?.code === 'EPERM'
        ? 'check the file permissions'
        : err?.code === 'EISDIR'
          ? 'give a capture file, not a directory'
          : 'check the file and try again';
  return new CaptureFileError('LOOPY_FILE_UNREADABLE', file, offset, `cannot read: ${oneLine(why)}`, advice, { cause });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
