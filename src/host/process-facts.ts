/**
 * What a socket's owner is, read from /proc once per process while it lives: its command name, executable,
 * user, parent, and the systemd unit or container its cgroup names. Read as soon as the process is found
 * owning a socket: a short-lived client (curl) may be gone a few milliseconds later.
 */
import type { ProcessRecord } from '../analyze/records.js';
import type { HostIO } from './host-io.js';

export interface ProcessFacts {
  record: ProcessRecord;
  uid: number;
  ppid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid from the old one. */
  start: number;
}

/** Users by uid, from /etc/passwd (read again when a uid is not in it: a user added since). */
export class UserNames {
  private names = new Map<number, string>();
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly io: HostIO) {}

  nameOf(uid: number, now: number): string {
    let name = this.names.get(uid);
    if (name === undefined && now - this.readAt > 10_000) {
      this.readAt = now;
      this.names = parsePasswd(this.io.readText('/etc/passwd') ?? '');
      name = this.names.get(uid);
    }
    return name ?? String(uid);
  }
}

export function parsePasswd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2])) out.set(Number(f[2]), f[0]);
  }
  return out;
}

/**
 * The unit a cgroup path names: a container (docker, podman, containerd/CRI, libpod) as `engine:ID12`, else
 * the innermost systemd `.service` or `.scope` (`nginx.service`, `session-3.scope`); undefined for the root.
 * The unified hierarchy (`0::`) is read first, then systemd's named one (cgroup v1 hosts).
 */
export function unitOfCgroup(text: string): string | undefined {
  const lines = text.split('\n');
  const path = (prefix: string) => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  for (const p of [path('0::'), path('1:name=systemd:'), lines.map((l) => /^\d+:name=systemd:(.*)$/.exec(l)?.[1]).find((x) => x !== undefined)]) {
    const unit = p === undefined ? undefined : unitOfPath(p);
    if (unit !== undefined) return unit;
  }
  return undefined;
}

const CONTAINER = /(docker|libpod|crio|cri-containerd|containerd)[-:]([0-9a-f]{12})[0-9a-f]*(\.scope)?$/;

/** The unit a cgroup path (`/system.slice/nginx.service`) names, as unitOfCgroup. */
export function unitOfPath(path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== 'init.scope');
  for (let i = parts.length - 1; i >= 0; i--) {
    const c = CONTAINER.exec(parts[i]);
    if (c) return `${c[1] === 'libpod' ? 'podman' : c[1]}:${c[2]}`;
  }
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i].endsWith('.service')) return parts[i];
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i].endsWith('.scope')) return parts[i];
  return undefined;
}

/** Field 4 (ppid) and 22 (starttime) of /proc/PID/stat; the command name in field 2 may hold spaces and ')'. */
function parseStat(text: string): { ppid: number; start: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  return { ppid: Number(f[1]), start: Number(f[19]) };
}

/** The facts of a live process; undefined when it has gone. */
export function readProcessFacts(io: HostIO, pid: number, users: UserNames, now: number): ProcessFacts | undefined {
  const stat = io.readText(`/proc/${pid}/stat`);
  const status = io.readText(`/proc/${pid}/status`);
  const parsed = stat === undefined ? undefined : parseStat(stat);
  if (parsed === undefined || status === undefined) return undefined;
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '';
  const record: ProcessRecord = { pid, name };
  const exe = io.readLink(`/proc/${pid}/exe`);
  if (exe !== undefined) record.exe = exe.endsWith(' (deleted)') ? exe.slice(0, -10) : exe;
  if (Number.isInteger(uid)) record.user = users.nameOf(uid, now);
  const unit = unitOfCgroup(io.readText(`/proc/${pid}/cgroup`) ?? '');
  if (unit !== undefined) record.unit = unit;
  return { record, uid, ppid: parsed.ppid, start: parsed.start };
}
