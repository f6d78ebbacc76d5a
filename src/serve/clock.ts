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

export const systemClock: AgentClock = {
  now: () => Date.now() / 1000,
  every(seconds, fn) {
    const periodMs = seconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const schedule = () => {
      // Re-aimed at the next boundary each time, so the period does not drift with the event loop's delays.
      const wait = periodMs - (Date.now() % periodMs);
      timer = setTimeout(() => {
        if (cancelled) return;
        fn();
        schedule();
      }, wait < 5 ? wait + periodMs : wait);
    };
    schedule();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  },
};
