import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrivilegeError, type PrivilegeOps, type UserIds, dropPrivileges, dropTarget, realPrivilegeOps } from './privileges.js';

/** A process as the kernel would treat it: only root may change ids; the calls are recorded in order. */
class FakeProcess implements PrivilegeOps {
  calls: string[] = [];
  /** A broken setuid that leaves the saved uid at 0 (the way back stays open). */
  keepsSavedRoot = false;
  constructor(
    private uid: number,
    private readonly users: Record<string, UserIds> = { nobody: { name: 'nobody', uid: 65534, gid: 65534 } },
    private readonly caps?: bigint,
  ) {}
  geteuid = () => this.uid;
  getuid = () => this.uid;
  setgroups = (g: number[]) => {
    this.calls.push(`setgroups(${JSON.stringify(g)})`);
    if (this.uid !== 0) throw new Error('EPERM');
  };
  setgid = (g: number) => {
    this.calls.push(`setgid(${g})`);
    if (this.uid !== 0) throw new Error('EPERM');
  };
  setuid = (u: number) => {
    this.calls.push(`setuid(${u})`);
    if (this.uid !== 0 && !(this.keepsSavedRoot && u === 0)) throw new Error('EPERM');
    this.uid = u;
  };
  lookupUser = (name: string) => this.users[name];
  effectiveCaps = () => this.caps;
}

test('root drops to the user: groups cleared, then gid, then uid, and the way back is checked', () => {
  const p = new FakeProcess(0);
  const target = dropTarget('nobody', p);
  assert.deepEqual(target, { name: 'nobody', uid: 65534, gid: 65534 });
  const out = dropPrivileges(target, p);
  assert.deepEqual(p.calls, ['setgroups([])', 'setgid(65534)', 'setuid(65534)', 'setuid(0)']);
  assert.equal(out.dropped, true);
  assert.equal(out.message, 'capture open; dropped root privileges to user nobody (uid 65534, gid 65534, no supplementary groups)');
});

test('a user that does not exist stops the start with what to do', () => {
  assert.throws(
    () => dropTarget('loopy', new FakeProcess(0)),
    (err: PrivilegeError) => err.code === 'LOOPY_PRIVILEGES' && err.message === '--user loopy: no such user: create it (useradd --system --no-create-home loopy) or name another with --user',
  );
});

test('no --user: the agent\'s own user loopy, else nobody with a warning saying how to make loopy', () => {
  const withLoopy = new FakeProcess(0, { loopy: { name: 'loopy', uid: 998, gid: 998 }, nobody: { name: 'nobody', uid: 65534, gid: 65534 } });
  assert.deepEqual(dropTarget(undefined, withLoopy), { name: 'loopy', uid: 998, gid: 998 });
  const without = dropTarget(undefined, new FakeProcess(0));
  assert.equal(without?.name, 'nobody');
  assert.match(without?.fallback ?? '', /^no user loopy: running as nobody, which other daemons share; create it \(useradd --system/);
  assert.throws(() => dropTarget(undefined, new FakeProcess(0, {})), /--user loopy: no such user/);
});

test('not root (CAP_NET_RAW alone): nothing to drop, and the log says which capability it runs with', () => {
  const p = new FakeProcess(1000, {}, 1n << 13n);
  assert.equal(dropTarget('nobody', p), undefined);
  const out = dropPrivileges(undefined, p);
  assert.deepEqual(p.calls, []);
  assert.equal(out.dropped, false);
  assert.equal(out.message, 'running as uid 1000 with CAP_NET_RAW: no privileges to drop');
  assert.match(dropPrivileges(undefined, new FakeProcess(1000, {}, 0n)).message, /without CAP_NET_RAW/);
});

test('a drop that could be undone is refused rather than run as root in disguise', () => {
  const p = new FakeProcess(0);
  p.keepsSavedRoot = true;
  assert.throws(() => dropPrivileges({ name: 'nobody', uid: 65534, gid: 65534 }, p), /could become root again: refusing to run/);
});

test('--user root keeps root, and says so', () => {
  const p = new FakeProcess(0, { root: { name: 'root', uid: 0, gid: 0 } });
  const out = dropPrivileges(dropTarget('root', p), p);
  assert.deepEqual([out.dropped, p.calls.length], [false, 0]);
  assert.match(out.message, /keeping root privileges as asked/);
});

test('the real lookup finds nobody and root through NSS or /etc/passwd', () => {
  const nobody = realPrivilegeOps.lookupUser('nobody');
  assert.ok(nobody && nobody.uid > 0, JSON.stringify(nobody));
  assert.deepEqual(realPrivilegeOps.lookupUser('root'), { name: 'root', uid: 0, gid: 0 });
  assert.equal(realPrivilegeOps.lookupUser('loopy-no-such-user'), undefined);
});
