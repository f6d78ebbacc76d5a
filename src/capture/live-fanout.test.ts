/**
 * `--workers N` live: N captures of one interface in one PACKET_FANOUT group, the kernel choosing the member
 * by a hash of the address pair (native/src/live-open.c). Real traffic between two namespaces: datagrams
 * from one host to 64 addresses of the other, each answered by an ICMP port unreachable from that address.
 * Every pair, both directions, must reach exactly one member; every member gets a share; nothing is lost.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NamespacePair, sh } from '../test-support/netns.js';
import { addonSkipReason } from './capture-test-support.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, `live-fanout-child.test-util.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`);
const pair = new NamespacePair('lfo', { net: 247 });
const TARGETS = 64;
const EACH = 3;

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'fanout tests need root (they create network namespaces)';
  return addonSkipReason();
}
const skip = skipReason();

before(() => {
  if (skip) return;
  pair.setUp();
  // Every address of 198.18.7.0/24 is local to side A, reached through side A's end of the veth.
  sh(['ip', '-n', pair.nsA, 'route', 'add', 'local', '198.18.7.0/24', 'dev', 'lo']);
  // An unreachable for every datagram: the namespace's ICMP budget (1,000/s, bursts of 50) would cut some.
  sh(['ip', 'netns', 'exec', pair.nsA, 'sysctl', '-qw', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=100000']);
  sh(['ip', '-n', pair.nsB, 'route', 'add', '198.18.7.0/24', 'via', pair.addrA]);
});
after(() => {
  if (!skip) pair.tearDown();
});

test('captures in one fanout group share the packets by address pair, both directions with the pair', { skip }, async () => {
  const expected = TARGETS * EACH * 2; // each datagram and its port unreachable
  const proc = spawn('ip', ['netns', 'exec', pair.nsA, process.execPath, ...(import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : []), child,
    JSON.stringify({ iface: pair.ifA, members: 2, expected })], { cwd: resolve(here, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const ready = new Promise<void>((res) => proc.stdout.on('data', (d) => {
    out += d;
    if (out.includes('"ready"')) res();
  }));
  const exited = new Promise<number | null>((res) => proc.on('exit', res));
  await Promise.race([ready, exited]);
  assert.match(out, /"ready"/, `the capture child did not start: ${err}`);
  const ready0 = JSON.parse(out.split('\n')[0]) as { groups: number[][] };
  // Group 0 is a group (the kernel's first unique id after boot): it once read as none, and each member made its own.
  assert.ok(ready0.groups[0].length === 1 && ready0.groups[1].length === 1 && ready0.groups[1][0] === ready0.groups[0][0], `both captures in one group: ${out}`);
  pair.nodeIn(pair.nsB, `const s = require('node:dgram').createSocket('udp4'); let left = ${TARGETS * EACH};
    for (let t = 1; t <= ${TARGETS}; t++) for (let k = 0; k < ${EACH}; k++) s.send('x', 9, '198.18.7.' + t, () => { if (--left === 0) s.close(); });`, []);
  assert.equal(await exited, 0, err);
  const final = JSON.parse(out.trim().split('\n').at(-1)!) as { members: Array<{ pairs: Record<string, number>; frames: number }> };
  const owner = new Map<string, number>();
  for (const [member, m] of final.members.entries()) {
    for (const key of Object.keys(m.pairs)) {
      const [a, b] = key.split('>');
      const unordered = [a, b].sort().join(' ');
      assert.ok(owner.get(unordered) === undefined || owner.get(unordered) === member, `pair ${unordered} reached two members`);
      owner.set(unordered, member);
    }
  }
  assert.equal(owner.size, TARGETS, `every pair seen once: ${[...owner.keys()].length}`);
  for (const m of final.members) assert.ok(m.frames > 0, 'every member got a share');
  assert.equal(final.members.reduce((n, m) => n + m.frames, 0), expected);
  for (const m of final.members) for (const [key, n] of Object.entries(m.pairs)) assert.equal(n, EACH, `${key}: each direction whole in one member`);
});
