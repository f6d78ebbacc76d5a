/** One alert record as `loopy read --json` wrote it for a generated port scan, for delivery tests. */
import type { AlertRecord } from '../../analyze/records.js';

export const ALERT: AlertRecord = {
  type: 'alert', _path: 'notice', ts: 1718000002.000796, alert_id: 'AVGo6oKnmKqf7yTsdn', state: 'open', state_ts: 1718000002.000796, detector: 'port_scan', severity: 'medium',
  message: '192.168.10.250 scanned 100 TCP ports on 192.168.20.10 in 0.3 s', src: '192.168.10.250', dst: '192.168.20.10',
  evidence: { counters: { distinct_ports: 100 }, thresholds: { distinct_ports: 100 }, hosts: ['192.168.10.250', '192.168.20.10'], first_seen: 1718000001.671446, last_seen: 1718000002.000796 },
  community_ids: ['1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
};
