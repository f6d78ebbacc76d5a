/**
 * Overview: the screen a sysadmin leaves open. Every agent on one line (name, state, bits/s in and out,
 * packets/s, a sparkline of its traffic, drop %, its own CPU and RSS; "—" for what an agent that is not
 * connected cannot vouch for), the fleet's totals, a chart of the fleet's traffic, and three panels: the open
 * alerts, the top talkers and the top DNS names of the last minute. At 80×24 it all fits; a larger terminal
 * gives the chart and the panels its space (the panels side by side from 150 columns).
 */
import { Box, Text } from 'ink';
import { displayText } from '../../analyze/display-text.js';
import type { StatsSecond } from '../../stats/stats-record.js';
import type { AgentSnapshot } from '../agent-store.js';
import { AXIS_WIDTH, axisLabels, columnChart } from '../components/chart.js';
import { Panel, type PanelLine } from '../components/Panel.js';
import { type Column, layoutColumns, Table } from '../components/Table.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { combinedPerSecond, connectionLabel, countNames, dropPercent, isOpenAlert, lastSecond, openAlertCount, perSecond, SEVERITY_RANK } from '../data.js';
import { fit, fitTarget, formatBitsPerSecond, formatBytes, formatClock, formatHost, formatPercent, formatSi, sparkline } from '../format.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';
import { hostRows } from './HostsView.js';

/** Shown for a figure an agent that is not connected cannot vouch for: its last numbers would read as current. */
export const NO_FIGURE = '—';

/** Talkers and DNS names are those of the last minute. */
const WINDOW_SECONDS = 60;
/** From this width the three panels stand side by side. */
const SIDE_BY_SIDE = 150;

/** A figure of the agent's last second (`rate` divides by its duration), "—" when the agent is not connected. */
function agentFigure(agent: AgentSnapshot, text: (s: StatsSecond, rate: (n: number) => number) => string): string {
  const s = lastSecond(agent);
  if (!connectionLabel(agent).ok) return NO_FIGURE;
  if (!s) return '-';
  return text(s, (n) => n / (s.duration > 0 ? s.duration : 1));
}

function agentColumns(): Column<AgentSnapshot>[] {
  return [
    { header: ' ', width: 1, cell: (a) => (connectionLabel(a).ok ? '●' : '○'), tone: (a) => (connectionLabel(a).ok ? 'good' : 'bad') },
    { header: 'agent', width: 10, grow: 1, cell: (a) => a.name },
    { header: 'state', width: 14, cell: (a) => connectionLabel(a).text, tone: (a) => (connectionLabel(a).ok ? 'good' : 'bad') },
    { header: 'in', width: 8, align: 'right', cell: (a) => agentFigure(a, (s, rate) => formatBitsPerSecond(rate(s.bytes_in))) },
    { header: 'out', width: 8, align: 'right', cell: (a) => agentFigure(a, (s, rate) => formatBitsPerSecond(rate(s.bytes_out))) },
    { header: 'pkt/s', width: 6, align: 'right', cell: (a) => agentFigure(a, (s, rate) => formatSi(rate(s.packets))) },
    { header: 'traffic', width: 6, grow: 4, cell: () => '', tone: () => 'accent' },
    { header: 'drop', width: 5, align: 'right', cell: (a) => agentFigure(a, (s) => formatPercent(dropPercent(s))) },
    { header: 'cpu', width: 5, align: 'right', cell: (a) => agentFigure(a, (s) => formatPercent(s.cpu_percent)) },
    { header: 'rss', width: 5, align: 'right', cell: (a) => agentFigure(a, (s) => formatBytes(s.rss_bytes)) },
    { header: 'alerts', width: 6, align: 'right', optional: true, cell: (a) => String(openAlertCount(a)) },
  ];
}

/**
 * Cells that need their column's width, known only once the table is laid out: the sparkline fills its
 * column, and a name that is a unix socket path keeps its end (the socket's name) rather than its start.
 */
function laidOut(columns: Column<AgentSnapshot>[], width: number): Column<AgentSnapshot>[] {
  const widthOf = (header: string) => layoutColumns(columns, width).find((l) => l.col.header === header)?.width ?? 0;
  const spark = widthOf('traffic');
  const name = widthOf('agent');
  return columns.map((c) => {
    if (c.header === 'traffic') return { ...c, cell: (a: AgentSnapshot) => (connectionLabel(a).ok ? sparkline(perSecond(a.seconds, (s) => s.bytes, spark), spark) : NO_FIGURE) };
    if (c.header === 'agent') return { ...c, cell: (a: AgentSnapshot) => fitTarget(c.cell(a), name) };
    return c;
  });
}

function FleetLine({ agents, theme }: { agents: readonly AgentSnapshot[] } & Pick<ViewProps, 'theme'>) {
  const up = agents.filter((a) => connectionLabel(a).ok);
  let bytesIn = 0;
  let bytesOut = 0;
  let packets = 0;
  let flows = 0;
  let queries = 0;
  for (const a of up) {
    const s = lastSecond(a);
    if (!s) continue;
    const d = s.duration > 0 ? s.duration : 1;
    bytesIn += s.bytes_in / d;
    bytesOut += s.bytes_out / d;
    packets += s.packets / d;
    flows += s.flows_active;
    queries += s.dns.queries / d;
  }
  const open = agents.reduce((n, a) => n + openAlertCount(a), 0);
  return (
    <Text wrap="truncate">
      <Text bold>fleet</Text> <Text {...tone(theme, up.length === agents.length ? 'good' : 'bad')}>{up.length}/{agents.length} up</Text>
      {`  in ${formatBitsPerSecond(bytesIn)} out ${formatBitsPerSecond(bytesOut)}  ${formatSi(packets)} pkt/s  ${formatSi(flows)} flows  ${formatSi(queries)} dns/s  `}
      <Text {...tone(theme, open > 0 ? 'bad' : 'good')}>{open} alerts</Text>
    </Text>
  );
}

function TrafficChart({ agents, width, rows, theme }: { agents: readonly AgentSnapshot[]; width: number; rows: number } & Pick<ViewProps, 'theme'>) {
  const columns = Math.max(10, width - AXIS_WIDTH);
  const bits = combinedPerSecond(agents.filter((a) => connectionLabel(a).ok), (s) => s.bytes * 8, columns);
  const top = Math.max(0, ...bits);
  const axis = axisLabels(rows, top, (v) => formatBitsPerSecond(v / 8));
  return (
    <>
      <Text bold wrap="truncate">traffic, bits/s in + out, last {columns}s</Text>
      {columnChart(bits, rows, top).map((line, i) => (
        <Text key={i} wrap="truncate">
          {axis[i]}<Text {...tone(theme, 'accent')}>{line}</Text>
        </Text>
      ))}
    </>
  );
}

function alertLines(agents: readonly AgentSnapshot[]): PanelLine[] {
  const rows = agents.flatMap((agent) => agent.alerts.filter((a) => isOpenAlert(a) && !agent.acknowledged.has(a.alert_id)).map((a) => ({ agent, a })));
  rows.sort((x, y) => (SEVERITY_RANK[x.a.severity] ?? 9) - (SEVERITY_RANK[y.a.severity] ?? 9) || y.a.state_ts - x.a.state_ts);
  const detector = Math.min(18, Math.max(0, ...rows.map((r) => r.a.detector.length)));
  const many = agents.length > 1;
  return rows.map(({ agent, a }) => ({
    name: `${fit(a.severity.toUpperCase(), 8)} ${fit(a.detector, detector)} ${many ? `${fit(agent.name, 8)} ` : ''}${displayText(a.message)}`,
    value: formatClock(a.ts).slice(0, 5),
    tone: a.severity === 'critical' || a.severity === 'high' ? 'bad' : a.severity === 'medium' ? 'warn' : undefined,
  }));
}

function talkerLines(agents: readonly AgentSnapshot[]): PanelLine[] {
  return hostRows(agents)
    .sort((a, b) => b.bytes - a.bytes)
    .map((r) => ({ name: formatHost(r.host), value: formatBitsPerSecond(r.bytes / WINDOW_SECONDS), tone: r.local ? 'accent' : undefined }));
}

/** Names asked in each agent's last minute (by the agent's clock: agents and this screen may disagree on the time). */
function dnsLines(agents: readonly AgentSnapshot[]): PanelLine[] {
  const recent = agents.flatMap((a) => {
    const end = lastSecond(a)?.ts ?? Infinity;
    return a.dns.filter((r) => r.ts >= end - WINDOW_SECONDS);
  });
  return countNames(recent, () => true);
}

/**
 * Lines for each part: the agents and the fixed lines first; the panels get what their lists need (the alerts
 * at least a third of them, as they are the news); the chart gets the rest, up to MAX_CHART_ROWS.
 */
export function overviewLayout(height: number, need: { agents: number; alerts: number; lists: number }, sideBySide: boolean): { agentRows: number; chartRows: number; alertRows: number; listRows: number } {
  const agentRows = Math.max(1, Math.min(need.agents, Math.floor(height / 3)));
  // Header of the agent table, fleet line, chart title, one title per row of panels.
  const rest = height - agentRows - 3 - (sideBySide ? 1 : 2);
  const panels = Math.max(2, Math.floor((rest * 2) / 3));
  if (sideBySide) {
    const rows = Math.max(1, Math.min(panels, Math.max(need.alerts, need.lists)));
    return { agentRows, chartRows: chartRowsOf(rest - rows), alertRows: rows, listRows: rows };
  }
  const alertRows = Math.max(1, Math.min(need.alerts, Math.max(1, Math.floor(panels / 3)), panels - 1));
  const listRows = Math.max(1, Math.min(need.lists, panels - alertRows));
  const moreAlerts = Math.max(0, Math.min(need.alerts - alertRows, panels - alertRows - listRows));
  return { agentRows, chartRows: chartRowsOf(rest - alertRows - moreAlerts - listRows), alertRows: alertRows + moreAlerts, listRows };
}

/** A chart taller than this reads no better: what is left stays blank for the lists to grow into. */
const MAX_CHART_ROWS = 12;
const chartRowsOf = (left: number) => Math.max(2, Math.min(MAX_CHART_ROWS, left));

function Overview(props: ViewProps) {
  const { snapshot, width, height, inputActive, theme } = props;
  const agents = snapshot.agents;
  const down = agents.filter((a) => a.state.state === 'disconnected');
  const sideBySide = width >= SIDE_BY_SIDE;
  const alerts = alertLines(agents);
  const talkers = talkerLines(agents);
  const names = dnsLines(agents);
  const need = { agents: agents.length, alerts: Math.max(1, alerts.length), lists: Math.max(1, talkers.length, names.length) };
  const chosen = new Set(props.agents.map((a) => a.target));
  // Agents left out of the other views (key a) are named, so their absence there is no surprise.
  const hidden = agents.filter((a) => !chosen.has(a.target)).map((a) => a.name);
  const layout = overviewLayout(height - Math.min(down.length, 2) - (hidden.length > 0 ? 1 : 0), need, sideBySide);
  const nav = useListNavigation(agents.length, { active: inputActive, page: layout.agentRows });
  if (agents.length === 0) return <Text>No agents: give TARGETs (loopy ui unix:/run/loopy.sock) or name agents in the config.</Text>;
  const columns = laidOut(agentColumns(), width);
  const alertsTitle = `open alerts (${alerts.length})`;
  const half = Math.floor((width - 1) / 2);
  const third = Math.floor((width - 2) / 4);
  return (
    <Box flexDirection="column" width={width}>
      <Table columns={columns} rows={agents} width={width} height={layout.agentRows + 1} selected={nav.selected} theme={theme} />
      {down.slice(0, 2).map((a) => (
        <Text key={a.target} wrap="truncate" {...tone(theme, 'bad')}>○ {a.name}: {a.state.state === 'disconnected' ? a.state.error : ''}</Text>
      ))}
      {hidden.length > 0 ? <Text wrap="truncate" {...tone(theme, 'dim')}>not in the other views (press a): {hidden.join(', ')}</Text> : null}
      <FleetLine agents={agents} theme={theme} />
      <TrafficChart agents={agents} width={width} rows={layout.chartRows} theme={theme} />
      {sideBySide ? (
        <Box flexDirection="row" gap={1}>
          <Panel title={alertsTitle} lines={alerts} width={width - 2 * third - 2} height={layout.alertRows + 1} theme={theme} empty="none" />
          <Panel title="top talkers, last minute" lines={talkers} width={third} height={layout.listRows + 1} theme={theme} empty="no traffic yet" />
          <Panel title="top DNS names, last minute" lines={names} width={third} height={layout.listRows + 1} theme={theme} empty="no DNS yet" />
        </Box>
      ) : (
        <>
          <Panel title={alertsTitle} lines={alerts} width={width} height={layout.alertRows + 1} theme={theme} empty="none" />
          <Box flexDirection="row" gap={1}>
            <Panel title="top talkers, last minute" lines={talkers} width={half} height={layout.listRows + 1} theme={theme} empty="no traffic yet" />
            <Panel title="top DNS names, last minute" lines={names} width={width - half - 1} height={layout.listRows + 1} theme={theme} empty="no DNS yet" />
          </Box>
        </>
      )}
    </Box>
  );
}

export default defineView({
  name: 'overview',
  title: 'Overview',
  topics: ['stats', 'alerts', 'dns'],
  keys: [{ key: '↑↓', label: 'agent' }],
  description: 'every agent at a glance (state, rates, drops, its own CPU and memory), fleet totals, traffic, open alerts, top talkers and DNS names',
  component: Overview,
});
