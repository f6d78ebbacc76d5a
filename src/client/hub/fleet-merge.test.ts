import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wireConn, wireSeriesPoint } from '../testing/wire-records.js';
import { mergeRecords, newestChecked, recordRows, sumSeries, sumTalkers, talkersPerAgent } from './fleet-merge.js';

test('records of every agent newest first, agent after type, cut to the limit', () => {
  const merged = mergeRecords({ answers: [{ agent: 'b', result: [wireConn('B2', 20), wireConn('B1', 10)] }, { agent: 'a', result: [wireConn('A1', 15)] }], missing: [] }, 2);
  assert.deepEqual(merged.map((r) => [r.agent, r.uid]), [['b', 'B2'], ['a', 'A1']]);
  assert.deepEqual(Object.keys(merged[0]!).slice(0, 3), ['type', 'agent', '_path']);
});

test('series summed per time, oldest first; talkers summed per host, biggest first, or kept per agent', () => {
  const series = sumSeries({ answers: [{ agent: 'a', result: [wireSeriesPoint(60, 2), wireSeriesPoint(120, 1)] }, { agent: 'b', result: [wireSeriesPoint(60, 5)] }], missing: [] });
  assert.deepEqual(series.map((p) => [p.ts, p.packets]), [[60, 7], [120, 1]]);
  const talkers = { answers: [{ agent: 'a', result: [{ host: 'x', bytes: 10, packets: 1 }, { host: 'y', bytes: 5, packets: 1 }] }, { agent: 'b', result: [{ host: 'y', bytes: 9, packets: 2 }] }], missing: [] };
  assert.deepEqual(sumTalkers(talkers, 10), [{ host: 'y', bytes: 14, packets: 3 }, { host: 'x', bytes: 10, packets: 1 }]);
  assert.deepEqual(talkersPerAgent(talkers, 2).map((t) => `${t.agent} ${t.host}`), ['a x', 'b y']);
});

test('record lists: only the rows that can be kept are checked; an agent whose kept rows are not records is named missing', () => {
  const broken = { ...wireConn('B2', 20), 'id.orig_p': 'not a port' };
  const raw = { answers: [{ agent: 'a', result: [wireConn('A2', 30), wireConn('A1', 15)] }, { agent: 'b', result: [broken, wireConn('B1', 10)] }], missing: [] };
  const checked = newestChecked({ answers: raw.answers.map((x) => ({ agent: x.agent, result: recordRows('history.flows', x.result) })), missing: [] }, 'history.flows', 2);
  assert.deepEqual(checked.answers.map((x) => [x.agent, x.result.map((r) => r.uid)]), [['a', ['A2', 'A1']]]);
  assert.match(checked.missing[0]?.why ?? '', /^b: the reply to history\.flows is not a loopy agent's \(.*id\.orig_p/);
  // b's broken row is older than the two kept: not among the newest, not checked, and b stays.
  const older = newestChecked({ answers: [{ agent: 'a', result: [wireConn('A2', 30), wireConn('A1', 25)] }, { agent: 'b', result: [wireConn('B3', 40), { ...broken, ts: 5 }] }], missing: [] }, 'history.flows', 2);
  assert.deepEqual(mergeRecords(older, 2).map((r) => r.uid), ['B3', 'A2']);
  assert.deepEqual(older.missing, []);
  assert.throws(() => recordRows('history.dns', [{ ts: 'yesterday' }]), /not a list of records with times/);
});
