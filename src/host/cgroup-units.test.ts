/**
 * Cgroup ids to units: the cgroup2 mount found in mountinfo text (hand-written lines, escapes), and on this
 * host (root, cgroup v2 mounted) cgroups made for the test named by their directory's inode — one made
 * after the first walk found on a miss, one removed answered as none. The connect trace's cgroup id is the
 * same number (connect-trace.test.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupUnits, cgroup2Mount } from './cgroup-units.js';
import { realHostIO } from './host-io.js';

test('the cgroup2 mount of a mountinfo text, its escapes undone', () => {
  const text = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 /kubepods/pod1 /sys/fs/cgroup/my\\040tree rw,relatime shared:9 - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.deepEqual(cgroup2Mount(text), { dir: '/sys/fs/cgroup/my tree', root: '/kubepods/pod1' });
  assert.equal(cgroup2Mount(text.split('\n').slice(0, 2).join('\n')), undefined);
});

const mount = cgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
const skip = process.getuid?.() !== 0 ? 'needs root (makes cgroups)' : mount === undefined ? 'no cgroup2 mounted here' : false;
if (skip) console.warn(`SKIPPING cgroup units test: ${skip}`);
const made: string[] = [];
after(() => {
  for (const dir of made.reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // removed by the test
    }
  }
});

function makeCgroup(path: string): { dir: string; id: number } {
  const dir = join(mount!.dir, path);
  mkdirSync(dir);
  made.push(dir);
  return { dir, id: Number(statSync(dir, { bigint: true }).ino) };
}

test('this host\'s cgroups: an id names its unit; one made later is found on a miss; one removed is none', { skip }, () => {
  const service = makeCgroup(`loopy-cg-h-proc15-${process.pid}.service`);
  const scope = makeCgroup(`loopy-cg-h-proc15-${process.pid}.service/worker-2.scope`);
  const units = new CgroupUnits(realHostIO);
  assert.equal(units.unitOf(service.id, 0), `loopy-cg-h-proc15-${process.pid}.service`);
  assert.equal(units.unitOf(scope.id, 1), `loopy-cg-h-proc15-${process.pid}.service`, 'a scope inside a service is the service\'s');
  assert.equal(units.pathOf(scope.id, 1), `/loopy-cg-h-proc15-${process.pid}.service/worker-2.scope`);
  assert.equal(units.walks, 1, 'known ids cost no walk');
  const later = makeCgroup(`loopy-cg-h-proc15-${process.pid}-later.scope`);
  assert.equal(units.unitOf(later.id, 1000), `loopy-cg-h-proc15-${process.pid}-later.scope`, 'a cgroup made since the last walk');
  rmdirSync(later.dir);
  const gone = makeCgroup(`loopy-cg-h-proc15-${process.pid}.service/gone.scope`);
  rmdirSync(gone.dir);
  assert.equal(units.unitOf(gone.id, 2000), undefined);
  const walks = units.walks;
  assert.equal(units.unitOf(gone.id, 3000), undefined);
  assert.equal(units.walks, walks, 'a removed cgroup is not walked for again');
  assert.equal(units.unitOf(0, 4000), undefined);
});
