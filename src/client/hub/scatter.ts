/**
 * Scatter-gather on a NATS hub: one message reaches every agent at once and the replies come back to one
 * inbox. Two uses: discovery (who is on the hub: every agent answers `loopy.discover` with its announcement)
 * and a fleet-wide question (`loopy.fleet.METHOD`: every agent answers with its result and its name).
 *
 * Neither waits a fixed time. Discovery ends when replies stop coming: a pause of twice the first reply's
 * delay (at least DISCOVERY_MIN_STALL_MS), so a far site's slower replies are waited for and a hub on the
 * same machine is not waited on. A fleet question runs beside its discovery (its answers keep the discovery
 * going while they come) and ends as soon as every agent known — by discovery, by its answer, or by a
 * heartbeat heard meanwhile — has answered, or at the deadline; the silent ones are named.
 */
import { type Msg, type MsgHdrs, type NatsConnection, type Subscription, createInbox } from '@nats-io/transport-node';
import { AGENT_HEADER, type Announcement, DISCOVER_SUBJECT, type FleetMethod, agentSubjects, announcementSchema, fleetSubject } from '../../serve/protocol/hub-subjects.js';
import type { MethodResults } from '../../serve/protocol/messages.js';
import { clientHeaders, parseReply, safeJson } from './hub-connection.js';

/** Discovery ends this long after the last reply at least, and after DISCOVERY_MAX_MS at most. */
export const DISCOVERY_MIN_STALL_MS = 100;
export const DISCOVERY_MAX_MS = 1500;

/** What a fleet-wide question got: each agent's answer, and the agents that gave none (and why). */
export interface FleetAnswers<R> {
  answers: Array<{ agent: string; result: R }>;
  missing: Array<{ agent: string; why: string }>;
}

/** The hub's "no responders" status: nobody subscribes to the subject (no agent on the hub). */
function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}

/** Publishes `body` on `subject` to every subscriber, each reply to `onReply`, until the subscription ends. */
function scatter(nc: NatsConnection, subject: string, body: string, h: MsgHdrs | undefined, onReply: (msg: Msg) => void, onNobody: () => void): Subscription {
  const sub = nc.subscribe(createInbox(), { callback: (err, msg) => (err || isNoResponders(msg) ? onNobody() : onReply(msg)) });
  nc.publish(subject, body, { reply: sub.getSubject(), headers: h });
  return sub;
}

/**
 * A discovery under way: the agents found so far, and `finished` once replies have stopped coming for a
 * pause (`heard` counts other replies too: a fleet question's keep it going while agents are answering).
 */
export class Discovery {
  readonly found = new Map<string, Announcement>();
  readonly finished: Promise<void>;
  private readonly sub: Subscription;
  private readonly started: number;
  private pause: number | undefined;
  private replies = 0;
  private stopped = false;
  private stall: NodeJS.Timeout | undefined;
  private readonly cap: NodeJS.Timeout;
  private end!: () => void;

  constructor(nc: NatsConnection, private readonly now = () => performance.now()) {
    this.finished = new Promise((resolve) => (this.end = resolve));
    this.started = now();
    // Headers make the hub answer "no responders" at once when no agent is there.
    this.sub = scatter(nc, DISCOVER_SUBJECT, '', clientHeaders('discovery'), (msg) => {
      const parsed = announcementSchema.safeParse(safeJson(msg.string()));
      if (parsed.success) this.found.set(parsed.data.name, parsed.data);
      this.heard();
    }, () => this.stop());
    this.cap = setTimeout(() => this.stop(), DISCOVERY_MAX_MS);
  }

  /** The agents found, by name. */
  get agents(): Announcement[] {
    return [...this.found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A reply came: the discovery goes on until a pause twice as long as the first reply took (or the cap). */
  heard(): void {
    if (this.stopped) return;
    this.pause ??= Math.max(DISCOVERY_MIN_STALL_MS, 2 * (this.now() - this.started));
    this.replies++;
    clearTimeout(this.stall);
    const before = this.replies;
    // The pause is the agents' only if this process kept up: when it was busy (parsing a burst of answers)
    // the timer fires late, before the replies already waiting in the socket are read. Those are read first
    // (setImmediate runs after I/O), and any of them goes on with the discovery.
    this.stall = setTimeout(() => setImmediate(() => this.replies === before && this.stop()), this.pause);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.stall);
    clearTimeout(this.cap);
    this.sub.unsubscribe();
    this.end();
  }
}

/** The agents on the hub now: every one answers the discovery request (those that do not are not counted). */
export async function discoverAgents(nc: NatsConnection): Promise<Announcement[]> {
  const discovery = new Discovery(nc);
  await discovery.finished;
  return discovery.agents;
}

/**
 * One method asked of every agent in one request; done when every agent known (by discovery, run beside it,
 * by its reply, or by a heartbeat meanwhile) has answered, or after `timeoutMs`. Answers by agent name, each
 * checked against the method's result schema, or by `check` (fleet-merge.ts: record lists checked in full
 * only where they are kept).
 */
export async function askFleet<M extends FleetMethod, R = MethodResults[M]>(
  nc: NatsConnection, method: M, params: object, o: { clientName: string; timeoutMs: number }, check?: (method: M, result: unknown) => R,
): Promise<FleetAnswers<R>> {
  const discovery = new Discovery(nc);
  const known = new Set<string>();
  const replies = new Map<string, { result: R } | { why: string }>();
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let discovered = false;
  const checkDone = () => {
    if (discovered && [...discovery.found.keys(), ...known].every((agent) => replies.has(agent))) finish();
  };
  const sub = scatter(nc, fleetSubject(method), JSON.stringify(params), clientHeaders(o.clientName), (msg) => {
    const agent = msg.headers?.get(AGENT_HEADER);
    if (!agent || replies.has(agent)) return;
    discovery.heard();
    replies.set(agent, answerOf(() => parseReply(agent, method, msg.string(), check)));
    checkDone();
  }, () => finish());
  // An agent whose heartbeat comes while the question is open is waited for too (a discovery answer it was late with).
  const presence = nc.subscribe(agentSubjects('*').presence, {
    callback: (_err, msg) => {
      const a = announcementSchema.safeParse(safeJson(msg.string()));
      if (a.success && !a.data.leaving) known.add(a.data.name);
    },
  });
  void discovery.finished.then(() => {
    discovered = true;
    checkDone();
  });
  const deadline = setTimeout(finish, o.timeoutMs);
  await finished;
  clearTimeout(deadline);
  for (const s of [sub, presence]) s.unsubscribe();
  discovery.stop();
  return collect(new Set([...discovery.found.keys(), ...known, ...replies.keys()]), replies, `no reply to ${method} within ${o.timeoutMs} ms`);
}

function answerOf<R>(parse: () => R): { result: R } | { why: string } {
  try {
    return { result: parse() };
  } catch (err) {
    return { why: (err as Error).message };
  }
}

function collect<R>(agents: Set<string>, replies: Map<string, { result: R } | { why: string }>, silent: string): FleetAnswers<R> {
  const out: FleetAnswers<R> = { answers: [], missing: [] };
  for (const agent of [...agents].sort((a, b) => a.localeCompare(b))) {
    const reply = replies.get(agent);
    if (reply === undefined) out.missing.push({ agent, why: `${agent}: ${silent}` });
    else if ('result' in reply) out.answers.push({ agent, result: reply.result });
    else out.missing.push({ agent, why: reply.why });
  }
  return out;
}
