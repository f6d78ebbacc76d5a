/**
 * What the process detectors (new_listener, new_process_talker) share: who an "actor" is — the systemd unit
 * or container a process runs in, else its executable — how a process is named in a message, and the
 * learning clock (seconds observed, as new_service counts them, so a jump in time does not end it).
 */
import type { ProcessRecord } from '../analyze/records.js';
import type { SocketEvent } from '../host/process-attribution.js';
import { z } from 'zod';
import { count, seconds } from './detector-config.js';

/** Config both detectors take. */
export const processDetectorShape = {
  /** Seconds observed before anything counts as new; sockets there when the agent started are baseline. */
  learnSeconds: seconds(86_400),
  /** Units (or containers, `docker:ID`) whose processes never raise this detector's alerts. */
  ignoreUnits: z.array(z.string().min(1)).default([]),
  /** Actors remembered at most. */
  maxActors: count(50_000),
};

/** The unit or container a process runs in, else its executable, else its name: what a baseline is kept for. */
export function actorOf(p: ProcessRecord): string {
  return p.unit ?? p.exe ?? p.name;
}

/**
 * Actors' keys for a detector that hears connects of processes already gone: the connect trace names those
 * by pid, name and unit (its cgroup id), without an executable. So a process without a unit counts for the
 * executable last seen under its name, and for its bare name only until a live process of that name tells
 * the executable — then the bare name's baseline is folded into the executable's (`fold`). Learning and
 * judging thus use the same key whether or not /proc was read while the process lived. Two programs with
 * one name (two pythons) share the gone ones' connects with the latest seen.
 */
export class ActorKeys {
  private readonly exeOfName = new Map<string, string>();

  constructor(
    /** Names remembered at most (the oldest link goes first). */
    private readonly max: number,
    private readonly fold: (from: string, into: string) => void,
  ) {}

  keyOf(p: ProcessRecord): string {
    if (p.unit !== undefined) return p.unit;
    if (p.exe === undefined) return this.resolve(p.name);
    const linked = this.exeOfName.get(p.name);
    if (linked !== p.exe) {
      this.exeOfName.delete(p.name);
      this.exeOfName.set(p.name, p.exe);
      if (this.exeOfName.size > this.max) this.exeOfName.delete(this.exeOfName.keys().next().value!);
      // Only a name not linked until now may have a baseline of its own.
      if (linked === undefined) this.fold(p.name, p.exe);
    }
    return p.exe;
  }

  /** A key given before (a bare name may have been folded since). */
  resolve(key: string): string {
    return this.exeOfName.get(key) ?? key;
  }
}

/** "bash (pid 4242, /usr/bin/bash, user www-data, unit web.service)". */
export function describeProcess(p: ProcessRecord): string {
  const parts = [`pid ${p.pid}`, p.exe, p.user === undefined ? undefined : `user ${p.user}`, p.unit === undefined ? undefined : `unit ${p.unit}`];
  return `${p.name} (${parts.filter((x) => x !== undefined).join(', ')})`;
}

/** The alert's facts about the process. */
export function processExtra(e: SocketEvent): Record<string, unknown> {
  return { process: e.process, ppid: e.ppid, actor: actorOf(e.process) };
}

export function portName(proto: number, port: number): string {
  return `${proto === 17 ? 'udp' : 'tcp'}/${port}`;
}

/** Seconds observed: at most one per second() call. */
export class LearningClock {
  private observed = 0;
  private last = Number.NaN;

  constructor(private readonly learnSeconds: number) {}

  second(now: number): void {
    if (!Number.isNaN(this.last)) this.observed += Math.min(1, Math.max(0, now - this.last));
    this.last = now;
  }

  get learning(): boolean {
    return this.observed < this.learnSeconds;
  }

  /** Seconds observed so far. */
  get now(): number {
    return this.observed;
  }
}
