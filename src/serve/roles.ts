/**
 * Who may do what: a `viewer` reads and subscribes; an `operator` also acknowledges and suppresses alerts
 * (what can silence detection). TLS clients get the role of the token they gave. A local client (the unix
 * socket, and so every `ssh://` client through `loopy bridge`) gets it from the kernel's word on who
 * connected (SO_PEERCRED): root, the agent's own user and members of the operator group are operators,
 * everyone else who can reach the socket (its group) a viewer. Also here: checking a bridge's claim about
 * the SSH session it serves, before that session's traffic is left out of capture.
 */
import { readFileSync } from 'node:fs';
import type { PeerCredentials } from '../capture/live-addon.js';

export type Role = 'viewer' | 'operator';

export const ROLES: readonly Role[] = ['viewer', 'operator'];

/** The group whose members are operators on the unix socket, by default. */
export const DEFAULT_OPERATOR_GROUP = 'loopy-operators';

export interface UnixRoleOptions {
  /** The agent's own uid (after any privilege drop). */
  agentUid: number;
  /** The operator group's gid, when it exists. */
  operatorGid?: number;
  /** Reads /proc/PID/status (tests pass a fake). */
  readStatus?: (pid: number) => string | undefined;
}

/**
 * The role of a local client. Without its credentials (no capture addon to ask the kernel) every local
 * client is an operator, as before roles existed: the socket's group is then the only line.
 */
export function unixRole(peer: PeerCredentials | undefined, o: UnixRoleOptions): Role {
  if (peer === undefined) return 'operator';
  if (peer.uid === 0 || peer.uid === o.agentUid) return 'operator';
  if (o.operatorGid === undefined) return 'viewer';
  if (peer.gid === o.operatorGid) return 'operator';
  return groupsOf(peer.pid, o.readStatus ?? procStatus).includes(o.operatorGid) ? 'operator' : 'viewer';
}

/** Supplementary groups of a process ("Groups:" of /proc/PID/status), empty when unreadable. */
export function groupsOf(pid: number, readStatus: (pid: number) => string | undefined = procStatus): number[] {
  const text = readStatus(pid);
  const line = text?.split('\n').find((l) => l.startsWith('Groups:'));
  return line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

function procStatus(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

export interface ProcessView {
  /** /proc/PID/cmdline split at its NULs, or undefined. */
  cmdline(pid: number): string[] | undefined;
  /** The command name and parent pid (/proc/PID/stat), or undefined. */
  stat(pid: number): { comm: string; ppid: number } | undefined;
}

export const procView: ProcessView = {
  cmdline(pid) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return undefined;
    }
  },
  stat(pid) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      return { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(text.slice(close + 2).split(' ')[1]) };
    } catch {
      return undefined;
    }
  },
};

/**
 * True when the peer is what a `loopy bridge` run by sshd looks like: its command line is `… bridge …` and
 * an ancestor within a few generations is sshd. Anything else claiming an SSH session (any local client can
 * put `via.ssh_connection` in its hello) is not believed.
 */
export function isBridgeUnderSshd(peer: PeerCredentials | undefined, view: ProcessView = procView): boolean {
  if (peer === undefined) return false;
  const args = view.cmdline(peer.pid);
  if (args === undefined || !args.some((a) => a === 'bridge')) return false;
  let pid = peer.pid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const s = view.stat(pid);
    if (s === undefined) return false;
    if (s.comm === 'sshd') return true;
    pid = s.ppid;
  }
  return false;
}

/** The agent's own uid, even after a drop (process.getuid is current). */
export function currentUid(): number {
  return process.getuid?.() ?? 0;
}
