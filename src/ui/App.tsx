/**
 * The shell: tab bar, the current view, status line; global keys; pause; the agent choice; the `/` filter
 * (one per view). It takes a snapshot from the store once a second (the ticker is passed in, so tests tick by
 * hand) and re-renders only then, or when an agent's connection changes.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AgentStore, UiSnapshot } from './agent-store.js';
import { AgentPicker, HelpScreen, StatusLine, TabBar } from './components/Chrome.js';
import { DetailOpenContext } from './components/use-list-navigation.js';
import type { Theme } from './theme.js';
import type { ViewDefinition } from './view-registry.js';

export interface AppProps {
  views: readonly ViewDefinition[];
  store: AgentStore;
  theme: Theme;
  now: () => number;
  /** Calls `tick` every second until the returned function is called. */
  every: (ms: number, tick: () => void) => () => void;
  /** Terminal size when the output stream does not tell (tests); a real terminal's size and resizes win. */
  size?: { columns: number; rows: number };
  onQuit?: () => void;
}

type Mode = 'view' | 'help' | 'filter' | 'agents';

interface ShellState {
  mode: Mode;
  current: number;
  /** The `/` filter of each view, by view name. */
  filters: Record<string, string>;
  draft: string;
  paused: boolean;
  chosen: ReadonlySet<string>;
  pickerCursor: number;
  /** The current view is typing (History's time range): the shell leaves every key to it. */
  viewCaptures: boolean;
  /** The current view shows a record's detail: Esc is its key (back), not the shell's (clear the filter). */
  viewDetailOpen: boolean;
}

function useTerminalSize(fallback: { columns: number; rows: number } | undefined): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || fallback?.columns || 80, rows: stdout.rows || fallback?.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

/** Statistics arriving sooner than this after the last redraw wait for the next one: no flicker. */
const MIN_REDRAW_SECONDS = 0.9;

export function App({ views, store, theme, now, every, size: fallbackSize, onQuit }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fallbackSize);
  const [snapshot, setSnapshot] = useState<UiSnapshot>(() => store.snapshot());
  // The shell's state lives in a ref, changed synchronously by each key, and a counter re-renders: Ink hands a
  // burst of keys (a paste, "4/text⏎" from tmux) to the handler one by one before React renders, so state read
  // from the last render would be stale for all but the first key.
  const shell = useRef<ShellState>({ mode: 'view', current: 0, filters: {}, draft: '', paused: false, chosen: new Set(), pickerCursor: 0, viewCaptures: false, viewDetailOpen: false });
  const [, setRenders] = useState(0);
  const rerender = () => setRenders((n) => n + 1);
  const { mode, current, filters, draft, paused, chosen, pickerCursor } = shell.current;

  useEffect(() => {
    if (paused) return;
    // Resuming shows what came in meanwhile at once.
    setSnapshot(store.flush());
    const off = store.onSnapshot(setSnapshot);
    // A second's statistics are drawn as soon as they arrive (the agents roll on their own clocks), at most
    // once a second, with everything else that came in; the timer draws only while no statistics arrive
    // (an agent down, a quiet replay), so it never delays the next second's figures.
    let statsDrawn = now();
    let drewOnStats = false;
    const offStats = store.onStats(() => {
      if (now() - statsDrawn < MIN_REDRAW_SECONDS) return;
      statsDrawn = now();
      drewOnStats = true;
      store.flush();
    });
    const stop = every(1000, () => {
      if (!drewOnStats) store.flush();
      drewOnStats = false;
    });
    return () => {
      off();
      offStats();
      stop();
    };
  }, [store, paused, every, now]);

  const view = views[current];
  const filter = filters[view.name] ?? '';
  const agents = useMemo(() => (chosen.size === 0 ? snapshot.agents : snapshot.agents.filter((a) => chosen.has(a.target))), [snapshot, chosen]);
  const captureKeys = useCallback((capture: boolean) => {
    shell.current.viewCaptures = capture;
  }, []);
  const reportDetail = useCallback((open: boolean) => {
    shell.current.viewDetailOpen = open;
  }, []);

  useInput(
    (input, key) => {
      const s = shell.current;
      const name = views[s.current].name;
      const applyFilter = (text: string) => {
        s.filters = { ...s.filters, [name]: text.trim() };
        s.mode = 'view';
      };
      if (s.mode === 'help') s.mode = 'view';
      else if (s.mode === 'filter') {
        if (key.escape) applyFilter('');
        else if (key.return) applyFilter(s.draft);
        else if (key.backspace || key.delete) s.draft = s.draft.slice(0, -1);
        else if (input && !key.ctrl && !key.meta) {
          // A pasted chunk may carry its Enter.
          const cut = input.search(/[\r\n]/);
          if (cut < 0) s.draft += input;
          else applyFilter(s.draft + input.slice(0, cut));
        }
      } else if (s.mode === 'agents') {
        const list = snapshot.agents;
        if (key.escape || key.return || input === 'a') s.mode = 'view';
        else if (key.downArrow || input === 'j') s.pickerCursor = Math.min(list.length - 1, s.pickerCursor + 1);
        else if (key.upArrow || input === 'k') s.pickerCursor = Math.max(0, s.pickerCursor - 1);
        else if (input === ' ' && list[s.pickerCursor]) {
          const next = new Set(s.chosen);
          const t = list[s.pickerCursor].target;
          if (next.has(t)) next.delete(t);
          else next.add(t);
          s.chosen = next;
        }
      } else if (s.viewCaptures) return;
      else if (input === 'q' || (key.ctrl && input === 'c')) {
        onQuit?.();
        exit();
        return;
      } else if (input === '?') s.mode = 'help';
      else if (input === '/') {
        s.draft = s.filters[name] ?? '';
        s.mode = 'filter';
      } else if (key.escape && !s.viewDetailOpen && s.filters[name]) applyFilter('');
      else if (input === 'p') s.paused = !s.paused;
      else if (input === 'a') s.mode = 'agents';
      else if (key.tab || (/^[1-9]$/.test(input) && Number(input) <= views.length)) {
        const n = views.length;
        s.current = key.tab ? (((s.current + (key.shift ? -1 : 1)) % n) + n) % n : Number(input) - 1;
        s.viewCaptures = false;
      } else return;
      rerender();
    },
    { isActive: true },
  );

  const width = size.columns;
  // One line short of the terminal: a frame as tall as the screen makes Ink clear and redraw (flicker).
  const bodyHeight = Math.max(3, size.rows - 3);
  const up = snapshot.agents.filter((a) => a.state.state === 'connected').length;
  const right = `${paused ? 'PAUSED  ' : ''}${filter ? `filter: ${filter}  ` : ''}${up}/${snapshot.agents.length} up`;
  const View = view.component;
  return (
    <Box flexDirection="column" width={width} height={size.rows - 1}>
      <TabBar views={views} current={current} width={width} theme={theme} />
      <Box height={bodyHeight} flexDirection="column" overflow="hidden">
        {mode === 'help' ? (
          <HelpScreen views={views} current={current} width={width} />
        ) : mode === 'agents' ? (
          <AgentPicker agents={snapshot.agents} chosen={chosen} cursor={pickerCursor} width={width} theme={theme} />
        ) : (
          <DetailOpenContext.Provider value={reportDetail}>
            <View
              key={view.name}
              snapshot={snapshot}
              agents={agents}
              store={store}
              width={width}
              height={bodyHeight}
              filter={filter}
              inputActive={mode === 'view'}
              theme={theme}
              captureKeys={captureKeys}
              now={now}
            />
          </DetailOpenContext.Provider>
        )}
      </Box>
      {mode === 'filter' ? (
        <Text wrap="truncate">/{draft}█ <Text dimColor={theme.color}>(Enter apply, Esc clear)</Text></Text>
      ) : (
        <StatusLine view={view} width={width} right={right} theme={theme} />
      )}
    </Box>
  );
}
