/**
 * UDP flood: one sender's UDP packets to one receiver that the receiver does not answer (by UDP: a service
 * answers; ICMP port-unreachables are refusals), far above what one-way UDP senders (syslog, statsd, a
 * video call's 2,000 packets/s) send: 5,000 packets or 100 MB within 2 s. Counted per directed pair from the
 * per-second pair tallies (pair-floods.ts); one incident per pair, naming the sender. A spoofed flood from
 * many sources is not this detector's (each pair stays small).
 */
import { floodFacts, oneWayFloodDetector } from '../pair-floods.js';

export const udpFlood = oneWayFloodDetector({
  name: 'udp_flood',
  title: "UDP flood: one sender's unanswered UDP packets to one receiver far above one-way senders' rates",
  minPackets: 5000,
  minBytes: 100_000_000,
  traffic: { packets: (t) => t.udpPackets, bytes: (t) => t.udpBytes, answers: (back) => back?.udpPackets ?? 0 },
  describe: (f) => ({ severity: 'high', message: `${floodFacts(f, 'UDP packets')} over ${f.flows} flows; ${f.answered} answered` }),
});
