/**
 * The agent's health, for `loopy agent --status`: the running agent rewrites `status.json` in its data
 * directory every second (write to a temporary file, then rename: a reader never sees half a file), and
 * `--status` reads it. A file older than STALE_SECONDS means the agent is not running. The directory is
 * 0700 and the file 0600: traffic figures are for the agent's operator only.
 */
import { chmodSync, chownSync, closeSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { makeDirectory } from '../capture/directories.js';
import { dirname, join, resolve } from 'node:path';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';
import type { AttributionStats } from '../host/process-attribution.js';

export const STATUS_FILE = 'status.json';
export const STALE_SECONDS = 5;

export type InterfaceState = 'capturing' | 'stopped' | 'failed' | 'replaying';

export interface InterfaceStatus {
  name: string;
  state: InterfaceState;
  /** Kernel counters since the capture opened (pcap_stats). */
  received: number;
  dropped: number;
  if_dropped: number;
  addon_dropped: number;
  packets_per_s: number;
  /** Of the last second: (dropped + addon_dropped) / received. */
  drop_pct: number;
}

export interface AgentStatus {
  type: 'agent_status';
  pid: number;
  /** The user the agent runs as (after dropping privileges). */
  user: string;
  started: number;
  updated: number;
  state: 'running' | 'stopped' | 'failed';
  source: 'live' | 'replay';
  /** The kernel filter in force (the user's filter and the self-exclusions), or null for none. */
  filter: string | null;
  interfaces: InterfaceStatus[];
  packets_per_s: number;
  bytes_per_s: number;
  drop_pct: number;
  /** Since the agent started: every packet the kernel dropped, over every packet it saw. */
  drop_pct_total: number;
  weirds_per_s: number;
  cpu_percent: number;
  rss_bytes: number;
  flows_active: number;
  /** Since the agent started (the capture's packets and bytes, after the filter). */
  packets_total: number;
  bytes_total: number;
  /** Protocol clients connected now, and seconds since the agent started. */
  clients: number;
  uptime_s: number;
  /**
   * Detection's bounded tables: how full each is, and what its bound has cost since the start (new keys
   * declined while it was past half full, keys let go). Absent without detection.
   */
  detection_state?: TrackedKeysReport[];
  /** Process attribution's own figures since the start (its busy milliseconds among them); absent when off. */
  processes?: AttributionStats;
  /** Passive DNS (the `names` method): addresses named now, at most, and forgotten since the start to stay within it. */
  passive_names?: PassiveNamesReport;
}

export interface PassiveNamesReport {
  size: number;
  capacity: number;
  evicted: number;
}

/** What an agent keeps in its data directory: a directory holding only these may be taken up again. */
const OWN_ENTRIES = /^(status\.json|\.status\.json\.\d+\.tmp|history\.sqlite(-wal|-shm)?|token|tls-(cert|key)\.pem|evidence|agent\.sock|.*\.ndjson)$/;

/**
 * Makes the data directory 0700, owned by `owner` when given (the user the agent becomes). A directory that
 * exists is used only if it is already the agent's: its owner is the agent's user, or it holds nothing but
 * what an agent keeps there and nobody else may write to it. Anything else (`--data /tmp`, a home directory)
 * is refused, never taken over: the agent would otherwise make it 0700 and hand it to its user.
 */
export function prepareDataDir(dir: string, owner?: { uid: number; gid: number }): void {
  const created = makeDirectory(dir, 0o700) !== undefined;
  if (!created) {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    const user = owner?.uid ?? process.geteuid?.() ?? st.uid;
    const others = readdirSync(dir).filter((name) => !OWN_ENTRIES.test(name));
    const writableByOthers = (st.mode & 0o022) !== 0;
    if (st.uid !== user && (others.length > 0 || writableByOthers)) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      throw new Error(`it is an existing directory that is not the agent's: mode ${mode}, owner uid ${st.uid}${others.length > 0 ? `, holding ${others.length} other file(s)` : ''}; give a new path or an empty directory`);
    }
  }
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

/**
 * Refuses, with one line, a data directory the user the agent becomes cannot reach: opened as root, it would
 * work until the privilege drop, then fail every second (the status file). Each directory above it must let
 * that user through (x for its owner, its group or others); the user keeps no supplementary groups.
 */
export function assertReachable(dir: string, user: { name: string; uid: number; gid: number }): void {
  if (user.uid === 0) return;
  // The directory itself is handed to that user at start (prepareDataDir); the ones above it are not.
  for (let at = dirname(resolve(dir)); ; at = dirname(at)) {
    const st = statSync(at, { throwIfNoEntry: false });
    // Missing: made at start, by root, for that user. Not a directory: prepareDataDir says so.
    if (st === undefined || !st.isDirectory()) continue;
    const through = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & through) === 0) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      throw new DataDirUnreachableError(`user ${user.name} cannot reach the data directory ${dir}: ${at} (mode ${mode}, owner uid ${st.uid}) does not let it through; give --data a directory it can reach (e.g. /var/lib/loopy) or let it through (chmod o+x ${at})`);
    }
    if (at === dirname(at)) return;
  }
}

export class DataDirUnreachableError extends Error {
  readonly code = 'LOOPY_DATA_UNREACHABLE';
}

/**
 * Writes the status whole: a temporary file renamed over the last one. On a full disk that needs a block the
 * disk has not got; the temporary file goes, and the status is written over the old one in place, in the
 * block it already has, so `--status` still reads this second's figures rather than a stale second's.
 */
export function writeStatusFile(dir: string, status: AgentStatus): void {
  const text = `${JSON.stringify(status)}\n`;
  const tmp = join(dir, `.${STATUS_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, join(dir, STATUS_FILE));
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    overwriteInPlace(join(dir, STATUS_FILE), text);
  }
}

/** Rewrites a small file in the blocks it has (no new block needed while the text is no longer). */
function overwriteInPlace(path: string, text: string): void {
  const fd = openSync(path, 'r+');
  try {
    const bytes = Buffer.from(text);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

export type StatusReading =
  | { ok: true; status: AgentStatus; ageSeconds: number }
  | { ok: false; status?: AgentStatus; reason: string };

/** Reads the status file and judges whether an agent is running (`now` in seconds since the epoch). */
export function readAgentStatus(dir: string, now: number): StatusReading {
  const path = join(dir, STATUS_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `the agent is not running (no ${path}; give the agent's --data DIR)` };
    return { ok: false, reason: `cannot read ${path} (${code ?? (err as Error).message}): run as the agent's user or root` };
  }
  let status: AgentStatus;
  try {
    status = JSON.parse(text) as AgentStatus;
    if (status?.type !== 'agent_status' || typeof status.updated !== 'number') throw new Error('not a status file');
  } catch {
    return { ok: false, reason: `${path} is not an agent status file` };
  }
  const age = now - status.updated;
  if (status.state !== 'running') {
    return { ok: false, status, reason: `the agent is not running (it ${status.state === 'failed' ? 'failed' : 'stopped'} ${ago(age)}, pid ${status.pid})` };
  }
  if (age > STALE_SECONDS) {
    return { ok: false, status, reason: `the agent is not running (its status was last written ${ago(age)}, pid ${status.pid})` };
  }
  return { ok: true, status, ageSeconds: age };
}

function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${n.toFixed(n > 0 && n < 0.01 ? 4 : 2)} %`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** A few aligned lines for a person. */
export function formatAgentStatus(status: AgentStatus, now: number): string {
  const rows: Array<[string, string]> = [
    ['agent', `pid ${status.pid}, user ${status.user}, up ${duration(now - status.started)} (updated ${ago(now - status.updated)})`],
    ['capture', `${status.source}, filter ${status.filter === null ? 'none' : JSON.stringify(status.filter)}`],
  ];
  for (const i of status.interfaces) {
    rows.push([
      `  ${i.name}`,
      `${i.state}, ${int(i.packets_per_s)} pkt/s, drop ${pct(i.drop_pct)}; since open: ${int(i.received)} received, ` +
        `${int(i.dropped)} dropped, ${int(i.if_dropped)} interface drops`,
    ]);
  }
  rows.push(
    ['packets/s', `${int(status.packets_per_s)} (${mb(status.bytes_per_s)}/s)`],
    ['drop', `${pct(status.drop_pct)} last second, ${pct(status.drop_pct_total)} since start`],
    ['weirds/s', int(status.weirds_per_s)],
    ['flows', `${int(status.flows_active)} active`],
    ['clients', `${int(status.clients ?? 0)} connected`],
    ['CPU', `${status.cpu_percent.toFixed(1)} % of one core`],
    ['RSS', mb(status.rss_bytes)],
  );
  const names = status.passive_names;
  if (names) rows.push(['names', `${int(names.size)}/${int(names.capacity)} addresses named by the DNS answers seen, ${int(names.evicted)} forgotten`]);
  const pressed = (status.detection_state ?? []).filter((t) => t.declined + t.evicted + (t.itemsDeclined ?? 0) > 0 || t.size * 2 >= t.capacity);
  for (const t of pressed) {
    const items = t.items === undefined ? '' : `, ${int(t.items)}/${int(t.itemLimit ?? 0)} items (${int(t.itemsDeclined ?? 0)} not recorded)`;
    rows.push([`  ${t.detector}`, `${t.table} ${int(t.size)}/${int(t.capacity)}, ${int(t.declined)} new declined, ${int(t.evicted)} let go${items}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${rows.map(([k, v]) => `${k.padEnd(width)}${v}`).join('\n')}\n`;
}
