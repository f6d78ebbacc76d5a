/**
 * Capture loss: the kernel dropped packets the agent should have seen, as Zeek's capture_loss.log reports. Every
 * other detector is blind to what was dropped, so a second with more than `minLossPct` lost on an interface is
 * an incident of its own: one alert per interface, updated while the loss goes on, with the worst second and
 * the total. Live capture only: a file loses nothing (this detector hears of nothing when reading one).
 */
import { z } from 'zod';
import { count, detectorConfig } from '../detector-config.js';
import type { CaptureSecond, Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { formatDuration } from '../windows.js';

const config = detectorConfig({
  /** Share of a second's packets dropped, in %, above which the second counts as lossy (Zeek's default threshold is 10 %; a monitor that misses 0.1 % is already blind to a short attack). */
  minLossPct: z.number().min(0).max(100).default(0.1),
  /** Packets dropped in that second at least (raise it to ignore the odd packet lost on a quiet link). */
  minDropped: count(1),
});
type Config = z.infer<typeof config>;

interface Loss {
  first: number;
  last: number;
  dropped: number;
  received: number;
  seconds: number;
  worstPct: number;
}

class CaptureLossDetector implements Detector {
  readonly name = 'capture_loss';
  private readonly losses = new Map<string, Loss>();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {}

  onCaptureSecond(now: number, interfaces: readonly CaptureSecond[]): void {
    for (const i of interfaces) {
      // On Linux the kernel's received count includes what it dropped (as the agent's drop_pct reads it).
      const seen = Math.max(i.received, i.dropped);
      const pct = seen > 0 ? (100 * i.dropped) / seen : 0;
      if (i.dropped < this.cfg.minDropped || pct <= this.cfg.minLossPct) continue;
      let loss = this.losses.get(i.name);
      if (loss === undefined) {
        loss = { first: now - 1, last: now, dropped: 0, received: 0, seconds: 0, worstPct: 0 };
        this.losses.set(i.name, loss);
      }
      loss.last = now;
      loss.dropped += i.dropped;
      loss.received += i.received;
      loss.seconds++;
      loss.worstPct = Math.max(loss.worstPct, pct);
      this.raise(i.name, loss);
    }
  }

  second(now: number): void {
    // A loss that stopped a minute ago is over: the next one is a new incident.
    for (const [name, loss] of this.losses) if (now - loss.last > 60) this.losses.delete(name);
  }

  private raise(name: string, loss: Loss): void {
    const total = Math.max(loss.received, loss.dropped);
    const pct = total > 0 ? (100 * loss.dropped) / total : 0;
    this.ctx.raise({
      key: name,
      ts: loss.last,
      severity: 'medium',
      message: `capture on ${name} lost ${loss.dropped} packets (${pct.toFixed(2)} %, worst second ${loss.worstPct.toFixed(1)} %) in ${formatDuration(loss.last - loss.first)}: detection and statistics missed them`,
      counters: { dropped: loss.dropped, received: loss.received, lossy_seconds: loss.seconds },
      thresholds: { loss_pct: this.cfg.minLossPct, dropped_per_second: this.cfg.minDropped },
      first_seen: loss.first,
      last_seen: loss.last,
      extra: { interface: name, loss_pct: Math.round(pct * 1000) / 1000, worst_second_pct: Math.round(loss.worstPct * 1000) / 1000 },
    });
  }
}

export const captureLoss: DetectorRegistration<Config> = {
  name: 'capture_loss',
  title: 'Capture loss: the kernel dropped packets (more than 0.1 % in a second), so everything else is partly blind',
  config,
  create: (cfg, ctx) => new CaptureLossDetector(cfg, ctx),
};
