/**
 * Connection uids and alert ids are unique per process, as Zeek's are: two `loopy read` runs of one file and
 * two agents replaying it give disjoint ids, so merged fleet logs never collide; `--seed N` (or $LOOPY_SEED)
 * makes them repeatable; the agent's history (written on the store's own thread) keeps the uids it sent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../store/history-store.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

const root = mkdtempSync(join(tmpdir(), 'loopy-ids-'));
// Traversable: an agent started as root becomes nobody, which must reach its data directory below this one.
chmodSync(root, 0o755);
const capture = join(root, 'scan.pcap');
const noConfig = join(root, 'empty.json');

before(async () => {
  writeFileSync(capture, (await generatedCapture({ seed: 5, packets: 1500, incidents: ['port_scan'] })).bytes);
  writeFileSync(noConfig, '{}');
});
after(() => rmSync(root, { recursive: true, force: true }));

type Rec = Record<string, any>;
const records = (stdout: string): Rec[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
/** Every uid and alert id in a run's records. */
function ids(rs: Rec[]): Set<string> {
  const out = new Set<string>();
  for (const r of rs) for (const id of [r.uid, r.alert_id]) if (typeof id === 'string') out.add(id);
  return out;
}
function readJson(args: string[], env?: NodeJS.ProcessEnv): Rec[] {
  const r = runCli(['read', capture, '--json', ...args], { env });
  assert.equal(r.status, 0, r.stderr);
  return records(r.stdout);
}
const disjoint = (a: Set<string>, b: Set<string>) => [...a].filter((id) => b.has(id));

test('two loopy read runs of one file give disjoint uids and alert ids, Zeek-shaped', () => {
  const [first, second] = [readJson([]), readJson([])];
  const [a, b] = [ids(first), ids(second)];
  assert.ok(first.some((r) => r.type === 'alert') && first.some((r) => r.type === 'dns'), 'the capture raises an alert and has DNS');
  assert.ok(a.size > 20 && a.size === b.size);
  assert.deepEqual(disjoint(a, b), []);
  for (const id of a) assert.match(id, /^[CA][0-9A-Za-z]{17}$/);
});

test('--seed N and $LOOPY_SEED make the ids repeatable; a bad seed is wrong usage', () => {
  const seeded = readJson(['--seed', '1234']);
  assert.deepEqual(readJson(['--seed', '1234']), seeded);
  assert.deepEqual(readJson([], { LOOPY_SEED: '1234' }), seeded);
  assert.notDeepEqual(ids(readJson(['--seed', '1235'])), ids(seeded));
  // --seed wins over the environment, as flags do.
  assert.deepEqual(readJson(['--seed', '1234'], { LOOPY_SEED: '9' }), seeded);
  for (const [args, env, name] of [[['--seed', 'x'], undefined, '--seed'], [[], { LOOPY_SEED: '-1' }, 'LOOPY_SEED']] as const) {
    const r = runCli(['read', capture, '--json', ...args], { env });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^loopy: ${name} takes a whole number from 0 to \\d+, not '[^']+'\\n$`));
  }
});

test('two agents replaying one file give disjoint ids, and each one\'s history keeps the uids it sent', () => {
  const runs = ['a', 'b'].map((name) => {
    const data = join(root, `data-${name}`);
    const r = runCli(['agent', '--config', noConfig, '-r', capture, '--max', '--stdout', '--data', data, '--listen', `unix:${data}/agent.sock`]);
    assert.equal(r.status, 0, r.stderr);
    return { data, records: records(r.stdout) };
  });
  assert.deepEqual(disjoint(ids(runs[0].records), ids(runs[1].records)), []);
  const store = HistoryStore.open(runs[0].data);
  try {
    const stored = store.flows({ since: 0, until: 2 ** 31, limit: 100_000 }).map((c) => c.uid).sort();
    const sent = runs[0].records.filter((r) => r.type === 'conn').map((r) => r.uid as string).sort();
    assert.ok(sent.length > 10);
    assert.deepEqual(stored, sent);
  } finally {
    store.close();
  }
});
