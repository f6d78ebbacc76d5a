/**
 * Alerts: open alerts first (most severe, then newest), then the recently closed ones. Enter shows the
 * evidence; `A` acknowledges the selected alert on its agent (the selection follows the alert, by id, as the
 * list re-sorts under it); `x` suppresses its detector for its source (for its process's unit, when a process
 * detector names one) for a day (one key, as the brief asks), which also closes it on the agent.
 */
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import { displayText } from '../../analyze/display-text.js';
import type { AlertRecord, ProcessRecord } from '../../analyze/records.js';
import type { AgentSnapshot } from '../agent-store.js';
import { type Column, Table } from '../components/Table.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { isOpenAlert, matchesFilter, SEVERITY_RANK } from '../data.js';
import { fit, formatClock, formatDuration, formatHost, wrapRows } from '../format.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';

export const SUPPRESS_SECONDS = 86400;
/** The longest detector name (new_process_talker) fits whole. */
const DETECTOR_WIDTH = 18;

interface Row {
  agent: AgentSnapshot;
  a: AlertRecord;
  acked: boolean;
}

function stateLabel(row: Row): string {
  if (row.a.state === 'closed') return row.a.closed_reason === 'suppressed' ? 'suppr' : 'closed';
  return row.acked ? 'acked' : 'OPEN';
}

function Evidence({ row, width, height }: { row: Row; width: number; height: number }) {
  const { a } = row;
  const e = a.evidence;
  const host = (address: string) => formatHost(address, row.agent.names.nameOf(address));
  const lines: string[] = [
    `${a.severity.toUpperCase()} ${a.detector} on ${row.agent.name} — ${stateLabel(row)}`,
    displayText(a.message),
    `first ${formatClock(e.first_seen)}  last ${formatClock(e.last_seen)}  (${formatDuration(e.last_seen - e.first_seen)})`,
    `src ${a.src === undefined ? '-' : host(a.src)}  dst ${a.dst === undefined ? '-' : host(a.dst)}`,
    `hosts: ${e.hosts.map(host).join(', ') || '-'}`,
  ];
  if (e.ports?.length) lines.push(`ports: ${e.ports.join(' ')}`);
  if (e.names?.length) lines.push(`names: ${e.names.map(displayText).join(' ')}`);
  for (const [k, v] of Object.entries(e.counters)) lines.push(`${k}: ${v}${e.thresholds[k] !== undefined ? ` (threshold ${e.thresholds[k]})` : ''}`);
  if (e.pcap) lines.push(`evidence pcap: ${e.pcap}`);
  if (a.community_ids.length) lines.push(`community ids: ${a.community_ids.join(' ')}`);
  lines.push(`alert id: ${a.alert_id}`);
  // Rows, not lines: the frame must not outgrow the screen (Ink then redraws over itself).
  const rows = lines.flatMap((l, i) => wrapRows(l, width).map((text) => ({ text, bold: i === 0 })));
  return (
    <Box flexDirection="column" width={width}>
      {rows.slice(0, height).map((r, i) => (
        <Text key={i} wrap="truncate" bold={r.bold}>{r.text}</Text>
      ))}
    </Box>
  );
}

function Alerts(props: ViewProps) {
  const { width, height, theme, filter, store } = props;
  const [notice, setNotice] = useState('');
  const rows: Row[] = [];
  for (const agent of props.agents) {
    for (const a of agent.alerts) {
      const hosts = [a.src, a.dst, ...a.evidence.hosts];
      if (matchesFilter(filter, [a.detector, a.severity, a.message, a.state, ...hosts, ...hosts.map((h) => h && agent.names.nameOf(h))])) rows.push({ agent, a, acked: agent.acknowledged.has(a.alert_id) });
    }
  }
  rows.sort((x, y) => Number(!isOpenAlert(x.a)) - Number(!isOpenAlert(y.a)) || Number(x.acked) - Number(y.acked) || (SEVERITY_RANK[x.a.severity] ?? 9) - (SEVERITY_RANK[y.a.severity] ?? 9) || y.a.state_ts - x.a.state_ts);
  const nav = useListNavigation(rows.length, { active: props.inputActive, page: height - 3, rowKeys: rows.map((r) => `${r.agent.target}\t${r.a.alert_id}`) });
  const chosen = rows[nav.selected];
  useInput(
    (input) => {
      if (!chosen) return;
      const { target, name } = chosen.agent;
      if (input === 'A') {
        store.markAcknowledged(target, chosen.a.alert_id);
        chosen.agent.client.acknowledgeAlert(chosen.a.alert_id).then(
          () => setNotice(`acknowledged ${chosen.a.detector} on ${name}`),
          (err: Error) => setNotice(`acknowledge failed on ${name}: ${err.message}`),
        );
      } else if (input === 'x') {
        // A process detector's alert is suppressed for its unit (a service that starts talking), others from their source.
        const unit = (chosen.a.evidence.process as ProcessRecord | undefined)?.unit;
        const who = unit !== undefined ? { unit } : { source: chosen.a.src };
        const rule = { detector: chosen.a.detector, ...who, expiresAt: Math.floor(props.now()) + SUPPRESS_SECONDS };
        chosen.agent.client.suppress(rule).then(
          () => setNotice(`suppressed ${rule.detector}${unit ? ` for ${unit}` : who.source ? ` from ${who.source}` : ''} on ${name} for 24h`),
          (err: Error) => setNotice(`suppress failed on ${name}: ${err.message}`),
        );
      }
    },
    { isActive: props.inputActive },
  );
  if (nav.detail && chosen) return <Evidence row={chosen} width={width} height={height} />;
  const columns: Column<Row>[] = [
    // Severities and detector names whole ("medi" and "nxdomain_bu…" read as nothing); the message takes the rest.
    { header: 'severity', width: Math.max(8, ...rows.map((r) => r.a.severity.length)), cell: ({ a }) => a.severity, tone: ({ a }) => (a.severity === 'critical' || a.severity === 'high' ? 'bad' : a.severity === 'medium' ? 'warn' : undefined) },
    { header: 'state', width: 6, cell: stateLabel, tone: (r) => (stateLabel(r) === 'OPEN' ? 'bad' : 'dim') },
    { header: 'time', width: 8, optional: true, cell: ({ a }) => formatClock(a.ts) },
    { header: 'detector', width: Math.min(DETECTOR_WIDTH, Math.max(8, ...rows.map((r) => r.a.detector.length))), cell: ({ a }) => a.detector },
    { header: 'message', width: 20, grow: 4, cell: ({ a }) => displayText(a.message) },
    { header: 'agent', width: 10, grow: 1, optional: true, cell: ({ agent }) => agent.name },
  ];
  const open = rows.filter((r) => isOpenAlert(r.a)).length;
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text {...tone(theme, open > 0 ? 'bad' : 'good')}>{open} open</Text>, {rows.length - open} closed{filter ? ` matching "${filter}"` : ''}
      </Text>
      {notice ? <Text wrap="truncate">{fit(notice, width)}</Text> : null}
      <Table columns={props.agents.length > 1 ? columns : columns.slice(0, -1)} rows={rows} width={width} height={height - (notice ? 2 : 1)} selected={nav.selected} theme={theme} empty="no alerts" />
    </Box>
  );
}

export default defineView({
  name: 'alerts',
  title: 'Alerts',
  topics: ['alerts'],
  keys: [{ key: 'Enter', label: 'evidence' }, { key: 'A', label: 'acknowledge' }, { key: 'x', label: 'suppress 24h' }],
  description: 'open and recent alerts with their evidence; acknowledge, suppress',
  component: Alerts,
});
