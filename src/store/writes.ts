/** The store's insert statements for alerts and top talkers, and the counters of a stats record (flows and DNS: segment-write.ts). */
import type Database from 'better-sqlite3';
import type { StatsSecond } from '../stats/stats-record.js';
import type { Counters } from './rollups.js';
import type { AlertLike } from './types.js';

export interface RecordInserts {
  alertKnown: Database.Statement;
  alert: Database.Statement;
  acknowledge: Database.Statement;
  talker: Database.Statement;
}

export function prepareInserts(db: Database.Database): RecordInserts {
  return {
    alertKnown: db.prepare('SELECT 1 FROM alerts WHERE alert_id = ?').pluck(),
    // A later state replaces an earlier one; a record older than the stored state (replayed twice) does not.
    // An acknowledgement, once stored, stays: the first one is kept, whatever later records say.
    alert: db.prepare(
      `INSERT INTO alerts (alert_id, ts, state_ts, detector, severity, state, src, dst, message, record, acknowledged_at, acknowledged_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (alert_id) DO UPDATE SET state_ts = excluded.state_ts, severity = excluded.severity, state = excluded.state,
         src = excluded.src, dst = excluded.dst, message = excluded.message, record = excluded.record,
         acknowledged_at = coalesce(alerts.acknowledged_at, excluded.acknowledged_at),
         acknowledged_by = coalesce(alerts.acknowledged_by, excluded.acknowledged_by)
       WHERE excluded.state_ts >= alerts.state_ts`,
    ),
    acknowledge: db.prepare(
      `UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, ?), acknowledged_by = coalesce(acknowledged_by, ?) WHERE alert_id = ?`,
    ),
    talker: db.prepare(
      'INSERT INTO talkers_1m (ts, host, bytes, packets) VALUES (?, ?, ?, ?) ON CONFLICT (ts, host) DO UPDATE SET bytes = bytes + excluded.bytes, packets = packets + excluded.packets',
    ),
  };
}

/**
 * A stats record's counters in SERIES_COLUMNS order. Flows, DNS and alerts are not taken from it: the store
 * counts those from the records themselves, at their own ts (history-store.ts), so that a step's counts equal
 * the records a query over the step returns; the stats record counts them in the second the agent rolled.
 */
export function statsCounters(rec: StatsSecond): Counters {
  let dropped = 0;
  for (const i of rec.interfaces) dropped += i.dropped;
  return [rec.packets, rec.bytes, rec.packets_in, rec.packets_out, rec.bytes_in, rec.bytes_out, 0, 0, dropped, 0];
}

const orNull = <T>(x: T | undefined): T | null => (x === undefined ? null : x);

/** Stores the alert's latest state; true when its alert_id was new (it fired now, as far as the store knows). */
export function upsertAlert(s: RecordInserts, a: AlertLike): boolean {
  const known = s.alertKnown.get(a.alert_id) !== undefined;
  const stateTs = typeof a.state_ts === 'number' ? a.state_ts : a.ts;
  const ackAt = typeof a.acknowledged_at === 'number' ? a.acknowledged_at : null;
  const ackBy = ackAt !== null && typeof a.acknowledged_by === 'string' ? a.acknowledged_by : null;
  s.alert.run(a.alert_id, a.ts, stateTs, a.detector, a.severity, a.state, orNull(a.src), orNull(a.dst), a.message, JSON.stringify(a), ackAt, ackBy);
  return !known;
}
