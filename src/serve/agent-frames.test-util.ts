/**
 * Known traffic for the agent runtime tests, built on the shared test frame builder (test-support/frames.ts:
 * Ethernet II + IPv4 + UDP/TCP, every header field written there): one DNS transaction and one complete TCP
 * connection.
 * `agent.test.ts` checks these frames against tshark's reading of them when tshark is installed.
 */
import { ACK, FIN, PSH, SYN, type Frame, tcp4, udp4 } from '../test-support/frames.js';

export const CLIENT = '10.0.0.2';
export const SERVER = '10.0.0.1';

/**
 * DNS query, 29 bytes: id 0x1234; flags 0x0100 (RD); 1 question, 0 answers/authority/additional;
 * QNAME 07 "example" 03 "com" 00; QTYPE 1 (A); QCLASS 1 (IN).
 */
export const DNS_QUERY = Buffer.from('1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001'.replace(/ /g, ''), 'hex');

/**
 * DNS response, 45 bytes: id 0x1234; flags 0x8180 (QR, RD, RA, rcode 0 NOERROR); 1 question, 1 answer;
 * the same question; answer: name pointer c00c, TYPE 1, CLASS 1, TTL 0x12c (300), RDLENGTH 4, 93.184.216.34.
 */
export const DNS_RESPONSE = Buffer.from(
  '1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 0001 0001 c00c 0001 0001 0000012c 0004 5db8d822'.replace(/ /g, ''),
  'hex',
);

function withPayload(frame: Buffer, payload: Buffer): Buffer {
  payload.copy(frame, frame.length - payload.length);
  return frame;
}

/** The client's query (from port 5353) and the server's answer 20 ms later. */
export function dnsTransaction(t: number): Frame[] {
  return [
    { ts: t, bytes: withPayload(udp4(CLIENT, SERVER, 5353, 53, DNS_QUERY.length), DNS_QUERY) },
    { ts: t + 0.02, bytes: withPayload(udp4(SERVER, CLIENT, 53, 5353, DNS_RESPONSE.length), DNS_RESPONSE) },
  ];
}

export const TCP_ORIG_BYTES = 100;
export const TCP_RESP_BYTES = 200;

/**
 * A whole TCP connection client:40000 → server:9000 (no application analyzer on that port): handshake,
 * 100 bytes up, 200 bytes down, FIN from each side, last ACK. 8 packets; Zeek state SF, history ShADdFf.
 * (tshark -r of these frames reads: SYN, SYN-ACK, ACK, Len=100, Len=200, FIN, FIN, ACK.)
 */
export function tcpConnection(t: number): Frame[] {
  const c = (flags: number, seq: number, ack: number, len = 0) => tcp4(CLIENT, SERVER, 40000, 9000, flags, seq, ack, len);
  const s = (flags: number, seq: number, ack: number, len = 0) => tcp4(SERVER, CLIENT, 9000, 40000, flags, seq, ack, len);
  return [
    c(SYN, 1000, 0),
    s(SYN | ACK, 5000, 1001),
    c(ACK, 1001, 5001),
    c(PSH | ACK, 1001, 5001, TCP_ORIG_BYTES),
    s(PSH | ACK, 5001, 1101, TCP_RESP_BYTES),
    c(FIN | ACK, 1101, 5201),
    s(FIN | ACK, 5201, 1102),
    c(ACK, 1102, 5202),
  ].map((bytes, i) => ({ ts: t + i * 0.001, bytes }));
}
