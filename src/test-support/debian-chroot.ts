/**
 * A clean Debian (debootstrap --variant=minbase: no compiler, no Node.js) in a temporary folder, for tests
 * that install a package as a sysadmin would. The bootstrapped tree is cached as a tar in
 * /var/tmp/loopy-ci-cache (kept between runs on one machine: the first run downloads ~40 MB and takes a few
 * minutes, later ones unpack it in seconds); each test gets a fresh copy. The Debian release and mirror are
 * the host's own (its /etc/os-release and apt sources). Root only.
 * The tree is a tmpfs. `close()` unmounts everything the chroot had mounted and removes the folder only once
 * nothing is mounted under it (a bound /dev must never be deleted through).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CACHE_DIR = '/var/tmp/loopy-ci-cache';

/** The host's Debian codename (bookworm). */
export function hostCodename(): string | undefined {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  return /^VERSION_CODENAME=(\S+)/m.exec(osRelease)?.[1];
}

/** The mirror the host's apt takes `codename` from: deb822 sources first, then the one-line format. */
export function hostDebianMirror(codename: string): string | undefined {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) {
    for (const stanza of readFileSync(deb822, 'utf8').split(/\n\s*\n/)) {
      const suites = /^Suites:(.*)$/m.exec(stanza)?.[1].split(/\s+/) ?? [];
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && suites.includes(codename)) return uri;
    }
  }
  const oneLine = existsSync('/etc/apt/sources.list') ? readFileSync('/etc/apt/sources.list', 'utf8') : '';
  return new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${codename}\\s`, 'm').exec(oneLine)?.[1];
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

/** The cached minbase tar, made with debootstrap when it is not there yet. */
function minbaseTar(codename: string): string {
  const tar = join(CACHE_DIR, `${codename}-minbase.tar`);
  if (existsSync(tar)) return tar;
  const mirror = hostDebianMirror(codename);
  if (!mirror) throw new Error(`no apt source for ${codename} in /etc/apt: debootstrap needs a mirror`);
  mkdirSync(CACHE_DIR, { recursive: true });
  const dir = mkdtempSync(join(CACHE_DIR, `${codename}-`));
  try {
    must(spawnSync('debootstrap', ['--variant=minbase', codename, dir, mirror], { encoding: 'utf8', maxBuffer: 1 << 26 }), 'debootstrap');
    chmodSync(dir, 0o755); // the tree's / (mkdtemp made it 0700: no user but root could reach anything)
    must(spawnSync('tar', ['-C', dir, '-cf', `${tar}.part`, '.'], { encoding: 'utf8' }), 'tar');
    renameSync(`${tar}.part`, tar);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tar;
}

export class DebianChroot {
  readonly dir: string;
  readonly root: string;
  private readonly mounts: string[] = [];

  /** A fresh minbase tree (in a tmpfs) with /proc, /dev and /sys mounted and the host's resolv.conf for apt. */
  constructor(codename: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'loopy-chroot-'));
    this.root = join(this.dir, 'root');
    mkdirSync(this.root);
    // In memory (some 400 MB with a package installed): unpacking, dpkg's syncs and removing all of it are fast.
    this.mount(['-t', 'tmpfs', '-o', 'size=2g,mode=0755', 'tmpfs'], '');
    must(spawnSync('tar', ['-C', this.root, '-xpf', minbaseTar(codename)], { encoding: 'utf8' }), 'tar -x');
    chmodSync(this.root, 0o755);
    copyFileSync('/etc/resolv.conf', join(this.root, 'etc', 'resolv.conf'));
    this.mount(['-t', 'proc', 'proc'], 'proc');
    this.mount(['--bind', '/dev'], 'dev');
    this.mount(['--bind', '/sys'], 'sys');
  }

  private mount(args: string[], where: string): void {
    const target = join(this.root, where);
    must(spawnSync('mount', [...args, target], { encoding: 'utf8' }), `mount ${where}`);
    this.mounts.push(target);
  }

  /** Runs a shell command line inside the chroot as root, with a clean environment. */
  sh(script: string, options: { timeoutMs?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('chroot', [this.root, '/bin/sh', '-c', script], {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 1 << 26,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8', HOME: '/root' },
    });
  }

  /** The chroot's mount points that are still mounted. */
  private stillMounted(): string[] {
    const mounted = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '));
    return mounted.filter((m): m is string => m !== undefined && (m === this.root || m.startsWith(`${this.root}/`)));
  }

  /** Unmounts (lazily when busy) and removes the tree; refuses to delete while anything is still mounted. */
  close(): void {
    for (const target of [...this.mounts].reverse()) {
      if (spawnSync('umount', [target]).status !== 0) spawnSync('umount', ['-l', target]);
    }
    const left = this.stillMounted();
    if (left.length) throw new Error(`still mounted, ${this.dir} left in place: ${left.join(', ')}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
