/**
 * Every view at 80×24 and 200×50, through the whole shell, over a fleet of three agents (one with a name of
 * wide characters, one down, DNS names in Chinese as records escape them): every line fits the terminal in
 * cells, the frame is one line shorter than the terminal, the status line keeps "? help" and "q quit", the
 * down agent shows "—" for its figures, and each view shows its key facts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellWidth } from '../../analyze/display-text.js';
import { DISPLAYED_NAME, ESCAPED_NAME, FLEET_NOW, WIDE_AGENT, feedFleet, fleetClients } from '../testing/fleet.js';
import { startShell } from '../testing/shell.js';
import { tick } from '../testing/render-view.js';
import { VIEWS } from './index.js';

const SIZES = [{ columns: 80, rows: 24 }, { columns: 200, rows: 50 }] as const;

/** What each view must show of the fleet, at both sizes. */
const FACTS: Record<string, RegExp[]> = {
  overview: [/● alpha\s+connected/, new RegExp(`● ${WIDE_AGENT}\\s+connected`), /○ tls:\/\/brav\S*\s+down, retry 4s\s+—\s+—\s+—\s+—\s+—\s+—\s+—/, /○ tls:\/\/bravo\.example:7414: connect ECONNREFUSED/, /fleet 2\/3 up/, /open alerts \(3\)/, /HIGH\s+dns_tunnel/, /MEDIUM\s+nxdomain_burst/, /MEDIUM\s+port_scan/, /192\.168\.10\.22/, new RegExp(DISPLAYED_NAME.replace('.', '\\.'))],
  traffic: [/Protocols, last 60s/, /ipv4\s+92%/, /tcp\s+83%/],
  hosts: [/192\.168\.10\.22/, /203\.0\.113\.10/],
  connections: [/192\.168\.10\.22/, /REJ/],
  dns: [new RegExp(DISPLAYED_NAME.replace('.', '\\.')), /NXDOMAIN/],
  alerts: [/medium\s+OPEN/, /nxdomain_burst/, /high\s+OPEN/],
  history: [/last hour/],
  processes: [/./],
};

for (const size of SIZES) {
  test(`every view at ${size.columns}×${size.rows}: fits in cells, footer keeps ? help and q quit, key facts shown`, async () => {
    const clients = fleetClients();
    const ui = startShell(clients, size, VIEWS, { now: FLEET_NOW });
    await tick();
    feedFleet(clients);
    await ui.second();
    for (const [i, view] of VIEWS.entries()) {
      await ui.press(String(i + 1));
      await ui.second();
      await tick(30);
      const screen = ui.screen();
      const lines = screen.split('\n');
      const where = `${view.name} at ${size.columns}×${size.rows}:\n${screen}`;
      assert.equal(lines.length, size.rows - 1, where);
      for (const l of lines) assert.ok(cellWidth(l) <= size.columns, `${cellWidth(l)} cells: ${l}\n${where}`);
      assert.match(lines.at(-1)!, /\? help {1,2}q quit/, where);
      assert.ok(!screen.includes(ESCAPED_NAME), `names decoded for display\n${where}`);
      for (const fact of FACTS[view.name] ?? []) assert.match(screen, fact, `${fact} in ${where}`);
      if (process.env.LOOPY_SHOW_SNAPSHOTS) console.log(where);
    }
    await ui.press('q');
    await ui.done;
  });
}
