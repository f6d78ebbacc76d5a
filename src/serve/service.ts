/**
 * The agent as a service: the listeners of ServeSettings (bound before the privilege drop), the TLS
 * secrets, the protocol server and the metrics listener. Own listening ports are excluded from capture
 * before the capture opens, so no client's traffic is ever counted.
 */
import type { Server } from 'node:net';
import { hostname } from 'node:os';
import type { AgentClock } from './clock.js';
import type { ServeSettings } from './config.js';
import { loadTlsMaterial, loadToken } from './credentials.js';
import type { AgentLogger } from './logger.js';
import type { AgentMetrics } from './metrics.js';
import { type AlertControl, AgentServer, type AgentServerOptions, type HistoryBackend, type NamesBackend } from './server.js';
import type { SelfExclusion } from './self-exclusion.js';
import type { AgentStatus } from './status.js';
import { TokenGate } from './token-gate.js';
import { boundPort, formatListenSpec, groupId, listenTls, listenUnix } from './transports.js';
import { DEFAULT_OPERATOR_GROUP } from './roles.js';
import { PACKAGE_VERSION } from '../capture/package-version.js';

export const SOFTWARE = `loopy ${PACKAGE_VERSION}`;

export interface ServiceContext {
  dataDir: string;
  logger: AgentLogger;
  clock: AgentClock;
  exclusions: SelfExclusion;
  started: number;
  status: () => AgentStatus;
  history?: HistoryBackend;
  /** The flows still open (history.flows answers them too). */
  openFlows?: AgentServerOptions['openFlows'];
  alerts?: AlertControl;
  names?: NamesBackend;
  /** The user a root agent becomes once its listeners are open (it must still remove its socket). */
  owner?: { uid: number; gid: number };
}

export interface Service {
  readonly server: AgentServer;
  /** Only with --metrics: prom-client and its event-loop sampling (a timer every 10 ms) cost an idle agent otherwise. */
  readonly metrics: AgentMetrics | undefined;
  /** What each listener is bound to (`tls://127.0.0.1:41234` for a port 0). */
  readonly addresses: string[];
  readonly fingerprint?: string;
  close(reason?: string): Promise<void>;
}

/** A listener could not be opened: one line, what and what to do. */
export class ServiceStartError extends Error {
  readonly code = 'LOOPY_LISTEN';
}

export async function startService(serve: ServeSettings, ctx: ServiceContext): Promise<Service> {
  const log = ctx.logger;
  const listeners: Server[] = [];
  const closeAll = () => Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r())))).then(() => undefined);
  let tokenGate: TokenGate | undefined;
  let tlsMaterial: { cert: string; key: string } | undefined;
  let fingerprint: string | undefined;
  const addresses: string[] = [];
  const server = new AgentServer({
    name: serve.name ?? hostname(),
    software: SOFTWARE,
    started: ctx.started,
    now: () => ctx.clock.now(),
    logger: log,
    status: ctx.status,
    history: ctx.history,
    openFlows: ctx.openFlows,
    alerts: ctx.alerts,
    names: ctx.names,
    get tokenGate() {
      return tokenGate;
    },
    exclusions: ctx.exclusions,
    operatorGid: groupId(serve.operatorGroup ?? DEFAULT_OPERATOR_GROUP),
  });
  try {
    for (const spec of serve.listen) {
      if (spec.kind === 'unix') {
        const l = await listenUnix(spec.path, undefined, ctx.owner);
        listeners.push(l);
        server.attach(l, 'unix');
        addresses.push(formatListenSpec(spec));
        continue;
      }
      if (!tlsMaterial) {
        const material = await loadTlsMaterial(ctx.dataDir, { certFile: serve.tlsCertFile, keyFile: serve.tlsKeyFile });
        fingerprint = material.fingerprint;
        const secret = loadToken(ctx.dataDir, serve.token);
        if (serve.viewerToken === secret.token) throw new Error('the viewer token is the operator token: give viewerToken a token of its own');
        tokenGate = new TokenGate([{ token: secret.token, role: 'operator' }, ...(serve.viewerToken ? [{ token: serve.viewerToken, role: 'viewer' as const }] : [])]);
        if (material.generated) log.info({ dir: ctx.dataDir }, 'generated a self-signed TLS certificate');
        if (secret.generated) log.info({ file: `${ctx.dataDir}/token` }, 'generated the bearer token TLS clients must give (read it from the file)');
        tlsMaterial = material;
      }
      const l = await listenTls(spec.host, spec.port, tlsMaterial);
      listeners.push(l);
      server.attach(l, 'tls');
      const port = boundPort(l);
      const wildcard = spec.host === '0.0.0.0' || spec.host === '::';
      ctx.exclusions.add({ kind: 'listen', proto: 'tcp', port, hosts: wildcard ? undefined : [spec.host] });
      addresses.push(formatListenSpec({ ...spec, port }));
      // The one line a sysadmin copies into the client's known fingerprints.
      log.info({ listen: formatListenSpec({ ...spec, port }), fingerprint }, `TLS listening; certificate SHA-256 fingerprint ${fingerprint}`);
    }
  } catch (err) {
    await closeAll();
    throw new ServiceStartError(`cannot listen (${(err as Error).message}): check --listen and the permissions of the socket's directory`);
  }
  let metrics: AgentMetrics | undefined;
  let metricsServer: import('node:http').Server | undefined;
  if (serve.metrics) {
    try {
      metrics = new (await import('./metrics.js')).AgentMetrics();
      metricsServer = await metrics.listen(serve.metrics.host, serve.metrics.port);
      const port = (metricsServer.address() as { port: number }).port;
      addresses.push(`http://${serve.metrics.host}:${port}/metrics`);
      ctx.exclusions.add({ kind: 'listen', proto: 'tcp', port, hosts: serve.metrics.host === '0.0.0.0' || serve.metrics.host === '::' ? undefined : [serve.metrics.host] });
    } catch (err) {
      await closeAll();
      throw new ServiceStartError(`cannot serve metrics on ${serve.metrics.host}:${serve.metrics.port} (${(err as Error).message}): give another --metrics HOST:PORT`);
    }
  }
  log.debug({ listen: addresses }, 'listeners open');
  return {
    server,
    metrics,
    addresses,
    fingerprint,
    async close(reason) {
      metricsServer?.close();
      await server.close(reason);
    },
  };
}
