/**
 * The agent process: capture (live or a replayed file) → engine → records, and once a second the engine's
 * clock, the capture counters, its own CPU and RSS, a `stats` record and the status file. Every piece of
 * I/O comes in through AgentDeps (clock, capture, logger, process figures, privileges, stdout), so a test
 * drives the whole runtime with a fake capture and a fake clock.
 *
 * Order at start: resolve the user to become, prepare the data directory and open every file, open the
 * capture, then drop privileges. Everything that needs root is done before the drop; nothing after it does.
 */
import { createWriteStream, openSync, renameSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PassiveNames } from '../analyze/passive-names.js';
import { Pipeline } from '../analyze/pipeline.js';
import type { LoopyRecord } from '../analyze/records.js';
import { BatchFilter } from '../capture/bpf-filter.js';
import { SecondStats, type StatsSecond } from '../stats/second-stats.js';
import { type AgentClock, systemClock } from './clock.js';
import { type AgentSettings, DEFAULT_STATS_OUT_MAX_MIB } from './config.js';
import { type BurstCollection, CpuMeter, memoryTrimmer, type ProcessSample, realProcessSample, statusOf } from './agent-health.js';
import { compactingCollector } from '../capture/heap-collector.js';
import { settleBufferDetaching } from '../capture/buffer-detaching.js';
import { limitRetainedMemory, releasePages, trimProcessMemory } from '../capture/live-addon.js';
import { type CaptureRequest, type CaptureSource, type CaptureSourceFactory, openCaptureSource } from './capture-source.js';
import type { AgentLogger } from './logger.js';
import { ATTRIBUTION_CAPABILITIES, CAPABILITY_NAMES, PrivilegeError, type PrivilegeOps, dropPrivileges, dropTarget, realPrivilegeOps } from './privileges.js';
import { NdjsonSink, RecordSinks, type SinkStream } from './record-sinks.js';
import { ZeekLogs, type ZeekLogFormat } from '../store/zeek-logs.js';
import { MAX_EXCLUDED_SESSIONS, SelfExclusion, combineFilters } from './self-exclusion.js';
import { assertReachable, prepareDataDir, writeStatusFile } from './status.js';
import type { AlertControl, HistoryStoreLike } from './server.js';
import { type Service, startService } from './service.js';
import type { AgentStatus } from './status.js';
import type { Topic } from './protocol/messages.js';
import type { AlertRecord, ConnRecord, DnsRecord } from '../analyze/records.js';
import { openAgentHistory } from './history.js';
import { agentDetection, alertControl, prepareAgentDir } from './agent-detection.js';
import { AlertAcks } from './alert-acks.js';
import { attributionCaptureTimeout, openConnectTrace, startProcessAttribution } from './agent-processes.js';
import type { HubLink } from './hub-link.js';
import { EngineWorkers } from './engine-workers.js';
import type { ConnectSource } from '../host/connect-trace.js';
import { addSeconds } from '../stats/second-merge.js';

export interface AgentDeps {
  clock?: AgentClock;
  openCapture?: CaptureSourceFactory;
  logger: AgentLogger;
  processSample?: () => ProcessSample;
  privileges?: PrivilegeOps;
  /** Where `--stdout` writes (default process.stdout). */
  stdout?: Writable;
  /** Receives every record (conn, dns, tls, http, weird, summary, stats) as it is emitted. */
  onRecord?: (record: LoopyRecord | object) => void;
  /** Traffic the agent must not count (its own sessions); may be filled before and changed after start. */
  exclusions?: SelfExclusion;
  /** The history store (appended to, flushed each second, retention hourly, queried by clients). */
  history?: HistoryStoreLike;
  /** Detection's acknowledge/suppress, offered to clients as alerts.*. */
  alerts?: AlertControl;
  /** The connect trace of a live capture, or why there is none (default: the eBPF one, where the kernel allows). */
  openConnectTrace?: () => ConnectSource | string;
}

export interface AgentExit {
  code: 0 | 1;
  reason: string;
}

export interface RunningAgent {
  readonly exclusions: SelfExclusion;
  /** The protocol server and its listeners (when settings.serve is given). */
  readonly service?: Service;
  /** A live event to subscribed clients (and the history store): what detection calls with its alerts. */
  publish(topic: Topic, record: object): void;
  /** Reopens the output files (--stats-out) by their paths, after logrotate moved them (SIGHUP); false if one could not be. */
  reopenOutputs(): boolean;
  /** Rereads the detection config file (SIGHUP) and logs one line: what changed, or why the file was refused. */
  reloadDetection(): void;
  /** Stops capture; `done` settles once the engine and every output are flushed. Safe to call twice. */
  stop(reason?: string): void;
  readonly done: Promise<AgentExit>;
}

/** The live topic each record type is published on (stats are published by the second's roll). */
const RECORD_TOPICS: Partial<Record<string, Topic>> = { conn: 'flows', dns: 'dns', alert: 'alerts' };

/** A start-up step on the file system failed: one line, what and what to do. */
export class AgentStartError extends Error {
  readonly code = 'LOOPY_AGENT_START';
}

function attempt<T>(step: () => T, what: string, option: string): T {
  try {
    return step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AgentStartError(`${what} (${e.code ?? e.message}): run as root or as its owner, or give another ${option}`);
  }
}

function currentUserName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${uid}`;
  }
}

/** Zeek logs rotated on the hour, in a directory the user the agent becomes owns (files open after the drop). */
function openZeekLogs(zeek: { dir: string; format: ZeekLogFormat }, owner: { uid: number; gid: number } | undefined, clock: AgentClock): ZeekLogs {
  prepareAgentDir(zeek.dir, owner);
  return new ZeekLogs({ dir: zeek.dir, format: zeek.format, rotateSeconds: ZEEK_ROTATE_SECONDS, now: () => clock.now() });
}

/** Zeek's default rotation interval. */
const ZEEK_ROTATE_SECONDS = 3600;

/** Starts the agent; resolves once capture is open and privileges are dropped. Throws one-line errors. */
export async function runAgent(settings: AgentSettings, deps: AgentDeps): Promise<RunningAgent> {
  // Before any packet code is compiled: the store's first batch would otherwise recompile it mid-capture.
  settleBufferDetaching();
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const privileges = deps.privileges ?? realPrivilegeOps;
  const exclusions = deps.exclusions ?? new SelfExclusion();
  const src = settings.source;

  // Everything that can be refused is checked before anything is created or opened.
  if (settings.filter) BatchFilter.validate(settings.filter);
  const target = dropTarget(settings.user, privileges);
  if (target) assertReachable(settings.dataDir, target);
  attempt(() => prepareDataDir(settings.dataDir, target), `cannot use ${settings.dataDir} as the data directory`, '--data DIR');
  if (settings.evidenceDir && settings.detect !== false) {
    attempt(() => prepareAgentDir(settings.evidenceDir!, target), `cannot use ${settings.evidenceDir} as the evidence directory`, '--evidence DIR');
  }
  const streams: SinkStream[] = [];
  let statsOut: SinkStream | undefined;
  if (settings.statsOut) {
    const path = settings.statsOut;
    const openStatsOut = () => createWriteStream('', { fd: openSync(path, 'a', 0o600) });
    statsOut = { sink: new NdjsonSink(path, attempt(openStatsOut, `cannot open ${path}`, '--stats-out FILE'), settings.format), close: true, reopen: openStatsOut };
    streams.push(statsOut);
  }
  if (settings.stdout) streams.push({ sink: new NdjsonSink('stdout', deps.stdout ?? process.stdout, settings.format), close: false });
  const zeekLogs = settings.zeekLogs && attempt(() => openZeekLogs(settings.zeekLogs!, target, clock), `cannot use ${settings.zeekLogs.dir} for Zeek logs`, '--zeek-logs DIR');
  const sinks = new RecordSinks(streams, deps.onRecord, zeekLogs);
  const started = clock.now();
  let latestStatus: AgentStatus | undefined;
  let service: Service | undefined;
  // The engine is made once the service is up (its own ports excluded from the first filter); queries reach its open flows.
  let engine: Pipeline['engine'] | undefined;
  // Detection first: clients reach it through the service (acknowledge, suppress). Its alerts are published
  // once the engine runs, after everything below exists.
  const detecting = settings.detect === false
    ? undefined
    : agentDetection(settings.evidenceDir ?? join(settings.dataDir, 'evidence'), settings.detectConfig, (alert) => onAlert(alert), (target, alert, error) =>
        log.warn({ target, alert_id: alert.alert_id, err: error.message }, 'alert not delivered'));
  const detection = detecting?.detection;
  // A serving agent keeps history under its data directory (tests and library use pass their own, or none).
  const history = deps.history ?? (settings.serve ? attempt(() => openAgentHistory(settings.dataDir, target, log), `cannot open the history store in ${settings.dataDir}`, '--data DIR') : undefined);
  // Acknowledgements: every alert record passes through them; an acknowledged alert is re-sent to subscribers.
  /** With --workers, the other engines (engine-workers.ts); started once the capture is open. */
  let engines: EngineWorkers | undefined;
  const acks = detection ? new AlertAcks({ now: () => clock.now(), history, publish: (record) => service?.server.publish('alerts', record) }) : undefined;
  // Passive DNS: fed by the pipeline's dns records once it runs, asked by clients (`names`).
  const names = new PassiveNames();
  if (settings.serve) {
    // Before the capture opens (own ports excluded from its first filter) and before the privilege drop.
    service = await startService(settings.serve, {
      dataDir: settings.dataDir, logger: log, clock, exclusions, started, history, openFlows: async (q) => [...(engine ? [engine.openConnRows(q)] : []), ...((await engines?.openFlows(q)) ?? [])], alerts: deps.alerts ?? (detection && acks && alertControl(detection, acks, (rule) => engines?.suppress(rule))), names, owner: target,
      status: () => latestStatus ?? emptyStatus(started, clock.now(), src.kind, settings.filter ?? null),
    });
  }

  // The hub link reads its credentials now, before the privilege drop, and connects in the background.
  let capturing: readonly string[] = [];
  let hub: HubLink | undefined;
  if (settings.hub && service) {
    try {
      // Loaded only for a hub: the NATS client is a tenth of an idle agent's heap.
      const { openHubLink } = await import('./hub-link.js');
      hub = await openHubLink({ settings: settings.hub, server: service.server, logger: log, started, interfaces: () => capturing }, exclusions);
    } catch (err) {
      await service.close('the agent failed to start');
      throw err;
    }
  }

  // The user's filter and the exclusions: in the kernel for live capture, in user space for a replay.
  const shards = settings.workers ?? 1;
  // With --workers, the flow table's memory is shared out: N engines hold what one would.
  const maxFlows = settings.maxFlows === undefined || shards === 1 ? settings.maxFlows : Math.ceil(settings.maxFlows / shards);
  const pipeline = new Pipeline({ maxFlows, releaseFlowPages: releasePages });
  pipeline.observe(names);
  engine = pipeline.engine;
  const effectiveFilter = () => combineFilters(settings.filter, exclusions.expression()) ?? null;
  // Loading the connect trace's BPF program needs root (CAP_BPF, CAP_PERFMON): before the drop, and before
  // the capture, whose block timeout depends on it. Reading it needs nothing.
  const connectTrace = src.kind === 'live' ? (deps.openConnectTrace ?? openConnectTrace)() : undefined;
  const closeTrace = () => {
    if (typeof connectTrace === 'object') connectTrace.close();
  };
  const request: CaptureRequest = src.kind === 'live'
    ? {
      kind: 'live', interfaces: src.interfaces, filter: effectiveFilter() ?? undefined, snaplen: settings.snaplen, bufferMiB: settings.bufferMiB,
      promisc: settings.promisc, ...attributionCaptureTimeout(target, typeof connectTrace === 'object'), ...(shards > 1 ? { fanout: { shards } } : {}),
    }
    : { kind: 'replay', file: src.file, speed: src.speed, max: src.max, loop: src.loop };
  const liveRequest = request.kind === 'live' ? request : undefined;
  let source: CaptureSource;
  try {
    source = (deps.openCapture ?? openCaptureSource)(request);
  } catch (err) {
    closeTrace();
    await hub?.close();
    await service?.close('the agent failed to start');
    throw err;
  }
  capturing = source.interfaces;
  /** A start that fails once the capture is open: let go of what was opened, in reverse. */
  const abandonStart = async (): Promise<void> => {
    closeTrace();
    source.close();
    await hub?.close();
    await service?.close('the agent failed to start');
  };
  if (src.kind === 'replay') pipeline.setFilter(effectiveFilter() ?? undefined);
  // The other engines open their captures now, while the agent may still open devices.
  const onEngineRecords = (records: Array<LoopyRecord | object>) => forwardEngineRecords(records);
  try {
    engines = liveRequest !== undefined && shards > 1
      ? await EngineWorkers.start({
        shards, groups: source.fanoutGroups ?? [], capture: liveRequest, maxFlows, localNets: settings.localNets, topN: settings.topN, started,
        detect: settings.detect !== false, detectConfig: settings.detectConfig, evidenceDir: settings.evidenceDir ?? join(settings.dataDir, 'evidence'),
        attribute: true, keepCapabilities: target !== undefined && target.uid !== 0, log, onRecords: onEngineRecords,
      })
      : undefined;
  } catch (err) {
    await abandonStart();
    throw err;
  }
  for (const w of source.warnings) log.warn({ warning: w }, 'capture warning');

  let outcome;
  try {
    outcome = dropPrivileges(target, privileges, ATTRIBUTION_CAPABILITIES);
  } catch (err) {
    await abandonStart();
    throw err;
  }
  log.info({ uid: outcome.uid, gid: outcome.gid, user: outcome.user, dropped: outcome.dropped, kept: outcome.kept }, outcome.message);
  if (engines !== undefined && outcome.dropped) {
    try {
      for (const [engine, missing] of await engines.keepOnly(ATTRIBUTION_CAPABILITIES)) {
        log.warn({ engine, missing: missing.map((c) => CAPABILITY_NAMES[c] ?? c) }, 'an engine could not keep what process attribution needs: its listeners and accepted connections go unnamed');
      }
    } catch (err) {
      await engines.stop();
      await abandonStart();
      throw new PrivilegeError((err as Error).message);
    }
  }
  if (target?.fallback) log.warn({ user: target.name }, target.fallback);
  const user = outcome.user ?? currentUserName(outcome.uid);

  let kernelLagWarned = false;
  let appliedFilter = effectiveFilter();
  let overflowWarned = false;
  exclusions.onChange(() => {
    const filter = effectiveFilter();
    if (exclusions.sessionsOverflowing > 0 && !overflowWarned) {
      overflowWarned = true;
      log.warn({ max: MAX_EXCLUDED_SESSIONS }, 'more of its own sessions than the capture filter holds: the newest are counted in the traffic until older ones end');
    }
    // Compiling costs more with every session (libpcap's optimiser): only when the expression changed.
    if (filter === appliedFilter) return;
    appliedFilter = filter;
    if (source.kind === 'replay') pipeline.setFilter(filter ?? undefined);
    else if (source.setFilter) {
      source.setFilter(filter ?? undefined);
      engines?.setFilter(filter ?? undefined);
    }
    else {
      // The open handles keep the filter they were opened with; exclusions added since are applied here.
      const ex = exclusions.expression();
      pipeline.setFilter(ex === undefined ? undefined : `not (${ex})`);
      if (!kernelLagWarned) log.warn('the capture cannot change the kernel filter of an open handle: new exclusions are applied in user space');
      kernelLagWarned = true;
    }
    log.info({ filter }, 'capture filter changed (own traffic exclusions)');
  });

  const publish = (topic: Topic, record: object) => {
    try {
      if (history) {
        if (topic === 'flows') history.appendConn(record as ConnRecord);
        else if (topic === 'dns') history.appendDns(record as DnsRecord);
        else if (topic === 'alerts') history.appendAlert(record as AlertRecord);
        else history.appendStats(record);
      }
    } catch (err) {
      log.error({ err: (err as Error).message }, 'history store append failed');
    }
    if (topic === 'alerts') service?.metrics?.onAlert(record as { state?: string; detector?: string });
    service?.server.publish(topic, record);
  };
  // The outputs first, detection after them: an alert goes out after the record that raised it.
  pipeline.observe({
    // A closed flow goes to the store as columns; its record object is made only for an output or a subscriber.
    onConn: (conn) => {
      try {
        history?.appendFlow(conn);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'history store append failed');
      }
      if (!sinks.active && !service?.server.wants('flows')) return;
      const record = conn.record();
      sinks.write(record);
      service?.server.publish('flows', record);
    },
    onRecord: (record) => {
      sinks.write(record);
      const topic = RECORD_TOPICS[record.type];
      if (topic !== undefined) publish(topic, record);
    },
  });
  const secondStats = new SecondStats(pipeline, { localNets: settings.localNets, topN: settings.topN, start: started });
  const onAlert = (raw: AlertRecord) => pipeline.emit(acks ? acks.pass(raw) : raw);
  /** The other engines' records go where this engine's go; their alerts are delivered from here. */
  const forwardEngineRecords = (records: Array<LoopyRecord | object>) => {
    for (const r of records as LoopyRecord[]) {
      if (r.type === 'alert') {
        onAlert(r as AlertRecord);
        detecting?.delivery?.deliver(r as AlertRecord);
        continue;
      }
      sinks.write(r);
      const topic = r.type === 'conn' ? 'flows' : RECORD_TOPICS[r.type];
      if (topic !== undefined) publish(topic, r);
    }
  };
  detection?.attach(pipeline);
  // Processes of this host own the flows of a live capture only (a replayed file's are not this host's).
  const processes = connectTrace !== undefined ? startProcessAttribution(pipeline, log, (event) => detection?.socketEvent(event), connectTrace) : undefined;
  const cpu = new CpuMeter(deps.processSample ?? realProcessSample, started);
  limitRetainedMemory();
  const trimMemory = memoryTrimmer(started, trimProcessMemory, burstCollection(pipeline));

  let state: 'running' | 'stopped' | 'failed' = 'running';
  let statusWarned = false;
  let packetsTotal = 0;
  let bytesTotal = 0;
  let lastRetention = started;
  let lossLogged = Number.NEGATIVE_INFINITY;
  let lossySeconds = 0;
  /** A second with more than 0.1 % dropped: detection hears of it (capture_loss), the log says so once a minute. */
  const reportCaptureLoss = (now: number, interfaces: StatsSecond['interfaces']) => {
    detection?.captureSecond(now, interfaces);
    const lossy = interfaces.filter((i) => i.dropped > 0 && i.drop_pct > 0.1);
    if (lossy.length === 0) return;
    lossySeconds++;
    if (now - lossLogged < 60) return;
    for (const i of lossy) log.warn({ interface: i.name, dropped: i.dropped, drop_pct: i.drop_pct, lossy_seconds: lossySeconds }, 'capture is losing packets: the kernel ring overflowed (see --buffer, and the capture_loss alert)');
    lossLogged = now;
    lossySeconds = 0;
  };
  const rollSecond = (now: number) => {
    const counters = engines ? engines.addCounters(source.stats()) : source.stats();
    const record = secondStats.roll(now, { interfaces: counters, process: cpu.read(now) });
    if (engines) addSeconds(record, engines.takeSeconds());
    if (source.kind === 'live') reportCaptureLoss(now, record.interfaces);
    sinks.write(record);
    sinks.flush();
    if (statsOut) boundStatsOut(statsOut);
    packetsTotal += record.packets;
    bytesTotal += record.bytes;
    const clients = service?.server.clients ?? 0;
    const ctx = {
      pid: process.pid, user, started, source: source.kind, filter: effectiveFilter(), state,
      interfaceState: state === 'running' ? (source.kind === 'live' ? 'capturing' : 'replaying') : state,
      clients, packetsTotal, bytesTotal, detectionState: detection?.stateReport(),
    } as const;
    latestStatus = statusOf(ctx, record, counters);
    if (processes !== undefined) latestStatus.processes = processes.stats();
    latestStatus.passive_names = names.report();
    service?.metrics?.onStats(record, clients);
    if (latestStatus.detection_state) service?.metrics?.onDetectionState(latestStatus.detection_state);
    if (detecting?.delivery) service?.metrics?.onDelivery(detecting.delivery.stats());
    publish('stats', record);
    if (history) {
      try {
        history.flush();
        if (now - lastRetention >= 3600) {
          lastRetention = now;
          history.enforceRetention(now);
        }
      } catch (err) {
        log.error({ err: (err as Error).message }, 'history store flush failed');
      }
    }
    try {
      writeStatusFile(settings.dataDir, latestStatus);
    } catch (err) {
      if (!statusWarned) log.warn({ dir: settings.dataDir, err: (err as Error).message }, 'cannot write the status file');
      statusWarned = true;
    }
    for (const f of sinks.failures()) log.warn({ sink: f.name, err: f.error.message }, 'an output stopped; records no longer go there');
    trimMemory(now);
  };
  const cancelTimer = clock.every(1, () => {
    const now = clock.now();
    pipeline.tick(now);
    rollSecond(now);
  });

  let stopReason = '';
  let releaseStay: (() => void) | undefined;
  const stop = (reason = 'stop requested') => {
    if (stopReason) return;
    stopReason = reason;
    log.info({ reason }, 'stopping: closing capture and flushing');
    source.close();
    releaseStay?.();
  };

  const done = (async (): Promise<AgentExit> => {
    let failure: Error | undefined;
    let finished = false;
    try {
      await pipeline.run(source, () => sinks.drain());
      if (src.kind === 'replay' && src.stay && !stopReason) {
        // The file is done: report its open flows now, then serve its history until told to stop.
        pipeline.finish();
        finished = true;
        log.info('the replay reached the end of the file; serving its history until stopped (--stay)');
        await new Promise<void>((resolve) => (releaseStay = resolve));
      }
    } catch (err) {
      failure = err as Error;
      state = 'failed';
      log.error({ code: (err as { code?: string }).code, err: failure.message }, 'capture failed');
    }
    source.close();
    // The other engines' last records go out before this engine's summary and the outputs close.
    await engines?.stop();
    cancelTimer();
    processes?.stop();
    if (!finished) pipeline.finish();
    await detection?.close();
    await detecting?.delivery?.close();
    if (state === 'running') state = 'stopped';
    rollSecond(clock.now());
    await sinks.end();
    await hub?.close();
    await service?.close(stopReason || 'the agent stopped');
    try {
      history?.close();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'history store close failed');
    }
    const reason = failure ? failure.message : stopReason || 'the replay reached the end of the file';
    log.info({ reason, packets: pipeline.engine.packets + (engines?.packets ?? 0), processes: processes?.stats() }, 'stopped');
    return { code: failure ? 1 : 0, reason };
  })();

  log.info(
    { source: source.kind, interfaces: source.interfaces, filter: effectiveFilter(), data: settings.dataDir, listen: service?.addresses },
    src.kind === 'live' ? `capturing on ${source.interfaces.join(', ')}` : `replaying ${src.file}`,
  );
  let statsOutBoundWarned = false;
  /** Once a second: --stats-out past its bound is moved to FILE.1 (the older one goes) and begun again. */
  function boundStatsOut(out: SinkStream): void {
    const path = out.sink.name;
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    const limit = settings.statsOutMaxBytes ?? DEFAULT_STATS_OUT_MAX_MIB * 1048576;
    if (size < limit) return;
    try {
      renameSync(path, `${path}.1`);
      out.sink.replace(out.reopen!());
      log.info({ file: path, bytes: size }, `--stats-out reached ${limit / 1048576} MiB: moved to ${path}.1, a new file begun`);
    } catch (err) {
      // Once: the directory must be the agent user's (as /var/log/loopy is in contrib/logrotate.d/loopy).
      if (!statsOutBoundWarned) log.warn({ file: path, err: (err as Error).message }, "--stats-out could not be moved aside (its directory must be writable by the agent's user): it grows on");
      statsOutBoundWarned = true;
    }
  }
  const reopenOutputs = () => {
    const failed = sinks.reopen();
    for (const f of failed) log.warn({ sink: f.name, err: f.error.message }, 'cannot reopen an output file: writing on to the one open');
    return failed.length === 0;
  };
  const reloadDetection = () => {
    if (!detecting) return;
    const file = settings.detectConfig;
    const outcome = detecting.reload();
    if (!outcome.ok) {
      if (file !== undefined) log.warn({ file, err: outcome.error }, `detection config rejected, the running settings stay: ${outcome.error}`);
      return;
    }
    const { applied, needRestart } = outcome;
    const restart = needRestart.length > 0 ? `; kept until a restart: ${needRestart.join(', ')}` : '';
    const what = applied.length > 0 ? `changed ${applied.join(', ')}` : 'nothing changed';
    log.info({ file, changed: applied, needs_restart: needRestart }, `detection config reloaded: ${what}${restart}`);
  };
  return { exclusions, service, publish, stop, done, reopenOutputs, reloadDetection };
}

/** The status before the first second is rolled (a client asking at once). */
function emptyStatus(started: number, now: number, source: 'live' | 'replay', filter: string | null): AgentStatus {
  return {
    type: 'agent_status', pid: process.pid, user: '', started, updated: now, state: 'running', source, filter, interfaces: [],
    packets_per_s: 0, bytes_per_s: 0, drop_pct: 0, drop_pct_total: 0, weirds_per_s: 0, cpu_percent: 0, rss_bytes: 0,
    flows_active: 0, packets_total: 0, bytes_total: 0, clients: 0, uptime_s: Math.max(0, now - started),
  };
}

/**
 * Pages the flow table gives back at once that mean a burst has ended. A sparse table with flows coming and
 * going gives back a few runs now and then; a compacting collection of the heap for each would cost more
 * than they are worth.
 */
const BURST_RELEASED_BYTES = 1 << 20;

/** A burst has ended when the flow table gave a burst's pages back since the last look (FlowTable.releaseSparse). */
function burstCollection(pipeline: Pipeline): BurstCollection | undefined {
  const collect = compactingCollector();
  if (collect === undefined) return undefined;
  let released = pipeline.engine.flowPagesReleased;
  return {
    ended: () => {
      const before = released;
      released = pipeline.engine.flowPagesReleased;
      return released - before >= BURST_RELEASED_BYTES;
    },
    collect,
  };
}
