import { chownSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE } from '../store/types.js';
import { type StoreLog, WorkerHistoryStore } from '../store/worker-store.js';
import type { UserIds } from './privileges.js';
import type { AgentAlertRecord } from './protocol/messages.js';
import type { HistoryStoreLike } from './server.js';

/**
 * Opens the history store under the data directory before the privilege drop, on its own thread (the worker
 * has the file open when this returns), then hands its files to the user the agent becomes: the open
 * connection keeps working after the drop, and the next start, as that user or as root, can open them again.
 */
export function openAgentHistory(dataDir: string, owner: UserIds | undefined, log?: StoreLog): HistoryStoreLike {
  const store = WorkerHistoryStore.open<AgentAlertRecord>(dataDir, {}, log);
  try {
    if (owner) {
      for (const suffix of ['', '-wal', '-shm']) {
        const path = join(dataDir, DATABASE_FILE + suffix);
        if (existsSync(path)) chownSync(path, owner.uid, owner.gid);
      }
    }
  } catch (err) {
    store.close();
    throw err;
  }
  return store;
}
