/**
 * History over a replayed capture, end to end (a real agent, its store, the protocol, the view): for every
 * minute the series counts exactly the connections, DNS transactions and alerts a query over that minute
 * returns, and the view's cursor line says the same numbers as the details Enter opens for that minute.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAgent } from '../../client/connect-agent.js';
import { agentDir, RealAgent } from '../../client/testing/real-agent.js';
import { generatedCapture } from '../../test-support/sample-frames.js';
import { formatDateTime, formatSi } from '../format.js';
import { renderView, tick } from '../testing/render-view.js';
import history from './HistoryView.js';

let agent: RealAgent | undefined;
after(() => agent?.stop());

test('history of a replayed capture: each minute counts exactly its records, and the cursor says what Enter lists', async () => {
  const dir = agentDir();
  const file = join(dir, 'traffic.pcap');
  const { bytes, truth } = await generatedCapture({ seed: 17, packets: 6000, durationSeconds: 150, incidents: ['nxdomain_burst', 'port_scan'] });
  writeFileSync(file, bytes);
  const socket = join(dir, 'agent.sock');
  agent = RealAgent.start(file, join(dir, 'data'), [`unix:${socket}`], '--stay');
  const client = connectAgent(`unix:${socket}`, { configDir: join(dir, 'client') });
  try {
    // The end of the file reports its open flows (--stay): every packet in and no flow left open.
    for (let i = 0; i < 100; i++) {
      const status = await client.status().catch(() => undefined);
      if (status?.packets_total === truth.packets && status.flows_active === 0) break;
      await tick(200);
    }
    // Replayed at full speed, the capture's times run up to 150 s ahead of the clock: look from beyond them.
    const now = Date.now() / 1000 + 400;
    const minute = (ts: number) => Math.floor(ts / 60) * 60;
    const all = { since: now - 3600, until: now, limit: 10_000 };
    // The store flushes once a second, and its worker writes after: wait (bounded) until what it holds is
    // whole and has not changed for two flushes, so the view's queries later see what these see.
    let series = await client.series({ ...all, resolution: '1m' });
    let held = -1;
    let heldSince = Date.now();
    for (let i = 0; i < 60; i++) {
      const stored = (await client.flows(all)).length;
      series = await client.series({ ...all, resolution: '1m' });
      if (stored !== held || stored !== series.reduce((n, p) => n + p.flows_opened, 0)) [held, heldSince] = [stored, Date.now()];
      else if (Date.now() - heldSince >= 2500) break;
      await tick(250);
    }
    const [flows, dns, alerts] = await Promise.all([client.flows(all), client.dns(all), client.alerts(all)]);
    assert.ok(flows.length > 100 && dns.length > 50 && alerts.length > 0, `${flows.length} flows, ${dns.length} DNS, ${alerts.length} alerts`);
    assert.ok(series.length >= 3, 'the capture spans several minutes');
    for (const p of series) {
      const at = (list: Array<{ ts: number }>) => list.filter((r) => minute(r.ts) === p.ts).length;
      assert.deepEqual([p.flows_opened, p.dns_queries, p.alerts], [at(flows), at(dns), at(alerts)], `minute ${new Date(p.ts * 1000).toISOString()}`);
    }

    // The view: typed range over the capture, the cursor on its busiest minute, Enter.
    const busiest = series.reduce((b, p) => (p.flows_opened > b.flows_opened ? p : b));
    const v = renderView(history, [client], { now, width: 120, height: 30 });
    await v.press('t');
    for (const c of '60m') await v.press(c);
    for (let i = 0; i < 100 && !/range: 60m/.test(v.frame()); i++) await tick(20);
    await v.press('\r');
    for (let i = 0; i < 50 && /loading/.test(v.frame()); i++) await tick(50);
    const last = Math.floor(now / 60) * 60 - 60;
    // One key at a time, each seen on the screen before the next (a busy machine may paint late).
    const cursorAt = () => /^(\d{4}-\d\d-\d\d \d\d:\d\d)  /m.exec(v.frame())?.[1];
    for (let m = last; m > busiest.ts; m -= 60) {
      const before = cursorAt();
      await v.press('h');
      for (let i = 0; i < 100 && cursorAt() === before; i++) await tick(20);
    }
    assert.equal(cursorAt(), formatDateTime(busiest.ts));
    const cursor = /^\d{4}-\d\d-\d\d \d\d:\d\d  \S+  \S+ pkts  (\S+) connections  (\S+) DNS  (\S+) alerts/m.exec(v.frame());
    assert.ok(cursor, v.frame());
    assert.deepEqual(cursor.slice(1), [busiest.flows_opened, busiest.dns_queries, busiest.alerts].map(formatSi));
    await v.press('\r');
    for (let i = 0; i < 50 && /loading/.test(v.frame()); i++) await tick(50);
    const detail = /At .* \+60s: (\S+) connections {2}(\S+) DNS {2}(\S+) alerts/.exec(v.frame());
    assert.ok(detail, v.frame());
    assert.deepEqual(detail.slice(1), cursor.slice(1), 'the details count what the cursor line counts');
    v.unmount();
  } finally {
    client.close();
  }
});
