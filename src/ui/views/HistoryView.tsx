/**
 * History: the chosen agents' stored data over a range — last hour, day, week (`r` steps through them) or
 * typed times (`t`, the forms of `loopy query --since`). A column chart of bits/s per step with a y-axis and a
 * time cursor (←/→ or h/l, H/L ten steps); Enter asks the agents what happened in the cursor's step (every
 * connection, DNS transaction and alert of it: their counts are the cursor's counts); Esc goes back.
 */
import { Box, Text, useInput } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { SeriesPoint } from '../../client/agent-client.js';
import type { AlertRecord, ConnRecord, DnsRecord } from '../../analyze/records.js';
import { AXIS_WIDTH, axisLabels, columnChart } from '../components/chart.js';
import { displayText } from '../../analyze/display-text.js';
import { formatBitsPerSecond, formatBytes, formatDateTime, formatHost, formatSi } from '../format.js';
import { PRESETS, RANGE_FORMS, parseRange, presetRange, resolutionFor, type TimeRange } from '../history-range.js';
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

/**
 * Sums the agents' points into one bucket per step over the range (missing steps read 0). Buckets start on
 * the step's boundaries, as the agents' points do (a minute is 19:20:00–19:20:59 UTC), whatever second the
 * range starts at: a bucket starting at 19:19:30 would file 19:20's point under "19:19" and ask for the
 * wrong records at Enter.
 */
export function bucketize(series: readonly SeriesPoint[][], range: TimeRange, step: number): Bucket[] {
  const first = Math.floor(range.since / step) * step;
  const count = Math.max(1, Math.ceil((range.until - first) / step));
  const out: Bucket[] = Array.from({ length: count }, (_, i) => ({ ts: first + i * step, bytes: 0, packets: 0, flows: 0, dns: 0, alerts: 0, dropped: 0 }));
  for (const points of series) {
    for (const p of points) {
      const i = Math.floor((p.ts - first) / step);
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
  const [, setPreset, presetRef] = useLatestState(0);
  const [series, setSeries] = useState<{ points: SeriesPoint[][]; errors: string[]; loading: boolean }>({ points: [], errors: [], loading: true });
  const [cursor, setCursor, cursorRef] = useLatestState(-1);
  // Typed text and the cursor are read by key handlers that may run before the next render (a fast-typed or
  // pasted run of keys; Enter right after ←): they read the latest value, not the one of the last render.
  const [typing, setTyping, typingRef] = useLatestState<string | null>(null);
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
  const stepAt = (c: number) => (c < 0 || c >= buckets.length ? buckets.length - 1 : c);
  const at = stepAt(cursor);

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
        const next = (presetRef.current + 1) % PRESETS.length;
        setPreset(next);
        setRange(presetRange(next, now()));
        setCursor(-1);
      } else if (input === 't') {
        setTyping('');
        captureKeys(true);
      } else if (key.return && buckets[stepAt(cursorRef.current)]) {
        setDetail('loading');
        void loadDetail(agents, buckets[stepAt(cursorRef.current)].ts, step).then(setDetail);
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
          range: {typing}█ <Text {...tone(theme, 'dim')}>{RANGE_FORMS}; Enter apply, Esc cancel</Text>
        </Text>
      ) : null}
      {typeError ? <Text {...tone(theme, 'bad')} wrap="truncate">{typeError}</Text> : null}
      {series.errors.map((e) => (
        <Text key={e} {...tone(theme, 'bad')} wrap="truncate">{e}</Text>
      ))}
    </>
  );
  const headerLines = 1 + (typing !== null ? 1 : 0) + (typeError ? 1 : 0) + series.errors.length;
  if (detail) return <Box flexDirection="column" width={width}>{header}<DetailPanel detail={detail} bucket={cur} step={step} height={height - headerLines} theme={theme} /></Box>;
  return (
    <Box flexDirection="column" width={width}>
      {header}
      <HistoryChart buckets={buckets} at={at} step={step} width={width} rows={Math.max(3, height - headerLines - 4)} theme={theme} />
      <Text wrap="truncate">{cur ? cursorText(cur, step, width) : 'no data'}</Text>
    </Box>
  );
}

/** State whose latest value a ref also holds, for handlers that run before the render that would show it. */
function useLatestState<T>(initial: T): [T, (next: T | ((current: T) => T)) => void, { readonly current: T }] {
  const [value, setValue] = useState(initial);
  const ref = useRef(initial);
  const set = (next: T | ((current: T) => T)) => {
    ref.current = typeof next === 'function' ? (next as (current: T) => T)(ref.current) : next;
    setValue(ref.current);
  };
  return [value, set, ref];
}

/** The cursor's step in `width` cells: two spaces between figures when they fit, one when not. */
function cursorText(b: Bucket, step: number, width: number): string {
  const parts = [formatDateTime(b.ts), formatBitsPerSecond(b.bytes / step), `${formatSi(b.packets)} pkts`, countsText(b.flows, b.dns, b.alerts), `${formatSi(b.dropped)} dropped`];
  const roomy = parts.join('  ');
  return roomy.length <= width ? roomy : parts.join(' ').replaceAll('  ', ' ');
}

/** The counts of a step in the same words on the cursor line and in its details, so they can be compared. */
function countsText(flows: number, dns: number, alerts: number): string {
  return `${formatSi(flows)} connections  ${formatSi(dns)} DNS  ${formatSi(alerts)} alerts`;
}

/** Rows the details ask for: the protocol's maximum, so their counts are the step's whole counts. */
const DETAIL_LIMIT = 10_000;

/** The records of one step from every agent: what the step's counts count. */
async function loadDetail(agents: ViewProps['agents'], since: number, step: number): Promise<Detail> {
  const q = { since, until: since + step, limit: DETAIL_LIMIT };
  const rs = await Promise.all(
    agents.map((a) =>
      Promise.all([a.client.flows(q), a.client.dns(q), a.client.alerts(q)]).then(
        ([flows, dns, alerts]) => ({ flows, dns, alerts: alerts.filter((r) => r.type === 'alert') as unknown as AlertRecord[], error: '' }),
        (err: Error) => ({ flows: [], dns: [], alerts: [], error: `${a.name}: ${err.message}` }),
      ),
    ),
  );
  return { flows: rs.flatMap((r) => r.flows), dns: rs.flatMap((r) => r.dns), alerts: rs.flatMap((r) => r.alerts), errors: rs.map((r) => r.error).filter((e) => e) };
}

function DetailPanel({ detail, bucket, step, height, theme }: { detail: Detail | 'loading'; bucket: Bucket | undefined; step: number; height: number } & Pick<ViewProps, 'theme'>) {
  const when = bucket ? `${formatDateTime(bucket.ts)} +${step}s` : '-';
  if (detail === 'loading') return <><Text bold>At {when}  (Esc back)</Text><Text>loading…</Text></>;
  const count = (n: number) => (n >= DETAIL_LIMIT ? `${formatSi(n)}+` : String(n));
  const lines = Math.max(1, Math.floor((height - 4 - detail.errors.length) / 3));
  const flows = detail.flows.slice().sort((a, b) => b.orig_bytes + b.resp_bytes - a.orig_bytes - a.resp_bytes);
  return (
    <>
      <Text bold wrap="truncate">At {when}: {countsText(detail.flows.length, detail.dns.length, detail.alerts.length)}  (Esc back)</Text>
      {detail.errors.map((e) => <Text key={e} {...tone(theme, 'bad')} wrap="truncate">{e}</Text>)}
      <Text bold>connections ({count(detail.flows.length)}, biggest first)</Text>
      {flows.slice(0, lines).map((f) => (
        <Text key={`${f.uid}${f.ts}`} wrap="truncate">{formatHost(f['id.orig_h'])}:{f['id.orig_p']} → {formatHost(f['id.resp_h'])}:{f['id.resp_p']} {f.service ?? f.proto} {f.conn_state} {formatBytes(f.orig_bytes + f.resp_bytes)}</Text>
      ))}
      <Text bold>DNS ({count(detail.dns.length)})</Text>
      {detail.dns.slice(0, lines).map((d, i) => (
        <Text key={i} wrap="truncate">{displayText(d.query ?? '-')} {d.qtype_name ?? ''} {d.rcode_name ?? ''}</Text>
      ))}
      <Text bold>alerts ({count(detail.alerts.length)})</Text>
      {detail.alerts.slice(0, lines).map((a) => (
        <Text key={`${a.alert_id}${a.state_ts}`} wrap="truncate">{a.severity} {a.detector}: {displayText(a.message)}</Text>
      ))}
    </>
  );
}

/**
 * Bits/s per step as a column chart with a y-axis (its top, middle and 0) and the range's ends under it.
 * Few steps are widened to fill the width; more steps than columns show the busiest of those each covers.
 */
function HistoryChart({ buckets, at, step, width, rows, theme }: { buckets: Bucket[]; at: number; step: number; width: number; rows: number } & Pick<ViewProps, 'theme'>) {
  const chartWidth = Math.max(10, width - AXIS_WIDTH);
  const rates = buckets.map((b) => (b.bytes * 8) / step);
  const perColumn = Math.max(1, Math.ceil(rates.length / chartWidth));
  const repeat = rates.length <= chartWidth ? Math.max(1, Math.floor(chartWidth / Math.max(1, rates.length))) : 1;
  const columns: number[] = [];
  for (let i = 0; i < rates.length; i += perColumn) {
    const v = Math.max(...rates.slice(i, i + perColumn));
    for (let r = 0; r < repeat; r++) columns.push(v);
  }
  const top = Math.max(0, ...columns);
  const cursorColumn = perColumn > 1 ? Math.floor(at / perColumn) : at * repeat;
  const axis = axisLabels(rows, top, (bits) => formatBitsPerSecond(bits / 8));
  const first = buckets[0]?.ts ?? 0;
  const end = (buckets.at(-1)?.ts ?? 0) + step;
  const ends = [formatDateTime(first), formatDateTime(end)];
  const gap = Math.max(1, columns.length - ends[0].length - ends[1].length);
  return (
    <>
      {columnChart(columns, rows, top).map((line, i) => (
        <Text key={i} wrap="truncate">
          {axis[i]}<Text {...tone(theme, 'accent')}>{line}</Text>
        </Text>
      ))}
      <Text wrap="truncate">{' '.repeat(AXIS_WIDTH - 1)}└{' '.repeat(Math.min(cursorColumn, Math.max(0, columns.length - 1)))}^</Text>
      <Text wrap="truncate">{' '.repeat(AXIS_WIDTH)}{ends[0]}{' '.repeat(gap)}{ends[1]}</Text>
    </>
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
