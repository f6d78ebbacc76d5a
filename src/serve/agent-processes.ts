/**
 * The agent's process attribution (src/host/): started after the privilege drop when the agent may read
 * other processes' sockets, else one warning and none. It hears the engine's new flows (a poll soon, so a
 * short connection is caught) and answers the engine's question when a conn record is due; the sockets it
 * finds go to detection (new listeners, new outbound talkers).
 */
import type { Pipeline } from '../analyze/pipeline.js';
import { attributionProblem, ProcessAttribution, type SocketEvent } from '../host/process-attribution.js';
import type { AgentLogger } from './logger.js';
import type { UserIds } from './privileges.js';

/**
 * The capture's block timeout when processes will be attributed: a new flow reaches the engine within
 * 20 ms (instead of 200), and its socket is looked up while a short connection still holds it. Fifty
 * wake-ups a second on a quiet link; a busy one fills its blocks sooner anyway. Empty: the default.
 */
export function attributionCaptureTimeout(dropTo: UserIds | undefined): { timeoutMs?: number } {
  const willAttribute = dropTo === undefined ? attributionProblem() === undefined : dropTo.uid === 0;
  return willAttribute ? { timeoutMs: 20 } : {};
}

export function startProcessAttribution(pipeline: Pipeline, log: AgentLogger, onSocket?: (event: SocketEvent) => void): ProcessAttribution | undefined {
  const problem = attributionProblem();
  if (problem !== undefined) {
    log.warn({ reason: problem }, 'process attribution off: conn records will not name the processes behind local sockets');
    return undefined;
  }
  const attribution = new ProcessAttribution({ onSocket });
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
  log.info(attribution.stats(), 'process attribution on: local sockets are matched to their processes');
  return attribution;
}
