/**
 * `loopy read --json --workers N`, as a user runs it: the same records as one engine (ids and order aside),
 * one merged summary last; the same text summary; and one line for what needs a single engine.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { testDir } from '../test-support/temp-dir.js';

let file: string;

before(async () => {
  const dir = testDir('loopy-read-workers-');
  file = join(dir, 'mix.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 11, packets: 20_000, incidents: ['port_scan', 'dns_tunnel', 'nxdomain_burst'] })).bytes);
});

type Rec = Record<string, unknown>;

/**
 * Records without their ids, as sorted text: what must not depend on how many engines read the file. An
 * alert's update comes at detection's first event past a second, and another engine's events no longer move
 * this one's detection: its time may come later, within the second's sweep (docs/design.md).
 */
function comparable(stdout: string): string[] {
  return stdout.trimEnd().split('\n').map((line) => {
    const r = JSON.parse(line) as Rec;
    delete r.uid;
    delete r.alert_id;
    if (r.state === 'update') delete r.state_ts;
    return JSON.stringify(sorted(r));
  }).sort();
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Rec)[k])]));
}

test('two and three engines write the records one engine writes, and one summary, last', () => {
  const one = runCli(['read', file, '--json', '--seed', '0']);
  assert.equal(one.status, 0, one.stderr);
  const records = one.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Rec);
  assert.ok(records.filter((r) => r.type === 'conn').length > 500, 'a capture with many flows');
  assert.ok(records.some((r) => r.type === 'alert'), 'and alerts');
  for (const workers of ['2', '3']) {
    const many = runCli(['read', file, '--json', '--seed', '0', '--workers', workers]);
    assert.equal(many.status, 0, many.stderr);
    assert.deepEqual(comparable(many.stdout), comparable(one.stdout), `--workers ${workers}`);
    const lines = many.stdout.trimEnd().split('\n');
    assert.equal(JSON.parse(lines.at(-1)!).type, 'summary');
    assert.equal(lines.filter((l) => l.startsWith('{"type":"summary"')).length, 1);
  }
});

test('the text summary of two engines is the one engine writes, alert ids aside', () => {
  const withoutIds = (text: string) => text.replace(/alert A[0-9A-Za-z]{17}/g, 'alert A…');
  const one = runCli(['read', file]);
  const two = runCli(['read', file, '--workers', '2']);
  assert.equal(two.status, 0, two.stderr);
  assert.match(one.stdout, /Alerts \(3\)/);
  assert.equal(withoutIds(two.stdout), withoutIds(one.stdout));
});

test('each engine has its own uids', () => {
  const many = runCli(['read', file, '--json', '--workers', '2']);
  const uids = many.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Rec).filter((r) => r.type === 'conn').map((r) => r.uid);
  assert.equal(new Set(uids).size, uids.length);
});

test('what needs one engine is one line and exit status 2', () => {
  for (const [args, said] of [
    [['-', '--json', '--workers', '2'], /standard input cannot be read twice/],
    [[file, '--json', '--workers', '2', '-c', '10'], /-c counts packets across every engine/],
    [[file, '--json', '--workers', '0'], /--workers/],
  ] as const) {
    const r = runCli(['read', ...args], { input: Buffer.alloc(0) });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, said);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
});
