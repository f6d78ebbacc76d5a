/**
 * Time for the agent, passed in so tests drive it: `now()` in seconds since the epoch, and a periodic call.
 * The system clock fires on whole seconds, so every agent's `stats` records line up on the same boundaries
 * and a UI can merge several agents second by second.
 */
export interface AgentClock {
  /** Seconds since the epoch. */
  now(): number;
  /** Calls `fn` every `seconds`; returns a function that cancels it. */
  every(seconds: number, fn: () => void): () => void;
}

/** What onBoundaries needs of the system: the wall clock in ms and a one-shot timer. */
export interface TimerHost {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const realTimers: TimerHost = {
  nowMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/**
 * Calls `fn` at each multiple of `periodMs` of the wall clock, never before it: a timer can fire a
 * millisecond early by the wall clock (the event loop's clock is another one), and a call at X.999 put two
 * statistics records in second X and none in X+1; such a timer waits again for the boundary itself. A call
 * that comes late (a busy loop) is for the boundary it was aimed at; boundaries missed meanwhile are skipped.
 */
export function onBoundaries(periodMs: number, fn: () => void, timers: TimerHost = realTimers): () => void {
  const nextBoundary = (ms: number) => (Math.floor(ms / periodMs) + 1) * periodMs;
  let target = nextBoundary(timers.nowMs());
  let cancelled = false;
  let timer: unknown;
  const arm = () => {
    timer = timers.setTimeout(fire, Math.max(0, target - timers.nowMs()));
  };
  const fire = () => {
    if (cancelled) return;
    if (timers.nowMs() < target) {
      arm();
      return;
    }
    fn();
    target = Math.max(target + periodMs, nextBoundary(timers.nowMs() - periodMs));
    if (target <= timers.nowMs()) target = nextBoundary(timers.nowMs());
    arm();
  };
  arm();
  return () => {
    cancelled = true;
    timers.clearTimeout(timer);
  };
}

export const systemClock: AgentClock = {
  now: () => Date.now() / 1000,
  every: (seconds, fn) => onBoundaries(seconds * 1000, fn),
};
