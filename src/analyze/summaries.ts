/**
 * Several engines' end-of-input records made into what one engine over all their packets would have written
 * (`loopy read --workers N`): summaries added up, and the weird counts that come just before the summary
 * added up per name.
 */
import type { SummaryRecord, WeirdRecord } from './records.js';

/** One summary of the packets every part saw (each packet was seen by exactly one part). */
export function mergeSummaries(parts: readonly SummaryRecord[]): SummaryRecord {
  const merged: SummaryRecord = {
    type: 'summary', packets: 0, bytes: 0, first_ts: null, last_ts: null, link_types: {}, protocols: {}, weirds: {},
    unsupported_link_types: {}, flows: 0, flows_evicted: 0, dns_transactions: 0,
  };
  for (const p of parts) {
    merged.packets += p.packets;
    merged.bytes += p.bytes;
    merged.first_ts = earliest(merged.first_ts, p.first_ts);
    merged.last_ts = latest(merged.last_ts, p.last_ts);
    addCounts(merged.link_types, p.link_types);
    addCounts(merged.protocols, p.protocols);
    addCounts(merged.weirds, p.weirds);
    addCounts(merged.unsupported_link_types, p.unsupported_link_types);
    merged.flows += p.flows;
    merged.flows_evicted += p.flows_evicted;
    merged.dns_transactions += p.dns_transactions;
  }
  return merged;
}

/**
 * The records of weirds without a flow one engine would have written, from every engine's (a name's counts added; each engine
 * reports at the end of the same input, so at the same time): most frequent first, then by name.
 */
export function mergeWeirds(parts: readonly WeirdRecord[]): WeirdRecord[] {
  const byName = new Map<string, WeirdRecord>();
  for (const w of parts) {
    const kept = byName.get(w.name);
    if (kept === undefined) byName.set(w.name, { ...w });
    else {
      kept.count += w.count;
      kept.ts = Math.max(kept.ts, w.ts);
    }
  }
  return [...byName.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

/** Adds each count of `from` to the same key of `into`. */
export function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function latest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
