/**
 * Passive DNS: the name the traffic itself resolved for an address, learned from the DNS answers the engine
 * saw (no lookup is ever sent). Fed by dns records, which are made off the packet loop once per transaction:
 * every A or AAAA answer of a successful response names its address with the query, so an answer reached
 * through a CNAME chain (`www.example.com → edge.cdn.net → 203.0.113.11`) is named by the name asked for.
 *
 * Bounded: at most `capacity` addresses; the most recent answer for an address wins and moves it to the back,
 * and past capacity the address answered longest ago is forgotten and counted (`evicted`), so a flood of
 * answers costs a fixed amount of memory. The order is a ring of the last `capacity` answers, not the Map's
 * own order: V8 keeps a deleted Map entry as a hole until it rehashes, so taking a Map's first key after many
 * deletions walks them all (measured: 60 µs an answer once full, against 1 µs with the ring).
 */
import type { EngineObserver } from './engine.js';
import type { DnsRecord, LoopyRecord } from './records.js';
import { isAddressText } from './parse-address.js';

/** Addresses kept by default: ~10 MB at most, far more than the hosts a server talks to in a day. */
export const DEFAULT_PASSIVE_NAMES = 65_536;

/** A name and the ring slot of the answer that gave it. */
interface Named {
  name: string;
  slot: number;
}

export class PassiveNames implements EngineObserver {
  private readonly names = new Map<string, Named>();
  /** The addresses of the last `capacity` answers, by slot; a slot whose address was answered again since is stale. */
  private readonly ring: Array<string | undefined>;
  private next = 0;
  /** Addresses forgotten to stay within capacity. */
  evicted = 0;
  readonly connRecords = false;

  constructor(readonly capacity = DEFAULT_PASSIVE_NAMES) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
    this.ring = new Array<string | undefined>(capacity);
  }

  onRecord(record: LoopyRecord): void {
    if (record.type === 'dns') this.learn(record as DnsRecord);
  }

  /** The addresses a dns record's answers name (only a NOERROR response with a question names anything). */
  learn(record: DnsRecord): void {
    const name = record.query;
    if (record.rcode !== 0 || name === undefined || name === '' || record.answers === undefined) return;
    for (const answer of record.answers) if (isAddressText(answer)) this.remember(answer, name);
  }

  /** The name last answered for this address (as records write addresses), or undefined. */
  nameOf(address: string): string | undefined {
    return this.names.get(address)?.name;
  }

  /** Names of the given addresses that have one. */
  namesOf(addresses: Iterable<string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const a of addresses) {
      const n = this.names.get(a);
      if (n !== undefined) out[a] = n.name;
    }
    return out;
  }

  get size(): number {
    return this.names.size;
  }

  /** Every address held with its name (another engine's table added to a summary's: `loopy read --workers`). */
  entries(): Array<[string, string]> {
    return [...this.names].map(([address, n]) => [address, n.name]);
  }

  /** How full the table is and what its bound has cost (the agent's status shows it). */
  report(): { size: number; capacity: number; evicted: number } {
    return { size: this.names.size, capacity: this.capacity, evicted: this.evicted };
  }

  /** The address takes the ring's next slot; the address whose answer was there is forgotten, unless answered since. */
  private remember(address: string, name: string): void {
    const slot = this.next;
    this.next = (slot + 1) % this.capacity;
    const previous = this.ring[slot];
    if (previous !== undefined && this.names.get(previous)?.slot === slot) {
      this.names.delete(previous);
      this.evicted++;
    }
    this.ring[slot] = address;
    const named = this.names.get(address);
    if (named === undefined) this.names.set(address, { name, slot });
    else {
      named.name = name;
      named.slot = slot;
    }
  }
}
