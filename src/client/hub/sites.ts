/**
 * Sites on a hub: each site runs a leaf node with JetStream in its own domain, and its agents keep their
 * alerts in the leaf's stream, so viewers at the site see them while the uplink is cut. The hub's stream
 * sources every site's stream: what a site raised meanwhile reaches the hub when the link returns, each
 * alert state once (the stream drops a repeated Nats-Msg-Id). Never touches a site's own stream.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ALERT_STREAM, alertStreamConfig, sourcedSites } from '../../serve/protocol/hub-subjects.js';

/**
 * Makes the hub's alert stream source the given sites' streams (besides those it sources already): made
 * so when missing. Returns every site it sources now.
 */
export async function sourceSites(nc: NatsConnection, sites: readonly string[]): Promise<string[]> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const info = await jsm.streams.info(ALERT_STREAM).catch((err: Error) => {
    if (/not found/i.test(err.message)) return undefined;
    throw err;
  });
  const all = [...new Set([...sourcedSites(info?.config.sources), ...sites])];
  const config = alertStreamConfig(all);
  if (info) await jsm.streams.update(ALERT_STREAM, { ...info.config, sources: config.sources });
  else await jsm.streams.add(config);
  return all;
}
