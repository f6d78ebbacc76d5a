/**
 * The "Alerts" section of `loopy read`'s summary: each incident once (its last record), most severe first,
 * its message, then when and where its evidence is. Plain lines; the caller fits them to the terminal.
 */
import type { AlertRecord } from '../analyze/records.js';
import { utcClockText } from '../analyze/time-text.js';
import type { TrackedKeysReport } from './tracked-keys.js';

const RANK: Record<AlertRecord['severity'], number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Keeps the latest record of each alert (records arrive open → update... → closed). */
export class AlertCollector {
  private readonly byId = new Map<string, AlertRecord>();

  add(alert: AlertRecord): void {
    this.byId.set(alert.alert_id, alert);
  }

  get count(): number {
    return this.byId.size;
  }

  incidents(): AlertRecord[] {
    return [...this.byId.values()].sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.ts - b.ts);
  }
}

const INDENT = ' '.repeat(11);

/** Words onto lines of at most `width` columns, the first after `first`, the rest after the indent. */
function wrap(first: string, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > width && line.trim().length > 0 && line !== first) {
      lines.push(line);
      line = INDENT + word;
    } else {
      line += (line === first || line === INDENT ? '' : ' ') + word;
    }
  }
  lines.push(line);
  return lines;
}

export function renderAlertsSection(alerts: readonly AlertRecord[], detectors: readonly string[], width = 80, tables: readonly TrackedKeysReport[] = []): string[] {
  const lines = alerts.length === 0 ? [`Alerts: none (${detectors.length} detectors ran)`] : [`Alerts (${alerts.length})`];
  for (const a of alerts) {
    lines.push(...wrap(`  ${a.severity.toUpperCase().padEnd(8)} `, `${a.detector}: ${a.message}`, width));
    const span = a.evidence.first_seen === a.evidence.last_seen ? utcClockText(a.evidence.first_seen) : `${utcClockText(a.evidence.first_seen)}-${utcClockText(a.evidence.last_seen)}`;
    lines.push(...wrap(INDENT, `${span} UTC, alert ${a.alert_id}${a.evidence.pcap ? `, evidence ${a.evidence.pcap}` : ''}`, width));
  }
  return [...lines, ...pressureLines(tables, width)];
}

/** Tables whose bound cost something (keys declined or let go, items not recorded): counts may be short. */
function pressureLines(tables: readonly TrackedKeysReport[], width: number): string[] {
  const pressed = tables.filter((t) => t.declined + t.evicted + (t.itemsDeclined ?? 0) > 0);
  if (pressed.length === 0) return [];
  const lines = ['  Detection tables at their bounds (counts above may be short):'];
  for (const t of pressed) {
    const items = t.itemsDeclined ? `, ${t.itemsDeclined} items not recorded` : '';
    lines.push(...wrap(INDENT, `${t.detector} ${t.table}: ${t.size}/${t.capacity} held, ${t.declined} new declined, ${t.evicted} let go${items}`, width));
  }
  return lines;
}
