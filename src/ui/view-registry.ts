/**
 * Views register themselves: each file in views/ exports `defineView({...})` and views/index.ts lists them
 * (one line per view). The shell reads only this contract — name, key, topics, status-line keys, component —
 * so adding a view edits no other view and no shell code. docs/ui.md shows a complete example.
 */
import type { ComponentType } from 'react';
import type { Topic } from '../client/agent-client.js';
import type { AgentSnapshot, AgentStore, UiSnapshot } from './agent-store.js';
import type { Theme } from './theme.js';

export interface KeyHelp {
  /** As shown on the status line: "s", "Enter", "A". */
  key: string;
  label: string;
}

export interface ViewProps {
  /** The whole snapshot (Overview shows every agent, whatever the selection). */
  snapshot: UiSnapshot;
  /** The agents chosen with `a` (all by default). */
  agents: readonly AgentSnapshot[];
  store: AgentStore;
  /** Cells available to the view (the shell's tab bar and status line are outside). */
  width: number;
  height: number;
  /** The view's `/` filter text ("" for none). */
  filter: string;
  /** False while a dialog (help, filter input, agent picker) has the keyboard: the view must ignore keys. */
  inputActive: boolean;
  theme: Theme;
  /** A view typing text (a time range, say) takes every key, the shell's too, until it calls this with false. */
  captureKeys: (capture: boolean) => void;
  /** Wall-clock seconds since the epoch (passed in so tests are deterministic). */
  now: () => number;
}

export interface ViewDefinition {
  /** Stable identifier, lower case. */
  name: string;
  /** Shown on the tab bar. */
  title: string;
  /** The live topics the view needs; the shell subscribes to the union. */
  topics: readonly Topic[];
  /** The view's own keys, for the status line and help (the global keys are added by the shell). */
  keys: readonly KeyHelp[];
  /** One line for the help screen. */
  description: string;
  component: ComponentType<ViewProps>;
}

/** Checks a definition at module load, so a broken view fails the registry test rather than the screen. */
export function defineView(view: ViewDefinition): ViewDefinition {
  if (!/^[a-z][a-z0-9-]*$/.test(view.name)) throw new Error(`view name "${view.name}": lower case letters, digits and "-" only`);
  if (view.title.length === 0 || view.title.length > 14) throw new Error(`view "${view.name}": title must be 1..14 characters`);
  return Object.freeze({ ...view, topics: Object.freeze([...view.topics]), keys: Object.freeze([...view.keys]) });
}

/** Validates a list of views (unique names) and gives the topics they need together. */
export function checkViews(views: readonly ViewDefinition[]): { views: readonly ViewDefinition[]; topics: Topic[] } {
  const seen = new Set<string>();
  const topics = new Set<Topic>();
  for (const v of views) {
    if (seen.has(v.name)) throw new Error(`two views are named "${v.name}"`);
    seen.add(v.name);
    for (const t of v.topics) topics.add(t);
  }
  return { views, topics: [...topics] };
}
