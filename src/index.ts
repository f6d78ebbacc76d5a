/** Loopy as a library: read captures, run the engine, get Zeek-style records. */
export { openCaptureFile, CaptureFileError, type CaptureFile } from './capture/capture-file.js';
export type { PacketBatch } from './capture/batch.js';
export { Engine, type EngineOptions } from './analyze/engine.js';
export { defaultProtocols } from './decode/protocols/index.js';
export { defaultApps } from './analyze/apps/index.js';
export type { ConnRecord, DnsRecord, TlsRecord, LoopyRecord, SummaryRecord } from './analyze/records.js';
