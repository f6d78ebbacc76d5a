/**
 * Traffic: the chosen agents' per-second bits in and out as two column charts (newest on the right), and the
 * protocol mix of the last minute.
 */
import { Box, Text } from 'ink';
import { columnChart } from '../components/chart.js';
import { protocolShares, type ProtocolShare } from '../../analyze/protocol-mix.js';
import { combinedPerSecond, matchesFilter } from '../data.js';
import { fit, formatBitsPerSecond, formatPercent, hbar } from '../format.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';

const MIX_SECONDS = 60;

/** Shares of the chosen agents' packets of the last minute, link layers left out (src/analyze/protocol-mix.ts). */
export function protocolMix(agents: ViewProps['agents'], seconds = MIX_SECONDS): ProtocolShare[] {
  const totals: Record<string, number> = {};
  let packets = 0;
  for (const a of agents) {
    for (const s of a.seconds.slice(-seconds)) {
      packets += s.packets;
      for (const [p, n] of Object.entries(s.protocols)) totals[p] = (totals[p] ?? 0) + n;
    }
  }
  return protocolShares(totals, packets);
}

function Traffic(props: ViewProps) {
  const { width, height, theme } = props;
  const label = 15;
  const chartWidth = Math.max(10, width - label);
  const mix = protocolMix(props.agents).filter((p) => matchesFilter(props.filter, [p.name]));
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
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>{props.agents.length === 1 ? props.agents[0].name : `${props.agents.length} agents`} — bits/s, last {chartWidth}s</Text>
      {chart('in', bitsIn, 'in')}
      {chart('out', bitsOut, 'out')}
      <Text bold wrap="truncate">Protocols, last {MIX_SECONDS}s (share of packets; a TCP packet counts for ipv4 and tcp)</Text>
      {mix.length === 0 ? <Text {...tone(theme, 'dim')}>no traffic yet</Text> : null}
      {mix.slice(0, mixLines).map((p) => (
        <Text key={p.name} wrap="truncate">
          {fit(p.name, 10)} {fit(formatPercent(p.percent), 6, 'right')} {hbar(p.percent / 100, Math.max(5, width - 19))}
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
