import { cellWidth, displayText, fitCells } from '../analyze/display-text.js';
import { protocolShares } from '../analyze/protocol-mix.js';
import type { SummaryRecord } from '../analyze/records.js';
import type { Conversation, ReadReport } from '../stats/read-report.js';
import { formatHost } from '../ui/format.js';
import { fit, formatBytes, formatCount, formatSeconds, formatTimestamp } from './format.js';

const LINK_TYPE_NAMES: Record<string, string> = {
  '0': 'NULL', '1': 'Ethernet', '12': 'raw IP', '14': 'raw IP', '101': 'raw IP', '108': 'LOOP',
  '113': 'Linux SLL', '228': 'IPv4', '229': 'IPv6', '276': 'Linux SLL2',
};

/** The name passive DNS learned for an address (the capture's own DNS answers), if any. */
export type NameOf = (address: string) => string | undefined;

/**
 * The human summary of `loopy read`: fits 80 columns, most useful first. Addresses carry the names the
 * capture's DNS answers gave them (`nameOf`).
 */
export function renderReadSummary(file: string, detail: string | undefined, report: ReadReport, width = 80, nameOf: NameOf = () => undefined): string {
  const s = report.summary;
  const out: string[] = [];
  const line = (text = '') => out.push(cellWidth(text) > width ? fitCells(text, width) : text);
  const heading = (text: string) => {
    line();
    line(text);
  };
  if (!s) return `${file}: no summary\n`;
  const links = Object.entries(s.link_types).map(([t, n]) => `${LINK_TYPE_NAMES[t] ?? `link type ${t}`}${Object.keys(s.link_types).length > 1 ? ` ${formatCount(n)}` : ''}`);
  line(`${file}${detail ? ` (${detail}` : ''}${links.length ? `, ${links.join(', ')}` : ''}${detail ? ')' : ''}`);
  const duration = s.first_ts !== null && s.last_ts !== null ? s.last_ts - s.first_ts : 0;
  line(`  ${formatCount(s.packets)} packets, ${formatBytes(s.bytes)}, ${formatSeconds(duration)}` + (s.first_ts !== null ? `, from ${formatTimestamp(s.first_ts)}` : ''));
  line(`  ${formatCount(s.flows)} flows (${report.tcp.count} TCP, ${report.udp.count} UDP, ${report.icmp.count} ICMP)` + (s.flows_evicted ? `, ${formatCount(s.flows_evicted)} evicted` : ''));

  const protocols = protocolShares(s.protocols, s.packets);
  if (protocols.length) {
    heading('Protocols (packets, share of all packets)');
    wrapPairs(protocols.map((p) => `${p.name} ${formatCount(p.packets)} (${formatShare(p.percent)})`), width, line);
  }
  const hosts = report.topTalkers(8);
  if (hosts.length) {
    const approximately = report.talkersApproximate ? `; approximate, ${formatCount(report.talkersHeld)}+ hosts` : '';
    heading(`Top talkers (IP bytes sent + received${approximately})`);
    for (const h of hosts) line(`  ${fit(formatHost(h.key, nameOf(h.key)), TALKER_WIDTH)} ${fit(formatBytes(h.value), 10, true)}`);
  }
  conversations('TCP conversations (top by bytes)', report.tcp.items());
  conversations('UDP conversations (top by bytes)', report.udp.items());

  if (report.dnsTransactions > 0) {
    heading(`DNS: ${formatCount(report.dnsTransactions)} transactions, ${report.dnsUnanswered} unanswered`);
    const rcodes = report.dnsRcodes.top(6).map((r) => `${r.key} ${formatCount(r.value)}`);
    if (rcodes.length) line(`  rcodes: ${rcodes.join(', ')}`);
    const names = report.dnsNames.top(6);
    if (names.length) {
      line(`  ${fit('top names', 60)} ${fit('queries', 8, true)}`);
      for (const n of names) line(`  ${fit(dnsName(n.key), 60)} ${fit(formatCount(n.value), 8, true)}`);
    }
    const slow = report.dnsSlowest.items();
    if (slow.length) line(`  slowest: ${slow.map((d) => `${dnsName(d.query)} ${formatSeconds(d.rtt)}`).join(', ')}`);
  }
  const tls = report.tlsNames.top(8);
  if (tls.length) {
    heading('TLS server names');
    for (const t of tls) line(`  ${fit(displayText(t.key), 60)} ${fit(formatCount(t.value), 8, true)}`);
  }
  const http = report.httpHosts.top(5);
  if (http.length) {
    heading('HTTP hosts');
    for (const h of http) line(`  ${fit(displayText(h.key), 60)} ${fit(formatCount(h.value), 8, true)}`);
  }
  weirdsAndUnsupported(s, line, heading);
  return `${out.join('\n')}\n`;

  /**
   * A table with its column headers. A conversation too long for its column (IPv6) takes two lines, the
   * originator first, so the responder is never cut.
   */
  function conversations(title: string, list: readonly Conversation[]): void {
    if (!list.length) return;
    heading(title);
    const figures = (state: string, packets: string, bytes: string, extra: string) => `${fit(state, 5)}${fit(packets, 6, true)} ${fit(bytes, 9, true)}  ${extra}`.trimEnd();
    line(`  ${fit('originator → responder', CONVERSATION_WIDTH)} ${figures('state', 'pkts', 'bytes', 'service rtt')}`);
    for (const c of list) {
      const extra = [c.service, c.rtt !== undefined ? formatSeconds(c.rtt) : undefined, c.retrans ? `${c.retrans} retr` : undefined].filter(Boolean).join(' ');
      const numbers = figures(c.state, formatCount(c.packets), formatBytes(c.bytes), extra);
      const originator = formatHost(c.originator, nameOf(c.origHost));
      const label = `${originator} → ${formatHost(c.responder, nameOf(c.respHost))}`;
      if (label.length <= CONVERSATION_WIDTH) {
        line(`  ${fit(label, CONVERSATION_WIDTH)} ${numbers}`);
        continue;
      }
      line(`  ${originator} →`);
      const responder = `    ${formatHost(c.responder, nameOf(c.respHost))}`;
      if (responder.length <= CONVERSATION_WIDTH + 2) line(`${fit(responder, CONVERSATION_WIDTH + 2)} ${numbers}`);
      else {
        line(responder);
        line(`${' '.repeat(CONVERSATION_WIDTH + 2)} ${numbers}`);
      }
    }
  }
}

/** Cells for a top talker: an IPv6 address with a name. */
const TALKER_WIDTH = 64;

/** Cells for "originator → responder": two IPv4 endpoints with ports. */
const CONVERSATION_WIDTH = 42;

/** A DNS name as people write it: the root, whose query is empty, is ".". */
function dnsName(query: string): string {
  return query === '' ? '.' : displayText(query);
}

function weirdsAndUnsupported(s: SummaryRecord, line: (t?: string) => void, heading: (t: string) => void): void {
  const weirds = Object.entries(s.weirds);
  if (weirds.length) {
    heading('Weirds (malformed or unexpected traffic)');
    for (const [name, n] of weirds.slice(0, 10)) line(`  ${fit(name, 40)} ${fit(formatCount(n), 8, true)}`);
  }
  const unsupported = Object.entries(s.unsupported_link_types);
  if (unsupported.length) {
    heading('Not decoded (unsupported link types)');
    for (const [t, n] of unsupported) line(`  link type ${t}: ${formatCount(n)} packets`);
  }
}

function wrapPairs(items: string[], width: number, line: (t: string) => void): void {
  let current = ' ';
  for (const item of items) {
    if (current.length + item.length + 3 > width) {
      line(current);
      current = ' ';
    }
    current += `  ${item}`;
  }
  if (current.trim()) line(current);
}

function formatShare(p: number): string {
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}
