/**
 * A fleet's answers as one: records of every agent newest first with an `agent` field (cut to the limit the
 * question asked), series summed per point in time, talkers summed per host — or, on request, per agent.
 * Times are each agent's own clock (decision 12: the servers keep time with NTP).
 */
import { type MethodResults, ResultShapeError, checkResult } from '../../serve/protocol/messages.js';
import { SERIES_COLUMNS, type HostTotal, type SeriesPoint } from '../../store/types.js';
import type { FleetAnswers } from './fleet.js';

type Row = { ts: number };
/** The methods whose result is a list of records, merged newest first. */
export type RecordMethod = 'history.flows' | 'history.dns' | 'history.alerts';

/**
 * A record list checked only as far as merging needs: rows with a time. The full check is newestChecked's,
 * on the rows that can be kept: 200 agents' answers of 100 rows each, all checked in full, were most of a
 * fleet query's CPU, and all but `limit` of them are dropped.
 */
export function recordRows(method: RecordMethod, result: unknown): Row[] {
  if (!Array.isArray(result) || !result.every((r) => typeof r === 'object' && r !== null && Number.isFinite((r as Row).ts))) {
    throw new ResultShapeError(`the reply to ${method} is not a loopy agent's (not a list of records with times)`);
  }
  return result as Row[];
}

/**
 * Each agent's rows that can be among the fleet's `limit` newest, checked against the method's schema; an
 * agent whose rows fail the check is moved to `missing`, and the newest are found again without it.
 */
export function newestChecked<M extends RecordMethod>(a: FleetAnswers<Row[]>, method: M, limit: number): FleetAnswers<MethodResults[M]> {
  const missing = [...a.missing];
  let answers = a.answers;
  for (;;) {
    const times = answers.flatMap(({ result }) => result.map((r) => r.ts)).sort((x, y) => y - x);
    const oldestKept = times.length > limit ? times[limit - 1]! : -Infinity;
    const kept: FleetAnswers<MethodResults[M]>['answers'] = [];
    const failed = new Set<string>();
    for (const { agent, result } of answers) {
      try {
        kept.push({ agent, result: checkResult(method, result.filter((r) => r.ts >= oldestKept)) as MethodResults[M] });
      } catch (err) {
        failed.add(agent);
        missing.push({ agent, why: `${agent}: ${(err as Error).message}` });
      }
    }
    if (failed.size === 0) return { answers: kept, missing };
    answers = answers.filter(({ agent }) => !failed.has(agent));
  }
}

/** The row with `agent` right after `type` (records keep `type` first, as every loopy record does). */
export function withAgent<R extends object>(agent: string, row: R): R & { agent: string } {
  if (!('type' in row)) return { agent, ...row };
  const { type, ...rest } = row as R & { type: unknown };
  return { type, agent, ...rest } as unknown as R & { agent: string };
}

/** Every agent's records, newest first (ties by agent name), at most `limit` of them. */
export function mergeRecords<R extends Row>(a: FleetAnswers<R[]>, limit: number): Array<R & { agent: string }> {
  const all = a.answers.flatMap(({ agent, result }) => result.map((r) => withAgent(agent, r)));
  all.sort((x, y) => y.ts - x.ts || x.agent.localeCompare(y.agent));
  return all.slice(0, limit);
}

/** Each agent's points, oldest first, with the agent's name. */
export function seriesPerAgent(a: FleetAnswers<SeriesPoint[]>): Array<SeriesPoint & { agent: string }> {
  const all = a.answers.flatMap(({ agent, result }) => result.map((p) => withAgent(agent, p)));
  return all.sort((x, y) => x.ts - y.ts || x.agent.localeCompare(y.agent));
}

/** The fleet's series: the points of one time summed over the agents, oldest first. */
export function sumSeries(a: FleetAnswers<SeriesPoint[]>): SeriesPoint[] {
  const byTs = new Map<number, SeriesPoint>();
  for (const { result } of a.answers) {
    for (const p of result) {
      const sum = byTs.get(p.ts);
      if (sum === undefined) byTs.set(p.ts, { ...p });
      else for (const c of SERIES_COLUMNS) sum[c] += p[c];
    }
  }
  return [...byTs.values()].sort((x, y) => x.ts - y.ts);
}

/** Each agent's talkers with its name, biggest first, at most `limit`. */
export function talkersPerAgent(a: FleetAnswers<HostTotal[]>, limit: number): Array<HostTotal & { agent: string }> {
  const all = a.answers.flatMap(({ agent, result }) => result.map((t) => withAgent(agent, t)));
  return all.sort((x, y) => y.bytes - x.bytes || x.host.localeCompare(y.host)).slice(0, limit);
}

/**
 * The fleet's talkers: a host's bytes and packets summed over the agents that saw it, biggest first. A host
 * two agents both saw (a client of both) counts twice, as each agent counted it.
 */
export function sumTalkers(a: FleetAnswers<HostTotal[]>, limit: number): HostTotal[] {
  const byHost = new Map<string, HostTotal>();
  for (const { result } of a.answers) {
    for (const t of result) {
      const sum = byHost.get(t.host);
      if (sum === undefined) byHost.set(t.host, { ...t });
      else (sum.bytes += t.bytes), (sum.packets += t.packets);
    }
  }
  return [...byHost.values()].sort((x, y) => y.bytes - x.bytes || x.host.localeCompare(y.host)).slice(0, limit);
}
