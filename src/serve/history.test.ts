/**
 * The agent's history store across the privilege drop, for real (root only): opened before the drop on its own
 * thread, its files handed to the user, and written after the drop; the next start reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HistoryStore } from '../store/history-store.js';
import { tempDir } from '../store/store-fixtures.test-util.js';
import { DATABASE_FILE } from '../store/types.js';
import { realPrivilegeOps } from './privileges.js';

const here = dirname(fileURLToPath(import.meta.url));
const underTsx = import.meta.url.endsWith('.ts');
const child = join(here, `history-child.test-util.${underTsx ? 'ts' : 'js'}`);
const isRoot = process.getuid?.() === 0;

test('opened before the drop, written after it as the user, owned by the user, read by the next start', { skip: !isRoot && 'needs root (to drop privileges)' }, (t) => {
  const dataDir = tempDir(t);
  // The user the agent becomes must reach its data directory.
  chmodSync(dirname(dataDir), 0o755);
  const T0 = Math.floor(Date.now() / 1000) - 60;
  const r = spawnSync(process.execPath, [...(underTsx ? ['--import', 'tsx'] : []), child, dataDir, 'nobody', String(T0)], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const nobody = realPrivilegeOps.lookupUser('nobody')!;
  assert.deepEqual(JSON.parse(r.stdout), { uid: nobody.uid, euid: nobody.uid, flows: 1 });
  for (const f of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`]) {
    const st = statSync(join(dataDir, f), { throwIfNoEntry: false });
    if (st) assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [nobody.uid, nobody.gid, 0o600], f);
  }
  const store = HistoryStore.open(dataDir, { clock: () => 0 });
  assert.equal(store.flows({ since: T0, until: T0 + 1 }).length, 1);
  assert.deepEqual(store.series({ since: T0, until: T0 + 1, resolution: '1s' }).map((p) => p.packets), [3]);
  store.close();
});
