/**
 * Processes: traffic per local process — or, with `u`, per systemd unit or container — summed over the
 * finished connections the agents name a process for (conn records' orig_process / resp_process: a live
 * agent's, never a replay's), live as they come. `s` sorts, Enter lists a process's connections, Enter
 * again shows one whole, Esc goes back to the list.
 */
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import type { ConnRecord, ProcessRecord } from '../../analyze/records.js';
import type { AgentSnapshot } from '../agent-store.js';
import { type Column, Table } from '../components/Table.js';
import { RecordDetail } from '../components/RecordDetail.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import { matchesFilter, nameIn } from '../data.js';
import { fitTarget, formatBytes, formatClock, formatEndpoint, formatHost, formatProcess } from '../format.js';
import { defineView, type ViewProps } from '../view-registry.js';

/** One process (or unit) of one agent and what its connections carried, seen from its end. */
export interface ProcessRow {
  agent: string;
  /** The process (`curl[4242]`) or the unit (`nginx.service`, `(no unit)`). */
  label: string;
  users: string[];
  units: string[];
  pids: number[];
  conns: number;
  /** Bytes its end sent and received. */
  out: number;
  in: number;
  /** When its latest connection ended. */
  last: number;
  flows: Array<{ r: ConnRecord; local: 'orig' | 'resp' }>;
}

const NO_UNIT = '(no unit)';

function addTo(row: ProcessRow, p: ProcessRecord, r: ConnRecord, local: 'orig' | 'resp'): void {
  const [sent, received] = local === 'orig' ? [r.orig_bytes, r.resp_bytes] : [r.resp_bytes, r.orig_bytes];
  row.conns++;
  row.out += sent;
  row.in += received;
  row.last = Math.max(row.last, r.ts + r.duration);
  if (p.user !== undefined && !row.users.includes(p.user)) row.users.push(p.user);
  if (!row.units.includes(p.unit ?? NO_UNIT)) row.units.push(p.unit ?? NO_UNIT);
  if (!row.pids.includes(p.pid)) row.pids.push(p.pid);
  row.flows.push({ r, local });
}

/** The agents' kept connections summed per process (pid and name, per agent) or per unit. */
export function processRows(agents: readonly AgentSnapshot[], byUnit: boolean): ProcessRow[] {
  const rows = new Map<string, ProcessRow>();
  for (const a of agents) {
    for (const r of a.flows) {
      for (const [p, local] of [[r.orig_process, 'orig'], [r.resp_process, 'resp']] as const) {
        if (p === undefined) continue;
        const label = byUnit ? (p.unit ?? NO_UNIT) : formatProcess(p);
        const key = `${a.target}\t${label}`;
        let row = rows.get(key);
        if (!row) rows.set(key, (row = { agent: a.name, label, users: [], units: [], pids: [], conns: 0, out: 0, in: 0, last: 0, flows: [] }));
        addTo(row, p, r, local);
      }
    }
  }
  return [...rows.values()];
}

const SORTS: Array<{ name: string; compare: (a: ProcessRow, b: ProcessRow) => number }> = [
  { name: 'bytes', compare: (a, b) => b.out + b.in - (a.out + a.in) },
  { name: 'connections', compare: (a, b) => b.conns - a.conns },
  { name: 'latest', compare: (a, b) => b.last - a.last },
  { name: 'name', compare: (a, b) => a.label.localeCompare(b.label) },
];

function columns(byUnit: boolean, multi: boolean): Column<ProcessRow>[] {
  const all: Column<ProcessRow>[] = [
    { header: byUnit ? 'unit' : 'process', width: 18, grow: 2, cell: (r) => r.label },
    byUnit
      ? { header: 'procs', width: 5, align: 'right', cell: (r) => String(r.pids.length) }
      : { header: 'unit', width: 14, grow: 2, cell: (r) => r.units.join(',') },
    { header: 'user', width: 8, grow: 1, cell: (r) => r.users.join(',') || '-' },
    { header: 'conns', width: 5, align: 'right', cell: (r) => String(r.conns) },
    { header: 'out', width: 6, align: 'right', cell: (r) => formatBytes(r.out) },
    { header: 'in', width: 6, align: 'right', cell: (r) => formatBytes(r.in) },
    { header: 'latest', width: 8, optional: true, cell: (r) => formatClock(r.last) },
    { header: 'agent', width: 16, grow: 1, optional: true, cell: (r) => fitTarget(r.agent, 16) },
  ];
  return multi ? all : all.slice(0, -1);
}

type Flow = ProcessRow['flows'][number];

/** The peer of a process's connection, seen from the process (→ it connected out, ← it accepted), with its name. */
function peerOf({ r, local }: Flow, agents: readonly AgentSnapshot[]): string {
  const [address, port] = local === 'orig' ? [r['id.resp_h'], r['id.resp_p']] : [r['id.orig_h'], r['id.orig_p']];
  return `${local === 'orig' ? '→' : '←'} ${formatHost(formatEndpoint(address, port), nameIn(agents, address))}`;
}

const flowColumns = (agents: readonly AgentSnapshot[]): Column<Flow>[] => [
  { header: 'time', width: 8, cell: ({ r }) => formatClock(r.ts) },
  { header: 'process', width: 14, grow: 1, cell: ({ r, local }) => formatProcess((local === 'orig' ? r.orig_process : r.resp_process)!) },
  { header: 'peer', width: 24, grow: 2, cell: (flow) => peerOf(flow, agents) },
  { header: 'svc', width: 6, cell: ({ r }) => r.service ?? r.proto },
  { header: 'state', width: 6, cell: ({ r }) => r.conn_state },
  { header: 'out', width: 6, align: 'right', cell: ({ r, local }) => formatBytes(local === 'orig' ? r.orig_bytes : r.resp_bytes) },
  { header: 'in', width: 6, align: 'right', cell: ({ r, local }) => formatBytes(local === 'orig' ? r.resp_bytes : r.orig_bytes) },
];

/** A process's connections, newest first; Enter shows one whole (Esc returns to the processes). */
function ProcessFlows({ row, props }: { row: ProcessRow; props: ViewProps }) {
  const flows = [...row.flows].sort((a, b) => b.r.ts + b.r.duration - (a.r.ts + a.r.duration));
  const nav = useListNavigation(flows.length, { active: props.inputActive, page: props.height - 4 });
  const chosen = flows[nav.selected];
  if (nav.detail && chosen) return <RecordDetail title={`connection ${chosen.r.uid} of ${row.label} on ${row.agent}`} record={chosen.r} width={props.width} height={props.height} />;
  return (
    <Box flexDirection="column" width={props.width}>
      <Text bold wrap="truncate">
        {row.label} on {row.agent}: {row.conns} connections, {formatBytes(row.out)} out, {formatBytes(row.in)} in — user {row.users.join(',') || '-'}, {row.units.join(',')}  (Esc back)
      </Text>
      <Table columns={flowColumns(props.agents)} rows={flows} width={props.width} height={props.height - 1} selected={nav.selected} theme={props.theme} />
    </Box>
  );
}

function Processes(props: ViewProps) {
  const { width, height, theme, filter } = props;
  const [byUnit, setByUnit] = useState(false);
  const multi = props.agents.length > 1;
  const all = processRows(props.agents, byUnit).filter((r) => matchesFilter(filter, [r.label, ...r.users, ...r.units, ...r.pids, multi ? r.agent : undefined]));
  const nav = useListNavigation(all.length, { active: props.inputActive, page: height - 3, sorts: SORTS.length });
  useInput((input) => input === 'u' && !nav.detail && setByUnit((u) => !u), { isActive: props.inputActive });
  const sort = SORTS[nav.sort];
  const rows = all.sort(sort.compare);
  const chosen = rows[nav.selected];
  if (nav.detail && chosen) return <ProcessFlows row={chosen} props={props} />;
  const named = props.agents.some((a) => a.flows.some((r) => r.orig_process !== undefined || r.resp_process !== undefined));
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        {rows.length} {byUnit ? 'units' : 'processes'}{filter ? ` matching "${filter}"` : ''}, sorted by {sort.name} (u: by {byUnit ? 'process' : 'unit'})
      </Text>
      <Table columns={columns(byUnit, multi)} rows={rows} width={width} height={height - 1} selected={nav.selected} theme={theme}
        empty={filter ? 'nothing matches the filter' : named ? 'no process yet' : 'no connection names a process yet (a live agent with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH names them)'} />
    </Box>
  );
}

export default defineView({
  name: 'processes',
  title: 'Processes',
  topics: ['flows'],
  keys: [{ key: '/', label: 'filter' }, { key: 's', label: 'sort' }, { key: 'u', label: 'unit' }, { key: 'Enter', label: 'connections' }],
  description: 'traffic per local process or unit, from finished connections, with their connections',
  component: Processes,
});
