/**
 * A temporary directory for a test, removed when the test's process exits, whatever the outcome: node:test
 * runs each test file in a process of its own, so a run of the suite leaves nothing in the system's temporary
 * directory (a dozen files each left one or two there, forty directories a run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.push(dir) === 1) process.on('exit', removeAll);
  return dir;
}

function removeAll(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Something still holds it (a child the test left running): the system's own cleaning will take it.
    }
  }
}
