/**
 * Prometheus metrics over HTTP (`--metrics HOST:PORT`, loopback unless told otherwise): the agent's
 * traffic counters and its own cost, updated once a second from the `stats` record (never per packet),
 * plus alerts as they are published. A registry of its own, so nothing global leaks between agents in one
 * process (tests).
 */
import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';
import type { StatsSecond } from '../stats/stats-record.js';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly packets = new Counter({ name: 'loopy_packets_total', help: 'Packets captured (after the filter)', registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'loopy_bytes_total', help: 'Bytes captured (wire length)', registers: [this.registry] });
  private readonly dropped = new Counter({ name: 'loopy_dropped_total', help: 'Packets the kernel dropped', labelNames: ['interface'], registers: [this.registry] });
  private readonly flowsOpened = new Counter({ name: 'loopy_flows_opened_total', help: 'Flows opened', registers: [this.registry] });
  private readonly flowsActive = new Gauge({ name: 'loopy_flows_active', help: 'Flows in the flow table', registers: [this.registry] });
  private readonly dns = new Counter({ name: 'loopy_dns_queries_total', help: 'DNS queries seen', registers: [this.registry] });
  private readonly alerts = new Counter({ name: 'loopy_alerts_total', help: 'Alerts opened', labelNames: ['detector'], registers: [this.registry] });
  private readonly clients = new Gauge({ name: 'loopy_clients', help: 'Protocol clients connected', registers: [this.registry] });
  private readonly cpu = new Gauge({ name: 'loopy_agent_cpu_percent', help: "The agent's CPU, % of one core, last second", registers: [this.registry] });
  private readonly rss = new Gauge({ name: 'loopy_agent_rss_bytes', help: "The agent's resident memory", registers: [this.registry] });
  private readonly tableKeys = new Gauge({ name: 'loopy_detection_table_keys', help: "Keys in a detector's bounded table", labelNames: ['detector', 'table'], registers: [this.registry] });
  private readonly tableDeclined = new Counter({ name: 'loopy_detection_table_declined_total', help: 'New keys a detector table did not take (seen once while past half full)', labelNames: ['detector', 'table'], registers: [this.registry] });
  private readonly tableEvicted = new Counter({ name: 'loopy_detection_table_evicted_total', help: 'Keys a detector table let go to make room', labelNames: ['detector', 'table'], registers: [this.registry] });

  onStats(s: StatsSecond, clients: number): void {
    this.packets.inc(s.packets);
    this.bytes.inc(s.bytes);
    for (const i of s.interfaces) this.dropped.inc({ interface: i.name }, i.dropped);
    this.flowsOpened.inc(s.flows_opened);
    this.flowsActive.set(s.flows_active);
    this.dns.inc(s.dns.queries);
    this.clients.set(clients);
    this.cpu.set(s.cpu_percent);
    this.rss.set(s.rss_bytes);
  }

  private readonly tableTotals = new Map<string, { declined: number; evicted: number }>();

  /** Detection's tables, once a second (their counts are running totals: the counters add what is new). */
  onDetectionState(tables: readonly TrackedKeysReport[]): void {
    for (const t of tables) {
      const labels = { detector: t.detector, table: t.table };
      const id = `${t.detector}/${t.table}`;
      const last = this.tableTotals.get(id) ?? { declined: 0, evicted: 0 };
      this.tableKeys.set(labels, t.size);
      this.tableDeclined.inc(labels, t.declined - last.declined);
      this.tableEvicted.inc(labels, t.evicted - last.evicted);
      this.tableTotals.set(id, { declined: t.declined, evicted: t.evicted });
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
