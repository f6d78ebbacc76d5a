/**
 * `loopy read`'s summary names addresses with the names the capture's own DNS answers gave them (passive DNS),
 * run as a user runs it: the CLI in a child process, from a folder that is not the clone. Names checked
 * against tshark's reading of the same answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { runCli } from '../test-support/cli.js';
import { noTshark, tsharkNames } from '../test-support/tshark-names.js';

/** The lines of one section of the summary: from its heading to the blank line after it. */
function section(summary: string, heading: RegExp): string[] {
  const lines = summary.split('\n');
  const at = lines.findIndex((l) => heading.test(l));
  assert.ok(at >= 0, `no section ${heading} in\n${summary}`);
  const end = lines.indexOf('', at);
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

test('loopy read: top talkers and conversations show the names the DNS answers in the capture gave', { skip: noTshark, timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-read-names-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await generateCapture({ seed: 23, packets: 6000, incidents: [], ipv6Share: 0 }, join(dir, 'office.pcap'));
  const r = runCli(['read', 'office.pcap'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const expected = tsharkNames(join(dir, 'office.pcap'));
  const talkers = section(r.stdout, /^Top talkers/).map((l) => /^ {2}(\S+)(?: (\S+))?\s+\d/.exec(l));
  assert.ok(talkers.every((m) => m !== null), r.stdout);
  let named = 0;
  for (const [, address, name] of talkers as RegExpExecArray[]) {
    assert.equal(name, expected.get(address), `talker ${address}`);
    if (name !== undefined) named++;
  }
  assert.ok(named >= 2, `named talkers:\n${r.stdout}`);
  // The busiest conversations are to servers the clients resolved first: each shows the name beside its address.
  const conversations = section(r.stdout, /^TCP conversations/).slice(1).join('\n');
  const shown = [...conversations.matchAll(/(\d+\.\d+\.\d+\.\d+):\d+(?: ([a-z][\w.-]*))?/g)];
  assert.ok(shown.filter(([, , name]) => name !== undefined).length >= 2, conversations);
  for (const [, address, name] of shown) assert.equal(name, expected.get(address), `conversation with ${address}`);
  assert.ok(r.stdout.split('\n').every((l) => l.length <= 80));
});
