/**
 * The unit that crosses from capture to decode: many frames in one buffer, described by typed arrays.
 * File readers and the live capture addon both produce it, so the engine cannot tell them apart.
 */
export interface PacketBatch {
  /** The bytes of every frame in the batch. */
  readonly data: Buffer;
  /** Number of frames described by `meta` and `ts`. */
  readonly count: number;
  /** Per frame i, at i * META_STRIDE: byte offset in `data`, captured length, length on the wire, interface index. */
  readonly meta: Uint32Array;
  /** Per frame i: capture time in seconds since the epoch (at least microsecond precision). */
  readonly ts: Float64Array;
  /** Link type (LINKTYPE_* number) of each interface index used in `meta`. */
  readonly linkTypes: readonly number[];
  /** Interface names by index, where the source knows them (pcapng if_name, live device). */
  readonly interfaceNames?: readonly string[];
}

export const META_STRIDE = 4;
export const META_OFFSET = 0;
export const META_CAPLEN = 1;
export const META_WIRELEN = 2;
export const META_IFACE = 3;

/**
 * A frame's verdict in a batch's `keep` array: dropped by the filter (it never existed for the engine), kept,
 * or kept for another engine of several sharing the input (`--workers`): this engine skips it but its time still
 * moves the clock, so every engine sweeps and reports at the moments one engine would.
 */
export const FRAME_DROPPED = 0;
export const FRAME_KEPT = 1;
export const FRAME_ELSEWHERE = 2;
