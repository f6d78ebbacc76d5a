/**
 * Connections: the finished flows of the chosen agents, newest start first — endpoints, service, state, bytes
 * each way, handshake RTT, retransmissions, and the local processes (a live agent's). `/` filters (any field:
 * address, port, service, state, process, unit), `s` sorts, Enter shows the whole conn record.
 */
import { Box, Text } from 'ink';
import type { ConnRecord } from '../../analyze/records.js';
import { type Column, Table } from '../components/Table.js';
import { RecordDetail } from '../components/RecordDetail.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { matchesFilter } from '../data.js';
import { fitTarget, flowProcesses, formatBytes, formatClock, formatDuration, formatEndpoint, formatHost, formatProcess } from '../format.js';
import { defineView, type ViewProps } from '../view-registry.js';

interface Row {
  agent: string;
  r: ConnRecord;
  /** Each end as shown: its endpoint and the name the agent's passive DNS has for its address. */
  originator: string;
  responder: string;
}

const SORTS: Array<{ name: string; compare: (a: Row, b: Row) => number }> = [
  // By start, the time the column shows (Zeek's ts): sorted by end, a long connection ending now sat on top
  // with a start time hours old, and the list looked unsorted.
  { name: 'time', compare: (a, b) => b.r.ts - a.r.ts },
  { name: 'bytes', compare: (a, b) => b.r.orig_bytes + b.r.resp_bytes - (a.r.orig_bytes + a.r.resp_bytes) },
  { name: 'duration', compare: (a, b) => b.r.duration - a.r.duration },
  { name: 'rtt', compare: (a, b) => (b.r.rtt ?? -1) - (a.r.rtt ?? -1) },
  { name: 'retrans', compare: (a, b) => b.r.orig_retrans + b.r.resp_retrans - (a.r.orig_retrans + a.r.resp_retrans) },
];

const BAD_STATES = new Set(['REJ', 'S0', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR']);

function Connections(props: ViewProps) {
  const { width, height, theme, filter } = props;
  const multi = props.agents.length > 1;
  const all: Row[] = [];
  for (const a of props.agents) {
    for (const r of a.flows) {
      const processes = [r.orig_process, r.resp_process].flatMap((p) => (p ? [formatProcess(p), p.unit, p.user] : []));
      const originator = formatHost(formatEndpoint(r['id.orig_h'], r['id.orig_p']), a.names.nameOf(r['id.orig_h']));
      const responder = formatHost(formatEndpoint(r['id.resp_h'], r['id.resp_p']), a.names.nameOf(r['id.resp_h']));
      if (matchesFilter(filter, [originator, responder, r.proto, r.service, r.conn_state, r.community_id, ...processes, multi ? a.name : undefined])) all.push({ agent: a.name, r, originator, responder });
    }
  }
  const nav = useListNavigation(all.length, { active: props.inputActive, page: height - 3, sorts: SORTS.length });
  const sort = SORTS[nav.sort];
  const rows = all.sort(sort.compare);
  const chosen = rows[nav.selected];
  if (nav.detail && chosen) return <RecordDetail title={`connection ${chosen.r.uid} on ${chosen.agent}`} record={chosen.r} width={width} height={height} />;
  const columns: Column<Row>[] = [
    { header: 'time', width: 8, optional: true, cell: ({ r }) => formatClock(r.ts) },
    // 21 and 20 cells: an IPv4 address with an ephemeral port, and one with a service port, whole at 80 columns.
    { header: 'originator', width: 21, grow: 3, cut: 'endpoint', cell: ({ originator }) => originator },
    { header: 'responder', width: 20, grow: 3, cut: 'endpoint', cell: ({ responder }) => responder },
    { header: 'svc', width: 6, grow: 1, cell: ({ r }) => r.service ?? r.proto },
    { header: 'state', width: 6, cell: ({ r }) => r.conn_state, tone: ({ r }) => (BAD_STATES.has(r.conn_state) ? 'warn' : undefined) },
    { header: 'out', width: 5, align: 'right', cell: ({ r }) => formatBytes(r.orig_bytes) },
    { header: 'in', width: 5, align: 'right', cell: ({ r }) => formatBytes(r.resp_bytes) },
    { header: 'rtt', width: 5, align: 'right', cell: ({ r }) => (r.rtt === undefined ? '-' : formatDuration(r.rtt)) },
    { header: 'retx', width: 4, align: 'right', cell: ({ r }) => String(r.orig_retrans + r.resp_retrans), tone: ({ r }) => (r.orig_retrans + r.resp_retrans > 0 ? 'warn' : undefined) },
    // Optional columns go from the last: the agent, the duration, then the processes, the time last of all.
    { header: 'process', width: 14, grow: 2, optional: true, cell: ({ r }) => flowProcesses(r.orig_process, r.resp_process) || '-' },
    { header: 'dur', width: 6, align: 'right', optional: true, cell: ({ r }) => formatDuration(r.duration) },
    { header: 'agent', width: 16, grow: 1, optional: true, cell: ({ agent }) => fitTarget(agent, 16) },
  ];
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        {rows.length} connections{filter ? ` matching "${filter}"` : ''}, sorted by {sort.name}
      </Text>
      <Table columns={multi ? columns : columns.slice(0, -1)} rows={rows} width={width} height={height - 1} selected={nav.selected} theme={theme} empty={filter ? 'no connection matches the filter' : 'no finished connections yet'} />
    </Box>
  );
}

export default defineView({
  name: 'connections',
  title: 'Connections',
  topics: ['flows'],
  keys: [{ key: '/', label: 'filter' }, { key: 's', label: 'sort' }, { key: 'Enter', label: 'record' }],
  description: 'finished connections: endpoints, state, bytes, RTT, retx, processes',
  component: Connections,
});
