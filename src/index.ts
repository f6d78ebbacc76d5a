/**
 * Loopy as a library: read captures or live interfaces, decode packets, run the engine, get Zeek-style records.
 *
 * The small API, for scripts (see README "Library use"):
 *   openFile(path, { filter })             a pcap/pcapng file, optionally through a tcpdump-syntax filter
 *   openLive({ interfaces, filter })       live capture (needs the capture addon and CAP_NET_RAW)
 *   packets(source)                        async iterator of PacketSummary (ts, len, src, dst, proto, sport, dport, flags)
 *   records(source, options)               async iterator of engine records (conn, dns, tls, http, weird, summary)
 * The parts underneath (Engine, openCaptureFile, replayCapture, SecondStats) are exported for programs that
 * need more control.
 */
export {
  openFile,
  openLive,
  packets,
  records,
  tcpdumpFlags,
  LiveCaptureError,
  type OpenFileOptions,
  type PacketSummary,
  type PacketsOptions,
  type RecordsOptions,
  type LiveCapture,
  type LiveCaptureOptions,
  type InterfaceStats,
} from './analyze/library.js';
export { openCaptureFile, CaptureFileError, type CaptureFile } from './capture/capture-file.js';
export { replayCapture, type ReplayCapture, type ReplayOptions, type ReplayClock } from './capture/replay.js';
export type { PacketBatch } from './capture/batch.js';
export { Engine, type EngineOptions } from './analyze/engine.js';
export { defaultProtocols } from './decode/protocols/index.js';
export { defaultApps } from './analyze/apps/index.js';
export type { ConnRecord, DnsRecord, TlsRecord, LoopyRecord, SummaryRecord } from './analyze/records.js';
export { SecondStats, type SecondStatsOptions, type StatsSecond, type StatsExtra, type InterfaceCounters } from './stats/second-stats.js';
