/**
 * Making directories, for every room that writes files (in the lowest room, so all may use it). Node's
 * `mkdirSync(path, { recursive: true })` spins forever where mkdir answers ENOENT although the parent exists
 * (procfs: `--listen unix:/proc/nope/s.sock` hung the agent); this walks down from the first missing
 * ancestor, one mkdir each, and gives up with the system's error.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates `path` and any missing parents with `mode`. Returns the first directory it created, or undefined
 * when `path` was there already. Throws the failing mkdir's error (err.path says which).
 */
export function makeDirectory(path: string, mode: number): string | undefined {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    if (exists(dir)) break;
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i], { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return missing.at(-1);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    // ENOTDIR (a file in the way), EACCES: let mkdir say what is wrong.
    return false;
  }
}
