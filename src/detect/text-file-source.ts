/**
 * A text file that may change, for the blocklist: read now, and be told when it changed. Polls the file's
 * size and mtime (fs.watchFile) rather than using inotify (fs.watch), because editors and `mv` replace the
 * file (a new inode) and an inotify watch on the old one goes quiet. This is the I/O seam; tests pass fakes.
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { TextSource } from './types.js';

export function textFileSource(path: string, intervalMs = 2000): TextSource {
  return {
    read: () => readFileSync(path, 'utf8'),
    watch(onChange) {
      const listener = (now: Stats, before: Stats): void => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) onChange();
      };
      watchFile(path, { interval: intervalMs, persistent: false }, listener);
      return () => unwatchFile(path, listener);
    },
  };
}

/** For one-shot runs (`loopy read`): the file is read once and never watched. */
export function textFileOnce(path: string): TextSource {
  return { read: () => readFileSync(path, 'utf8'), watch: () => () => {} };
}
