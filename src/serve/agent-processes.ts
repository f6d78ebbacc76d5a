/**
 * The agent's process attribution (src/host/): started after the privilege drop when the agent may read
 * other processes' sockets, else one warning and none. It hears the engine's new flows (a poll soon, so a
 * short connection is caught) and answers the engine's question when a conn record is due; the sockets it
 * finds go to detection (new listeners, new outbound talkers). The connect trace (eBPF, the process told
 * at connect() time) is opened before the drop, where the kernel allows it; without it, the connections
 * this host opens are found by polling /proc too, which misses some short ones.
 */
import type { Pipeline } from '../analyze/pipeline.js';
import { type ConnectSource, ConnectTrace } from '../host/connect-trace.js';
import { attributionProblem, ProcessAttribution, type SocketEvent } from '../host/process-attribution.js';
import type { AgentLogger } from './logger.js';
import type { UserIds } from './privileges.js';

/**
 * The capture's block timeout when processes will be attributed by /proc alone: a new flow reaches the
 * engine within 20 ms (instead of 200), and its socket is looked up while a short connection still holds
 * it. Fifty wake-ups a second on a quiet link; a busy one fills its blocks sooner anyway. With the connect
 * trace, the connections this host opens are named without it: the default (200 ms), see decision 15.
 * Empty: the default. An agent that drops root keeps what attribution needs (privileges.ts).
 */
export function attributionCaptureTimeout(dropTo: UserIds | undefined, traced: boolean): { timeoutMs?: number } {
  const willAttribute = dropTo !== undefined || attributionProblem() === undefined;
  return willAttribute && !traced ? { timeoutMs: 20 } : {};
}

/** The connect trace, or why there is none; opened while the agent may still load BPF programs. */
export function openConnectTrace(): ConnectTrace | string {
  return ConnectTrace.open();
}

export function startProcessAttribution(
  pipeline: Pipeline,
  log: AgentLogger,
  onSocket?: (event: SocketEvent) => void,
  trace: ConnectSource | string = openConnectTrace(),
): ProcessAttribution | undefined {
  const problem = attributionProblem();
  const connects = typeof trace === 'string' ? undefined : trace;
  if (problem !== undefined && connects === undefined) {
    log.warn({ reason: problem, connect_trace: trace }, 'process attribution off: conn records will not name the processes behind local sockets');
    return undefined;
  }
  const attribution = new ProcessAttribution({ onSocket, trace: connects, searchOwners: problem === undefined });
  attribution.start();
  pipeline.engine.setOwnerLookup(attribution);
  const table = pipeline.engine.connections.table;
  const orig = new Uint32Array(4);
  const resp = new Uint32Array(4);
  pipeline.observe({
    onFlowStart: (flow) => {
      table.origAddress(flow, orig);
      table.respAddress(flow, resp);
      attribution.hintFlow(table.versionOf(flow), table.protoOf(flow), orig, table.origPort(flow), resp, table.respPort(flow));
    },
  });
  if (problem !== undefined) {
    log.warn({ reason: problem }, 'process attribution partial: the connections this host opens are named (eBPF connect trace); listeners and accepted connections are not');
  } else {
    if (connects === undefined) log.warn({ reason: trace }, 'connect trace off: the connections this host opens are found by polling /proc, which misses some short ones');
    log.info({ ...attribution.stats(), connect_trace: connects !== undefined }, 'process attribution on: local sockets are matched to their processes');
  }
  return attribution;
}
