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
