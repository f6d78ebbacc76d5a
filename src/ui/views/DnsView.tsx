/**
 * DNS: the live query log (name, type, rcode, answers, RTT), and under it the top names, the NXDOMAIN names
 * and the slowest answers among the kept transactions. `/` filters all four.
 */
import { Box, Text } from 'ink';
import type { DnsRecord } from '../../analyze/records.js';
import { type Column, Table } from '../components/Table.js';
import { RecordDetail } from '../components/RecordDetail.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { Panel, type PanelLine } from '../components/Panel.js';
import { countNames, dnsName, matchesFilter } from '../data.js';
import { fitTarget, formatClock, formatDuration, formatHost } from '../format.js';
import { defineView, type ViewProps } from '../view-registry.js';

interface Row {
  agent: string;
  r: DnsRecord;
  /** The client's address, with its name (formatHost). */
  client: string;
}

const PANEL_LINES = 6;

function Dns(props: ViewProps) {
  const { width, height, theme, filter } = props;
  const rows: Row[] = [];
  for (const a of props.agents) {
    for (const r of a.dns) {
      const client = formatHost(r['id.orig_h'], a.names.nameOf(r['id.orig_h']));
      if (matchesFilter(filter, [r.query, dnsName(r.query), r.qtype_name, r.rcode_name, client, r['id.resp_h'], ...(r.answers ?? [])])) rows.push({ agent: a.name, r, client });
    }
  }
  rows.sort((x, y) => y.r.ts - x.r.ts);
  const logHeight = Math.max(3, height - PANEL_LINES - 2);
  const nav = useListNavigation(rows.length, { active: props.inputActive, page: logHeight - 1 });
  const chosen = rows[nav.selected];
  if (nav.detail && chosen) return <RecordDetail title={`DNS ${dnsName(chosen.r.query)} on ${chosen.agent}`} record={chosen.r} width={width} height={height} />;
  const columns: Column<Row>[] = [
    { header: 'time', width: 8, cell: ({ r }) => formatClock(r.ts) },
    { header: 'client', width: 15, optional: true, cell: ({ client }) => client },
    { header: 'query', width: 20, grow: 3, cell: ({ r }) => dnsName(r.query) },
    { header: 'type', width: 5, cell: ({ r }) => r.qtype_name ?? String(r.qtype ?? '-') },
    { header: 'rcode', width: 8, cell: ({ r }) => r.rcode_name ?? (r.rcode === undefined ? 'no reply' : String(r.rcode)), tone: ({ r }) => (r.rcode === 3 ? 'warn' : r.rcode === undefined || r.rcode > 0 ? 'bad' : undefined) },
    { header: 'rtt', width: 6, align: 'right', cell: ({ r }) => formatDuration(r.rtt) },
    { header: 'answers', width: 10, grow: 2, optional: true, cell: ({ r }) => (r.answers ?? []).join(' ') },
  ];
  if (props.agents.length > 1) columns.push({ header: 'agent', width: 16, grow: 1, optional: true, cell: ({ agent }) => fitTarget(agent, 16) });
  const panelWidth = Math.floor((width - 2) / 3);
  const n = PANEL_LINES - 1;
  const records = rows.map(({ r }) => r);
  const top = countNames(records, () => true).slice(0, n);
  const nx = countNames(records, (r) => r.rcode === 3).slice(0, n);
  const slow = rows
    .filter(({ r }) => r.rtt !== undefined)
    .sort((x, y) => (y.r.rtt ?? 0) - (x.r.rtt ?? 0))
    .slice(0, n)
    .map(({ r }): PanelLine => ({ name: dnsName(r.query), value: formatDuration(r.rtt) }));
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">{rows.length} DNS transactions{filter ? ` matching "${filter}"` : ''}, newest first</Text>
      <Table columns={columns} rows={rows} width={width} height={logHeight} selected={nav.selected} theme={theme} empty="no DNS yet" />
      <Box flexDirection="row" marginTop={1} gap={1}>
        <Panel title="top names" lines={top} width={panelWidth} />
        <Panel title="NXDOMAIN" lines={nx} width={panelWidth} />
        <Panel title="slowest" lines={slow} width={panelWidth} />
      </Box>
    </Box>
  );
}

export default defineView({
  name: 'dns',
  title: 'DNS',
  topics: ['dns'],
  keys: [{ key: '/', label: 'filter' }, { key: 'Enter', label: 'record' }],
  description: 'live DNS query log, top names, NXDOMAIN names, slowest answers',
  component: Dns,
});
