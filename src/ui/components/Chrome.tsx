/** The shell's fixed parts: tab bar, status line, help screen and agent picker. */
import { Box, Text } from 'ink';
import type { AgentSnapshot } from '../agent-store.js';
import { connectionLabel } from '../data.js';
import { fit, fitTarget } from '../format.js';
import { type Theme, tone } from '../theme.js';
import type { KeyHelp, ViewDefinition } from '../view-registry.js';

export const GLOBAL_KEYS: readonly KeyHelp[] = [
  { key: '/', label: 'filter' },
  { key: 'p', label: 'pause' },
  { key: 'a', label: 'agents' },
  { key: '?', label: 'help' },
  { key: 'q', label: 'quit' },
];

/** Tabs as wide as fit: padded titles, then unpadded, then numbers only except the current view. */
export function tabLabels(views: readonly ViewDefinition[], current: number, width: number): string[] {
  const number = (i: number) => (i < 9 ? String(i + 1) : ' ');
  const padded = views.map((v, i) => ` ${number(i)} ${v.title} `);
  if (padded.join('').length <= width) return padded;
  const tight = views.map((v, i) => `${number(i)} ${v.title} `);
  if (tight.join('').length <= width) return tight;
  return views.map((v, i) => (i === current ? `${number(i)} ${v.title} ` : `${number(i)} `));
}

export function TabBar({ views, current, width, theme }: { views: readonly ViewDefinition[]; current: number; width: number; theme: Theme }) {
  const labels = tabLabels(views, current, width);
  return (
    <Text wrap="truncate">
      {labels.map((label, i) =>
        i === current ? (
          <Text key={i} inverse bold {...(theme.color ? { color: 'cyan' } : {})}>{label}</Text>
        ) : (
          <Text key={i}>{label}</Text>
        ),
      )}
    </Text>
  );
}

/** Keys the status line never drops, however narrow: how to leave, and where every other key is listed. */
const KEPT_KEYS: readonly string[] = ['?', 'q'];

/**
 * The status line's keys for `width` cells: the view's own keys, then the global ones, always ending with
 * `? help  q quit`; what does not fit is left out whole (the help screen lists it), never cut mid-word.
 */
export function statusKeys(view: ViewDefinition, width: number): string {
  const all = [...view.keys, ...GLOBAL_KEYS.filter((g) => !view.keys.some((k) => k.key === g.key))];
  const kept = all.filter((k) => KEPT_KEYS.includes(k.key));
  const others = all.filter((k) => !KEPT_KEYS.includes(k.key));
  const label = (keys: readonly KeyHelp[]) => keys.map((k) => `${k.key} ${k.label}`);
  // As many keys as fit, two spaces apart when they can be, one when that shows more.
  for (let n = others.length; n >= 0; n--) {
    for (const gap of ['  ', ' ']) {
      const text = [...label(others.slice(0, n)), ...label(kept)].join(gap);
      if (text.length <= width) return text;
    }
  }
  return fit(label(kept).join(' '), width);
}

export function StatusLine({ view, width, right, theme }: { view: ViewDefinition; width: number; right: string; theme: Theme }) {
  const leftWidth = Math.max(10, width - right.length - 1);
  return (
    <Text wrap="truncate">
      <Text {...tone(theme, 'dim')}>{fit(statusKeys(view, leftWidth), leftWidth)}</Text> <Text bold>{right}</Text>
    </Text>
  );
}

/** Every line truncated to the width: a wrapped line would make the frame taller than the screen. */
export function HelpScreen({ views, current, width }: { views: readonly ViewDefinition[]; current: number; width: number }) {
  const view = views[current];
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">Loopy — keys (any key closes this help)</Text>
      <Text wrap="truncate">1-{Math.min(9, views.length)} / Tab / Shift-Tab  switch view</Text>
      <Text wrap="truncate">↑↓ or j/k  move    PgUp/PgDn g/G  jump    Enter  detail    Esc  back</Text>
      <Text wrap="truncate">/  filter: words, all must match, !word excludes; Esc clears</Text>
      <Text wrap="truncate">p  pause the screen (data keeps coming)    a  choose agents    q  quit</Text>
      <Text> </Text>
      <Text bold wrap="truncate">{view.title}: {view.description}</Text>
      {view.keys.map((k) => (
        <Text key={k.key} wrap="truncate">  {fit(k.key, 6)} {k.label}</Text>
      ))}
      <Text> </Text>
      <Text bold>Views</Text>
      {views.map((v, i) => (
        <Text key={v.name} wrap="truncate">  {i + 1} {fit(v.title, 12)} {v.description}</Text>
      ))}
    </Box>
  );
}

export function AgentPicker({ agents, chosen, cursor, width, theme }: { agents: readonly AgentSnapshot[]; chosen: ReadonlySet<string>; cursor: number; width: number; theme: Theme }) {
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Agents shown in the views (Space toggles, Enter or Esc closes; all off means all)</Text>
      {agents.map((a, i) => {
        const state = connectionLabel(a);
        return (
          <Text key={a.target} inverse={i === cursor} wrap="truncate">
            [{chosen.has(a.target) ? 'x' : ' '}] {fitTarget(a.name, 30)} <Text {...tone(theme, state.ok ? 'good' : 'bad')}>{state.text}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
