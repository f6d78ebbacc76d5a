/**
 * Which agents are on the hub, as their heartbeats say: an agent is up from its first announcement, and down
 * when it says it is leaving or after DOWN_AFTER_S without a word (killed, or its link cut). One watcher
 * serves one agent (`nats://hub/AGENT`) or all of them (`nats://hub`).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type Announcement, DOWN_AFTER_S, agentSubjects, agentToken, announcementSchema } from '../../serve/protocol/hub-subjects.js';
import { safeJson } from './hub-connection.js';

export type PresenceChange = { agent: string; up: true; announcement: Announcement } | { agent: string; up: false; reason: string };

/** How often silence is checked: a killed agent is marked down at most this long after DOWN_AFTER_S. */
const CHECK_MS = 250;

export class PresenceWatcher {
  private readonly lastHeard = new Map<string, number>();
  private readonly sub: Subscription;
  private readonly timer: NodeJS.Timeout;

  /** `agent`: one agent's presence; undefined: every agent's. */
  constructor(nc: NatsConnection, agent: string | undefined, private readonly onChange: (change: PresenceChange) => void, private readonly now = Date.now) {
    this.sub = nc.subscribe(agentSubjects(agent === undefined ? '*' : agentToken(agent)).presence, {
      callback: (_err, msg) => this.heard(msg.string()),
    });
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  /** Agents up now. */
  get agents(): string[] {
    return [...this.lastHeard.keys()];
  }

  /** Counts an agent as up (a discovery answered for it) until its heartbeats say otherwise. */
  saw(announcement: Announcement): void {
    const known = this.lastHeard.has(announcement.name);
    this.lastHeard.set(announcement.name, this.now());
    if (!known) this.onChange({ agent: announcement.name, up: true, announcement });
  }

  close(): void {
    clearInterval(this.timer);
    this.sub.unsubscribe();
  }

  private heard(text: string): void {
    const parsed = announcementSchema.safeParse(safeJson(text));
    if (!parsed.success) return;
    const a = parsed.data;
    if (a.leaving) return this.down(a.name, 'the agent stopped');
    this.saw(a);
  }

  private check(): void {
    const limit = this.now() - DOWN_AFTER_S * 1000;
    for (const [agent, at] of this.lastHeard) if (at < limit) this.down(agent, `no heartbeat for ${DOWN_AFTER_S} s`);
  }

  private down(agent: string, reason: string): void {
    if (!this.lastHeard.delete(agent)) return;
    this.onChange({ agent, up: false, reason });
  }
}
