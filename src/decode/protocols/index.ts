import type { ProtocolRegistration } from '../registry.js';
import { arpRegistration } from './arp/index.js';
import { erspanTypeIIIRegistration, erspanTypeIIRegistration } from './erspan/index.js';
import { ethernetRegistration } from './ethernet/index.js';
import { geneveRegistration } from './geneve/index.js';
import { greRegistration } from './gre/index.js';
import { gtpUserRegistration } from './gtp/index.js';
import { icmpRegistration, icmpv6Registration } from './icmp/index.js';
import { ipv4Registration } from './ipv4/index.js';
import { ipv6Registration } from './ipv6/index.js';
import { l2tpRegistration } from './l2tp/index.js';
import { mplsOverUdpRegistration, mplsRegistration } from './mpls/index.js';
import { nullRegistration } from './null/index.js';
import { pbbRegistration } from './pbb/index.js';
import { pppRegistration } from './ppp/index.js';
import { pppoeRegistration } from './pppoe/index.js';
import { rawRegistration } from './raw/index.js';
import { sll2Registration, sllRegistration } from './sll/index.js';
import { tcpRegistration } from './tcp/index.js';
import { teredoRegistration } from './teredo/index.js';
import { udpRegistration } from './udp/index.js';
import { vlanRegistration } from './vlan/index.js';
import { vxlanRegistration } from './vxlan/index.js';

/**
 * The link layers: every packet has one, so their counts say how packets were framed, not what they carried
 * (a protocol mix leaves them out).
 */
const linkLayers: readonly ProtocolRegistration[] = [ethernetRegistration, sllRegistration, sll2Registration, nullRegistration, rawRegistration, pppRegistration];

export const LINK_LAYER_NAMES: ReadonlySet<string> = new Set(linkLayers.map((r) => r.decoder.name));

/**
 * Every protocol decoder and the hand-off keys that lead to it: the one place a new protocol is added.
 * Grouped by layer for the reader; the dissector does not care about order.
 */
export const defaultProtocols: readonly ProtocolRegistration[] = [
  ...linkLayers,
  // between link and network
  vlanRegistration,
  pbbRegistration,
  mplsRegistration,
  pppoeRegistration,
  arpRegistration,
  // network
  ipv4Registration,
  ipv6Registration,
  // transport
  tcpRegistration,
  udpRegistration,
  icmpRegistration,
  icmpv6Registration,
  // tunnels
  greRegistration,
  erspanTypeIIRegistration,
  erspanTypeIIIRegistration,
  vxlanRegistration,
  geneveRegistration,
  teredoRegistration,
  gtpUserRegistration,
  mplsOverUdpRegistration,
  l2tpRegistration,
];
