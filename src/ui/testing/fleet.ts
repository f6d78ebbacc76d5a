/**
 * A small fleet for the snapshot tests: `alpha` connected with 70 seconds of traffic, its flows, DNS (one name
 * in Chinese, with Zeek's escaping, as the records carry it) and alerts; `東京-edge` (a name of wide
 * characters) connected with a little traffic; `bravo` down. The clock reads T0 + 70.
 */
import type { ConnRecord, DnsRecord } from '../../analyze/records.js';
import { FAKE_HELLO, FakeAgentClient } from './fake-agent-client.js';
import { ALERT_SCAN, ALERT_TUNNEL, CONN_REJ, CONN_TLS, DNS_NX, DNS_OK, T0, alert, dns, flow, stats, statsSecond } from './sample-records.js';

export const FLEET_NOW = T0 + 70;
/** 小猫.local, as an LLMNR/mDNS query names it in a record. */
export const ESCAPED_NAME = '\\xe5\\xb0\\x8f\\xe7\\x8c\\xab.local';
export const DISPLAYED_NAME = '小猫.local';
export const WIDE_AGENT = '東京-edge';

const hello = (name: string) => ({ state: 'connected' as const, since: T0, agent: { ...FAKE_HELLO, name } });

function feed(client: FakeAgentClient, seconds: number, scale: number): void {
  for (let i = 0; i < seconds; i++) {
    const ts = T0 + i;
    client.emit(stats(statsSecond(ts, {
      packets: 1200 * scale, bytes: 900_000 * scale, packets_in: 700 * scale, packets_out: 500 * scale, bytes_in: (600_000 + (i % 7) * 40_000) * scale, bytes_out: 300_000 * scale,
      protocols: { ethernet: 1200 * scale, ipv4: 1100 * scale, ipv6: 100 * scale, tcp: 1000 * scale, udp: 200 * scale, dns: 40 * scale },
      top_talkers: [
        { host: '192.168.10.22', bytes: 500_000 * scale, packets: 600, flows: 4, local: true },
        { host: '203.0.113.10', bytes: 400_000 * scale, packets: 500, flows: 3, local: false },
        { host: '2001:db8:100::22', bytes: 90_000 * scale, packets: 90, flows: 1, local: false },
      ],
      flows_active: 40 * scale, flows_opened: 2, dns: { queries: 3, answers: 3, rcodes: { NOERROR: 3 } }, cpu_percent: 2.5, rss_bytes: 90 * 1024 * 1024,
      interfaces: [{ name: 'eth0', packets: 1200 * scale, bytes: 900_000 * scale, received: 1200, dropped: 0, if_dropped: 0, drop_pct: 0, received_total: 1200 * (i + 1), dropped_total: 0 }],
    })));
  }
}

export function fleetClients(): FakeAgentClient[] {
  const alpha = new FakeAgentClient('unix:/tmp/loopy-ui-1/alpha.sock', hello('alpha'));
  const tokyo = new FakeAgentClient('tls://tokyo.example:7414', hello(WIDE_AGENT));
  const bravo = new FakeAgentClient('tls://bravo.example:7414', { state: 'disconnected', since: T0, error: 'connect ECONNREFUSED 192.0.2.7:7414', retryInMs: 4000 });
  return [alpha, tokyo, bravo];
}

/** Sends the fleet's live data (after the shell or view subscribed). */
export function feedFleet([alpha, tokyo]: FakeAgentClient[]): void {
  feed(alpha, 70, 1);
  feed(tokyo, 70, 0.01);
  const conns: ConnRecord[] = [CONN_TLS, CONN_REJ].map((c, i) => ({ ...c, ts: c.ts + 60 + i }));
  for (const c of conns) alpha.emit(flow(c));
  const names: DnsRecord[] = [{ ...DNS_OK, ts: T0 + 65 }, { ...DNS_NX, ts: T0 + 66 }, { ...DNS_OK, ts: T0 + 67, query: ESCAPED_NAME, qtype_name: 'A' }, { ...DNS_OK, ts: T0 + 68, query: ESCAPED_NAME, qtype_name: 'AAAA' }];
  for (const d of names) alpha.emit(dns(d));
  alpha.emit(alert(ALERT_SCAN));
  alpha.emit(alert({ ...ALERT_TUNNEL, detector: 'nxdomain_burst', severity: 'medium', message: '192.168.10.252 got NXDOMAIN for 250 names under example.com' }));
  tokyo.emit(alert(ALERT_TUNNEL));
}
