/**
 * generateCapture: a deterministic, believable office capture written as a pcap, plus the exact ground
 * truth of what it holds. Sessions arrive as a Poisson process (DNS, HTTPS, HTTP, SSH, Redis, NTP, ping),
 * each a generator stepping through its packets; optional incidents are scheduled on top. Output streams
 * through a bounded writer, so memory depends on concurrent sessions, not on the packet count.
 */
import type { Writable } from 'node:stream';
import { LINKTYPE_ETHERNET, PcapWriter } from '../capture/pcap-writer.js';
import { Emitter } from './emitter.js';
import { emptyGroundTruth, type GroundTruth, type IncidentKind } from './ground-truth.js';
import { Network } from './hosts.js';
import { INCIDENT_START, incidentSession } from './incidents.js';
import { Rng } from './prng.js';
import { Scheduler, type SessionStep } from './scheduler.js';
import { chattySession, httpSession, longChattySession, httpsSession, redisSession, sshSession, type SessionContext } from './sessions.js';
import { dnsLookup, ntpPoll, pingRun } from './udp-sessions.js';

export type { GroundTruth, IncidentKind } from './ground-truth.js';
export const INCIDENT_KINDS: readonly IncidentKind[] = ['port_scan', 'host_sweep', 'dns_tunnel', 'nxdomain_burst'];

export interface GenerateOptions {
  seed: number;
  /**
   * Packets wanted. New sessions stop once this many are written; sessions under way finish, so the file
   * holds a few more (the ground truth has the exact count). Default 10,000 unless durationSeconds is set.
   */
  packets?: number;
  /** Capture length in seconds: no session starts after it. Default: packets at 2,500 packets/s. */
  durationSeconds?: number;
  /** First packet time, seconds since the epoch (default 1718000000, 2024-06-10 06:13:20 UTC). */
  startTime?: number;
  incidents?: readonly IncidentKind[];
  /** Share of sessions over IPv6 when the server has an address (default 0.1). */
  ipv6Share?: number;
  /** 802.1Q VLAN id on every frame (default none). */
  vlan?: number;
  /** List every connection in the ground truth (for small files). */
  details?: boolean;
  /**
   * 'office' (default): an ordinary office day, 500 bytes a packet on average. 'small': the hard case for a
   * monitor, ~70-byte packets: long chatty TCP sessions of tiny requests and replies, and DNS (a tenth of the
   * packets), as a busy cache or message broker sees them. 'few': the same tiny exchanges over a few dozen
   * long sessions and nothing else: the engine's cost per packet with almost no work per flow.
   */
  mix?: MixName;
}

export const MIX_NAMES = ['office', 'small', 'few'] as const;
export type MixName = (typeof MIX_NAMES)[number];

export const DEFAULT_START_TIME = 1718000000;
/** Bump when a change alters the bytes generated for a seed: cached benchmark captures are keyed by it. */
export const GENERATOR_VERSION = 1;
const DEFAULT_PACKETS = 10_000;
const DEFAULT_PACKET_RATE = 2500;
/** Sessions per client before ports would come round again stay far below 14,000 with this many. */
const SESSIONS_PER_CLIENT = 1500;

type SessionFactory = (ctx: SessionContext) => SessionStep;
interface Mix {
  sessions: readonly { weight: number; start: SessionFactory }[];
  /** Measured over the mix (seed 1, 1 M packets); only sets the arrival rate, not any count. */
  packetsPerSession: number;
}
const MIXES: Record<MixName, Mix> = {
  office: {
    sessions: [
      { weight: 0.44, start: dnsLookup },
      { weight: 0.3, start: httpsSession },
      { weight: 0.1, start: httpSession },
      { weight: 0.07, start: redisSession },
      { weight: 0.04, start: pingRun },
      { weight: 0.04, start: ntpPoll },
      { weight: 0.006, start: sshSession },
    ],
    packetsPerSession: 14,
  },
  small: {
    // A chatty session is ~126 packets (40 exchanges of 3, handshake and close), a lookup 2: seven lookups per
    // chatty session make DNS a tenth of the packets.
    sessions: [
      { weight: 0.875, start: dnsLookup },
      { weight: 0.125, start: chattySession },
    ],
    packetsPerSession: 17.5,
  },
  few: {
    sessions: [{ weight: 1, start: longChattySession }],
    packetsPerSession: 45_000,
  },
};

export async function generateCapture(options: GenerateOptions, out: string | Writable): Promise<GroundTruth> {
  const seed = options.seed;
  const target = options.packets ?? (options.durationSeconds === undefined ? DEFAULT_PACKETS : Infinity);
  const rate = options.packets !== undefined && options.durationSeconds !== undefined ? options.packets / options.durationSeconds : DEFAULT_PACKET_RATE;
  const nominalDuration = options.durationSeconds ?? target / rate;
  const startUs = Math.round((options.startTime ?? DEFAULT_START_TIME) * 1e6);
  const endUs = options.durationSeconds === undefined ? Infinity : startUs + options.durationSeconds * 1e6;
  const mix = MIXES[options.mix ?? 'office'];
  const weights = mix.sessions.map((m) => m.weight);
  const expectedSessions = (Number.isFinite(target) ? target : rate * nominalDuration) / mix.packetsPerSession;

  const rng = new Rng(seed);
  const net = new Network(Math.max(12, Math.ceil(expectedSessions / SESSIONS_PER_CLIENT)), rng);
  const truth = emptyGroundTruth(seed, LINKTYPE_ETHERNET, options.details ?? false);
  const writer = new PcapWriter(out, { linkType: LINKTYPE_ETHERNET });
  const em = new Emitter(writer, net.router, options.vlan ?? 0, truth);
  const ctx: SessionContext = { em, rng, net, truth, ipv6Share: options.ipv6Share ?? 0.1 };
  const scheduler = new Scheduler();

  const meanGap = 1e6 / (rate / mix.packetsPerSession);
  function* arrivals(): SessionStep {
    while (em.now < endUs && truth.packets < target) {
      scheduler.add(em.now, mix.sessions[rng.weighted(weights)].start(ctx));
      yield Math.max(1, Math.round(rng.exponential(meanGap)));
    }
  }
  scheduler.add(startUs, arrivals());
  for (const kind of new Set(options.incidents ?? [])) {
    const at = startUs + Math.round((INCIDENT_START[kind] + rng.float() * 0.05) * nominalDuration * 1e6);
    scheduler.add(at, incidentSession(kind, ctx, 0.25 * nominalDuration));
  }

  const setNow = (t: number): void => {
    em.now = t;
  };
  try {
    while (scheduler.size > 0) {
      scheduler.step(setNow);
      if (em.needsDrain) {
        em.needsDrain = false;
        await writer.drain();
      }
    }
  } finally {
    await writer.close();
  }
  return truth;
}
