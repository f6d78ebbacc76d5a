/**
 * Passive DNS names: against tshark's reading of the same capture's DNS answers, and bounded under a flood of
 * answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { noTshark, tsharkNames } from '../test-support/tshark-names.js';
import { openFile } from './library.js';
import { DEFAULT_PASSIVE_NAMES, PassiveNames } from './passive-names.js';
import { Pipeline } from './pipeline.js';
import type { DnsRecord } from './records.js';

/** A dns record as the engine makes them, with only what names depend on. */
function answer(query: string, answers: string[], rcode = 0): DnsRecord {
  return { type: 'dns', query, rcode, answers } as DnsRecord;
}

test('passive names from a capture are those tshark reads from its DNS answers, CNAME chains named by the query', { skip: noTshark }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-names-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'office.pcap');
  await generateCapture({ seed: 17, packets: 8000, incidents: ['nxdomain_burst'] }, capture);
  const pipeline = new Pipeline();
  const names = new PassiveNames();
  pipeline.observe(names);
  await pipeline.run(openFile(capture));
  pipeline.finish();
  const expected = tsharkNames(capture);
  assert.ok(expected.size >= 10, `the capture answers ${expected.size} addresses`);
  assert.deepEqual(names.namesOf(expected.keys()), Object.fromEntries(expected));
  assert.equal(names.size, expected.size, 'no address named that tshark does not name');
  // Behind two CNAMEs (video.g.cdn.example.org, edge-7.cdn.example.org): the name the client asked for.
  assert.equal(names.nameOf('198.51.100.27'), 'video.example.org');
  assert.equal(names.evicted, 0);
});

test('passive names: the latest answer wins; failed, empty and non-address answers name nothing', () => {
  const names = new PassiveNames();
  names.learn(answer('a.example', ['d1.cdn.example', '192.0.2.1', '2001:db8::1']));
  names.learn(answer('b.example', ['192.0.2.1']));
  names.learn(answer('c.example', ['192.0.2.9'], 3));
  names.learn(answer('', ['192.0.2.10']));
  names.learn(answer('mx.example', ['mail.example', 'TXT 11 v=spf1 -all']));
  assert.equal(names.nameOf('192.0.2.1'), 'b.example');
  assert.equal(names.nameOf('2001:db8::1'), 'a.example');
  assert.deepEqual(names.namesOf(['192.0.2.1', '192.0.2.9', '192.0.2.10', 'mail.example']), { '192.0.2.1': 'b.example' });
  assert.equal(names.size, 2);
});

test('passive names stay bounded under a flood of answers: the oldest answered are forgotten and counted', () => {
  const names = new PassiveNames();
  const capacity = DEFAULT_PASSIVE_NAMES;
  const address = (i: number, net = 10) => `${net}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const flood = 200_000;
  for (let i = 0; i < flood; i++) names.learn(answer(`n${i}.flood.example`, [address(i)]));
  assert.equal(names.size, capacity);
  assert.equal(names.evicted, flood - capacity);
  assert.equal(names.nameOf(address(0)), undefined, 'the first answered is gone');
  assert.equal(names.nameOf(address(flood - 1)), `n${flood - 1}.flood.example`);
  // A fresh answer for the oldest kept address moves it to the back: it outlives the next capacity - 1 answers.
  const oldest = address(flood - capacity);
  names.learn(answer('renewed.example', [oldest]));
  for (let i = 0; i < capacity - 1; i++) names.learn(answer(`m${i}.flood.example`, [address(i, 11)]));
  assert.equal(names.nameOf(oldest), 'renewed.example');
  assert.equal(names.nameOf(address(flood - capacity + 1)), undefined);
  assert.equal(names.size, capacity);
});
