/**
 * Two network namespaces joined by a veth pair, for the live tests and the live benchmarks (root only).
 * Quiet by design: no IPv6 (no DAD, router solicitations or MLD), no ICMP rate limit, and static neighbours
 * instead of ARP, so the only frames on the wire are the ones a test sends. Names carry the process id, so
 * parallel test processes never meet; addresses are a /30 in 10.250.0.0/16, which exists only inside them.
 */
import { spawnSync } from 'node:child_process';

/** Runs a command (bounded) and returns its stdout; throws with its stderr when it fails. */
export function sh(args: string[], timeout = 10_000): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

export interface NamespacePairOptions {
  /** Third octet of the pair's 10.250.X.0/30; give each harness its own. */
  net?: number;
  /** Addresses and static neighbours (default true); a raw frame replay needs neither. */
  addresses?: boolean;
  /** MTU of both ends (default the kernel's 1500). */
  mtu?: number;
}

export class NamespacePair {
  /** Side A: where the capture (or the agent) runs. */
  readonly nsA: string;
  readonly ifA: string;
  readonly addrA: string;
  /** Side B: where traffic comes from. */
  readonly nsB: string;
  readonly ifB: string;
  readonly addrB: string;

  /** `prefix`: three letters naming the harness (namespaces PREFIX<pid>a/b, interfaces PREFIX<pid>x/y). */
  constructor(prefix: string, private readonly options: NamespacePairOptions = {}) {
    const id = process.pid % 100000;
    this.nsA = `${prefix}${id}a`;
    this.nsB = `${prefix}${id}b`;
    this.ifA = `${prefix}${id}x`;
    this.ifB = `${prefix}${id}y`;
    const net = `10.250.${(options.net ?? id) % 250}`;
    this.addrA = `${net}.1`;
    this.addrB = `${net}.2`;
  }

  setUp(): void {
    this.tearDown(); // a previous run killed before its teardown
    for (const ns of [this.nsA, this.nsB]) {
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv4.icmp_ratelimit=0']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', 'link', 'add', this.ifA, 'netns', this.nsA, 'type', 'veth', 'peer', 'name', this.ifB, 'netns', this.nsB]);
    const mtu = this.options.mtu === undefined ? [] : ['mtu', String(this.options.mtu)];
    if (this.options.addresses !== false) {
      sh(['ip', '-n', this.nsA, 'addr', 'add', `${this.addrA}/30`, 'dev', this.ifA]);
      sh(['ip', '-n', this.nsB, 'addr', 'add', `${this.addrB}/30`, 'dev', this.ifB]);
    }
    sh(['ip', '-n', this.nsA, 'link', 'set', this.ifA, ...mtu, 'up']);
    sh(['ip', '-n', this.nsB, 'link', 'set', this.ifB, ...mtu, 'up']);
    if (this.options.addresses !== false) {
      sh(['ip', '-n', this.nsA, 'neigh', 'replace', this.addrB, 'lladdr', this.macOf(this.nsB, this.ifB), 'dev', this.ifA, 'nud', 'permanent']);
      sh(['ip', '-n', this.nsB, 'neigh', 'replace', this.addrA, 'lladdr', this.macOf(this.nsA, this.ifA), 'dev', this.ifB, 'nud', 'permanent']);
    }
  }

  /** Deleting a namespace deletes the veth end inside it, and with it the pair. Never throws. */
  tearDown(): void {
    for (const ns of [this.nsA, this.nsB]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000, stdio: 'ignore' });
  }

  /** Runs `node -e code args...` in one of the namespaces and returns its stdout (bounded). */
  nodeIn(ns: string, code: string, args: Array<string | number>, timeout = 20_000): string {
    return sh(['ip', 'netns', 'exec', ns, process.execPath, '-e', code, ...args.map(String)], timeout);
  }

  private macOf(ns: string, dev: string): string {
    return (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show', dev])) as Array<{ address: string }>)[0].address;
  }
}
