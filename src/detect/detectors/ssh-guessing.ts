/**
 * SSH password guessing (Zeek's SSH::Password_Guessing): one source's SSH connections to one server whose
 * logins failed, as the encrypted packets' sizes tell (the ssh analyzer, analyze/apps/ssh/login.ts: rejected
 * attempts counted per connection, a success recognised). At a connection's end, a connection with rejected
 * attempts and no success adds its attempts to its (source, server) pair; `minAttempts` rejected attempts
 * over at least `minConnections` connections within the window raise one incident per pair, naming the
 * source, the server and the number of attempts. Successful logins count for nothing (several key logins a
 * minute are ordinary), except that a login the same source gets through after guessing is said in the alert.
 * Pairs live in a bounded table (ctx.track).
 */
import { z } from 'zod';
import { isSshLogin } from '../../analyze/apps/ssh/index.js';
import type { AppFlowFacts } from '../../analyze/apps/types.js';
import { hostKeyOf } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { endpointText, hostPair, pairKey, type HostPair } from '../host-pair.js';
import type { TrackedKeys } from '../tracked-keys.js';
import type { Detector, DetectorContext, DetectorRegistration, FlowRef } from '../types.js';
import { SlidingCounter, formatDuration } from '../windows.js';

const config = detectorConfig({
  /** Seconds the attempts are counted over (Zeek counts 30 failures over 30 min; a tool makes them in seconds). */
  window: seconds(600),
  /** Rejected login attempts from one source to one server within the window (OpenSSH allows 6 per connection). */
  minAttempts: count(10),
  /** Connections those attempts came in (one connection with a few typos is a person). */
  minConnections: count(3),
  /** Pairs followed at once. */
  maxPairs: count(20_000),
});
type Config = z.infer<typeof config>;

const MAX_SAMPLES = 10;

interface Pair extends HostPair {
  port: number;
  attempts: SlidingCounter;
  connections: SlidingCounter;
  totalAttempts: number;
  totalConnections: number;
  /** Logins that succeeded after the guessing started (a guess that worked, or the owner coming in). */
  successes: number;
  first: number;
  last: number;
  fired: boolean;
  changed: boolean;
  samples: FlowSample[];
}

class SshGuessingDetector implements Detector {
  readonly name = 'ssh_guessing';
  private readonly pairs: TrackedKeys<Pair>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.pairs = ctx.track<Pair>('pairs', cfg.maxPairs, { protect: (p) => p.fired });
  }

  onFlowEnd(ref: FlowRef, _service: string | undefined, app: AppFlowFacts | undefined): void {
    if (!isSshLogin(app) || !app.encrypted) return;
    const f = ref.facts();
    const src = hostKeyOf(f.version, f.orig);
    const dst = hostKeyOf(f.version, f.resp);
    const failed = !app.success && app.attempts > 0;
    if (failed && this.ctx.allowed(src, dst)) return;
    const conns = this.ctx.connections;
    const start = conns.firstTs[f.flow];
    const end = conns.lastTs[f.flow];
    const key = pairKey(src, dst);
    let p = this.pairs.get(key);
    if (!failed) {
      if (app.success && p !== undefined) {
        p.successes++;
        if (p.fired) p.changed = true;
      }
      return;
    }
    if (p === undefined) {
      if (!this.pairs.admit(key, end)) return;
      p = this.pairs.add(key, { ...hostPair(src, dst), port: f.respPort, attempts: new SlidingCounter(this.cfg.window), connections: new SlidingCounter(this.cfg.window), totalAttempts: 0, totalConnections: 0, successes: 0, first: start, last: end, fired: false, changed: false, samples: [] });
    }
    p.attempts.add(end, app.attempts);
    p.connections.add(end);
    p.totalAttempts += app.attempts;
    p.totalConnections++;
    p.last = Math.max(p.last, end);
    if (p.samples.length < MAX_SAMPLES) p.samples.push(FlowSample.ofFacts(f));
    if (p.fired) p.changed = true;
    else if (p.attempts.value(end) >= this.cfg.minAttempts && p.connections.value(end) >= this.cfg.minConnections) {
      p.fired = true;
      this.raise(p, end);
    }
  }

  second(now: number): void {
    this.pairs.forEach((p, key) => {
      if (p.fired && p.changed) {
        p.changed = false;
        this.raise(p, p.last);
      }
      if (now - p.last > this.cfg.window) this.pairs.delete(key);
    });
  }

  private raise(p: Pair, ts: number): void {
    const after = p.successes > 0 ? `; ${p.successes} login${p.successes > 1 ? 's' : ''} from it then succeeded` : '; none succeeded';
    this.ctx.raise({
      key: p.key,
      ts,
      severity: p.successes > 0 ? 'critical' : 'high',
      message: `${p.srcText} made ${p.totalAttempts} failed SSH login attempts over ${p.totalConnections} connections to ${endpointText(p.dstText, p.port)} in ${formatDuration(p.last - p.first)}${after}`,
      src: p.srcText,
      dst: p.dstText,
      counters: { failed_attempts: p.totalAttempts, failed_connections: p.totalConnections, successful_logins: p.successes },
      thresholds: { failed_attempts: this.cfg.minAttempts, failed_connections: this.cfg.minConnections },
      hosts: [p.srcText, p.dstText],
      ports: [p.port],
      first_seen: p.first,
      last_seen: p.last,
      extra: { window: this.cfg.window },
      flows: p.samples.splice(0),
      capture: { pairs: [[p.src, p.dst]] },
    });
  }
}

export const sshGuessing: DetectorRegistration<Config> = {
  name: 'ssh_guessing',
  title: 'SSH password guessing: many rejected logins from one source to one server, inferred from encrypted sizes',
  config,
  create: (cfg, ctx) => new SshGuessingDetector(cfg, ctx),
};
