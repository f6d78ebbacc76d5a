/**
 * History: the chosen agents' stored data over a range — last hour, day, week (`r` steps through them) or
 * typed times (`t`). A column chart of bytes per step with a time cursor (←/→ or h/l, H/L ten steps); Enter
 * asks the agents what happened in the cursor's step (top connections, DNS names, alerts); Esc goes back.
 */
import { Box, Text, useInput } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { SeriesPoint } from '../../client/agent-client.js';
import type { AlertRecord, ConnRecord, DnsRecord } from '../../analyze/records.js';
import { columnChart } from '../components/chart.js';
import { fit, formatBitsPerSecond, formatBytes, formatDateTime, formatEndpoint, formatSi } from '../format.js';
import { PRESETS, parseRange, presetRange, resolutionFor, type TimeRange } from '../history-range.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';

interface Bucket {
  ts: number;
  bytes: number;
  packets: number;
  flows: number;
  dns: number;
  alerts: number;
  dropped: number;
}

interface Detail {
  flows: ConnRecord[];
  dns: DnsRecord[];
  alerts: AlertRecord[];
  errors: string[];
}

/** Sums the agents' points into one bucket per step over the range (missing steps read 0). */
export function bucketize(series: readonly SeriesPoint[][], range: TimeRange, step: number): Bucket[] {
  const count = Math.max(1, Math.ceil((range.until - range.since) / step));
  const out: Bucket[] = Array.from({ length: count }, (_, i) => ({ ts: range.since + i * step, bytes: 0, packets: 0, flows: 0, dns: 0, alerts: 0, dropped: 0 }));
  for (const points of series) {
    for (const p of points) {
      const i = Math.floor((p.ts - range.since) / step);
      if (i < 0 || i >= count) continue;
      const b = out[i];
      b.bytes += p.bytes;
      b.packets += p.packets;
      b.flows += p.flows_opened;
      b.dns += p.dns_queries;
      b.alerts += p.alerts;
      b.dropped += p.dropped;
    }
  }
  return out;
}

function History(props: ViewProps) {
  const { width, height, theme, agents, now, captureKeys } = props;
  const [range, setRange] = useState<TimeRange>(() => presetRange(0, now()));
  const [preset, setPreset] = useState(0);
  const [series, setSeries] = useState<{ points: SeriesPoint[][]; errors: string[]; loading: boolean }>({ points: [], errors: [], loading: true });
  const [cursor, setCursor] = useState(-1);
  const [typing, setTypingState] = useState<string | null>(null);
  // Also in a ref: Enter may arrive in the same batch as the last typed keys, before a render.
  const typingRef = useRef<string | null>(null);
  const setTyping = (next: string | null | ((t: string | null) => string | null)) => {
    typingRef.current = typeof next === 'function' ? next(typingRef.current) : next;
    setTypingState(typingRef.current);
  };
  const [typeError, setTypeError] = useState('');
  const [detail, setDetail] = useState<Detail | 'loading' | null>(null);
  const { resolution, step } = resolutionFor(range);
  const targets = agents.map((a) => a.target).join(',');

  useEffect(() => {
    let live = true;
    setSeries((s) => ({ ...s, loading: true }));
    Promise.all(
      agents.map((a) =>
        a.client.series({ since: range.since, until: range.until, resolution }).then(
          (points) => ({ points, error: '' }),
          (err: Error) => ({ points: [] as SeriesPoint[], error: `${a.name}: ${err.message}` }),
        ),
      ),
    ).then((results) => {
      if (live) setSeries({ points: results.map((r) => r.points), errors: results.map((r) => r.error).filter((e) => e), loading: false });
    });
    return () => {
      live = false;
    };
    // Agents are compared by target: a new snapshot of the same agents must not refetch every second.
  }, [range.since, range.until, resolution, targets]);

  const buckets = bucketize(series.points, range, step);
  const at = cursor < 0 || cursor >= buckets.length ? buckets.length - 1 : cursor;

  useInput(
    (input, key) => {
      if (typingRef.current !== null) {
        if (key.escape) {
          setTyping(null);
          captureKeys(false);
        } else if (key.return) {
          const parsed = parseRange(typingRef.current, now());
          if ('error' in parsed) return setTypeError(parsed.error);
          setRange(parsed);
          setCursor(-1);
          setTyping(null);
          setTypeError('');
          captureKeys(false);
        } else if (key.backspace || key.delete) setTyping((t) => (t ?? '').slice(0, -1));
        // Functional updates: a pasted or fast-typed run of keys arrives before the next render.
        else if (input && !key.ctrl && !key.meta) setTyping((t) => (t ?? '') + input);
        return;
      }
      if (key.escape) return setDetail(null);
      if (detail) return;
      // Functional update: key repeats can arrive before the next render.
      const last = buckets.length - 1;
      const move = (n: number) => setCursor((c) => Math.max(0, Math.min(last, (c < 0 || c > last ? last : c) + n)));
      if (key.leftArrow || input === 'h') move(-1);
      else if (key.rightArrow || input === 'l') move(1);
      else if (input === 'H') move(-10);
      else if (input === 'L') move(10);
      else if (input === 'r') {
        const next = (preset + 1) % PRESETS.length;
        setPreset(next);
        setRange(presetRange(next, now()));
        setCursor(-1);
      } else if (input === 't') {
        setTyping('');
        captureKeys(true);
      } else if (key.return && buckets[at]) {
        const q = { since: buckets[at].ts, until: buckets[at].ts + step, limit: 200 };
        setDetail('loading');
        Promise.all(
          agents.map((a) =>
            Promise.all([a.client.flows(q), a.client.dns(q), a.client.alerts(q)]).then(
              ([flows, dns, alerts]) => ({ flows, dns, alerts: alerts.filter((r) => r.type === 'alert') as unknown as AlertRecord[], error: '' }),
              (err: Error) => ({ flows: [], dns: [], alerts: [], error: `${a.name}: ${err.message}` }),
            ),
          ),
        ).then((rs) => setDetail({ flows: rs.flatMap((r) => r.flows), dns: rs.flatMap((r) => r.dns), alerts: rs.flatMap((r) => r.alerts), errors: rs.map((r) => r.error).filter((e) => e) }));
      }
    },
    { isActive: props.inputActive || typing !== null },
  );

  const cur = buckets[at];
  const header = (
    <>
      <Text wrap="truncate" bold>
        {range.label}: {formatDateTime(range.since)} → {formatDateTime(range.until)} UTC, {resolution} steps{series.loading ? ' (loading…)' : ''}
      </Text>
      {typing !== null ? (
        <Text wrap="truncate">
          range: {typing}█ <Text {...tone(theme, 'dim')}>(Enter apply, Esc cancel)</Text>
        </Text>
      ) : null}
      {typeError ? <Text {...tone(theme, 'bad')} wrap="truncate">{typeError}</Text> : null}
      {series.errors.map((e) => (
        <Text key={e} {...tone(theme, 'bad')} wrap="truncate">{e}</Text>
      ))}
    </>
  );
  if (detail) {
    const lines = Math.max(2, Math.floor((height - 6) / 3));
    return (
      <Box flexDirection="column" width={width}>
        {header}
        <Text bold>At {cur ? formatDateTime(cur.ts) : '-'} (+{step}s)  (Esc back)</Text>
        {detail === 'loading' ? <Text>loading…</Text> : (
          <>
            {detail.errors.map((e) => <Text key={e} {...tone(theme, 'bad')}>{e}</Text>)}
            <Text bold>connections ({detail.flows.length})</Text>
            {detail.flows.sort((a, b) => b.orig_bytes + b.resp_bytes - a.orig_bytes - a.resp_bytes).slice(0, lines).map((f) => (
              <Text key={f.uid} wrap="truncate">{formatEndpoint(f['id.orig_h'], f['id.orig_p'])} → {formatEndpoint(f['id.resp_h'], f['id.resp_p'])} {f.service ?? f.proto} {f.conn_state} {formatBytes(f.orig_bytes + f.resp_bytes)}</Text>
            ))}
            <Text bold>DNS ({detail.dns.length})</Text>
            {detail.dns.slice(0, lines).map((d, i) => (
              <Text key={i} wrap="truncate">{d.query ?? '-'} {d.qtype_name ?? ''} {d.rcode_name ?? ''}</Text>
            ))}
            <Text bold>alerts ({detail.alerts.length})</Text>
            {detail.alerts.slice(0, lines).map((a) => (
              <Text key={`${a.alert_id}${a.state_ts}`} wrap="truncate">{a.severity} {a.detector}: {a.message}</Text>
            ))}
          </>
        )}
      </Box>
    );
  }
  const chartWidth = Math.max(10, width - 2);
  // More steps than columns: each column shows the busiest of the steps it covers.
  const perColumn = Math.max(1, Math.ceil(buckets.length / chartWidth));
  const columns: number[] = [];
  for (let i = 0; i < buckets.length; i += perColumn) columns.push(Math.max(...buckets.slice(i, i + perColumn).map((b) => b.bytes)));
  const cursorColumn = Math.floor(at / perColumn);
  const rows = Math.max(3, height - 8);
  return (
    <Box flexDirection="column" width={width}>
      {header}
      {columnChart(columns, rows).map((line, i) => (
        <Text key={i} {...tone(theme, 'accent')}>{line}</Text>
      ))}
      <Text>{' '.repeat(cursorColumn)}^</Text>
      <Text wrap="truncate">
        {fit(cur ? `cursor ${formatDateTime(cur.ts)}` : 'no data', 24)} {cur ? `${formatBitsPerSecond(cur.bytes / step)}  ${formatSi(cur.packets)} pkts  ${formatSi(cur.flows)} flows  ${formatSi(cur.dns)} dns  ${cur.alerts} alerts  ${formatSi(cur.dropped)} dropped` : ''}
      </Text>
    </Box>
  );
}

export default defineView({
  name: 'history',
  title: 'History',
  topics: [],
  keys: [{ key: '←→', label: 'cursor' }, { key: 'r', label: 'range' }, { key: 't', label: 'type times' }, { key: 'Enter', label: 'at cursor' }],
  description: 'stored data over the last hour, day, week or typed times, with a time cursor',
  component: History,
});
