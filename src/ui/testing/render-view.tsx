/**
 * Test helpers: render one view (ink-testing-library, boxed to 80 columns) over fake agents, and wait for
 * Ink to paint after input or a flush.
 */
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import type { AgentClient } from '../../client/agent-client.js';
import { AgentStore } from '../agent-store.js';
import type { ViewDefinition } from '../view-registry.js';

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RenderedView {
  store: AgentStore;
  refresh(filter?: string): Promise<void>;
  press(keys: string): Promise<void>;
  frame(): string;
  frames: string[];
  unmount(): void;
}

export function renderView(view: ViewDefinition, clients: AgentClient[], options: { width?: number; height?: number; filter?: string; now?: number } = {}): RenderedView {
  const store = new AgentStore(clients, view.topics);
  const width = options.width ?? 80;
  const height = options.height ?? 20;
  const View = view.component;
  const element = (filter: string) => {
    const snapshot = store.snapshot();
    return (
      <Box width={width}>
        <View snapshot={snapshot} agents={snapshot.agents} store={store} width={width} height={height} filter={filter} inputActive theme={{ color: false }} captureKeys={() => {}} now={() => options.now ?? 1718000060} />
      </Box>
    );
  };
  const r = render(element(options.filter ?? ''));
  return {
    frames: r.frames,
    unmount: r.unmount,
    store,
    /** Publishes the store's news and re-renders, as the shell does once a second. */
    async refresh(filter = options.filter ?? '') {
      store.flush();
      r.rerender(element(filter));
      await tick();
    },
    /** Writes the keys, then waits for the frame they cause (bounded: a key may change nothing), as a busy machine paints late. */
    async press(keys: string) {
      const before = r.frames.length;
      r.stdin.write(keys);
      for (let waited = 0; r.frames.length === before && waited < 300; waited += 10) await tick(10);
      await tick();
    },
    frame: () => r.lastFrame() ?? '',
  };
}
