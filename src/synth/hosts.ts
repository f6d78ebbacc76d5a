/**
 * The network the generated traffic comes from, seen at the mirror port of an office LAN switch:
 * clients on 192.168.10.0/24 (and 2001:db8:10::/64), the router at .1 (also their DNS resolver), internal
 * servers routed behind it on 192.168.20.0/24, and servers on the internet (documentation ranges only).
 * Frames to or from anything off the LAN carry the router's MAC, as they would on the real wire.
 */
import type { Rng } from './prng.js';
import { formatIPv6Bytes } from '../analyze/format-address.js';

export interface Host {
  readonly v4: Uint8Array;
  readonly v6: Uint8Array | null;
  readonly v4Text: string;
  readonly v6Text: string | null;
  readonly mac: Uint8Array;
  /** On the captured segment (frames addressed to its own MAC) rather than behind the router. */
  readonly local: boolean;
  /** TTL / hop limit of its packets when they pass the mirror port. */
  readonly ttl: number;
  /** IPv4 identification counter (Linux counts per destination; one counter per host is close enough). */
  ipId: number;
  /** Offset of its TCP timestamp clock (milliseconds), random per host as on real machines. */
  readonly tsOffset: number;
  /** Next ephemeral port (clients only). */
  nextPort: number;
}

/** A name clients resolve and connect to. */
export interface Service {
  readonly name: string;
  readonly host: Host;
  /** CNAMEs between the name and the address records, in order (empty for a direct A/AAAA). */
  readonly cnames: readonly string[];
  readonly https: boolean;
  readonly http: boolean;
  readonly ssh: boolean;
  /** Round-trip time from the mirror port, in microseconds. */
  readonly rtt: number;
}

export function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

export function parseIpv6(text: string): Uint8Array {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** RFC 5952 text, as the engine writes addresses (one formatter for both, so ground truth and records agree). */
export function formatIpv6(b: Uint8Array): string {
  return formatIPv6Bytes(b, 0);
}

export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;
export const MAX_CLIENTS = 200;

interface ServiceSpec {
  name: string;
  v4: string;
  v6?: string;
  cnames?: string[];
  https?: boolean;
  http?: boolean;
  ssh?: boolean;
  ttl: number;
  rttMs: number;
}

const SERVICES: ServiceSpec[] = [
  { name: 'www.example.com', v4: '203.0.113.10', v6: '2001:db8:113::10', https: true, http: true, ttl: 53, rttMs: 18 },
  { name: 'api.example.com', v4: '203.0.113.11', v6: '2001:db8:113::11', https: true, ttl: 53, rttMs: 18 },
  { name: 'static.example.net', v4: '198.51.100.20', v6: '2001:db8:100::20', cnames: ['d1.cdn.example.org'], https: true, http: true, ttl: 58, rttMs: 6 },
  { name: 'video.example.org', v4: '198.51.100.27', v6: '2001:db8:100::27', cnames: ['video.g.cdn.example.org', 'edge-7.cdn.example.org'], https: true, ttl: 58, rttMs: 7 },
  { name: 'login.example.net', v4: '203.0.113.20', https: true, ttl: 116, rttMs: 35 },
  { name: 'mail.example.com', v4: '203.0.113.25', v6: '2001:db8:113::25', https: true, ttl: 52, rttMs: 22 },
  { name: 'updates.example.org', v4: '198.51.100.40', v6: '2001:db8:100::40', https: true, http: true, ttl: 49, rttMs: 41 },
  { name: 'news.example.com', v4: '203.0.113.30', https: true, http: true, ttl: 54, rttMs: 27 },
  { name: 'shop.example.net', v4: '198.51.100.21', v6: '2001:db8:100::21', cnames: ['shop.example.net.cdn.example.org'], https: true, ttl: 58, rttMs: 6 },
  { name: 'metrics.example.com', v4: '203.0.113.35', https: true, ttl: 55, rttMs: 15 },
  { name: 'git.example.org', v4: '198.51.100.50', v6: '2001:db8:100::50', https: true, ssh: true, ttl: 51, rttMs: 95 },
  { name: 'docs.example.net', v4: '203.0.113.40', v6: '2001:db8:113::40', https: true, http: true, ttl: 53, rttMs: 24 },
  { name: 'chat.example.com', v4: '203.0.113.45', https: true, ttl: 113, rttMs: 48 },
  { name: 'maps.example.org', v4: '198.51.100.22', v6: '2001:db8:100::22', cnames: ['d2.cdn.example.org'], https: true, ttl: 58, rttMs: 6 },
  { name: 'intranet.corp.example', v4: '192.168.20.11', v6: '2001:db8:20::11', https: true, http: true, ttl: 63, rttMs: 0.4 },
  { name: 'files.corp.example', v4: '192.168.20.10', v6: '2001:db8:20::10', https: true, ssh: true, ttl: 63, rttMs: 0.3 },
  { name: 'build.corp.example', v4: '192.168.20.12', ssh: true, http: true, ttl: 63, rttMs: 0.5 },
];

/** Names that do not exist: typos and leftovers, as every office resolver sees them. */
export const NONEXISTENT_NAMES = [
  'wwww.example.com', 'api.exmaple.com', 'printer.corp.example', 'wpad.corp.example', 'old-files.corp.example',
  'cdn.example.nte', 'login.example.met', 'isatap.corp.example', 'www.example.con', 'telemetry.example.invalid',
];

export class Network {
  readonly router: Host;
  readonly clients: Host[] = [];
  readonly services: Service[];
  readonly redis: Host;
  readonly ntp: Host;
  /** The addresses incidents come from: kept apart from the ordinary clients. */
  readonly scanner: Host;
  readonly tunneler: Host;
  readonly dgaVictim: Host;

  constructor(clientCount: number, private readonly rng: Rng) {
    this.router = this.host('192.168.10.1', '2001:db8:10::1', [2, 0, 0, 0x0a, 0, 1], true, 64);
    for (let i = 0; i < Math.min(clientCount, MAX_CLIENTS); i++) {
      const last = 20 + i;
      this.clients.push(this.host(`192.168.10.${last}`, `2001:db8:10::${last.toString(16)}`, [2, 0, 0, 0x0a, 0x10, last], true, 64));
    }
    this.scanner = this.host('192.168.10.250', null, [2, 0, 0, 0x0a, 0x10, 250], true, 64);
    this.tunneler = this.host('192.168.10.251', null, [2, 0, 0, 0x0a, 0x10, 251], true, 64);
    this.dgaVictim = this.host('192.168.10.252', null, [2, 0, 0, 0x0a, 0x10, 252], true, 64);
    this.services = SERVICES.map((s) => ({
      name: s.name,
      host: this.host(s.v4, s.v6 ?? null, null, false, s.ttl),
      cnames: s.cnames ?? [],
      https: s.https ?? false,
      http: s.http ?? false,
      ssh: s.ssh ?? false,
      rtt: Math.round(s.rttMs * 1000),
    }));
    this.redis = this.host('192.168.20.30', '2001:db8:20::30', null, false, 63);
    this.ntp = this.host('198.51.100.123', '2001:db8:100::123', null, false, 57);
  }

  /** Another server on the internal subnet (for scans and sweeps), made on demand. */
  internalHost(last: number): Host {
    return this.host(`192.168.20.${last}`, null, null, false, 63);
  }

  /**
   * Ephemeral ports in small steps from a random start per host. A port comes round again only after
   * about 14,000 connections from one client; the scenario adds clients so that does not happen.
   */
  ephemeralPort(h: Host): number {
    const port = h.nextPort;
    h.nextPort += 1 + this.rng.int(3);
    if (h.nextPort > EPHEMERAL_HIGH) h.nextPort = EPHEMERAL_LOW + (h.nextPort - EPHEMERAL_HIGH);
    return port;
  }

  private host(v4: string, v6: string | null, mac: number[] | null, local: boolean, ttl: number): Host {
    const v6Bytes = v6 ? parseIpv6(v6) : null;
    return {
      v4: parseIpv4(v4),
      v6: v6Bytes,
      v4Text: v4,
      v6Text: v6Bytes ? formatIpv6(v6Bytes) : null,
      mac: mac ? Uint8Array.from(mac) : this.router?.mac ?? new Uint8Array(6),
      local,
      ttl,
      ipId: this.rng.int(65536),
      tsOffset: this.rng.u32(),
      nextPort: EPHEMERAL_LOW + this.rng.int(EPHEMERAL_HIGH - EPHEMERAL_LOW),
    };
  }
}
