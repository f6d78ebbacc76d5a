/**
 * The unit (systemd service or scope, container) of a cgroup v2 id, as the connect trace gives it
 * (bpf_get_current_cgroup_id): the id is the inode number of the cgroup's directory in the cgroup2 file
 * system, so a walk of that tree maps ids to paths. A process gone before /proc could be read keeps its
 * unit this way, the key detection's baselines are kept under (process-actors.ts).
 *
 * The tree is found from /proc/self/mountinfo (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid
 * host), else through init's mounts (/proc/1/root: `ip netns exec` gives its command a /sys without the
 * cgroup mounts; reading there needs root or CAP_SYS_PTRACE). The walk runs again when an id is not known
 * (a cgroup made since), at most every WALK_SPACING_MS and over at most MAX_CGROUPS directories; an id still
 * unknown after a walk that came later than its first sighting is a cgroup already removed (ids are never
 * reused) and is not walked for again.
 */
import type { HostIO } from './host-io.js';
import { unitOfPath } from './process-facts.js';

/** A walk per new cgroup at most this often (a host that makes a cgroup per connection pays no more). */
const WALK_SPACING_MS = 100;
/** Directories one walk reads at most (a host with Kubernetes pods has some thousands). */
const MAX_CGROUPS = 20_000;
/** Ids known to be removed, remembered at most (then forgotten all at once). */
const MAX_ABSENT = 10_000;

/** The cgroup2 mount in a mountinfo text: its mount point and the cgroup path it shows ("/" unless a cgroup namespace). */
export function cgroup2Mount(mountinfo: string): { dir: string; root: string } | undefined {
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash > 4 && f[dash + 1] === 'cgroup2') return { dir: unescapeMount(f[4]), root: unescapeMount(f[3]) };
  }
  return undefined;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes (\040). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export class CgroupUnits {
  /** Where the tree is read (undefined: not looked for yet; null: none). */
  private mount: { dir: string; root: string } | null | undefined;
  private paths = new Map<number, string>();
  private readonly absent = new Set<number>();
  /** Ids asked for since the last walk and not found: the next walk decides whether they are gone. */
  private readonly waiting = new Set<number>();
  private lastWalk = Number.NEGATIVE_INFINITY;
  walks = 0;

  constructor(private readonly io: HostIO) {}

  /** The unit of cgroup `id`, undefined for none (the root, a cgroup with no unit, one removed, no cgroup2). `now`: ms. */
  unitOf(id: number, now: number): string | undefined {
    const path = this.pathOf(id, now);
    return path === undefined ? undefined : unitOfPath(path);
  }

  pathOf(id: number, now: number): string | undefined {
    if (id === 0 || this.absent.has(id)) return undefined;
    const known = this.paths.get(id);
    if (known !== undefined || now - this.lastWalk < WALK_SPACING_MS) {
      if (known === undefined) this.waiting.add(id);
      return known;
    }
    this.walk(now);
    const found = this.paths.get(id);
    if (found === undefined) this.forget(id);
    return found;
  }

  private forget(id: number): void {
    if (this.absent.size >= MAX_ABSENT) this.absent.clear();
    this.absent.add(id);
  }

  private findMount(): { dir: string; root: string } | null {
    const own = cgroup2Mount(this.io.readText('/proc/self/mountinfo') ?? '');
    if (own !== undefined) return own;
    const init = cgroup2Mount(this.io.readText('/proc/1/mountinfo') ?? '');
    return init === undefined ? null : { dir: `/proc/1/root${init.dir}`, root: init.root };
  }

  /** Every cgroup's id → path (breadth first, at most MAX_CGROUPS); ids waited for and still missing are gone. */
  private walk(now: number): void {
    this.lastWalk = now;
    this.walks++;
    if (this.mount === undefined) this.mount = this.findMount();
    if (this.mount === null) return;
    const { dir, root } = this.mount;
    const paths = new Map<number, string>();
    const queue = [''];
    for (let i = 0; i < queue.length && paths.size < MAX_CGROUPS; i++) {
      const rel = queue[i];
      const id = this.io.inodeOf(dir + rel);
      if (id === undefined) continue;
      paths.set(id, root === '/' ? rel || '/' : root + rel);
      for (const name of this.io.subdirs(dir + rel) ?? []) queue.push(`${rel}/${name}`);
    }
    this.paths = paths;
    for (const id of this.waiting) if (!paths.has(id)) this.forget(id);
    this.waiting.clear();
  }
}
