import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageMillis, stageOf, type CpuProfile } from './stage-profile.js';

test('functions are put in the stage of the folder they come from', () => {
  const at = (path: string) => stageOf(`file:///opt/loopy/${path}`, 'f');
  assert.equal(at('dist/capture/live.js'), 'capture');
  assert.equal(at('dist/decode/protocols/tcp/decoder.js'), 'decode');
  assert.equal(at('dist/analyze/flows/flow-table.js'), 'flows');
  assert.equal(at('dist/analyze/apps/dns/message.js'), 'apps');
  assert.equal(at('dist/analyze/engine.js'), 'engine');
  assert.equal(at('dist/detect/detectors/port-scan.js'), 'detect');
  assert.equal(at('dist/store/history-store.js'), 'store');
  assert.equal(at('dist/serve/agent.js'), 'serve');
  assert.equal(stageOf('node:internal/streams/writable', 'write'), 'node');
  assert.equal(stageOf('', '(garbage collector)'), 'gc');
  assert.equal(stageOf('', '(idle)'), 'idle');
});

test('samples are summed per stage inside the window only, idle left out', () => {
  const profile: CpuProfile = {
    startTime: 1000,
    nodes: [
      { id: 1, callFrame: { functionName: 'lookup', url: 'file:///x/dist/analyze/flows/flow-table.js' } },
      { id: 2, callFrame: { functionName: '(garbage collector)', url: '' } },
      { id: 3, callFrame: { functionName: '(idle)', url: '' } },
    ],
    // Samples at t = 1100, 1300, 1600, 2100, 2200 (start + running sum of the deltas).
    samples: [1, 1, 2, 3, 1],
    timeDeltas: [100, 200, 300, 500, 100],
  };
  const all = stageMillis(profile);
  assert.equal(all.get('flows'), 0.4);
  assert.equal(all.get('gc'), 0.3);
  const window = stageMillis(profile, { from: 1200, to: 2000 });
  assert.equal(window.get('flows'), 0.2);
  assert.equal(window.get('gc'), 0.3);
});
