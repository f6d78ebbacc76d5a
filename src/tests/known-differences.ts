/**
 * Corpus files (tshark status ok) where Loopy's TCP/UDP conversations differ from tshark's on purpose, with
 * why. The golden test fails when a listed file starts to match, so this list stays true.
 */
export const KNOWN_CONVERSATION_DIFFERENCES: Record<string, string> = {
  'ipv6/zeek__tunnels-ayiya3.pcap': 'AYIYA (UDP 5072) tunnels are not decoded: tshark shows the inner IPv6 TCP conversation',
  'ipv6/libpcap__AH-IPcomp-IPv6.pcap': 'IPComp payloads are compressed: tshark inflates them and finds more TCP segments',
  'mixed/zeek__radiotap.pcap': 'link type 127 (802.11 radiotap) is counted as unsupported',
  'mixed/zeek__dns-inverse-query.pcap': 'link type 10 (FDDI) is counted as unsupported',
  'mixed/pcpp__nflogPacket.pcap': 'link type 239 (NFLOG) is counted as unsupported',
  'mixed/libpcap__arcnet-rfc1051-arp-icmp-http.pcap': 'link type 129 (ARCNET) is counted as unsupported',
  'malformed/tcpdump__LINKTYPE_IPV4_invalid.pcap': 'an IPv6 packet under LINKTYPE_IPV4: Loopy counts unknown_ip_version, tshark decodes it as IPv6',
  'malformed/tcpdump__esp_truncated.pcap': 'a truncated ESP-in-UDP packet: tshark decodes the bytes after it as an IPv4/UDP header (addresses 0.254.92.182 → 255.127.255.121); Loopy stops at ESP',
};
