/**
 * Overview: one block per agent, by its name — connection state, bits/s and packets/s in and out with a
 * sparkline, active flows, DNS queries/s, open alerts, drop %, the agent's CPU and RSS ("—" while it is not
 * connected). Two lines per agent so it all fits 80 columns; wider terminals get a longer sparkline.
 */
import { Box, Text } from 'ink';
import { connectionLabel, dropPercent, lastSecond, openAlertCount, perSecond } from '../data.js';
import { fit, fitTarget, formatBitsPerSecond, formatBytes, formatPercent, formatSi, sparkline } from '../format.js';
import { tone } from '../theme.js';
import { defineView, type ViewProps } from '../view-registry.js';
import { useListNavigation } from '../components/use-list-navigation.js';
import type { AgentSnapshot } from '../agent-store.js';

/** Shown for a figure an agent that is not connected cannot vouch for: its last numbers would read as current. */
export const NO_FIGURE = '—';

function AgentBlock({ agent, width, nameWidth, selected, theme }: { agent: AgentSnapshot; width: number; nameWidth: number; selected: boolean } & Pick<ViewProps, 'theme'>) {
  const s = lastSecond(agent);
  const state = connectionLabel(agent);
  const rate = (n: number | undefined) => (s && n !== undefined ? n / (s.duration > 0 ? s.duration : 1) : 0);
  const figure = (text: string) => (state.ok ? text : NO_FIGURE);
  const head = `${selected ? '›' : ' '}${state.ok ? '●' : '○'} `;
  const name = fitTarget(agent.name, nameWidth);
  const status = fit(state.text, 15);
  const rates = `in ${fit(figure(formatBitsPerSecond(rate(s?.bytes_in))), 9, 'right')}  out ${fit(figure(formatBitsPerSecond(rate(s?.bytes_out))), 9, 'right')}`;
  const sparkWidth = Math.max(4, width - head.length - name.length - status.length - rates.length - 4);
  const spark = sparkline(perSecond(agent.seconds, (x) => x.bytes, sparkWidth), sparkWidth);
  const parts = [
    `pps in ${figure(formatSi(rate(s?.packets_in)))} out ${figure(formatSi(rate(s?.packets_out)))}`,
    `flows ${figure(formatSi(s?.flows_active ?? 0))}`,
    `dns ${figure(`${formatSi(rate(s?.dns.queries))}/s`)}`,
    `alerts ${openAlertCount(agent)}`,
    `drop ${figure(formatPercent(dropPercent(s)))}`,
    `cpu ${figure(formatPercent(s?.cpu_percent ?? 0))}`,
    `rss ${figure(formatBytes(s?.rss_bytes ?? 0))}`,
  ];
  // Two spaces between figures when they fit, one when the numbers grow.
  const roomy = `   ${parts.join('  ')}`;
  const second = roomy.length <= width ? roomy : `   ${parts.join(' ')}`;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" bold={selected}>
        {head}
        {name} <Text {...tone(theme, state.ok ? 'good' : 'bad')}>{status}</Text> {rates}  <Text {...tone(theme, 'accent')}>{spark}</Text>
      </Text>
      <Text wrap="truncate" {...(state.ok ? {} : tone(theme, 'dim'))}>{second}</Text>
      {agent.state.state === 'disconnected' ? <Text wrap="truncate" {...tone(theme, 'bad')}>   {agent.state.error}</Text> : null}
    </Box>
  );
}

function Overview(props: ViewProps) {
  const { snapshot, width, height, inputActive, theme } = props;
  const agents = snapshot.agents;
  const perAgent = 3;
  const nav = useListNavigation(agents.length, { active: inputActive, page: Math.max(1, Math.floor(height / perAgent)) });
  const fitting = Math.max(1, Math.floor(height / perAgent));
  const top = Math.max(0, Math.min(nav.selected - fitting + 1, agents.length - fitting));
  const chosen = new Set(props.agents.map((a) => a.target));
  // Names get what the fixed columns and a 12-cell sparkline leave, at most what the longest needs.
  const nameWidth = Math.max(12, Math.min(Math.max(...agents.map((a) => a.name.length), 0), width - 63));
  return (
    <Box flexDirection="column" width={width}>
      {agents.length === 0 ? <Text>No agents: give TARGETs (loopy ui unix:/run/loopy.sock) or name agents in the config.</Text> : null}
      {agents.slice(top, top + fitting).map((a, i) => (
        <Box key={a.target} flexDirection="column" marginBottom={1}>
          <AgentBlock agent={a} width={width} nameWidth={nameWidth} selected={top + i === nav.selected} theme={theme} />
          {chosen.has(a.target) ? null : <Text {...tone(theme, 'dim')}>    (not chosen for the other views: press a)</Text>}
        </Box>
      ))}
    </Box>
  );
}

export default defineView({
  name: 'overview',
  title: 'Overview',
  topics: ['stats', 'alerts'],
  keys: [{ key: '↑↓', label: 'agent' }],
  description: 'every agent at a glance: state, rates, flows, DNS, alerts, drops, its own CPU and memory',
  component: Overview,
});
