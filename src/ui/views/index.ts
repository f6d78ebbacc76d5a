/**
 * The views, in tab order (number keys 1..9 follow it). Adding a view: write views/MyView.tsx exporting
 * `defineView({...})` and add one line here. See docs/ui.md.
 */
import type { ViewDefinition } from '../view-registry.js';
import overview from './OverviewView.js';
import traffic from './TrafficView.js';
import hosts from './HostsView.js';
import connections from './ConnectionsView.js';
import dns from './DnsView.js';
import alerts from './AlertsView.js';
import history from './HistoryView.js';
import processes from './ProcessesView.js';

export const VIEWS: readonly ViewDefinition[] = [overview, traffic, hosts, connections, dns, alerts, history, processes];
