import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { localAgentSources, planLocalAgent, replayReason, localEvidenceDir, type CaptureAbility } from './local-agent.js';

const NET_RAW = 1n << 13n;
const PATHS = { socket: '/t/a.sock', dataDir: '/t', evidenceDir: '/home/u/.local/share/loopy/evidence' };

test('npm start: live with root or CAP_NET_RAW and the addon; otherwise the sample in a loop, saying why', () => {
  const root: CaptureAbility = { uid: 0, caps: 0n, addonBuilt: true };
  assert.equal(replayReason(root), undefined);
  assert.equal(replayReason({ uid: 1000, caps: NET_RAW, addonBuilt: true }), undefined);
  assert.match(replayReason({ uid: 1000, caps: 0n, addonBuilt: true }) ?? '', /no capture privilege/);
  assert.match(replayReason({ uid: 0, caps: undefined, addonBuilt: false }) ?? '', /addon is not built/);
  assert.equal(replayReason(root, true), 'as asked');
});

test('the local agent\'s command line: root stays root; a replay loops the sample; evidence goes to the kept directory', () => {
  const live = planLocalAgent({ uid: 0, caps: 0n, addonBuilt: true }, { live: true }, PATHS);
  assert.equal(live.mode, 'live');
  assert.deepEqual(live.args.slice(0, 5), ['agent', '-i', 'any', '--user', 'root']);
  assert.ok(live.args.includes('unix:/t/a.sock'));
  const capable = planLocalAgent({ uid: 1000, caps: NET_RAW, addonBuilt: true }, { live: true }, PATHS);
  assert.deepEqual(capable.args.slice(0, 3), ['agent', '-i', 'any']);
  assert.ok(!capable.args.includes('--user'));
  const replay = planLocalAgent({ uid: 1000, caps: 0n, addonBuilt: true }, { live: false, why: 'as asked', sample: '/s.pcap', name: 'demo' }, PATHS);
  assert.equal(replay.mode, 'replay');
  assert.deepEqual(replay.args.slice(0, 7), ['agent', '-r', '/s.pcap', '--loop', '--name', 'demo', '--listen']);
  assert.equal(replay.reason, 'demo: replaying /s.pcap in a loop (as asked)');
  assert.equal(live.reason, `${hostname()}: live capture on all interfaces`);
  const rootReplay = planLocalAgent({ uid: 0, caps: 0n, addonBuilt: false }, { live: false, why: 'the capture addon is not built', sample: '/s.pcap', name: 'demo' }, PATHS);
  assert.deepEqual(rootReplay.args.slice(0, 8), ['agent', '-r', '/s.pcap', '--loop', '--name', 'demo', '--user', 'root'], 'a root replay keeps root too');
  for (const plan of [live, replay]) assert.equal(plan.args[plan.args.indexOf('--evidence') + 1], PATHS.evidenceDir);
});

test('evidence is kept in $XDG_DATA_HOME/loopy/evidence, default ~/.local/share/loopy/evidence', () => {
  assert.equal(localEvidenceDir({ XDG_DATA_HOME: '/xdg/data' }), '/xdg/data/loopy/evidence');
  assert.match(localEvidenceDir({}), /\/\.local\/share\/loopy\/evidence$/);
  assert.match(localEvidenceDir({ XDG_DATA_HOME: 'relative' }), /\/\.local\/share\/loopy\/evidence$/, 'a relative XDG path is ignored, as the spec says');
});

test('npm start: this machine live and the demo beside it when it can capture; the demo alone when it cannot', () => {
  assert.deepEqual(localAgentSources(undefined, '/s.pcap', 'demo'), [
    { live: true },
    { live: false, why: 'beside live capture, to show alerts at once', sample: '/s.pcap', name: 'demo' },
  ]);
  assert.deepEqual(localAgentSources('as asked', '/s.pcap', 'demo'), [{ live: false, why: 'as asked', sample: '/s.pcap', name: 'demo' }]);
});
