/**
 * ARP spoofing: an IPv4 address whose MAC changes while the old MAC is still alive — the old binding was
 * seen less than `rebindWindow` seconds before the new MAC claimed the address. A laptop that leaves and a
 * new one that gets its DHCP lease later is a quiet rebind; an attacker answering for the gateway while the
 * gateway still answers flips back and forth, and every flip updates the one incident for that address.
 */
import { z } from 'zod';
import { formatIPv4 } from '../../analyze/format-address.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import type { ArpFacts, Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { formatDuration } from '../windows.js';
import type { TrackedKeys } from '../tracked-keys.js';

const config = detectorConfig({
  /** A MAC change within this many seconds of the old MAC's last sighting is suspicious. */
  rebindWindow: seconds(600),
  /** Addresses followed at once (see tracked-keys.ts for who is kept when a flood of claims brings more). */
  maxBindings: count(65_536),
});
type Config = z.infer<typeof config>;

interface Binding {
  mac: number;
  lastSeen: number;
  /** Every MAC that claimed the address, with when it last did. */
  macs: Map<number, number>;
  changes: number;
  firstChange: number;
  lastChange: number;
  fired: boolean;
  changed: boolean;
  lastFrom: number;
  lastGap: number;
}

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

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.bindings = ctx.track<Binding>('bindings', cfg.maxBindings, { protect: (b) => b.fired });
  }

  onArp(a: ArpFacts): void {
    const ip = a.senderIp;
    // 0.0.0.0 is an ARP probe (RFC 5227): the sender has no address yet.
    if (ip === 0 || a.senderMac === 0) return;
    let b = this.bindings.get(ip);
    if (b === undefined) {
      if (!this.bindings.admit(ip, a.ts)) return;
      this.bindings.add(ip, { mac: a.senderMac, lastSeen: a.ts, macs: new Map([[a.senderMac, a.ts]]), changes: 0, firstChange: 0, lastChange: 0, fired: false, changed: false, lastFrom: 0, lastGap: 0 });
      return;
    }
    if (b.mac === a.senderMac) {
      b.lastSeen = a.ts;
      b.macs.set(a.senderMac, a.ts);
      return;
    }
    const gap = a.ts - b.lastSeen;
    const from = b.mac;
    b.mac = a.senderMac;
    b.lastSeen = a.ts;
    if (b.macs.size < 16 || b.macs.has(a.senderMac)) b.macs.set(a.senderMac, a.ts);
    if (gap > this.cfg.rebindWindow) return; // the old owner is long gone: an ordinary rebind
    b.changes++;
    if (b.changes === 1) b.firstChange = a.ts;
    b.lastChange = a.ts;
    b.lastFrom = from;
    b.lastGap = gap;
    if (b.fired) {
      b.changed = true;
      return;
    }
    b.fired = true;
    this.raise(ip, b, a.ts);
  }

  second(now: number): void {
    this.bindings.forEach((b, ip) => {
      if (b.changed) {
        b.changed = false;
        this.raise(ip as number, b, b.lastChange);
      }
      // An incident that went quiet starts afresh next time.
      if (b.fired && now - b.lastChange > this.cfg.rebindWindow) {
        b.fired = false;
        b.changes = 0;
      }
    });
  }

  private raise(ip: number, b: Binding, ts: number): void {
    const text = formatIPv4(ip);
    const macs = [...b.macs.keys()].map(formatMac);
    this.ctx.raise({
      key: text,
      ts,
      severity: 'high',
      message: `${text} changed MAC from ${formatMac(b.lastFrom)} to ${formatMac(b.mac)} ${formatDuration(b.lastGap)} after the old one was last seen (${b.changes} change${b.changes > 1 ? 's' : ''}, ${macs.length} MACs): ARP spoofing?`,
      dst: text,
      counters: { mac_changes: b.changes, macs: macs.length },
      thresholds: { mac_changes: 1 },
      hosts: [text],
      first_seen: b.firstChange,
      last_seen: b.lastChange,
      extra: { macs, current_mac: formatMac(b.mac), previous_mac: formatMac(b.lastFrom), rebind_window: this.cfg.rebindWindow },
      capture: { hosts: [ip | 0] },
    });
  }
}

export const arpSpoof: DetectorRegistration<Config> = {
  name: 'arp_spoof',
  title: 'ARP spoofing: an IPv4 address whose MAC changes while the old MAC is still around',
  config,
  create: (cfg, ctx) => new ArpSpoofDetector(cfg, ctx),
};
