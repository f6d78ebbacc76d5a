/**
 * The per-second `stats` record (docs/records.md, section "stats"): what the agent rolls every second and
 * sends to its clients. Plain JSON, snake_case as the other records.
 */

/** Cumulative capture counters of one interface, as LiveCapture.stats() returns them (pcap_stats). */
export interface InterfaceCounters {
  interface: string;
  /** Packets the kernel passed the filter since the capture opened (on Linux this includes the dropped ones). */
  received: number;
  /** Lost because the kernel ring was full. */
  dropped: number;
  /** Lost by the interface or driver, where the kernel knows. */
  ifDropped: number;
  /** Lost in the capture addon (no batch memory); counted with `dropped`. */
  addonDropped?: number;
}

/** The agent's own cost, measured by the caller (process.cpuUsage / memoryUsage). */
export interface ProcessCounters {
  cpuPercent: number;
  rssBytes: number;
}

export interface StatsExtra {
  interfaces: readonly InterfaceCounters[];
  process: ProcessCounters;
}

export interface InterfaceSecond {
  name: string;
  /** Packets and wire bytes the engine took from this interface this second (after every filter). */
  packets: number;
  bytes: number;
  received: number;
  dropped: number;
  if_dropped: number;
  drop_pct: number;
  received_total: number;
  dropped_total: number;
}

export interface TopTalker {
  host: string;
  bytes: number;
  packets: number;
  flows: number;
  local: boolean;
}

export interface DnsSecond {
  queries: number;
  answers: number;
  rcodes: Record<string, number>;
}

export interface StatsSecond {
  type: 'stats';
  ts: number;
  duration: number;
  packets: number;
  bytes: number;
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
  interfaces: InterfaceSecond[];
  protocols: Record<string, number>;
  top_talkers: TopTalker[];
  flows_active: number;
  flows_opened: number;
  flows_closed: number;
  dns: DnsSecond;
  weirds: Record<string, number>;
  cpu_percent: number;
  rss_bytes: number;
}
