/**
 * tcpdump-syntax filters over batches already in memory (capture files, replays), run by libpcap's own
 * BPF interpreter in the addon: `loopy read -f EXPR FILE` keeps exactly what `tcpdump -r FILE EXPR` keeps.
 * A BPF program is specific to a link type, so one is compiled per link type met, lazily; a batch costs
 * one addon call per link type in it, never one per packet.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from './batch.js';
import { type CaptureAddon, type FilterProgram, loadCaptureAddon } from './live-addon.js';

export interface PacketFilter {
  readonly expression: string;
  /** 1 per frame the filter keeps, 0 per frame it drops (frames of a link type it cannot compile for: 0). */
  matches(batch: PacketBatch): Uint8Array;
  /** One line per link type the expression could not be compiled for (its frames never match). */
  readonly problems: readonly string[];
}

export const MAX_SNAPLEN = 262144;

export interface PacketFilterOptions {
  /**
   * Byte order of the capture file the frames come from (default: this machine's). It matters only where
   * libpcap reads a host-order field from the frame, i.e. the BSD loopback (NULL) header's address family.
   */
  bigEndian?: boolean;
  /** The capture addon; tests may pass a fake. */
  addon?: CaptureAddon;
}

/**
 * Compiles `expression` for `linkType` (LINKTYPE_* number) now, so a bad expression fails at once with
 * libpcap's message (err.code LOOPY_BAD_FILTER); other link types are compiled when first seen.
 */
export function compilePacketFilter(
  expression: string,
  linkType: number,
  snaplen = MAX_SNAPLEN,
  options: PacketFilterOptions = {},
): PacketFilter {
  return new LinkTypeFilters(expression, linkType, snaplen, options.bigEndian, options.addon ?? loadCaptureAddon());
}

class LinkTypeFilters implements PacketFilter {
  readonly problems: string[] = [];
  private readonly programs = new Map<number, FilterProgram | null>();
  /**
   * Interface masks per link type, by the batch's link types joined ("1,1,113"): readers reuse and grow
   * their linkTypes array as pcapng interfaces appear, so the array itself cannot be the key.
   */
  private readonly masks = new Map<string, Map<number, Uint8Array>>();

  constructor(
    readonly expression: string,
    private readonly firstLinkType: number,
    private readonly snaplen: number,
    private readonly bigEndian: boolean | undefined,
    private readonly addon: CaptureAddon,
  ) {
    this.programs.set(firstLinkType, addon.compileFilter(expression, firstLinkType, snaplen, bigEndian));
  }

  matches(batch: PacketBatch): Uint8Array {
    const linkTypes = batch.linkTypes.length > 0 ? batch.linkTypes : [this.firstLinkType];
    const single = linkTypes.every((lt) => lt === linkTypes[0]);
    if (single) {
      const program = this.programFor(linkTypes[0]);
      if (!program) return new Uint8Array(batch.count);
      return this.addon.filterBatch(
        program,
        batch.data,
        batch.meta,
        batch.count,
        META_STRIDE,
        META_OFFSET,
        META_CAPLEN,
        META_WIRELEN,
      );
    }
    const out = new Uint8Array(batch.count);
    for (const [linkType, mask] of this.masksFor(linkTypes)) {
      const program = this.programFor(linkType);
      if (!program) continue;
      this.addon.filterBatch(
        program,
        batch.data,
        batch.meta,
        batch.count,
        META_STRIDE,
        META_OFFSET,
        META_CAPLEN,
        META_WIRELEN,
        out,
        META_IFACE,
        mask,
      );
    }
    return out;
  }

  private programFor(linkType: number): FilterProgram | null {
    let program = this.programs.get(linkType);
    if (program === undefined) {
      try {
        program = this.addon.compileFilter(this.expression, linkType, this.snaplen, this.bigEndian);
      } catch (err) {
        // e.g. "vlan" on raw IP: tcpdump would refuse the whole file; here only those frames never match.
        this.problems.push(`link type ${linkType}: ${(err as Error).message}`);
        program = null;
      }
      this.programs.set(linkType, program);
    }
    return program;
  }

  private masksFor(linkTypes: readonly number[]): Map<number, Uint8Array> {
    const key = linkTypes.join(',');
    let byType = this.masks.get(key);
    if (!byType) {
      byType = new Map();
      linkTypes.forEach((lt, iface) => {
        let mask = byType!.get(lt);
        if (!mask) byType!.set(lt, (mask = new Uint8Array(linkTypes.length)));
        mask[iface] = 1;
      });
      this.masks.set(key, byType);
    }
    return byType;
  }
}

/** A filter libpcap rejected, or no addon to compile it with: one line (err.code says which). */
export class FilterError extends Error {
  constructor(
    readonly code: 'LOOPY_BAD_FILTER' | 'LOOPY_CAPTURE_ADDON_MISSING',
    message: string,
  ) {
    super(message);
  }
}

function explain(expression: string, err: unknown): FilterError {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'LOOPY_CAPTURE_ADDON_MISSING') return new FilterError(e.code, `-f needs the capture addon: ${e.message}`);
  return new FilterError('LOOPY_BAD_FILTER', `-f '${expression}': ${e?.message ?? String(err)}`);
}

/**
 * The one user-space filter over batches (`loopy read -f`, a replay's filter and exclusions, the library's
 * `openFile({ filter })`): an expression that may change between batches, compiled when the first batch
 * shows its link type, as tcpdump compiles for the file's link type. Errors are FilterErrors.
 */
export class BatchFilter {
  private compiled: PacketFilter | undefined;

  /** `options` may be a function: asked when the filter is compiled (a file's byte order is known by then). */
  constructor(
    private current: string | undefined = undefined,
    private readonly options: PacketFilterOptions | (() => PacketFilterOptions) = {},
  ) {}

  /** Compiles once for Ethernet, so a mistake in the expression is reported before anything starts. */
  static validate(expression: string, options: PacketFilterOptions = {}): void {
    try {
      compilePacketFilter(expression, 1, MAX_SNAPLEN, options);
    } catch (err) {
      throw explain(expression, err);
    }
  }

  get expression(): string | undefined {
    return this.current;
  }

  /** The expression to apply from the next batch on (undefined: keep everything). */
  set(expression: string | undefined): void {
    if (expression === this.current) return;
    this.current = expression;
    this.compiled = undefined;
  }

  /** 1 per frame kept, 0 per frame dropped; undefined when there is no filter (keep everything). */
  matches(batch: PacketBatch): Uint8Array | undefined {
    if (this.current === undefined) return undefined;
    if (!this.compiled) {
      try {
        const options = typeof this.options === 'function' ? this.options() : this.options;
        this.compiled = compilePacketFilter(this.current, batch.linkTypes[0] ?? 1, MAX_SNAPLEN, options);
      } catch (err) {
        throw explain(this.current, err);
      }
    }
    return this.compiled.matches(batch);
  }
}
