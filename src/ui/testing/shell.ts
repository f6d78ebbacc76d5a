/**
 * The whole shell (runUi) on fake terminal streams at a chosen size, over fake agents, with a fake clock and
 * ticker: what the shell and snapshot tests drive.
 */
import { runUi } from '../run-ui.js';
import type { ViewDefinition } from '../view-registry.js';
import { VIEWS } from '../views/index.js';
import type { FakeAgentClient } from './fake-agent-client.js';
import { tick } from './render-view.js';
import { T0 } from './sample-records.js';
import { FakeTerminalIn, FakeTerminalOut } from './terminal.js';

export function startShell(clients: FakeAgentClient[], size = { columns: 80, rows: 24 }, views: readonly ViewDefinition[] = VIEWS, clock = { now: T0 + 60 }) {
  const stdout = new FakeTerminalOut(size.columns, size.rows);
  const stdin = new FakeTerminalIn();
  let ticker: (() => void) | undefined;
  const done = runUi({
    clients,
    views,
    stdin: stdin as never,
    stdout: stdout as never,
    env: { NO_COLOR: '1' },
    now: () => clock.now,
    every: (_ms, fn) => {
      ticker = fn;
      return () => {
        if (ticker === fn) ticker = undefined;
      };
    },
    wholeFrames: true,
  });
  return {
    stdout,
    done,
    screen: () => stdout.lastFrame(),
    /** Each key, then waits for Ink to draw the frame it causes (every key in these tests changes the screen). */
    async press(...keys: string[]) {
      for (const k of keys) {
        const before = stdout.frames.length;
        stdin.write(k);
        for (let waited = 0; stdout.frames.length === before && waited < 2000; waited += 5) await tick(5);
        await tick(5);
      }
    },
    /**
     * Waits (bounded, without a tick) for the screen to match: what a key causes may take a second frame (Ink
     * draws the key's state, then what an effect of it set), which a loaded machine draws late.
     */
    async until(pattern: RegExp, timeoutMs = 2000): Promise<string> {
      for (let waited = 0; !pattern.test(stdout.lastFrame()) && waited < timeoutMs; waited += 5) await tick(5);
      return stdout.lastFrame();
    },
    async second() {
      ticker?.();
      await tick();
    },
    ticking: () => ticker !== undefined,
  };
}

