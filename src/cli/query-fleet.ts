/**
 * `loopy query nats://HUB WHAT`: the question asked of every agent on the hub in parallel, the answers merged
 * (records newest first with an `agent` column; series and talkers summed, or per agent with --per-agent),
 * and on stderr the agents that did not answer in time. Exit status 1 when no agent answered.
 */
import type { HistoryQuery, Resolution } from '../client/agent-client.js';
import type { Fleet, FleetAnswers } from '../client/hub/fleet.js';
import { mergeRecords, seriesPerAgent, sumSeries, sumTalkers, talkersPerAgent } from '../client/hub/fleet-merge.js';
import { DEFAULT_LIMIT, DEFAULT_TALKERS_LIMIT } from '../serve/protocol/messages.js';
import { formatAgentStatus } from '../serve/status.js';
import { exitOnEpipe } from './agent-target-options.js';
import type { QueryCliOptions, QueryWhat } from './query.js';
import { CSV_DEFAULTS, CSV_FIELDS, type QueryKind, formatCsv, formatNdjson, formatTable } from './query-output.js';
import { writeOut } from './query.js';

type Row = Record<string, unknown>;

export async function runFleetQuery(target: string, opener: { open(): Promise<Fleet> }, what: QueryWhat, query: HistoryQuery | undefined, o: QueryCliOptions, now: number): Promise<number> {
  exitOnEpipe(() => process.exit(0));
  let fleet: Fleet | undefined;
  try {
    fleet = await opener.open();
    const { rows, missing, answered } = await askAndMerge(fleet, what, query, o);
    for (const m of missing) process.stderr.write(`loopy: no answer from ${m.agent}: ${m.why}\n`);
    if (answered === 0) {
      process.stderr.write(`loopy: no agent on ${target} answered${missing.length === 0 ? ' (none is on the hub)' : ''}\n`);
      return 1;
    }
    await writeOut(o.json ? formatNdjson(rows) : o.csv ? formatCsv(fleetCsvFields(what, rows), rows, CSV_DEFAULTS[what as QueryKind]) : what === 'status' ? statusText(rows, now) : formatTable(what as QueryKind, rows));
    return 0;
  } catch (err) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await fleet?.close();
  }
}

async function askAndMerge(fleet: Fleet, what: QueryWhat, q: HistoryQuery | undefined, o: QueryCliOptions): Promise<{ rows: Row[]; missing: FleetAnswers<unknown>['missing']; answered: number }> {
  const done = <R>(a: FleetAnswers<R>, rows: object[]) => ({ rows: rows as Row[], missing: a.missing, answered: a.answers.length });
  const limit = q?.limit ?? DEFAULT_LIMIT;
  switch (what) {
    case 'status': {
      const a = await fleet.ask('status', {});
      return done(a, a.answers.map(({ agent, result }) => ({ agent, ...result })));
    }
    case 'series': {
      const a = await fleet.ask('history.series', { ...q!, resolution: o.resolution as Resolution });
      return done(a, o.perAgent ? seriesPerAgent(a) : sumSeries(a));
    }
    case 'talkers': {
      const a = await fleet.ask('history.talkers', q!);
      const top = q?.limit ?? DEFAULT_TALKERS_LIMIT;
      return done(a, o.perAgent ? talkersPerAgent(a, top) : sumTalkers(a, top));
    }
    case 'flows': {
      const a = await fleet.askRecords('history.flows', q!, limit);
      return done(a, mergeRecords(a, limit));
    }
    case 'dns': {
      const a = await fleet.askRecords('history.dns', q!, limit);
      return done(a, mergeRecords(a, limit));
    }
    case 'alerts': {
      const a = await fleet.askRecords('history.alerts', q!, limit);
      return done(a, mergeRecords(a, limit));
    }
  }
}

function statusText(rows: Row[], now: number): string {
  return rows.map((r) => `${r.agent}\n${formatAgentStatus(r as unknown as Parameters<typeof formatAgentStatus>[0], now)}`).join('\n');
}

/** A fleet answer's CSV columns: the agent, then the kind's fixed columns (status: the fields the rows have). */
function fleetCsvFields(what: string, rows: ReadonlyArray<Record<string, unknown>>): readonly string[] {
  if (what in CSV_FIELDS) return ['agent', ...CSV_FIELDS[what as QueryKind].filter((f) => f !== 'agent')];
  return [...new Set(rows.flatMap((r) => Object.keys(r)))];
}
