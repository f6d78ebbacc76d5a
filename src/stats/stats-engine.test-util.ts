import { Engine, type EngineOptions } from '../analyze/engine.js';
import { defaultApps } from '../analyze/apps/index.js';
import type { LoopyRecord } from '../analyze/records.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import { SecondStats, type SecondStatsOptions } from './second-stats.js';

/** An engine wired to a SecondStats the way the agent wires them. */
export function statsEngine(options: SecondStatsOptions, engineOptions: Partial<EngineOptions> = {}, records: LoopyRecord[] = []) {
  let stats: SecondStats | undefined;
  const engine = new Engine({
    protocols: defaultProtocols,
    apps: defaultApps,
    onRecord: (r) => {
      records.push(r);
      stats!.onRecord(r);
    },
    onFlowStart: (flow, pkt) => stats!.onFlowStart(flow, pkt),
    onFlowEnd: (flow, reason) => stats!.onFlowEnd(flow, reason),
    ...engineOptions,
  });
  stats = new SecondStats(engine, options);
  return { engine, stats, records };
}

