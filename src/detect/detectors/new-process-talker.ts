/**
 * A process (its unit, or its executable) connects out where it never did during its learned baseline: to
 * a destination port or an address class (loopback, private, link-local, multicast, public) it never used,
 * or — the shape of a reverse shell or a dropped miner — for the first time at all, when until then it only
 * listened and accepted. A process with no baseline of its own (a shell just started) is judged by its
 * parent's when the parent is known (a server that spawns `bash -i`). One alert per unit while it lasts;
 * `ignoreUnits` keeps a unit quiet. Actors first seen after the learning period learn for as long.
 */
import { z } from 'zod';
import type { SocketEvent } from '../../host/process-attribution.js';
import { detectorConfig } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { ActorKeys, describeProcess, LearningClock, portName, processDetectorShape, processExtra } from '../process-actors.js';
import type { TrackedKeys } from '../tracked-keys.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';

const config = detectorConfig({ ...processDetectorShape });
type Config = z.infer<typeof config>;

interface Actor {
  /** Learning clock reading when it was first seen (its own baseline runs learnSeconds from there). */
  since: number;
  serves: boolean;
  connects: number;
  ports: Set<string>;
  classes: Set<string>;
  /** Ports it used past MAX_PORTS_PER_ACTOR, not remembered (a new one still counts as new). */
  portsNotKept: number;
}

/**
 * Destination ports remembered per process or unit: a client that dials thousands (a crawler, a port scanner run
 * here) costs this and no more; past it its new ports still raise, which is what such a process deserves.
 */
const MAX_PORTS_PER_ACTOR = 4096;

/** The class of an address (words as the flow table holds them). */
export function addressClass(version: number, w: Uint32Array): string {
  if (version === 4) {
    const a = w[0] >>> 24;
    const b = (w[0] >>> 16) & 0xff;
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128)) return 'private';
    if (a === 169 && b === 254) return 'link-local';
    if (a >= 224) return 'multicast';
    return 'public';
  }
  const top = w[0] >>> 16;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 1) return 'loopback';
  if ((top & 0xfe00) === 0xfc00) return 'private';
  if ((top & 0xffc0) === 0xfe80) return 'link-local';
  if ((top & 0xff00) === 0xff00) return 'multicast';
  return 'public';
}

class NewProcessTalkerDetector implements Detector {
  readonly name = 'new_process_talker';
  private readonly clock: LearningClock;
  private readonly actors: TrackedKeys<Actor>;
  /** pid → actor, to judge a new process by its parent. */
  private readonly pids: TrackedKeys<string>;
  private readonly ignored: Set<string>;
  private readonly keys: ActorKeys;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.clock = new LearningClock(cfg.learnSeconds);
    this.actors = ctx.track<Actor>('actors', cfg.maxActors);
    this.pids = ctx.track<string>('pids', cfg.maxActors);
    this.ignored = new Set(cfg.ignoreUnits);
    this.keys = new ActorKeys(cfg.maxActors, (from, into) => this.fold(from, into));
  }

  onSocket(e: SocketEvent): void {
    const [name, actor] = this.actorFor(e);
    if (e.kind === 'listen' || e.kind === 'accept' || e.kind === 'bind') {
      actor.serves = true;
      return;
    }
    const port = portName(e.proto, e.remotePort);
    const cls = addressClass(e.version, e.remote);
    const learning = e.initial || this.clock.learning || this.clock.now - actor.since < this.cfg.learnSeconds;
    const reasons: string[] = [];
    if (!learning) {
      if (actor.connects === 0 && actor.serves) reasons.push('its first outbound connection: until now it only listened and accepted (reverse shell shape)');
      else {
        if (!actor.ports.has(port)) reasons.push(`a destination port it never used (${port})`);
        if (!actor.classes.has(cls)) reasons.push(`an address class it never reached (${cls})`);
      }
    }
    actor.connects++;
    if (actor.ports.size < MAX_PORTS_PER_ACTOR) actor.ports.add(port);
    else if (!actor.ports.has(port)) actor.portsNotKept++;
    actor.classes.add(cls);
    if (reasons.length === 0 || (e.process.unit !== undefined && this.ignored.has(e.process.unit))) return;
    this.raise(name, e, reasons, actor.connects === 1 ? 'high' : 'medium', actor.portsNotKept);
  }

  /**
   * The actor a socket event counts for: its own, or its parent's when it has none yet. A pid's actor is
   * the latest (a pid reused by another program is that program's).
   */
  private actorFor(e: SocketEvent): [string, Actor] {
    let name = this.keys.keyOf(e.process);
    if (this.actors.get(name) === undefined) {
      const parent = this.pids.get(e.ppid);
      if (parent !== undefined && this.actors.get(this.keys.resolve(parent)) !== undefined) name = this.keys.resolve(parent);
    }
    if (this.pids.peek(e.process.pid) !== name) {
      this.pids.delete(e.process.pid);
      this.pids.add(e.process.pid, name);
    }
    let actor = this.actors.get(name);
    if (actor === undefined) {
      actor = this.actors.add(name, { since: this.clock.learning || e.initial ? 0 : this.clock.now, serves: false, connects: 0, ports: new Set(), classes: new Set(), portsNotKept: 0 });
    }
    return [name, actor];
  }

  /** A bare name's baseline (connects of gone processes) joins its executable's, now known. */
  private fold(from: string, into: string): void {
    const bare = this.actors.peek(from);
    if (bare === undefined) return;
    this.actors.delete(from);
    const actor = this.actors.peek(into);
    if (actor === undefined) {
      this.actors.add(into, bare);
      return;
    }
    actor.since = Math.min(actor.since, bare.since);
    actor.serves ||= bare.serves;
    actor.connects += bare.connects;
    for (const port of bare.ports) {
      if (actor.ports.size < MAX_PORTS_PER_ACTOR) actor.ports.add(port);
      else if (!actor.ports.has(port)) actor.portsNotKept++;
    }
    actor.portsNotKept += bare.portsNotKept;
    for (const cls of bare.classes) actor.classes.add(cls);
  }

  private raise(actor: string, e: SocketEvent, reasons: string[], severity: 'high' | 'medium', portsNotKept: number): void {
    const ts = this.ctx.now() || e.ts;
    const sample = new FlowSample(e.version, e.proto, e.local.slice(), e.remote.slice(), e.localPort, e.remotePort);
    this.ctx.raise({
      key: actor,
      ts,
      severity,
      message: `${describeProcess(e.process)} connected out to ${e.remoteHost}:${e.remotePort} (${portName(e.proto, e.remotePort).slice(0, 3)}): ${reasons.join('; ')}`,
      src: e.localHost,
      dst: e.remoteHost,
      unit: e.process.unit,
      // Said only when the port memory was full: its "never used" may then be a port used long ago.
      counters: portsNotKept > 0 ? { new_items: reasons.length, ports_not_kept: portsNotKept } : { new_items: reasons.length },
      thresholds: { new_items: 1 },
      hosts: [e.localHost, e.remoteHost],
      ports: [e.remotePort],
      names: [e.process.name],
      first_seen: ts,
      last_seen: ts,
      extra: { ...processExtra(e), actor, reasons },
      flows: [sample],
    });
  }

  second(now: number): void {
    this.clock.second(now);
  }
}

export const newProcessTalker: DetectorRegistration<Config> = {
  name: 'new_process_talker',
  title: 'A process connects out where its baseline never did, or a server starts connecting out (reverse shell)',
  config,
  create: (cfg, ctx) => new NewProcessTalkerDetector(cfg, ctx),
  restartOnly: ['learnSeconds', 'ignoreUnits'],
};
