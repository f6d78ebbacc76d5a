/**
 * DNS for Loopy: the registration the engine wires in, plus the parser and the types later detectors use.
 * Ports as Zeek registers them (53/udp, 53/tcp, mDNS 5353/udp, LLMNR 5355/udp); no probe for other ports,
 * as tshark does not guess DNS elsewhere either.
 */
import type { AppRegistration } from '../types.js';
import { DnsAnalyzer, type DnsAnalyzerOptions } from './analyzer.js';
import { DNS_TCP_MAX_PENDING_BYTES } from './tcp-framing.js';

/**
 * Seconds without a packet after which a DNS flow over UDP ends: Zeek's dns_session_timeout. A client's
 * query and its answer are one flow of a fraction of a second, and a resolver makes thousands a second.
 */
export const DNS_SESSION_TIMEOUT = 10;

export function makeDnsRegistration(options: DnsAnalyzerOptions = {}): AppRegistration {
  return {
    name: 'dns',
    udpPorts: [53, 5353, 5355],
    tcpPorts: [53],
    maxPendingBytes: DNS_TCP_MAX_PENDING_BYTES,
    udpIdleTimeout: DNS_SESSION_TIMEOUT,
    create: (ctx) => new DnsAnalyzer(ctx, options),
  };
}

export const dnsRegistration: AppRegistration = makeDnsRegistration();

export { DnsAnalyzer, type DnsAnalyzerOptions, type DnsMessageHook } from './analyzer.js';
export { DnsWire, parseDnsMessage, zeekZ, type DnsMessage, type DnsParseResult, type DnsQuestion, type DnsResourceRecord, type EdnsInfo, type EdnsOption } from './message.js';
export type { DnsRdata } from './rdata.js';
export { qtypeName, qclassName, rcodeName, opcodeName, QTYPE, OPCODE } from './type-names.js';
export { buildDnsRecord, formatAnswer, queryFieldsOf, type DnsQueryFields } from './zeek-record.js';
export { diffAgainstTshark, parseTsharkDnsTsv, tsharkFieldsOf, type DnsDifference, type ObservedDnsMessage, type TsharkDnsRow } from './tshark-diff.js';
