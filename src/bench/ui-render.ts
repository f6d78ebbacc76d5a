/**
 * The redraw cost of each view (docs/research.md, question 5): every registered view is rendered at 200×50
 * with Ink (through ink-testing-library, so no terminal is involved) over two agents whose live buffers are
 * full (600 seconds, 2,000 flows, 2,000 DNS transactions, 50 alerts each), then redrawn once per simulated
 * second after a second's news (a stats record, 100 flows, 50 DNS transactions per agent). Reported: CPU
 * milliseconds per redraw (process CPU over the redraws, store flush included) and the frame's size.
 * React runs its production build, as `loopy ui` does.
 */
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const REDRAWS = 40;
const WIDTH = 200;
const HEIGHT = 50;
const FLOWS_PER_SECOND = 100;
const DNS_PER_SECOND = 50;

export const uiRenderBench: Benchmark = {
  name: 'ui-render',
  title: 'UI redraw cost per view (Ink, 200×50, two agents with full live buffers)',
  async run(options: BenchOptions): Promise<BenchResult> {
    // Before React loads: its development build would measure its own bookkeeping instead.
    process.env.NODE_ENV ??= 'production';
    const { VIEWS } = await import('../ui/views/index.js');
    const { renderView } = await import('../ui/testing/render-view.js');
    const { FakeAgentClient } = await import('../ui/testing/fake-agent-client.js');
    const samples = await import('../ui/testing/sample-records.js');
    const { KEEP_SECONDS, KEEP_FLOWS, KEEP_DNS } = await import('../ui/agent-store.js');

    let serial = 0;
    const conn = (ts: number): ConnRecord => {
      const n = serial++;
      return { ...samples.CONN_TLS, ts, uid: `C${n}`, 'id.orig_h': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, 'id.orig_p': 1024 + (n % 60000), orig_bytes: n % 5000 };
    };
    const dnsRecord = (ts: number): DnsRecord => {
      const n = serial++;
      return { ...samples.DNS_OK, ts, uid: `C${n}`, query: `host${n % 997}.example${n % 13}.org`, trans_id: n & 0xffff };
    };
    const talkers = Array.from({ length: 10 }, (_, i) => ({ host: `10.0.${i}.${i + 1}`, bytes: 1_000_000 >> i, packets: 1000 >> i, flows: 10 - i, local: i < 5 }));
    const second = (client: InstanceType<typeof FakeAgentClient>, ts: number, flows: number, dns: number) => {
      client.emit(samples.stats(samples.statsSecond(ts, { packets: 25_000, bytes: 12_000_000, packets_in: 12_000, packets_out: 13_000, bytes_in: 5e6, bytes_out: 7e6, flows_active: 9000, flows_opened: flows, top_talkers: talkers })));
      for (let i = 0; i < flows; i++) client.emit(samples.flow(conn(ts - i / flows)));
      for (let i = 0; i < dns; i++) client.emit(samples.dns(dnsRecord(ts - i / dns)));
    };

    const results: ToolResult[] = [];
    for (const view of VIEWS) {
      const clients = [new FakeAgentClient('unix:/run/a.sock'), new FakeAgentClient('unix:/run/b.sock')];
      const t0 = samples.T0;
      // The view's store subscribes when it is made: fill the live buffers after, as many seconds as the
      // store keeps, with the flows and DNS transactions in the latest of them.
      const v = renderView(view, clients, { width: WIDTH, height: HEIGHT, now: t0 + KEEP_SECONDS });
      for (const c of clients) {
        for (let s = 0; s < KEEP_SECONDS; s++) second(c, t0 + s, s >= KEEP_SECONDS - KEEP_FLOWS / FLOWS_PER_SECOND ? FLOWS_PER_SECOND : 0, s >= KEEP_SECONDS - KEEP_DNS / DNS_PER_SECOND ? DNS_PER_SECOND : 0);
        for (let a = 0; a < 50; a++) c.emit(samples.alert({ ...samples.ALERT_SCAN, alert_id: `A${a}`, ts: t0 + a }));
      }
      await v.refresh();
      let ts = t0 + KEEP_SECONDS;
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let i = 0; i < REDRAWS; i++) {
        for (const c of clients) second(c, ts, FLOWS_PER_SECOND, DNS_PER_SECOND);
        ts++;
        await v.refresh(); // flush + rerender + a 20 ms wait for Ink to paint (idle, not counted as CPU)
      }
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      const frame = v.frame();
      if (process.env.LOOPY_BENCH_SHOW_FRAMES) options.log(frame);
      v.unmount();
      const perRedrawMs = (cpu.user + cpu.system) / 1000 / REDRAWS;
      const lines = frame.split('\n').length;
      options.log(`ui-render: ${view.name}: ${perRedrawMs.toFixed(2)} ms CPU per redraw, ${lines} lines, ${frame.length} characters`);
      results.push({
        tool: view.name,
        command: `${perRedrawMs.toFixed(2)} ms CPU per redraw (news of one second from two agents + flush + Ink render), frame ${lines} lines / ${frame.length} characters`,
        status: 'ok',
        wallSeconds: wallMs / 1000,
      });
    }
    return {
      name: 'ui-render',
      title: this.title,
      input: `${VIEWS.length} views; per agent ${KEEP_SECONDS} s of stats, ${KEEP_FLOWS} flows, ${KEEP_DNS} DNS transactions, 50 alerts; ${REDRAWS} redraws each`,
      results,
      ratios: [],
      targets: [],
    };
  },
};
