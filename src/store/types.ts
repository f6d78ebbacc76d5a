/**
 * The shapes the history store answers with. src/client/agent-client.ts declares the same ones for the UI;
 * they live here because the store sits below the client (imports run downhill), and the client re-exports them.
 */

/** The database's file name in the data directory (beside it SQLite keeps -wal and -shm). */
export const DATABASE_FILE = 'history.sqlite';

/** The steps a series is kept at. */
export const RESOLUTIONS = ['1s', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * Rows a history query returns: by default, at most (whatever it asks: the reply must fit the agent's memory
 * and a frame), and talkers by default (the hosts a person looks at first). The protocol states these limits
 * (src/serve/protocol) and the store enforces them for every caller: one definition, here, below both.
 */
export const QUERY_LIMITS = { default: 1000, max: 10_000, talkersDefault: 10 } as const;

/** Filters shared by the history queries. Times are seconds since the epoch: since ≤ ts < until. */
export interface HistoryQuery {
  since: number;
  until: number;
  host?: string;
  port?: number;
  proto?: 'tcp' | 'udp' | 'icmp';
  limit?: number;
}

/** One point of a stored series (the same fields as a stats record, summed over the resolution). */
export interface SeriesPoint {
  ts: number;
  packets: number;
  bytes: number;
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
  flows_opened: number;
  dns_queries: number;
  dropped: number;
  alerts: number;
}

/** The counters of a SeriesPoint, in table column order (every stats table has ts + these). */
export const SERIES_COLUMNS = [
  'packets',
  'bytes',
  'packets_in',
  'packets_out',
  'bytes_in',
  'bytes_out',
  'flows_opened',
  'dns_queries',
  'dropped',
  'alerts',
] as const satisfies ReadonlyArray<Exclude<keyof SeriesPoint, 'ts'>>;

/** How long each table keeps its rows, in seconds. */
export interface Retention {
  stats1s: number;
  stats1m: number;
  stats1h: number;
  conn: number;
  dns: number;
  alerts: number;
}

const DAY = 86_400;

/** What a sysadmin would accept: detail for a day, minutes for a month, hours for a year. */
export const DEFAULT_RETENTION: Readonly<Retention> = {
  stats1s: DAY,
  stats1m: 30 * DAY,
  stats1h: 365 * DAY,
  conn: 7 * DAY,
  dns: 7 * DAY,
  alerts: 90 * DAY,
};

/** 1 GiB: the database file (its used pages) is kept under this by deleting the oldest detail first. */
export const DEFAULT_MAX_BYTES = 1024 ** 3;

/** An alert record as detection emits it (src/analyze/records.ts AlertRecord); extra fields are kept. */
export interface AlertLike {
  type: 'alert';
  ts: number;
  alert_id: string;
  detector: string;
  severity: string;
  message: string;
  state: string;
  state_ts?: number;
  src?: string;
  dst?: string;
  [field: string]: unknown;
}

/** The fields of an alert the store reads (detection's AlertRecord has them); the others are kept as they are. */
export type StorableAlert = Pick<AlertLike, 'type' | 'ts' | 'alert_id' | 'detector' | 'severity' | 'message' | 'state' | 'state_ts' | 'src' | 'dst'>;

/**
 * What an acknowledged alert's record carries (docs/records.md): added by the agent on alerts.ack, kept in
 * the store beside the alert, merged into the record by every query. Absent while nobody has acknowledged it.
 */
export interface AlertAck {
  acknowledged: true;
  /** The agent's clock when it was acknowledged (seconds since the epoch; the first acknowledgement counts). */
  acknowledged_at: number;
  /** The client that acknowledged it: the name and version it gave in hello ("loopy-ui 0.1.0"). */
  acknowledged_by: string;
}

/** A host's share of the traffic over a range (from the per-minute top-talkers table). */
export interface HostTotal {
  host: string;
  /** IP bytes and packets the host sent and received, summed over the seconds it was among the top talkers. */
  bytes: number;
  packets: number;
}

/** history.talkers: a time range and a row count; host/port/proto do not apply (the table is per host already). */
export type TalkersQuery = Pick<HistoryQuery, 'since' | 'until' | 'limit'>;

export interface HistoryStoreOptions {
  retention?: Partial<Retention>;
  maxBytes?: number;
  /** Wall clock in seconds since the epoch; flush() runs retention by it once a minute. Default Date.now()/1000. */
  clock?: () => number;
  /** Top talkers kept per minute once the minute is complete (default 20). */
  talkersPerMinute?: number;
  /**
   * A hard ceiling on the file (SQLite's max_page_count): a write past it fails as on a full disk. Unlike
   * maxBytes nothing is deleted to make room. None by default; tests use it to fill the "disk".
   */
  fileLimitBytes?: number;
}
