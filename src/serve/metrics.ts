/**
 * Prometheus metrics over HTTP (`--metrics HOST:PORT`, loopback unless told otherwise): the agent's
 * traffic counters and its own cost, updated once a second from the `stats` record (never per packet),
 * plus alerts as they are published and alert deliveries. Names follow Prometheus' conventions: a unit
 * suffix (`_bytes`, `_seconds`, `_ratio`), `_total` on counters, `loopy_build_info` for the version, and
 * prom-client's default process and Node.js metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 * `nodejs_eventloop_lag_seconds`...) beside them. Every name is listed in the README (Prometheus metrics); a
 * test scrapes a real agent for each. A registry of its own, so nothing global leaks between agents in one
 * process (tests).
 */
import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';
import { PACKAGE_VERSION } from '../capture/package-version.js';
import type { DeliveryStats } from '../detect/delivery/retry-queue.js';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';
import type { StatsSecond } from '../stats/stats-record.js';

/** What `loopy_build_info` says: Loopy's version, the libpcap the capture addon runs with ("none" without it), Node's. */
export interface BuildInfo {
  version: string;
  libpcap: string;
  node: string;
}

export function buildInfo(): BuildInfo {
  const libpcap = tryLoadCaptureAddon()?.libVersion();
  return { version: PACKAGE_VERSION, libpcap: /libpcap version (\S+)/.exec(libpcap ?? '')?.[1] ?? libpcap ?? 'none', node: process.versions.node };
}

/**
 * A counter fed running totals (detection tables, deliveries): each call adds what is new since the last one
 * for those labels; a total that went backwards started again, and all of it is new.
 */
class CounterOfTotals<L extends string> {
  private readonly last = new Map<string, number>();
  constructor(private readonly counter: Counter<L>) {}

  set(labels: Record<L, string>, total: number): void {
    const key = JSON.stringify(labels);
    const before = this.last.get(key) ?? 0;
    this.counter.inc(labels, total >= before ? total - before : total);
    this.last.set(key, total);
  }
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly packets = this.counter('loopy_packets_total', 'Packets the engine took from the interface (after every filter)', ['interface']);
  private readonly bytes = this.counter('loopy_bytes_total', 'Bytes the engine took from the interface (wire length)', ['interface']);
  private readonly received = this.counter('loopy_kernel_received_packets_total', 'Packets the kernel passed the capture filter (pcap_stats ps_recv; on loopback each packet counts twice)', ['interface']);
  private readonly dropped = this.counter('loopy_dropped_packets_total', 'Packets lost because the kernel ring (or the addon) was full (ps_drop)', ['interface']);
  private readonly ifDropped = this.counter('loopy_interface_dropped_packets_total', 'Packets the interface or driver dropped, where the kernel knows (ps_ifdrop)', ['interface']);
  private readonly dropRatio = this.gauge('loopy_drop_ratio', 'Share of the packets received that were dropped, last second (0 to 1)', ['interface']);
  private readonly flowsOpened = this.counter('loopy_flows_opened_total', 'Flows opened');
  private readonly flowsClosed = this.counter('loopy_flows_closed_total', 'Flows ended (closed, timed out or evicted)');
  private readonly flowsActive = this.gauge('loopy_flows_active', 'Flows in the flow table');
  private readonly dns = this.counter('loopy_dns_queries_total', 'DNS queries seen');
  private readonly alerts = this.counter('loopy_alerts_total', 'Alerts opened', ['detector']);
  private readonly clients = this.gauge('loopy_clients', 'Protocol clients connected');
  private readonly cpu = this.gauge('loopy_agent_cpu_ratio', "The agent's CPU in the last second, as a share of one core (1 = a whole core)");
  private readonly tableKeys = this.gauge('loopy_detection_table_keys', "Keys in a detector's bounded table", ['detector', 'table']);
  private readonly tableDeclined = new CounterOfTotals(this.counter('loopy_detection_table_declined_total', 'New keys a detector table did not take (seen once while past half full)', ['detector', 'table']));
  private readonly tableEvicted = new CounterOfTotals(this.counter('loopy_detection_table_evicted_total', 'Keys a detector table let go to make room', ['detector', 'table']));
  private readonly deliveries = new CounterOfTotals(
    this.counter('loopy_alert_deliveries_total', 'Alert records per delivery target (webhook, syslog) and outcome: sent, failed (after its attempts, or refused for good), dropped (queue full, or still queued at stop)', ['target', 'outcome']),
  );
  private readonly deliveryRetries = new CounterOfTotals(this.counter('loopy_alert_delivery_retries_total', 'Delivery attempts that failed and were tried again', ['target']));
  private readonly deliveryQueue = this.gauge('loopy_alert_delivery_queue_length', 'Alert records waiting to be delivered', ['target']);

  constructor(build: BuildInfo = buildInfo()) {
    collectDefaultMetrics({ register: this.registry });
    this.gauge('loopy_build_info', 'Always 1; the labels say which Loopy, libpcap and Node.js run', ['version', 'libpcap', 'node']).set({ ...build }, 1);
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  onStats(s: StatsSecond, clients: number): void {
    for (const i of s.interfaces) {
      const labels = { interface: i.name };
      this.packets.inc(labels, i.packets);
      this.bytes.inc(labels, i.bytes);
      this.received.inc(labels, i.received);
      this.dropped.inc(labels, i.dropped);
      this.ifDropped.inc(labels, i.if_dropped);
      this.dropRatio.set(labels, i.drop_pct / 100);
    }
    this.flowsOpened.inc(s.flows_opened);
    this.flowsClosed.inc(s.flows_closed);
    this.flowsActive.set(s.flows_active);
    this.dns.inc(s.dns.queries);
    this.clients.set(clients);
    this.cpu.set(s.cpu_percent / 100);
  }

  /** Detection's tables, once a second (their counts are running totals: the counters add what is new). */
  onDetectionState(tables: readonly TrackedKeysReport[]): void {
    for (const t of tables) {
      const labels = { detector: t.detector, table: t.table };
      this.tableKeys.set(labels, t.size);
      this.tableDeclined.set(labels, t.declined);
      this.tableEvicted.set(labels, t.evicted);
    }
  }

  /** The delivery queues' running totals, once a second. */
  onDelivery(targets: Partial<Record<'webhook' | 'syslog', DeliveryStats>>): void {
    for (const [target, stats] of Object.entries(targets)) {
      if (stats === undefined) continue;
      for (const outcome of ['sent', 'failed', 'dropped'] as const) this.deliveries.set({ target, outcome }, stats[outcome]);
      this.deliveryRetries.set({ target }, stats.retries);
      this.deliveryQueue.set({ target }, stats.queued);
    }
  }

  onAlert(record: { state?: string; detector?: string }): void {
    if (record.state === 'open') this.alerts.inc({ detector: record.detector ?? 'unknown' });
  }

  /** Serves GET /metrics; resolves once listening. */
  listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end('GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve(server);
      });
    });
  }
}
