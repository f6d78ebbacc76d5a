import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HELPER = fileURLToPath(new URL('./buffer-detaching.js', import.meta.url));
const INVALIDATED = 'Invalidating protector cell ArrayBufferDetaching';

/** Standard output of a Node process running `code` (an ES module) with V8's protector trace on. */
function traced(code: string): string {
  const run = spawnSync(process.execPath, ['--trace-protector-invalidation', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

test('settleBufferDetaching invalidates the protector at once, and a later transfer finds nothing left to invalidate', () => {
  const out = traced(`
    const { settleBufferDetaching } = await import(${JSON.stringify(HELPER)});
    settleBufferDetaching();
    console.log('settled');
    const { port1, port2 } = new MessageChannel();
    const batch = new Float64Array(16);
    port1.postMessage(batch, [batch.buffer]);
    console.log('transferred', batch.length);
    port1.close(); port2.close();
  `);
  const lines = out.split('\n').filter((l) => l === INVALIDATED || l === 'settled' || l.startsWith('transferred'));
  assert.deepEqual(lines, [INVALIDATED, 'settled', 'transferred 0']);
});

test('without it, the first transfer is what invalidates the protector (what the agent met mid-capture)', () => {
  const out = traced(`
    console.log('started');
    const { port1, port2 } = new MessageChannel();
    const batch = new Float64Array(16);
    port1.postMessage(batch, [batch.buffer]);
    console.log('transferred');
    port1.close(); port2.close();
  `);
  const lines = out.split('\n').filter((l) => l === INVALIDATED || l === 'started' || l === 'transferred');
  assert.deepEqual(lines, ['started', INVALIDATED, 'transferred']);
});
