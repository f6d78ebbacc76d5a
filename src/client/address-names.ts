/**
 * A client's copy of what one agent's passive DNS says about the addresses the client shows (the `names`
 * method): addresses are noted as records bring them, asked in batches of at most MAX_NAMES_ASKED with one
 * request in flight, and asked again after `reaskSeconds` (an answer may come after the first sight, or name
 * the address anew). Bounded by two generations of at most `capacity` entries each: when the current one is
 * full it becomes the previous one and the one before is dropped whole (no per-entry eviction).
 */
import { MAX_NAMES_ASKED } from '../serve/protocol/messages.js';

/** What views read. */
export interface AddressNameBook {
  nameOf(address: string): string | undefined;
}

export interface AddressNamesOptions {
  /** Entries per generation (default 8192: a screen shows a few dozen hosts). */
  capacity?: number;
  /** Seconds before an address is asked about again (default 60). */
  reaskSeconds?: number;
}

/** A map that forgets in halves: lookups see two generations, writes go to the newer. */
class Generations<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  set(key: string, value: V): void {
    if (!this.current.has(key) && this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

export class AddressNames implements AddressNameBook {
  private readonly names: Generations<string>;
  /** When each address was last asked about (seconds). */
  private readonly asked: Generations<number>;
  private readonly pending = new Set<string>();
  private readonly capacity: number;
  private readonly reaskSeconds: number;
  private inFlight = false;

  constructor(private readonly ask: (addresses: string[]) => Promise<Record<string, string>>, options: AddressNamesOptions = {}) {
    this.capacity = options.capacity ?? 8192;
    this.reaskSeconds = options.reaskSeconds ?? 60;
    this.names = new Generations(this.capacity);
    this.asked = new Generations(this.capacity);
  }

  nameOf(address: string): string | undefined {
    return this.names.get(address);
  }

  /** An address the client shows: asked about at the next poll unless it was asked about recently. */
  note(address: string, now: number): void {
    const last = this.asked.get(address);
    if (last !== undefined && now - last < this.reaskSeconds) return;
    if (this.pending.size < this.capacity) this.pending.add(address);
  }

  /**
   * Asks the agent about the pending addresses, unless a request is in flight or none is pending. Resolves
   * true when a name was learned or changed; a failed request (the agent away) is forgotten: its addresses
   * are asked again once `reaskSeconds` have passed and a record shows them again.
   */
  async poll(now: number): Promise<boolean> {
    if (this.inFlight || this.pending.size === 0) return false;
    const batch: string[] = [];
    for (const a of this.pending) {
      batch.push(a);
      this.pending.delete(a);
      this.asked.set(a, now);
      if (batch.length === MAX_NAMES_ASKED) break;
    }
    this.inFlight = true;
    try {
      const answer = await this.ask(batch);
      let changed = false;
      for (const a of batch) {
        const name = Object.hasOwn(answer, a) ? answer[a] : undefined;
        if (name !== undefined && name !== this.names.get(a)) {
          this.names.set(a, name);
          changed = true;
        }
      }
      return changed;
    } catch {
      return false;
    } finally {
      this.inFlight = false;
    }
  }
}
