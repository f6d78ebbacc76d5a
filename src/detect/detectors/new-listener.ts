/**
 * A process starts listening on a port (TCP) or binds a UDP port below `maxUdpPort`, after the learning
 * period, when its unit (or executable) never listened there before: a new service, or a bind shell. The
 * process is named. One alert per unit and port; `ignoreUnits` keeps a unit quiet.
 */
import { z } from 'zod';
import type { SocketEvent } from '../../host/process-attribution.js';
import { detectorConfig } from '../detector-config.js';
import { actorOf, describeProcess, LearningClock, portName, processDetectorShape, processExtra } from '../process-actors.js';
import type { TrackedKeys } from '../tracked-keys.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';

const config = detectorConfig({
  ...processDetectorShape,
  /** UDP ports above this are a client's (ephemeral range): left out. */
  maxUdpPort: z.number().int().min(0).max(65535).default(32_767),
});
type Config = z.infer<typeof config>;

class NewListenerDetector implements Detector {
  readonly name = 'new_listener';
  private readonly clock: LearningClock;
  private readonly known: TrackedKeys<true>;
  private readonly ignored: Set<string>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.clock = new LearningClock(cfg.learnSeconds);
    this.known = ctx.track<true>('listeners', cfg.maxActors);
    this.ignored = new Set(cfg.ignoreUnits);
  }

  onSocket(e: SocketEvent): void {
    if (e.kind !== 'listen' && !(e.kind === 'bind' && e.localPort <= this.cfg.maxUdpPort)) return;
    const actor = actorOf(e.process);
    const key = `${actor}|${portName(e.proto, e.localPort)}`;
    if (this.known.get(key) !== undefined) return;
    this.known.add(key, true);
    if (e.initial || this.clock.learning || (e.process.unit !== undefined && this.ignored.has(e.process.unit))) return;
    const ts = this.ctx.now() || e.ts;
    this.ctx.raise({
      key,
      ts,
      severity: 'medium',
      message: `${describeProcess(e.process)} started listening on ${portName(e.proto, e.localPort)} (${e.localHost}), new since a ${this.cfg.learnSeconds} s baseline`,
      dst: e.localHost,
      unit: e.process.unit,
      counters: { port: e.localPort },
      thresholds: {},
      hosts: [e.localHost],
      ports: [e.localPort],
      names: [e.process.name],
      first_seen: ts,
      last_seen: ts,
      extra: { ...processExtra(e), proto: portName(e.proto, e.localPort).slice(0, 3) },
    });
  }

  second(now: number): void {
    this.clock.second(now);
  }
}

export const newListener: DetectorRegistration<Config> = {
  name: 'new_listener',
  title: 'A process starts listening on a port its unit never listened on (live agent, process attribution)',
  config,
  create: (cfg, ctx) => new NewListenerDetector(cfg, ctx),
  restartOnly: ['learnSeconds', 'ignoreUnits'],
};
