/**
 * The store's schema, versioned with PRAGMA user_version. Each migration takes the database from version
 * i to i + 1 and runs in its own transaction, so an agent upgraded in place carries its history forward and a
 * crash mid-migration leaves the previous version intact. Never edit a shipped migration: add one.
 */
import type Database from 'better-sqlite3';
import { SERIES_COLUMNS } from './types.js';

const counters = SERIES_COLUMNS.map((c) => `${c} INTEGER NOT NULL DEFAULT 0`).join(', ');

/** ts is the integer second (or minute / hour start) and the rowid, so a time range is a rowid range. */
const statsTable = (name: string) => `CREATE TABLE ${name} (ts INTEGER PRIMARY KEY, ${counters});`;

export const MIGRATIONS: readonly string[] = [
  // 1: series at three resolutions, closed flows, DNS transactions, alerts, rollup watermarks.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;
  ${statsTable('stats_1s')}
  ${statsTable('stats_1m')}
  ${statsTable('stats_1h')}
  CREATE TABLE conn (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL, uid TEXT NOT NULL, community_id TEXT,
    orig_h TEXT NOT NULL, orig_p INTEGER NOT NULL, resp_h TEXT NOT NULL, resp_p INTEGER NOT NULL,
    proto TEXT NOT NULL, service TEXT, conn_state TEXT, duration REAL,
    orig_bytes INTEGER, resp_bytes INTEGER, orig_pkts INTEGER, resp_pkts INTEGER,
    orig_ip_bytes INTEGER, resp_ip_bytes INTEGER, rtt REAL, orig_retrans INTEGER, resp_retrans INTEGER,
    record TEXT NOT NULL
  );
  CREATE INDEX conn_ts ON conn (ts);
  CREATE INDEX conn_orig_h ON conn (orig_h, ts);
  CREATE INDEX conn_resp_h ON conn (resp_h, ts);
  CREATE INDEX conn_orig_p ON conn (orig_p, ts);
  CREATE INDEX conn_resp_p ON conn (resp_p, ts);
  CREATE TABLE dns (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL, uid TEXT NOT NULL,
    orig_h TEXT NOT NULL, orig_p INTEGER NOT NULL, resp_h TEXT NOT NULL, resp_p INTEGER NOT NULL, proto TEXT NOT NULL,
    trans_id INTEGER, query TEXT, qtype_name TEXT, rcode_name TEXT, rtt REAL, answers TEXT,
    record TEXT NOT NULL
  );
  CREATE INDEX dns_ts ON dns (ts);
  CREATE INDEX dns_orig_h ON dns (orig_h, ts);
  CREATE INDEX dns_resp_h ON dns (resp_h, ts);
  CREATE INDEX dns_query ON dns (query, ts);
  CREATE TABLE alerts (
    alert_id TEXT PRIMARY KEY,
    ts REAL NOT NULL, state_ts REAL NOT NULL, detector TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL,
    src TEXT, dst TEXT, message TEXT NOT NULL,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX alerts_ts ON alerts (ts);
  CREATE INDEX alerts_state_ts ON alerts (state_ts);
  CREATE INDEX alerts_src ON alerts (src, ts);
  CREATE INDEX alerts_dst ON alerts (dst, ts);
  `,
  // 2: per-minute top talkers (bytes and packets per host), pruned to the top N when the minute completes.
  `
  CREATE TABLE talkers_1m (
    ts INTEGER NOT NULL, host TEXT NOT NULL, bytes INTEGER NOT NULL, packets INTEGER NOT NULL,
    PRIMARY KEY (ts, host)
  ) WITHOUT ROWID;
  `,
  // 3: alert acknowledgements (alerts.ack). Columns beside the record, so a later state of the alert written
  // by detection (which knows nothing of acknowledgements) never erases one.
  `
  ALTER TABLE alerts ADD COLUMN acknowledged_at REAL;
  ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
  `,
  // 4: closed flows kept in columns only (record-columns.ts): the conn record's JSON beside its columns doubled
  // the bytes written a flow and a third of the insert's cost. Rows written before keep their JSON (record
  // is then non-empty); new rows store '' there and are rebuilt from the columns.
  `
  ALTER TABLE conn ADD COLUMN history TEXT;
  ALTER TABLE conn ADD COLUMN orig_ooo INTEGER;
  ALTER TABLE conn ADD COLUMN resp_ooo INTEGER;
  ALTER TABLE conn ADD COLUMN vlan INTEGER;
  ALTER TABLE conn ADD COLUMN inner_vlan INTEGER;
  `,
  // 5: closed flows and DNS transactions in segments (segment-write.ts): up to 256 records of one minute a
  // row, their columns in two blobs beside a summary queries filter on. A row and five index entries per flow
  // cost SQLite more than the capture itself (decision 13). The summaries are a table of their own, so a query
  // that scans them reads none of the records. The conn and dns tables keep what older versions wrote, read
  // beside the segments until retention empties them; nothing new goes there.
  `
  CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ts_min REAL NOT NULL, ts_max REAL NOT NULL, rows INTEGER NOT NULL,
    protos INTEGER NOT NULL, hosts TEXT NOT NULL, ports BLOB NOT NULL
  );
  CREATE INDEX segments_kind_ts ON segments (kind, ts_max);
  CREATE TABLE segment_data (id INTEGER PRIMARY KEY, keys BLOB NOT NULL, rest BLOB NOT NULL);
  CREATE TRIGGER segments_delete AFTER DELETE ON segments BEGIN DELETE FROM segment_data WHERE id = old.id; END;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Thrown when the file was written by a newer Loopy: we do not guess at a schema we do not know. */
export class SchemaTooNewError extends Error {
  readonly code = 'STORE_SCHEMA_TOO_NEW';
  constructor(path: string, found: number) {
    super(`history database ${path} has schema version ${found}, newer than this Loopy's ${SCHEMA_VERSION}: upgrade Loopy or use another --data directory`);
  }
}

/** Brings the database to `target` (default the newest version); returns the version it found. */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) throw new SchemaTooNewError(db.name, found);
  if (found === 0) {
    // Must precede the first table: lets retention hand freed pages back to the file system.
    db.pragma('auto_vacuum = INCREMENTAL');
  }
  for (let v = found; v < target; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return found;
}
