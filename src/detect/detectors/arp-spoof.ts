/**
 * ARP spoofing and man-in-the-middle: a MAC claiming, by ARP, an IPv4 address another MAC owns while that
 * owner is still alive. One incident per claiming MAC (the attacker), so `arpspoof -t A -r B`, which claims B
 * to A and A to B, is one alert naming the attacker's MAC and both victims.
 *
 * Who owns an address is learned from ARP and from IP traffic (the frame's source MAC and the packet's source
 * address): the first MAC seen with an address owns it, and every sighting of the owner keeps it alive. A
 * claim by another MAC never moves the binding while the owner was seen within `rebindWindow` seconds, so the
 * real owner answering, or the attacker restoring the caches with the owner's MAC, is never blamed. An owner
 * silent for longer is gone (a laptop that left, a DHCP lease given to another host): its address passes to
 * the new MAC quietly. IP traffic only creates bindings for addresses in `localNets` (a router forwards the
 * whole Internet with its own MAC) and, as an attacker forwarding its victims' packets does the same, only
 * refreshes the owner it matches.
 *
 * The IP intake runs per packet: a direct-mapped cache of (address, MAC) pairs seen in the last 10 s keeps it
 * to a few array reads and no allocation; the binding table is touched once per 10 s per pair.
 */
import { z } from 'zod';
import { formatIPv4 } from '../../analyze/format-address.js';
import { mix32 } from '../../analyze/mix32.js';
import type { Packet } from '../../decode/packet.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import type { ArpFacts, Detector, DetectorContext, DetectorRegistration } from '../types.js';
import type { TrackedKeys } from '../tracked-keys.js';

const config = detectorConfig({
  /** An owner seen within this many seconds is alive: another MAC claiming its address is spoofing. */
  rebindWindow: seconds(600),
  /** Addresses followed at once (see tracked-keys.ts for who is kept when a flood of claims brings more). */
  maxBindings: count(65_536),
  /** Claiming MACs (open or recent incidents) followed at once. */
  maxClaimants: count(4_096),
});
type Config = z.infer<typeof config>;

interface Binding {
  mac: number;
  lastSeen: number;
  /** Learned from ARP (the MAC answered for the address), not only from IP packets it sent. */
  byArp: boolean;
}

/** What one MAC claimed that was not its own: one incident. */
interface Claimant {
  /** Claimed address → the MAC that owns it. */
  claimed: Map<number, number>;
  /** Addresses its claims were sent to (the ARP target): whose cache it poisons. */
  told: Set<number>;
  claims: number;
  /** The address the MAC uses as its own (the attacker's), once seen. */
  own: number | undefined;
  first: number;
  last: number;
  changed: boolean;
  raised: boolean;
}

/** Addresses and targets kept per claimant (a MAC claiming a whole subnet is told in counts past this). */
const MAX_NAMED = 16;
/**
 * A MAC sending IP packets from more local addresses than this is a router (or a forwarding attacker): the
 * addresses it forwards are not its own, and an ARP answer by their real owner is no claim.
 */
const ROUTER_ADDRESSES = 4;
/** Bits of the filter of bound addresses (2^20: 128 KB). */
const BOUND_BITS = 1 << 20;
/** Bindings scanned at most for a new claimant's own address. */
const ADDRESS_LOOKUP_LIMIT = 4096;
/** Slots of the cache of (address, MAC) sightings from IP traffic (16,384: 256 KB). */
const CACHE_SLOTS = 16_384;
/** Seconds a cached sighting stands for the pair's packets (a binding's age is known to within this). */
const CACHE_SECONDS = 10;

export function formatMac(mac: number): string {
  let out = '';
  for (let i = 5; i >= 0; i--) {
    const byte = Math.floor(mac / 2 ** (8 * i)) & 0xff;
    out += (i < 5 ? ':' : '') + byte.toString(16).padStart(2, '0');
  }
  return out;
}

class ArpSpoofDetector implements Detector {
  readonly name = 'arp_spoof';
  private readonly bindings: TrackedKeys<Binding>;
  private readonly claimants: TrackedKeys<Claimant>;
  /** Per MAC, how many bindings IP traffic alone gave it (a router's count grows with what it forwards). */
  private readonly sourcesByMac: TrackedKeys<{ addresses: number }>;
  /**
   * The cache's slots, 16 bytes each in one buffer, so a packet's check reads one cache line (it runs for
   * every IPv4 packet, and the slots are cold between packets): words 4i and 4i+1 the address and the
   * MAC's low 32 bits, doubles 2i+1 the capture time the sighting stands until.
   */
  private readonly cacheBuffer = new ArrayBuffer(CACHE_SLOTS * 16);
  private readonly cacheWords = new Uint32Array(this.cacheBuffer);
  private readonly cacheUntil = new Float64Array(this.cacheBuffer);
  /**
   * The slot the last packet left, as it left it: a run of packets from one sender (a transfer, a burst)
   * then reads no slot at all.
   */
  private lastIp = -1;
  private lastMacLow = -1;
  private lastUntil = Number.NEGATIVE_INFINITY;
  /**
   * A bit per hash of the addresses ever bound (never cleared: a stale bit costs one lookup): most IP packets
   * come from addresses with no binding (remote hosts behind the router), and this spares them the table.
   */
  private readonly boundBits = new Uint32Array(BOUND_BITS >>> 5);

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.bindings = ctx.track<Binding>('bindings', cfg.maxBindings);
    this.sourcesByMac = ctx.track('ip_sources_by_mac', cfg.maxClaimants);
    this.claimants = ctx.track<Claimant>('claimants', cfg.maxClaimants, { protect: (c) => ctx.now() - c.last < 60 });
  }

  onArp(a: ArpFacts): void {
    // 0.0.0.0 is an ARP probe (RFC 5227): the sender has no address yet.
    if (a.senderIp === 0 || a.senderMac === 0) return;
    const owner = this.sighting(a.senderIp, a.senderMac, a.ts, true);
    if (owner !== a.senderMac) this.claim(a, owner);
  }

  /** Outer IPv4 packets from an Ethernet frame: the owner of the source address is alive. */
  onIpv4(pkt: Packet): void {
    const m = pkt.macOffset;
    // A reassembled datagram's buffer holds no frame (macOffset then points past its IP header).
    if (m < 0 || pkt.tunnelDepth !== 0 || m + 14 > pkt.ipOffset) return;
    const ip = pkt.src[0];
    // Through the frame's DataView (as the decoders read): a load, where Buffer's reader checks and adds four bytes.
    const macLow = pkt.view.getUint32(m + 8, false);
    if (ip === this.lastIp && macLow === this.lastMacLow && pkt.ts < this.lastUntil) return;
    // Mixed apart first: MACs often end in their host's address (ip ^ macLow would then be one constant).
    const slot = mix32(ip ^ mix32(macLow)) >>> 18;
    const words = this.cacheWords;
    const w = slot << 2;
    const u = (slot << 1) + 1;
    this.lastIp = ip;
    this.lastMacLow = macLow;
    if (words[w] === ip && words[w + 1] === macLow && pkt.ts < this.cacheUntil[u]) {
      this.lastUntil = this.cacheUntil[u];
      return;
    }
    words[w] = ip;
    words[w + 1] = macLow;
    this.lastUntil = this.cacheUntil[u] = pkt.ts + CACHE_SECONDS;
    if (ip === 0) return;
    const bit = mix32(ip) >>> 12;
    if ((this.boundBits[bit >>> 5] & (1 << (bit & 31))) === 0 && !this.ctx.isLocal(4, pkt.src, 0)) return;
    const mac = pkt.view.getUint16(m + 6, false) * 0x1_0000_0000 + macLow;
    if (mac !== 0) this.sighting(ip, mac, pkt.ts, false, pkt);
  }

  /**
   * Records `mac` using `ip` (by ARP, or in the IP packet `ipPacket`, whose source must be local to create a
   * binding); returns the address's owner afterwards (`mac` unless a live owner has it).
   */
  private sighting(ip: number, mac: number, ts: number, byArp: boolean, ipPacket?: Packet): number {
    const b = this.bindings.get(ip);
    if (b === undefined) {
      if (this.mayBind(byArp, ipPacket) && this.bindings.admit(ip, ts)) {
        this.bindings.add(ip, { mac, lastSeen: ts, byArp });
        const bit = mix32(ip) >>> 12;
        this.boundBits[bit >>> 5] |= 1 << (bit & 31);
        if (!byArp) this.countIpSource(mac, ts);
      }
      return mac;
    }
    if (b.mac === mac) {
      if (ts > b.lastSeen) b.lastSeen = ts;
      if (byArp) b.byArp = true;
      const claimant = this.claimants.peek(mac);
      if (claimant !== undefined && !claimant.claimed.has(ip)) claimant.own = ip;
      return mac;
    }
    // The old owner is long gone (an ordinary rebind), or was a router seen forwarding the address.
    const gone = ts - b.lastSeen > this.cfg.rebindWindow && this.mayBind(byArp, ipPacket);
    const forwarded = byArp && !b.byArp && (this.sourcesByMac.peek(b.mac)?.addresses ?? 0) > ROUTER_ADDRESSES;
    if (gone || forwarded) {
      b.mac = mac;
      b.lastSeen = ts;
      b.byArp = byArp;
    }
    return b.mac;
  }

  /** ARP binds any address; IP traffic only local ones (a router forwards the whole Internet with its MAC). */
  private mayBind(byArp: boolean, ipPacket: Packet | undefined): boolean {
    return byArp || (ipPacket !== undefined && this.ctx.isLocal(4, ipPacket.src, 0));
  }

  private countIpSource(mac: number, ts: number): void {
    const known = this.sourcesByMac.get(mac);
    if (known !== undefined) known.addresses++;
    else if (this.sourcesByMac.admit(mac, ts)) this.sourcesByMac.add(mac, { addresses: 1 });
  }

  private claim(a: ArpFacts, owner: number): void {
    const key = a.senderMac;
    if (this.ctx.allowed(undefined, a.senderIp)) return;
    let c = this.claimants.get(key);
    if (c === undefined) {
      if (!this.claimants.admit(key, a.ts)) return;
      c = this.claimants.add(key, { claimed: new Map(), told: new Set(), claims: 0, own: this.addressOf(key), first: a.ts, last: a.ts, changed: false, raised: false });
    }
    if (c.claimed.size < MAX_NAMED || c.claimed.has(a.senderIp)) c.claimed.set(a.senderIp, owner);
    if (a.targetIp !== 0 && a.targetIp !== a.senderIp && c.told.size < MAX_NAMED) c.told.add(a.targetIp);
    c.claims++;
    c.last = a.ts;
    // Raised at the next second, so that a man in the middle's two halves, sent together, open as one.
    c.changed = true;
  }

  second(now: number): void {
    this.claimants.forEach((c, key) => {
      if (c.changed) {
        // The alert's time is the first spoofed message; its updates', the latest.
        this.raise(key as number, c, c.raised ? c.last : c.first);
        c.changed = false;
        c.raised = true;
      }
      // A MAC quiet for a window starts afresh: a later attack is a new incident.
      if (now - c.last > this.cfg.rebindWindow) this.claimants.delete(key);
    });
  }

  /**
   * The address a new claimant already owns, when the table is small enough to look (a few thousand
   * addresses: once per claimant); otherwise its own next sighting tells (see `sighting`).
   */
  private addressOf(mac: number): number | undefined {
    if (this.bindings.size > ADDRESS_LOOKUP_LIMIT) return undefined;
    let found: number | undefined;
    this.bindings.forEach((b, ip) => {
      if (found === undefined && b.mac === mac) found = ip as number;
    });
    return found;
  }

  private raise(mac: number, c: Claimant, ts: number): void {
    const attacker = formatMac(mac);
    const own = c.own !== undefined && !c.claimed.has(c.own) ? c.own : undefined;
    const claimed = [...c.claimed.keys()];
    const victims = [...new Set([...claimed, ...c.told])].sort((x, y) => x - y).map(formatIPv4);
    const middle = claimed.length >= 2 && claimed.every((ip) => c.told.has(ip));
    const who = own === undefined ? attacker : `${attacker} (${formatIPv4(own)})`;
    const claims = claimed.map((ip) => `${formatIPv4(ip)} (owned by ${formatMac(c.claimed.get(ip)!)})`).join(' and ');
    const told = [...c.told].filter((ip) => !c.claimed.has(ip)).map(formatIPv4);
    const message = middle
      ? `${who} claims ${claims} to each other: man in the middle between ${victims.join(' and ')} (${c.claims} spoofed ARP messages)`
      : `${who} claims ${claims}${told.length ? ` to ${told.join(', ')}` : ''}: ARP spoofing (${c.claims} spoofed ARP message${c.claims > 1 ? 's' : ''})`;
    this.ctx.raise({
      key: attacker,
      ts,
      severity: middle ? 'critical' : 'high',
      message,
      src: own === undefined ? undefined : formatIPv4(own),
      dst: formatIPv4(claimed[0]),
      counters: { spoofed_messages: c.claims, claimed_addresses: claimed.length, victims: victims.length },
      thresholds: { spoofed_messages: 1 },
      hosts: victims,
      first_seen: c.first,
      last_seen: c.last,
      extra: {
        attacker_mac: attacker,
        victims,
        claimed: Object.fromEntries(claimed.map((ip) => [formatIPv4(ip), formatMac(c.claimed.get(ip)!)])),
        man_in_the_middle: middle,
        rebind_window: this.cfg.rebindWindow,
      },
      capture: { hosts: [...new Set([...claimed, ...c.told, ...(own === undefined ? [] : [own])])].map((ip) => ip | 0) },
    });
  }
}

export const arpSpoof: DetectorRegistration<Config> = {
  name: 'arp_spoof',
  title: 'ARP spoofing and man in the middle: a MAC claiming addresses their live owners hold',
  config,
  create: (cfg, ctx) => new ArpSpoofDetector(cfg, ctx),
};
