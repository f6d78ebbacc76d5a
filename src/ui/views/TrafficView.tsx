/**
 * Traffic: the chosen agents' per-second bits in and out as two column charts (newest on the right), and the
 * protocol mix of the last minute.
 */
import { Box, Text } from 'ink';
import { columnChart } from '../components/chart.js';
import { combinedPerSecond } from '../data.js';
import { fit, formatBitsPerSecond, formatPercent, hbar } from '../format.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';

const MIX_SECONDS = 60;

function protocolMix(props: ViewProps): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const a of props.agents) {
    for (const s of a.seconds.slice(-MIX_SECONDS)) {
      for (const [p, n] of Object.entries(s.protocols)) totals.set(p, (totals.get(p) ?? 0) + n);
    }
  }
  return [...totals.entries()].filter(([p]) => props.filter === '' || p.toLowerCase().includes(props.filter.toLowerCase())).sort((x, y) => y[1] - x[1]);
}

function Traffic(props: ViewProps) {
  const { width, height, theme } = props;
  const label = 15;
  const chartWidth = Math.max(10, width - label);
  const mix = protocolMix(props);
  const mixLines = Math.min(mix.length, Math.max(2, Math.floor(height / 4)));
  const chartRows = Math.max(2, Math.floor((height - mixLines - 4) / 2));
  const bitsIn = combinedPerSecond(props.agents, (s) => s.bytes_in * 8, chartWidth);
  const bitsOut = combinedPerSecond(props.agents, (s) => s.bytes_out * 8, chartWidth);
  // One scale for both charts, so in and out compare by eye.
  const max = Math.max(1, ...bitsIn, ...bitsOut);
  const chart = (name: string, values: number[], t: 'in' | 'out') =>
    columnChart(values, chartRows, max).map((line, i) => (
      <Text key={`${name}${i}`} wrap="truncate">
        {fit(i === 0 ? `${name} ${formatBitsPerSecond(values[values.length - 1] / 8)}` : i === chartRows - 1 ? `max ${formatBitsPerSecond(max / 8)}` : '', label - 1)}{' '}
        <Text {...tone(theme, t)}>{line}</Text>
      </Text>
    ));
  const total = mix.reduce((s, [, n]) => s + n, 0);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{props.agents.length === 1 ? props.agents[0].name : `${props.agents.length} agents`} — bits/s, last {chartWidth}s</Text>
      {chart('in', bitsIn, 'in')}
      {chart('out', bitsOut, 'out')}
      <Text bold>Protocols, last {MIX_SECONDS}s (packets)</Text>
      {mix.length === 0 ? <Text {...tone(theme, 'dim')}>no traffic yet</Text> : null}
      {mix.slice(0, mixLines).map(([p, n]) => (
        <Text key={p} wrap="truncate">
          {fit(p, 10)} {fit(formatPercent((n / total) * 100), 6, 'right')} {hbar(n / total, Math.max(5, width - 19))}
        </Text>
      ))}
    </Box>
  );
}

export default defineView({
  name: 'traffic',
  title: 'Traffic',
  topics: ['stats'],
  keys: [],
  description: 'bits per second in and out of the chosen agents, and the protocol mix of the last minute',
  component: Traffic,
});
