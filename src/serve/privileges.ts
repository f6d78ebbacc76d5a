/**
 * Least privilege. Capture needs CAP_NET_RAW only to open a handle; an open handle keeps working after the
 * process gives up every privilege. So an agent started as root opens its capture handles (and its output
 * files, and chowns its data directory), then becomes `--user` (default nobody): setgroups([]), setgid,
 * setuid — in that order, because after setuid it could no longer change its groups. glibc applies setuid
 * to every thread, the addon's capture threads included. Started as a normal user with CAP_NET_RAW (the
 * systemd unit in contrib/), there is nothing to drop.
 * Capabilities asked to be kept (process attribution's CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE) outlive
 * the setuid on the calling thread only — the JS thread, which reads /proc — and only those: the thread
 * sets PR_SET_KEEPCAPS before, and after it keeps exactly them, CAP_SETUID gone (native/src/capabilities.c).
 * With --workers, each engine's thread does the same on its own (engine-workers.ts, keepOnly).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
}

/** The process calls privileges.ts makes; tests pass fakes. */
export interface PrivilegeOps {
  geteuid(): number;
  getuid(): number;
  setgroups(groups: number[]): void;
  setgid(gid: number): void;
  setuid(uid: number): void;
  lookupUser(name: string): UserIds | undefined;
  /** Effective capability mask (CapEff of /proc/self/status), or undefined where unknown. */
  effectiveCaps(): bigint | undefined;
  /** Before setuid: this thread's permitted capabilities are to outlive it; false where that cannot be. */
  keepCapabilities?(): boolean;
  /** After setuid: this thread keeps exactly `caps` (those still permitted); returns those it could not keep. */
  raiseKeptCapabilities?(caps: number[]): number[];
}

/** Capability numbers (linux/capability.h) and their names, for the log. */
export const CAPABILITY_NAMES: Record<number, string> = { 2: 'CAP_DAC_READ_SEARCH', 19: 'CAP_SYS_PTRACE' };
/** What process attribution needs to read other processes' sockets in /proc. */
export const ATTRIBUTION_CAPABILITIES: readonly number[] = [2, 19];

export class PrivilegeError extends Error {
  readonly code = 'LOOPY_PRIVILEGES';
}

const CAP_NET_RAW = 13n;

function parsePasswdLine(line: string): UserIds | undefined {
  const f = line.trim().split(':');
  if (f.length < 4) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  return Number.isInteger(uid) && Number.isInteger(gid) ? { name: f[0], uid, gid } : undefined;
}

/** getent (NSS: LDAP, systemd-userdb...) first, /etc/passwd where getent is missing. */
function lookupUser(name: string): UserIds | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 5000 });
  if (r.error === undefined) return r.status === 0 ? parsePasswdLine(r.stdout.split('\n')[0]) : undefined;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const u = parsePasswdLine(line);
      if (u && (u.name === name || String(u.uid) === name)) return u;
    }
  } catch {
    // No passwd file: the user is unknown.
  }
  return undefined;
}

function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export const realPrivilegeOps: PrivilegeOps = {
  geteuid: () => process.geteuid!(),
  getuid: () => process.getuid!(),
  setgroups: (g) => process.setgroups!(g),
  setgid: (g) => process.setgid!(g),
  setuid: (u) => process.setuid!(u),
  lookupUser,
  effectiveCaps,
  keepCapabilities: () => tryLoadCaptureAddon()?.keepCapabilities?.() ?? false,
  raiseKeptCapabilities: (caps) => tryLoadCaptureAddon()!.raiseKeptCapabilities!(caps),
};

/** Whom the agent will become: undefined when it is not root (nothing to drop). Throws for an unknown user. */
/** The user a root agent becomes when none is named: its own, made by the package or the systemd unit. */
export const DEFAULT_USER = 'loopy';
/** …and where there is no such user yet (a clone run by hand): the shared one, said in the log. */
export const FALLBACK_USER = 'nobody';

/**
 * The user a root agent becomes: `user` if named, else `loopy`, else (no such user yet) `nobody`, whose
 * name comes back in `fallback` for the log. Undefined when not root (nothing to drop).
 */
export function dropTarget(user: string | undefined, ops: PrivilegeOps = realPrivilegeOps): (UserIds & { fallback?: string }) | undefined {
  if (ops.geteuid() !== 0) return undefined;
  if (user === undefined) {
    const own = ops.lookupUser(DEFAULT_USER);
    if (own) return own;
    const shared = ops.lookupUser(FALLBACK_USER);
    if (shared) return { ...shared, fallback: `no user ${DEFAULT_USER}: running as ${FALLBACK_USER}, which other daemons share; create it (useradd --system --no-create-home --shell /usr/sbin/nologin ${DEFAULT_USER}) or name one with --user` };
    user = DEFAULT_USER;
  }
  const ids = ops.lookupUser(user);
  if (!ids) {
    throw new PrivilegeError(`--user ${user}: no such user: create it (useradd --system --no-create-home ${user}) or name another with --user`);
  }
  return ids;
}

export interface PrivilegeOutcome {
  dropped: boolean;
  uid: number;
  gid?: number;
  user?: string;
  /** The capabilities kept across the drop (names). */
  kept?: string[];
  /** One sentence for the log. */
  message: string;
}

/**
 * Becomes `target` (from dropTarget), keeping the capabilities `keep` on this thread where the kernel lets
 * it, and checks that the way back is closed; without a target, reports what the process runs with.
 * Throws PrivilegeError when a step fails: an agent that meant to drop root and could not must not go on
 * as root.
 */
export function dropPrivileges(target: UserIds | undefined, ops: PrivilegeOps = realPrivilegeOps, keep: readonly number[] = []): PrivilegeOutcome {
  if (!target) {
    const uid = ops.geteuid();
    const caps = ops.effectiveCaps();
    const raw = caps === undefined ? 'unknown' : (caps >> CAP_NET_RAW) & 1n ? 'with' : 'without';
    return {
      dropped: false,
      uid,
      message: `running as uid ${uid} ${raw === 'unknown' ? '(capabilities unknown)' : `${raw} CAP_NET_RAW`}: no privileges to drop`,
    };
  }
  if (target.uid === 0) {
    return { dropped: false, uid: 0, gid: target.gid, user: target.name, message: `--user ${target.name} is root: keeping root privileges as asked` };
  }
  const keeping = keep.length > 0 && ops.keepCapabilities?.() === true;
  let kept: number[] = [];
  try {
    ops.setgroups([]);
    ops.setgid(target.gid);
    ops.setuid(target.uid);
    // Until this runs the thread still holds root's permitted set (not effective): it leaves only `keep`.
    if (keeping) {
      const missing = ops.raiseKeptCapabilities!([...keep]);
      kept = keep.filter((c) => !missing.includes(c));
    }
  } catch (err) {
    throw new PrivilegeError(`could not become user ${target.name} (uid ${target.uid}, gid ${target.gid}): ${(err as Error).message}`);
  }
  if (ops.getuid() !== target.uid || ops.geteuid() !== target.uid) {
    throw new PrivilegeError(`could not become user ${target.name}: still uid ${ops.getuid()}/${ops.geteuid()}`);
  }
  let regained = false;
  try {
    ops.setuid(0);
    regained = true;
  } catch {
    // Expected: an unprivileged process cannot become root again.
  }
  if (regained) throw new PrivilegeError(`dropped to ${target.name} but could become root again: refusing to run`);
  const names = kept.map((c) => CAPABILITY_NAMES[c] ?? `capability ${c}`);
  return {
    dropped: true,
    uid: target.uid,
    gid: target.gid,
    user: target.name,
    kept: names,
    message: `capture open; dropped root privileges to user ${target.name} (uid ${target.uid}, gid ${target.gid}, no supplementary groups${names.length > 0 ? `; keeping ${names.join(' and ')} to name processes` : ''})`,
  };
}
