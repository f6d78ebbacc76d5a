/**
 * A directed pair of hosts (sender → receiver, client → server) as the detectors that follow pairs key it:
 * one text per pair ("10.0.0.5>10.0.0.9"), made where a pair's event leaves the packet loop (a flow's end, a
 * second's pass), never per packet.
 */
import { hostText, type HostKey } from './addresses.js';

export interface HostPair {
  key: string;
  src: HostKey;
  dst: HostKey;
  srcText: string;
  dstText: string;
}

export function pairKey(src: HostKey, dst: HostKey): string {
  return `${src}>${dst}`;
}

export function hostPair(src: HostKey, dst: HostKey): HostPair {
  return { key: pairKey(src, dst), src, dst, srcText: hostText(src), dstText: hostText(dst) };
}

/**
 * A HostPair whose texts are made when first read: a detector follows many pairs for every one that raises,
 * and two address texts per pair taken were most of what taking it cost.
 */
export class FollowedPair implements HostPair {
  private srcTextMade: string | undefined;
  private dstTextMade: string | undefined;

  /** `key` is pairKey(src, dst), which the caller usually holds already (a tally's key). */
  constructor(
    readonly key: string,
    readonly src: HostKey,
    readonly dst: HostKey,
  ) {}

  get srcText(): string {
    return (this.srcTextMade ??= hostText(this.src));
  }

  get dstText(): string {
    return (this.dstTextMade ??= hostText(this.dst));
  }
}

/** "10.0.0.9:22" or "[2001:db8::1]:22". */
export function endpointText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
