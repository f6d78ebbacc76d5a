/**
 * The agent at rest and after a burst (issue 11's memory and idle targets): an agent started as deployed on
 * the bench's veth pair settles for IDLE_SETTLE_S, then its CPU over IDLE_WINDOW_S (every thread, from /proc)
 * and its resident set are read; then the office slice is sent at the fastest this machine can (the burst),
 * and its resident set is read again RECOVERY_S after the agent has caught up (what it kept of the burst: the
 * target), and once more at LATER_S: UDP's inactivity timeout is a minute too, so the burst's last UDP flows
 * end, and their memory goes, just after the target's reading.
 */
import type { LiveContender } from './live-contenders.js';
import { type Sent, type Veth, cpuSeconds, peakRssBytes, rssBytes, sleep, tcpreplay, untilIdle } from './live-veth.js';
import type { Target } from './types.js';

/** Past start-up's own work (opening the store, the first socket dumps, the JIT's first compilations). */
export const IDLE_SETTLE_S = 15;
export const IDLE_WINDOW_S = 20;
/** The "within a minute after a burst". */
export const RECOVERY_S = 60;
/** A later reading, past the minute of UDP's timeout (not a target: what the agent gives back after it). */
export const LATER_S = 90;
const IDLE_CPU_TARGET = 1;
const IDLE_RSS_TARGET_MB = 120;
/** RSS a minute after a burst may be this much over the idle figure. */
const RECOVERY_MARGIN = 0.2;

export interface IdleFigures {
  cpuPct: number;
  rss: number | null;
  burst: Sent;
  burstPeakRss: number | null;
  afterBurstRss: number | null;
  laterRss: number | null;
}

export async function measureIdle(agent: LiveContender, v: Veth, workDir: string, burstPath: string, burstPackets: number): Promise<IdleFigures> {
  const running = await agent.start(v, workDir);
  try {
    await sleep(IDLE_SETTLE_S * 1000);
    const cpu0 = cpuSeconds(running.pid);
    await sleep(IDLE_WINDOW_S * 1000);
    const cpuPct = (100 * (cpuSeconds(running.pid) - cpu0)) / IDLE_WINDOW_S;
    const rss = rssBytes(running.pid);
    const burst = await tcpreplay(v, burstPath, 'top', burstPackets);
    await untilIdle(running.pid);
    const burstPeakRss = peakRssBytes(running.pid);
    await sleep(RECOVERY_S * 1000);
    const afterBurstRss = rssBytes(running.pid);
    await sleep((LATER_S - RECOVERY_S) * 1000);
    return { cpuPct, rss, burst, burstPeakRss, afterBurstRss, laterRss: rssBytes(running.pid) };
  } finally {
    await running.stop();
  }
}

const mb = (bytes: number | null) => (bytes === null ? '?' : `${(bytes / 1048576).toFixed(0)} MB`);

export function idleSummary(f: IdleFigures): string {
  return `idle: CPU ${f.cpuPct.toFixed(2)} % over ${IDLE_WINDOW_S} s, RSS ${mb(f.rss)}; burst of ${f.burst.packets.toLocaleString('en-US')} packets at ${(f.burst.pps / 1000).toFixed(0)}k/s: peak ${mb(f.burstPeakRss)}, ${mb(f.afterBurstRss)} ${RECOVERY_S} s after, ${mb(f.laterRss)} ${LATER_S} s after`;
}

export function idleTargets(f: IdleFigures | undefined): Target[] {
  const recoveryBound = f?.rss == null ? null : f.rss * (1 + RECOVERY_MARGIN);
  return [
    { description: `idle agent < ${IDLE_CPU_TARGET} % of one core (every thread)`, met: f ? f.cpuPct < IDLE_CPU_TARGET : null, actual: f ? `${f.cpuPct.toFixed(2)} %` : 'not run' },
    { description: `idle agent ≤ ${IDLE_RSS_TARGET_MB} MB RSS`, met: f?.rss == null ? null : f.rss <= IDLE_RSS_TARGET_MB * 1048576, actual: f ? mb(f.rss) : 'not run' },
    {
      description: `RSS within ${RECOVERY_MARGIN * 100} % of idle ${RECOVERY_S} s after a burst`,
      met: recoveryBound === null || f?.afterBurstRss == null ? null : f.afterBurstRss <= recoveryBound,
      actual: f ? `${mb(f.afterBurstRss)} (idle ${mb(f.rss)}, peak ${mb(f.burstPeakRss)}; ${mb(f.laterRss)} at ${LATER_S} s)` : 'not run',
    },
  ];
}
