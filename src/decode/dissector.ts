import { Handoff, HANDOFF_TABLE_SIZES, type HandoffTable, type LayerDecoder, type ProtocolRegistration } from './registry.js';
import type { Packet } from './packet.js';
import { defineWeird, type WeirdCounter } from './weirds.js';
import type { FragmentReassembler } from './ip-fragments.js';

const W_TOO_MANY_LAYERS = defineWeird('max_packet_analyzer_depth_exceeded');
const MAX_LAYERS = 24;

/** Receives each transport layer as soon as it is decoded (outer and inner ones of a tunnel alike). */
export type TransportSink = (pkt: Packet) => void;

/**
 * Walks a frame layer by layer through the hand-off tables. Knows no protocol itself: protocols come in
 * as registrations, so adding one edits nothing here.
 */
export class Dissector {
  /** tables[handoff][key] = index into `decoders`, or -1. */
  private readonly tables: Int16Array[];
  /** Packets that reached each decoder, by decoder index (see `layerCounts`). */
  private readonly layerHits: Float64Array;
  private readonly decoders: LayerDecoder[] = [];
  /** Per decoder index: a callback after that layer is decoded (e.g. ARP for spoofing detection), or undefined. */
  private readonly observers: Array<((pkt: Packet) => void) | undefined>;
  /** Frames whose link type no decoder handles, by link type. */
  readonly unsupportedLinkTypes = new Map<number, number>();

  constructor(
    registrations: readonly ProtocolRegistration[],
    private readonly weirds: WeirdCounter,
    private readonly sink: TransportSink,
    /** Without one, a first fragment is decoded as far as it goes and later fragments are not. */
    private readonly fragments?: FragmentReassembler,
  ) {
    this.tables = Object.values(HANDOFF_TABLE_SIZES).map((size) => new Int16Array(size).fill(-1));
    for (const reg of registrations) {
      let index = this.decoders.indexOf(reg.decoder);
      if (index < 0) index = this.decoders.push(reg.decoder) - 1;
      for (const h of reg.handoffs) {
        const table = this.tables[h.table];
        if (h.key < 0 || h.key >= table.length) throw new Error(`${reg.decoder.name}: hand-off key ${h.key} out of range`);
        const taken = table[h.key];
        if (taken >= 0 && taken !== index) throw new Error(`${reg.decoder.name}: hand-off ${h.table}/${h.key} already taken by ${this.decoders[taken].name}`);
        table[h.key] = index;
      }
    }
    this.layerHits = new Float64Array(this.decoders.length);
    this.observers = this.decoders.map(() => undefined);
  }

  /** Calls `fn` each time the decoder named `name` has decoded its layer (after any observer already there). */
  observe(name: string, fn: (pkt: Packet) => void): void {
    const index = this.decoders.findIndex((d) => d.name === name);
    if (index < 0) throw new Error(`no decoder named ${name} to observe`);
    const before = this.observers[index];
    this.observers[index] = before === undefined ? fn : (pkt) => (before(pkt), fn(pkt));
  }

  /** Decodes the frame already loaded into `pkt` (see Packet.reset). */
  dissect(pkt: Packet): void {
    this.walk(pkt, Handoff.LinkType, pkt.linkType, pkt.frameOffset);
  }

  /** `countFirst` false: the first layer was counted already (a reassembled datagram's IP header, in its last fragment). */
  private walk(pkt: Packet, startTable: HandoffTable, startKey: number, startOffset: number, countFirst = true): void {
    let table = startTable;
    let key = startKey;
    let offset = startOffset;
    const end = pkt.frameEnd;
    for (let depth = 0; depth < MAX_LAYERS; depth++) {
      const tab = this.tables[table];
      let index = key >= 0 && key < tab.length ? tab[key] : -1;
      if (index < 0 && pkt.nextKeyAlt >= 0 && pkt.nextKeyAlt < tab.length) index = tab[pkt.nextKeyAlt];
      if (index < 0) {
        if (table === Handoff.LinkType) this.unsupportedLinkTypes.set(key, (this.unsupportedLinkTypes.get(key) ?? 0) + 1);
        return;
      }
      const decoder = this.decoders[index];
      if (depth > 0 || countFirst) this.layerHits[index]++;
      pkt.nextTable = Handoff.None;
      pkt.nextKeyAlt = -1;
      // One call site per usual layer (link, network, transport): each sees a few decoders, so V8 can
      // inline them; through one site every decoder passed and the call stayed megamorphic.
      if (depth === 0) offset = decoder.decode(pkt, offset, end, this.weirds);
      else if (depth === 1) offset = decoder.decode(pkt, offset, end, this.weirds);
      else if (depth === 2) offset = decoder.decode(pkt, offset, end, this.weirds);
      else offset = decoder.decode(pkt, offset, end, this.weirds);
      const observer = this.observers[index];
      if (observer !== undefined) observer(pkt);
      if (pkt.transportReady) {
        pkt.transportReady = false;
        this.sink(pkt);
      }
      if (pkt.isFragment && this.fragments !== undefined) {
        this.reassemble(pkt);
        return;
      }
      if (offset < 0 || pkt.nextTable === Handoff.None) return;
      table = pkt.nextTable as HandoffTable;
      key = pkt.nextKey;
    }
    this.weirds.add(W_TOO_MANY_LAYERS);
  }

  /** Holds a fragment; when it completes its datagram, decodes the whole datagram from the IP layer. */
  private reassemble(pkt: Packet): void {
    const whole = this.fragments!.add(pkt);
    if (whole === undefined) return;
    const version = pkt.ipVersion;
    const depth = pkt.tunnelDepth;
    pkt.data = whole;
    pkt.view = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
    pkt.frameOffset = 0;
    pkt.frameEnd = whole.length;
    pkt.caplen = whole.length;
    pkt.wirelen = whole.length;
    pkt.ipVersion = 0;
    pkt.isFragment = false;
    pkt.moreFragments = false;
    pkt.fragOffset = 0;
    this.walk(pkt, Handoff.EtherType, version === 4 ? 0x0800 : 0x86dd, 0, false);
    if (pkt.tunnelDepth < depth) pkt.tunnelDepth = depth;
  }

  /** Packets seen per decoder name (a packet with two IPv4 headers counts once per header). */
  layerCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.decoders.length; i++) {
      if (this.layerHits[i] > 0) out[this.decoders[i].name] = this.layerHits[i];
    }
    return out;
  }
}
