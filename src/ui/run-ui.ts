/**
 * Starts the UI over a set of AgentClients on the given streams and resolves when the user quits. The streams,
 * clock and ticker are arguments, so tests run the real shell on fake streams.
 */
import { render } from 'ink';
import { createElement } from 'react';
import type { AgentClient } from '../client/agent-client.js';
import { AgentStore } from './agent-store.js';
import { App } from './App.js';
import { detectTheme, type Theme } from './theme.js';
import { checkViews, type ViewDefinition } from './view-registry.js';
import { VIEWS } from './views/index.js';

/** Agents found while the UI runs (those appearing on a hub): each one given to `add`; the result stops it. */
export type AgentSource = (add: (client: AgentClient) => void) => () => void;

export interface RunUiOptions {
  clients: readonly AgentClient[];
  sources?: readonly AgentSource[];
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: Record<string, string | undefined>;
  views?: readonly ViewDefinition[];
  theme?: Theme;
  now?: () => number;
  every?: (ms: number, tick: () => void) => () => void;
  /** Full-screen on the terminal's alternate screen (default: when stdout is a TTY). */
  alternateScreen?: boolean;
  /** Tests: Ink writes every frame whole (no cursor movement), so the last write is the screen. */
  wholeFrames?: boolean;
}

export const realEvery = (ms: number, tick: () => void): (() => void) => {
  const timer = setInterval(tick, ms);
  return () => clearInterval(timer);
};

export async function runUi(options: RunUiOptions): Promise<void> {
  const { views, topics } = checkViews(options.views ?? VIEWS);
  const store = new AgentStore(options.clients, topics);
  const found: AgentClient[] = [];
  const stopSources = (options.sources ?? []).map((source) => source((client) => (found.push(client), store.add(client))));
  const theme = options.theme ?? detectTheme(options.env ?? process.env, options.stdout);
  const alt = options.alternateScreen ?? options.stdout.isTTY === true;
  // The alternate screen keeps the user's shell scrollback intact and gives Ink a clean page to redraw in place.
  if (alt) options.stdout.write('\x1b[?1049h\x1b[H');
  const app = render(
    createElement(App, {
      views,
      store,
      theme,
      now: options.now ?? (() => Date.now() / 1000),
      every: options.every ?? realEvery,
    }),
    { stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, exitOnCtrlC: false, patchConsole: false, debug: options.wholeFrames === true },
  );
  try {
    await app.waitUntilExit();
  } finally {
    for (const stop of stopSources) stop();
    store.close();
    for (const c of [...options.clients, ...found]) c.close();
    if (alt) options.stdout.write('\x1b[?1049l');
  }
}
