/**
 * `loopy hub-sites nats://HUB SITE...`: the hub's alert stream catches up on each site's alerts (SITE: the
 * JetStream domain of the site's leaf node, contrib/nats/leaf.conf). Run once per new site, as a hub user
 * allowed to create and update the stream (contrib/nats/hub.conf's operator).
 */
import type { Command } from 'commander';
import { hubOf } from '../client/connect-agent.js';
import { sourceSites } from '../client/hub/sites.js';
import { SITE_DOMAIN } from '../serve/protocol/hub-subjects.js';
import { type AgentTargetOptions, addAgentTargetOptions, asUsage, connectOptionsFrom } from './agent-target-options.js';
import { UsageError } from './errors.js';

export function registerHubSites(program: Command): void {
  addAgentTargetOptions(
    program
      .command('hub-sites')
      .description('make a NATS hub keep the alerts of sites (leaf nodes with their own JetStream domain), raised even while their uplink was cut')
      .argument('<hub>', 'nats://HOST:PORT (the hub)')
      .argument('<sites...>', 'each site\'s JetStream domain (its leaf node\'s jetstream { domain: … })'),
  ).action(async (target: string, sites: string[], options: AgentTargetOptions) => {
    process.exitCode = await runHubSites(target, sites, options);
  });
}

async function runHubSites(target: string, sites: string[], o: AgentTargetOptions): Promise<number> {
  const bad = sites.find((s) => !SITE_DOMAIN.test(s));
  if (bad !== undefined) throw new UsageError(`'${bad}' is not a JetStream domain (letters, digits, - and _): give the domain in the site's leaf.conf`);
  const hub = asUsage(() => hubOf(target, { ...connectOptionsFrom(o, 'loopy-hub-sites'), reconnect: false }));
  if (!hub || hub.agent !== undefined) throw new UsageError(`hub-sites takes the hub as nats://HOST:PORT, not '${target}'`);
  const fleet = await hub.open().catch((err: Error) => void process.stderr.write(`loopy: ${err.message}\n`));
  if (!fleet) return 1;
  try {
    const all = await sourceSites(fleet.nc, sites);
    process.stdout.write(`the hub's alert stream keeps the alerts of sites: ${all.join(', ')}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`loopy: ${target}: ${(err as Error).message}; is JetStream on there (jetstream { domain: hub }), and may this user update the stream?\n`);
    return 1;
  } finally {
    await fleet.close();
  }
}
