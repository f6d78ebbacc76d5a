/**
 * Alert acknowledgements in the agent (alerts.ack). Detection knows nothing of them, so the agent keeps them:
 * for an alert still open, in memory, and every later record of that alert leaves the agent with its
 * acknowledgement in it (no client or store sees it un-acknowledged again); in the history store, for good,
 * beside the alert. The alert's latest record is re-sent at once to every subscriber of `alerts` with the
 * acknowledgement in it, so a second UI shows what the first one did. The store answers on its own thread,
 * so an acknowledgement is a promise; an open alert takes it at once, so a second one arriving meanwhile gets
 * the first.
 */
import type { AlertRecord } from '../analyze/records.js';
import type { AlertAck } from '../store/types.js';
import type { AgentAlertRecord } from './protocol/messages.js';

export interface AlertAcksOptions {
  /** The agent's clock (seconds since the epoch): when an acknowledgement was given. */
  now: () => number;
  /** The history store, when the agent keeps one: acknowledgements of alerts it holds are written there. */
  history?: { acknowledgeAlert(alertId: string, ack: AlertAck): AgentAlertRecord | undefined | Promise<AgentAlertRecord | undefined> };
  /** Sends a record to the subscribers of `alerts` (only them: the store has the acknowledgement already). */
  publish: (record: AgentAlertRecord) => void;
}

interface OpenAlert {
  /** The latest record detection emitted for it (what clients have seen last). */
  record: AlertRecord;
  ack?: AlertAck;
}

export class AlertAcks {
  /** Alerts whose latest record was not `closed`: bounded by what detection has open. */
  private readonly open = new Map<string, OpenAlert>();

  constructor(private readonly o: AlertAcksOptions) {}

  /** Alerts open now, as far as acknowledgements are concerned (tests). */
  get openCount(): number {
    return this.open.size;
  }

  /** Every alert record on its way out of detection: remembered while open, stamped once acknowledged. */
  pass(record: AlertRecord): AgentAlertRecord {
    const entry = this.open.get(record.alert_id);
    if (record.state === 'closed') this.open.delete(record.alert_id);
    else if (entry) entry.record = record;
    else this.open.set(record.alert_id, { record });
    // A copy: detection's own object stays as it made it.
    return entry?.ack ? { ...record, ...entry.ack } : record;
  }

  /**
   * Acknowledges an open alert, or one the store holds. The first acknowledgement is kept: a later one gets
   * it back and changes nothing. Undefined when the alert is neither open nor stored.
   */
  async ack(alertId: string, by: string): Promise<AlertAck | undefined> {
    const live = this.open.get(alertId);
    if (live?.ack) return live.ack;
    const ack: AlertAck = { acknowledged: true, acknowledged_at: this.o.now(), acknowledged_by: by };
    // Taken now, before the store answers: the first acknowledgement of an open alert is the one kept.
    if (live) live.ack = ack;
    const stored = await this.o.history?.acknowledgeAlert(alertId, ack);
    if (!live && !stored) return undefined;
    const kept = stored ? ackOf(stored) ?? ack : ack;
    if (live) live.ack = kept;
    if (kept.acknowledged_at === ack.acknowledged_at && kept.acknowledged_by === ack.acknowledged_by) {
      this.o.publish(live ? { ...live.record, ...kept } : (stored as AgentAlertRecord));
    }
    return kept;
  }
}

function ackOf(record: AgentAlertRecord): AlertAck | undefined {
  if (record.acknowledged !== true || typeof record.acknowledged_at !== 'number') return undefined;
  return { acknowledged: true, acknowledged_at: record.acknowledged_at, acknowledged_by: record.acknowledged_by ?? '' };
}
