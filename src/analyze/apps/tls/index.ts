/** The TLS analyzer's registration: Zeek's service name "ssl", the usual TLS ports, and a ClientHello probe. */
import { IPPROTO_TCP } from '../../../decode/packet.js';
import type { AppRegistration } from '../types.js';
import { TlsAnalyzer } from './analyzer.js';
import { CONTENT_HANDSHAKE, HANDSHAKE_CLIENT_HELLO } from './record-layer.js';

export { TlsAnalyzer, type TlsFlowRecord } from './analyzer.js';

/**
 * A TLS handshake record (type 22, version 3.0-3.4) whose first message is a ClientHello. SSLv2-format hellos
 * are not probed for: they are rare, and their 3 bytes alone would claim too much unrelated traffic.
 */
export function looksLikeClientHello(data: Buffer, offset: number, length: number): boolean {
  return length >= 6 && data[offset] === CONTENT_HANDSHAKE && data[offset + 1] === 3 && data[offset + 2] <= 4 && data[offset + 5] === HANDSHAKE_CLIENT_HELLO;
}

export const tlsRegistration: AppRegistration = {
  name: 'ssl',
  tcpPorts: [443, 8443, 993, 995, 465, 636, 853, 5061, 989, 990, 992, 994],
  probe: (data, offset, length, transport) => transport === IPPROTO_TCP && looksLikeClientHello(data, offset, length),
  create: (ctx) => new TlsAnalyzer(ctx),
};
