import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FileProbe, demoSamplePlaces, ensureDemoSample, pickDemoSample, realFileProbe } from './demo-sample.js';

const places = { packaged: '/pkg/samples/demo.pcap', cached: '/home/u/.cache/loopy/demo.pcap' };
const probe = (existing: string[], writable: boolean): FileProbe => ({ exists: (p) => existing.includes(p), writable: () => writable });

test('the demo capture is the package\'s, not the working directory\'s; the cache holds it where the package cannot be written', () => {
  const packageDir = fileURLToPath(new URL('../../../', import.meta.url));
  assert.equal(demoSamplePlaces({ XDG_CACHE_HOME: '/c' }).packaged, join(packageDir, 'samples', 'demo.pcap'));
  assert.equal(demoSamplePlaces({ XDG_CACHE_HOME: '/c' }).cached, '/c/loopy/demo.pcap');
  assert.match(demoSamplePlaces({}).cached, /\/\.cache\/loopy\/demo\.pcap$/);
  assert.deepEqual(pickDemoSample(places, probe([places.packaged, places.cached], false)), { path: places.packaged, make: false });
  assert.deepEqual(pickDemoSample(places, probe([places.cached], true)), { path: places.cached, make: false });
  assert.deepEqual(pickDemoSample(places, probe([], true)), { path: places.packaged, make: true });
  assert.deepEqual(pickDemoSample(places, probe([], false)), { path: places.cached, make: true });
});

test('a directory not made yet is writable when its nearest existing parent is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-demo-probe-'));
  try {
    assert.equal(realFileProbe.writable(join(dir, 'samples', 'deeper')), true);
    assert.equal(realFileProbe.writable('/proc/1/nope'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing demo capture is made once with the generator, in the cache when the package is read-only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-demo-make-'));
  try {
    const here = { packaged: join(dir, 'pkg', 'samples', 'demo.pcap'), cached: join(dir, 'cache', 'loopy', 'demo.pcap') };
    const said: string[] = [];
    const readOnlyPackage: FileProbe = { exists: existsSync, writable: (d) => !d.startsWith(join(dir, 'pkg')) };
    const path = await ensureDemoSample((line) => said.push(line), here, readOnlyPackage);
    assert.equal(path, here.cached);
    assert.deepEqual(said, [`making the demo capture ${here.cached} (once)`]);
    assert.equal(readFileSync(path).readUInt32LE(0), 0xa1b2c3d4, 'a pcap file');
    assert.ok(statSync(path).size > 1_000_000, 'the demo capture: 32,000 packets');
    assert.deepEqual(readdirSync(join(dir, 'cache', 'loopy')), ['demo.pcap'], 'no partial file left');
    assert.equal(existsSync(join(dir, 'pkg')), false);
    // Made: used as it is from then on.
    assert.equal(await ensureDemoSample((line) => said.push(line), here, readOnlyPackage), here.cached);
    assert.equal(said.length, 1);
    // One in the package wins.
    mkdirSync(join(dir, 'pkg', 'samples'), { recursive: true });
    writeFileSync(here.packaged, 'x');
    assert.equal(await ensureDemoSample((line) => said.push(line), here), here.packaged);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
