/**
 * Registry numbers shared by the decoders and their registrations (IANA / IEEE / tcpdump.org LINKTYPE list).
 * Kept in one place so a hand-off key and the decoder that sets it cannot drift apart.
 */

// ---- LINKTYPE_* (the link type of a capture file or live device)
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_PPP = 9;
/** DLT_RAW on most systems, written as-is by old libpcaps. */
export const LINKTYPE_RAW_DLT12 = 12;
/** DLT_RAW on OpenBSD, written as-is by old libpcaps. */
export const LINKTYPE_RAW_DLT14 = 14;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

// ---- EtherTypes (also GRE protocol types)
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_PPP = 0x880b;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST = 0x8848;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_ERSPAN_II = 0x88be;
export const ETHERTYPE_PBB = 0x88e7;
export const ETHERTYPE_VLAN_9100 = 0x9100;
/** "Transparent Ethernet bridging": the payload is an Ethernet frame (GRE, Geneve, and VXLAN's hand-off). */
export const ETHERTYPE_TEB = 0x6558;
export const ETHERTYPE_ERSPAN_III = 0x22eb;
/** Smallest value that is an EtherType; below 1536 the field is an 802.3 length. */
export const ETHERTYPE_MIN = 0x0600;

// ---- IP protocol numbers (IPv4 protocol / IPv6 next header)
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_MPLS_IN_IP = 137;

// ---- UDP ports of tunnels
export const UDP_PORT_TEREDO = 3544;
export const UDP_PORT_VXLAN = 4789;
export const UDP_PORT_GENEVE = 6081;
export const UDP_PORT_GTP_U = 2152;
export const UDP_PORT_MPLS = 6635;
export const UDP_PORT_L2TP = 1701;

/**
 * The ethertype of an IP header told by its version nibble (raw IP link types, MPLS, GTP-U carry no type
 * field: tshark guesses the same way), or 0 when the byte starts neither IPv4 nor IPv6.
 */
export function etherTypeOfIpVersion(firstByte: number): number {
  const version = firstByte >> 4;
  return version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
}
