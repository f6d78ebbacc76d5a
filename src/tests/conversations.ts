/** Conversation tables from Loopy's conn records, keyed the way tshark's `-z conv` keys them. */
import type { ConnRecord, LoopyRecord } from '../analyze/records.js';
import type { TsharkConversation } from '../test-support/tshark-reference.js';

export interface ConversationCounts {
  /** Frames from the first endpoint of the key to the second, and back. */
  forward: number;
  backward: number;
}

function endpoint(host: string, port: number): string {
  return `${host}:${port}`;
}

function keyOf(x: string, y: string): { key: string; swapped: boolean } {
  return x <= y ? { key: `${x} ${y}`, swapped: false } : { key: `${y} ${x}`, swapped: true };
}

/** Loopy flows summed per endpoint pair: tshark joins a reused 4-tuple (and every VLAN) into one row. */
export function loopyConversations(records: LoopyRecord[], proto: 'tcp' | 'udp'): Map<string, ConversationCounts> {
  const out = new Map<string, ConversationCounts>();
  for (const r of records) {
    if (r.type !== 'conn' || (r as ConnRecord).proto !== proto) continue;
    const c = r as ConnRecord;
    const { key, swapped } = keyOf(endpoint(c['id.orig_h'], c['id.orig_p']), endpoint(c['id.resp_h'], c['id.resp_p']));
    const entry = out.get(key) ?? { forward: 0, backward: 0 };
    entry.forward += swapped ? c.resp_pkts : c.orig_pkts;
    entry.backward += swapped ? c.orig_pkts : c.resp_pkts;
    out.set(key, entry);
  }
  return out;
}

export function tsharkConversations(rows: TsharkConversation[]): Map<string, ConversationCounts> {
  const out = new Map<string, ConversationCounts>();
  for (const row of rows) {
    const { key, swapped } = keyOf(row.a, row.b);
    const entry = out.get(key) ?? { forward: 0, backward: 0 };
    entry.forward += swapped ? row.framesBA : row.framesAB;
    entry.backward += swapped ? row.framesAB : row.framesBA;
    out.set(key, entry);
  }
  return out;
}

/** Human-readable differences (empty when the tables agree). */
export function diffConversations(loopy: Map<string, ConversationCounts>, tshark: Map<string, ConversationCounts>): string[] {
  const diffs: string[] = [];
  for (const [key, t] of tshark) {
    const l = loopy.get(key);
    if (!l) diffs.push(`missing ${key} (tshark ${t.forward}/${t.backward})`);
    else if (l.forward !== t.forward || l.backward !== t.backward) diffs.push(`${key}: loopy ${l.forward}/${l.backward}, tshark ${t.forward}/${t.backward}`);
  }
  for (const [key, l] of loopy) if (!tshark.has(key)) diffs.push(`extra ${key} (loopy ${l.forward}/${l.backward})`);
  return diffs;
}
