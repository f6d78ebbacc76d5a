import { chownSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, HistoryStore } from '../store/history-store.js';
import type { UserIds } from './privileges.js';
import type { HistoryStoreLike } from './server.js';

/**
 * Opens the history store under the data directory before the privilege drop, then hands its files to the
 * user the agent becomes: the open connection keeps working after the drop, and the next start, as that
 * user or as root, can open them again.
 */
export function openAgentHistory(dataDir: string, owner: UserIds | undefined): HistoryStoreLike {
  const store = HistoryStore.open(dataDir);
  if (owner) {
    for (const suffix of ['', '-wal', '-shm']) {
      const path = join(dataDir, DATABASE_FILE + suffix);
      if (existsSync(path)) chownSync(path, owner.uid, owner.gid);
    }
  }
  // Checked by the compiler, but for the alert methods: the store takes and gives any alert-shaped object
  // (AlertLike has an index signature the AlertRecord interface lacks, and a plain string for severity).
  const checked: Omit<HistoryStoreLike, 'appendAlert' | 'alerts' | 'acknowledgeAlert'> = store;
  return checked as unknown as HistoryStoreLike;
}
