/**
 * Several engines' seconds as one (`loopy agent --workers N`): each engine saw a share of the address pairs,
 * so counts add up. Top talkers are added per host and cut to the record's length again: a host that talks
 * to peers in several engines is summed where each engine ranked it; one ranked by none stays out, as it would
 * past the record's length with one engine.
 */
import { addCounts } from '../analyze/summaries.js';
import type { StatsSecond, TopTalker } from './stats-record.js';

/** Adds `parts` into `into` (the agent's own second: its interfaces, CPU and memory stay as they are). */
export function addSeconds(into: StatsSecond, parts: readonly StatsSecond[]): void {
  if (parts.length === 0) return;
  const talkers = new Map<string, TopTalker>();
  for (const t of into.top_talkers) talkers.set(t.host, { ...t });
  for (const p of parts) {
    into.packets += p.packets;
    into.bytes += p.bytes;
    into.packets_in += p.packets_in;
    into.packets_out += p.packets_out;
    into.bytes_in += p.bytes_in;
    into.bytes_out += p.bytes_out;
    addCounts(into.protocols, p.protocols);
    addCounts(into.weirds, p.weirds);
    into.flows_active += p.flows_active;
    into.flows_opened += p.flows_opened;
    into.flows_closed += p.flows_closed;
    into.dns.queries += p.dns.queries;
    into.dns.answers += p.dns.answers;
    addCounts(into.dns.rcodes, p.dns.rcodes);
    // Packets taken per interface: each engine's own (the capture counters were added before the roll).
    p.interfaces.forEach((theirs, i) => {
      const mine = into.interfaces[i];
      if (mine === undefined || mine.name !== theirs.name) return;
      mine.packets += theirs.packets;
      mine.bytes += theirs.bytes;
    });
    for (const t of p.top_talkers) {
      const kept = talkers.get(t.host);
      if (kept === undefined) talkers.set(t.host, { ...t });
      else {
        kept.bytes += t.bytes;
        kept.packets += t.packets;
        kept.flows += t.flows;
      }
    }
  }
  const length = Math.max(into.top_talkers.length, ...parts.map((p) => p.top_talkers.length));
  into.top_talkers = [...talkers.values()].sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || a.host.localeCompare(b.host)).slice(0, length);
}
