/**
 * Driving `loopy ui` inside tmux for the end-to-end tests and the UI benchmark: a private tmux server
 * (-L NAME, so nothing touches the user's sessions), send-keys in, capture-pane out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

export function haveTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class TmuxServer {
  constructor(readonly name: string) {}

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.name, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A detached session of the given size running `argv` (each word single-quoted) with NO_COLOR set. */
  start(session: string, width: number, height: number, argv: readonly string[]): void {
    const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.run('new-session', '-d', '-s', session, '-x', String(width), '-y', String(height), `env NO_COLOR=1 ${command}`);
  }

  screen(session: string): string {
    return this.run('capture-pane', '-p', '-t', session);
  }

  keys(session: string, ...k: string[]): void {
    this.run('send-keys', '-t', session, ...k);
  }

  /** Polls the screen until `pattern` shows; fails with the last screen otherwise. */
  async waitFor(session: string, pattern: RegExp, timeoutMs = 30_000, everyMs = 250): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = this.screen(session);
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    assert.fail(`${pattern} did not show on ${session} within ${timeoutMs} ms; the screen:\n${last}`);
  }

  sessions(): string[] {
    try {
      return this.run('list-sessions', '-F', '#S').split('\n').filter(Boolean);
    } catch {
      return []; // the server left with its last session
    }
  }

  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      /* no server left */
    }
  }
}

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
