/**
 * What the hub tests share: a generated capture per agent (its own seed, and an incident so it raises an
 * alert of its own), polling until a condition holds, and NDJSON output read back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../test-support/corpus.js';

/** A generated capture of 4,000 packets (dist/synth/main.js) in `dir`, with `incident` in it if given. */
export function synthCapture(dir: string, seed: number, incident?: string): string {
  const file = join(dir, `${incident ?? 'plain'}-${seed}.pcap`);
  const args = [join(projectRoot, 'dist', 'synth', 'main.js'), file, '--packets', '4000', '--seed', String(seed), '--mix', 'small'];
  const synth = spawnSync(process.execPath, incident === undefined ? args : [...args, '--incidents', incident]);
  assert.equal(synth.status, 0, String(synth.stderr));
  return file;
}

/** Polls `probe` every 100 ms until it gives a value (`tries` times at most). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const got = await probe();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const ndjson = (text: string): Array<Record<string, unknown>> => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
