import type { Packet } from './packet.js';
import type { WeirdCounter } from './weirds.js';

/** The hand-off tables: who decodes the next layer is looked up by one of these keys. */
export const Handoff = {
  None: 0,
  LinkType: 1,
  EtherType: 2,
  IpProto: 3,
  UdpPort: 4,
  /** GRE protocol types are ethertypes, but GRE may carry things Ethernet never does. */
  GreProto: 5,
} as const;
export type HandoffTable = (typeof Handoff)[keyof typeof Handoff];

export const HANDOFF_TABLE_SIZES: Record<HandoffTable, number> = {
  0: 0,
  1: 1024,
  2: 65536,
  3: 256,
  4: 65536,
  5: 65536,
};

/**
 * A layer decoder: reads its header at `offset` (the frame's captured bytes end at `end`), fills the shared
 * Packet, sets pkt.nextTable/nextKey for the next layer, and returns the next layer's offset, or -1 when
 * decoding stops here. It never throws on bad input: it counts a weird and returns -1.
 */
export interface LayerDecoder {
  readonly name: string;
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number;
}

/** What a protocol folder exports: its decoder and the keys that hand off to it. */
export interface ProtocolRegistration {
  readonly decoder: LayerDecoder;
  readonly handoffs: ReadonlyArray<{ readonly table: HandoffTable; readonly key: number }>;
}
