/**
 * Hosts: top talkers of the last minute (summed from the agents' per-second top-N), sortable, with bytes,
 * packets, flows, and the peer and service each host exchanged most bytes with (from finished connections).
 */
import { Box, Text } from 'ink';
import type { AgentSnapshot } from '../agent-store.js';
import { type Column, Table } from '../components/Table.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { matchesFilter, nameIn } from '../data.js';
import { formatBitsPerSecond, formatBytes, formatEndpoint, formatHost, formatSi } from '../format.js';
import { defineView, type ViewProps } from '../view-registry.js';

const WINDOW_SECONDS = 60;

export interface HostRow {
  host: string;
  local: boolean;
  bytes: number;
  packets: number;
  flows: number;
  topPeer: string;
  topService: string;
  agents: string[];
}

const SORTS: Array<{ name: string; compare: (a: HostRow, b: HostRow) => number }> = [
  { name: 'bytes', compare: (a, b) => b.bytes - a.bytes },
  { name: 'packets', compare: (a, b) => b.packets - a.packets },
  { name: 'flows', compare: (a, b) => b.flows - a.flows },
  { name: 'host', compare: (a, b) => a.host.localeCompare(b.host) },
];

export function hostRows(agents: readonly AgentSnapshot[]): HostRow[] {
  const rows = new Map<string, HostRow>();
  for (const a of agents) {
    for (const s of a.seconds.slice(-WINDOW_SECONDS)) {
      for (const t of s.top_talkers) {
        let r = rows.get(t.host);
        if (!r) rows.set(t.host, (r = { host: t.host, local: t.local, bytes: 0, packets: 0, flows: 0, topPeer: '', topService: '', agents: [] }));
        r.bytes += t.bytes;
        r.packets += t.packets;
        r.flows = Math.max(r.flows, t.flows);
        if (!r.agents.includes(a.name)) r.agents.push(a.name);
      }
    }
  }
  // Who each listed host talks to most, by bytes over the kept connections.
  const peers = new Map<string, Map<string, number>>();
  const add = (host: string, key: string, bytes: number) => {
    if (!rows.has(host)) return;
    let m = peers.get(host);
    if (!m) peers.set(host, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + bytes);
  };
  for (const a of agents) {
    for (const f of a.flows) {
      const bytes = f.orig_ip_bytes + f.resp_ip_bytes;
      const service = f.service ?? `${f.proto}/${f['id.resp_p']}`;
      add(f['id.orig_h'], `${f['id.resp_h']}\t${service}`, bytes);
      add(f['id.resp_h'], `${f['id.orig_h']}\t${service}`, bytes);
    }
  }
  for (const [host, m] of peers) {
    let best = '';
    let most = -1;
    for (const [k, v] of m) if (v > most) [best, most] = [k, v];
    const r = rows.get(host);
    if (r) [r.topPeer, r.topService] = best.split('\t');
  }
  return [...rows.values()];
}

function Hosts(props: ViewProps) {
  const { width, height, theme, filter } = props;
  /** An address as every view shows it: with the name the agents' passive DNS has for it. */
  const host = (address: string) => formatHost(address, nameIn(props.agents, address));
  const all = hostRows(props.agents).filter((r) => matchesFilter(filter, [host(r.host), r.topPeer && host(r.topPeer), r.topService, r.local ? 'local' : 'remote']));
  const nav = useListNavigation(all.length, { active: props.inputActive, page: height - 3, sorts: SORTS.length });
  const sort = SORTS[nav.sort];
  const rows = all.sort(sort.compare);
  const columns: Column<HostRow>[] = [
    { header: 'host', width: 15, grow: 2, cell: (r) => host(r.host), tone: (r) => (r.local ? 'accent' : undefined) },
    { header: 'rate', width: 9, align: 'right', cell: (r) => formatBitsPerSecond(r.bytes / WINDOW_SECONDS) },
    { header: 'bytes', width: 7, align: 'right', cell: (r) => formatBytes(r.bytes) },
    { header: 'pkts', width: 6, align: 'right', cell: (r) => formatSi(r.packets) },
    { header: 'flows', width: 5, align: 'right', cell: (r) => formatSi(r.flows) },
    { header: 'talks most with', width: 15, grow: 2, cell: (r) => (r.topPeer ? host(r.topPeer) : '-') },
    { header: 'service', width: 8, grow: 1, optional: true, cell: (r) => r.topService || '-' },
    { header: 'agent', width: 10, grow: 1, optional: true, cell: (r) => r.agents.join(',') },
  ];
  const chosen = rows[nav.selected];
  if (nav.detail && chosen) {
    const flows = props.agents.flatMap((a) => a.flows).filter((f) => f['id.orig_h'] === chosen.host || f['id.resp_h'] === chosen.host);
    return (
      <Box flexDirection="column" width={width}>
        <Text bold>{host(chosen.host)} ({chosen.local ? 'local' : 'remote'}) — last {WINDOW_SECONDS}s: {formatBytes(chosen.bytes)}, {formatSi(chosen.packets)} packets</Text>
        <Text>seen by: {chosen.agents.join(', ')}</Text>
        <Text bold>recent connections ({flows.length})</Text>
        {flows.slice(0, Math.max(1, height - 4)).map((f) => (
          <Text key={f.uid} wrap="truncate">
            {formatHost(formatEndpoint(f['id.orig_h'], f['id.orig_p']), nameIn(props.agents, f['id.orig_h']))} → {formatHost(formatEndpoint(f['id.resp_h'], f['id.resp_p']), nameIn(props.agents, f['id.resp_h']))} {f.service ?? f.proto} {f.conn_state} {formatBytes(f.orig_bytes)}/{formatBytes(f.resp_bytes)}
          </Text>
        ))}
      </Box>
    );
  }
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">Top talkers, last {WINDOW_SECONDS}s — {rows.length} hosts, sorted by {sort.name}</Text>
      <Table columns={columns} rows={rows} width={width} height={height - 1} selected={nav.selected} theme={theme} empty="no hosts yet" />
    </Box>
  );
}

export default defineView({
  name: 'hosts',
  title: 'Hosts',
  topics: ['stats', 'flows'],
  keys: [{ key: 's', label: 'sort' }, { key: 'Enter', label: 'host' }],
  description: 'top talkers with bytes, packets, flows and who each talks to most',
  component: Hosts,
});
