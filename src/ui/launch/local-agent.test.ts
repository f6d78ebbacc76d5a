import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planLocalAgent } from './local-agent.js';

const NET_RAW = 1n << 13n;

test('npm start plan: live with root or CAP_NET_RAW and the addon; otherwise the sample in a loop, saying why', () => {
  const live = planLocalAgent({ uid: 0, caps: 0n, addonBuilt: true }, 'samples/demo.pcap', '/t/a.sock', '/t');
  assert.equal(live.mode, 'live');
  assert.deepEqual(live.args.slice(0, 5), ['agent', '-i', 'any', '--user', 'root']);
  assert.ok(live.args.includes('unix:/t/a.sock'));
  const capable = planLocalAgent({ uid: 1000, caps: NET_RAW, addonBuilt: true }, 's.pcap', '/t/a.sock', '/t');
  assert.deepEqual(capable.args.slice(0, 3), ['agent', '-i', 'any']);
  assert.ok(!capable.args.includes('--user'));
  const plain = planLocalAgent({ uid: 1000, caps: 0n, addonBuilt: true }, 's.pcap', '/t/a.sock', '/t');
  assert.equal(plain.mode, 'replay');
  assert.deepEqual(plain.args.slice(0, 4), ['agent', '-r', 's.pcap', '--loop']);
  assert.match(plain.reason, /no capture privilege/);
  assert.match(planLocalAgent({ uid: 0, caps: undefined, addonBuilt: false }, 's.pcap', '/t/a.sock', '/t').reason, /addon is not built/);
  assert.equal(planLocalAgent({ uid: 0, caps: 0n, addonBuilt: true }, 's.pcap', '/t/a.sock', '/t', true).mode, 'replay');
});
