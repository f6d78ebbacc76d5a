/**
 * `loopy watch nats://HUB[/AGENT]`: live events of every agent on the hub (or one), each with the agent's
 * name; agents coming and going on stderr; with --since, first every alert the hub's stream kept since then.
 */
import type { Topic } from '../client/agent-client.js';
import type { Fleet, FleetEvent } from '../client/hub/fleet.js';
import type { PresenceChange } from '../client/hub/presence.js';
import { parseTimeSpec } from '../client/time-spec.js';
import { asUsage } from './agent-target-options.js';
import { EventOutput, type WatchCliOptions, untilStopped } from './watch.js';

export async function runHubWatch(target: string, hub: { open(): Promise<Fleet>; agent?: string }, topics: Topic[], o: WatchCliOptions): Promise<number> {
  const since = o.since === undefined ? undefined : asUsage(() => parseTimeSpec(o.since!, Date.now() / 1000, '--since'));
  let fleet: Fleet;
  try {
    fleet = await hub.open();
  } catch (err) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`loopy: connected to ${target}\n`);
  const output = new EventOutput(o.json === true);
  const mine = (agent: string) => hub.agent === undefined || agent === hub.agent;
  const onEvent = (e: FleetEvent) => {
    if (mine(e.agent)) output.write(e, e.agent);
  };
  return untilStopped((finish) => {
    const presence = fleet.presence((c) => mine(c.agent) && process.stderr.write(`loopy: ${describePresence(c)}\n`));
    // With --since, the alerts come from the stream (the kept ones, then the new ones): not twice.
    const live = since === undefined ? topics : topics.filter((t) => t !== 'alerts');
    const offLive = fleet.watch(live, onEvent);
    let offKept: (() => void) | undefined;
    if (since !== undefined && topics.includes('alerts')) {
      fleet.alertsSince(since, hub.agent, onEvent).then((off) => (offKept = off), (err: Error) => {
        process.stderr.write(`loopy: the hub keeps no alerts to read (${err.message}): is JetStream on and an agent connected?\n`);
        finish(1);
      });
    }
    return async () => {
      offKept?.();
      offLive();
      presence.close();
      output.end();
      await fleet.close();
    };
  });
}

function describePresence(c: PresenceChange): string {
  return c.up ? `${c.agent} is up (${c.announcement.software} on ${c.announcement.host})` : `${c.agent} is down: ${c.reason}`;
}
