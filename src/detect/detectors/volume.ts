/**
 * Volume flood: one sender's one-way packets or bytes to one receiver of the traffic no other flood detector
 * watches — TCP without a handshake (ACK, FIN, Xmas, RST floods: hping3 -A), and every IP protocol other than
 * TCP, UDP and ICMP (GRE, ESP, SCTP, raw IP) — as pair tallies count them (pair-traffic.ts "other"): 20,000
 * packets (10,000/s) or 200 MB (100 MB/s) within 2 s. UDP is udp_flood's, ICMP icmp_flood's, TCP connection
 * attempts syn_flood's, so one incident raises one alert. Answers are what the receiver sends back other
 * than refusals (RSTs, ICMP errors). A transfer, even at full speed, is a TCP connection whose receiver
 * ACKs: never one-way, and never this detector's traffic. One incident per pair.
 */
import { floodFacts, oneWayFloodDetector } from '../pair-floods.js';

export const volume = oneWayFloodDetector({
  name: 'volume',
  title: "Volume flood: one sender's one-way packets or bytes to one receiver (TCP without a handshake, other IP protocols)",
  minPackets: 20_000,
  minBytes: 200_000_000,
  traffic: { packets: (t) => t.otherPackets, bytes: (t) => t.otherBytes, answers: (back) => (back === undefined ? 0 : back.packets - back.icmpPackets - back.resetPackets) },
  describe: (f) => ({ severity: 'high', message: `${floodFacts(f, 'packets')} one way (TCP without a handshake or another IP protocol); ${f.answered} answered` }),
});
