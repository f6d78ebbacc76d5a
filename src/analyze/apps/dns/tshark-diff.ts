/**
 * Differential check of parsed DNS messages against tshark's view of the same capture
 * (corpus-reference/<file>.dns.tsv, made with `tshark -Y dns -T fields -e frame.number -e ip.src -e ipv6.src
 * -e ip.dst -e ipv6.dst -e dns.id -e dns.flags.response -e dns.qry.name -e dns.qry.type -e dns.flags.rcode
 * -e dns.count.answers -e dns.a -e dns.aaaa -e dns.cname`). No file access and no test framework here: the
 * caller collects messages (the analyzer's onMessage hook) with the frame number each completed in, reads
 * the .tsv, and asserts on the returned differences.
 *
 * tshark's rules this mirrors: a frame carrying several DNS messages (DNS/TCP) gives one row whose fields
 * join all messages' values with commas; dns.a/dns.aaaa/dns.cname collect records of every section, not
 * only answers; dns.flags.rcode is the 4-bit header rcode; the root name is "<Root>"; `-Y dns` leaves out
 * mDNS (5353) and LLMNR (5355), so pass only port-53 messages.
 */
import type { DnsMessage, DnsResourceRecord } from './message.js';

export interface TsharkDnsFields {
  id: string;
  response: string;
  qname: string;
  qtype: string;
  rcode: string;
  answers: string;
  a: string;
  aaaa: string;
  cname: string;
}

export interface TsharkDnsRow extends TsharkDnsFields {
  frame: number;
  /** ip.src then ipv6.src values (several when tunnelled). */
  src: string[];
  dst: string[];
}

export interface ObservedDnsMessage {
  /** 1-based frame number in which the message completed. */
  frame: number;
  msg: DnsMessage;
  /** Innermost IP addresses, when the caller wants them checked. */
  src?: string;
  dst?: string;
}

export interface DnsDifference {
  frame: number;
  field: keyof TsharkDnsFields | 'frame' | 'src' | 'dst';
  ours: string;
  tshark: string;
}

const FIELD_NAMES: (keyof TsharkDnsFields)[] = ['id', 'response', 'qname', 'qtype', 'rcode', 'answers', 'a', 'aaaa', 'cname'];

export function parseTsharkDnsTsv(text: string): TsharkDnsRow[] {
  const rows: TsharkDnsRow[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const c = line.split('\t');
    const list = (a: string | undefined, b: string | undefined) => [a, b].filter((x): x is string => !!x).flatMap((x) => x.split(','));
    rows.push({
      frame: Number(c[0]), src: list(c[1], c[2]), dst: list(c[3], c[4]),
      id: c[5] ?? '', response: c[6] ?? '', qname: c[7] ?? '', qtype: c[8] ?? '', rcode: c[9] ?? '',
      answers: c[10] ?? '', a: c[11] ?? '', aaaa: c[12] ?? '', cname: c[13] ?? '',
    });
  }
  return rows;
}

/** The fields tshark would print for a frame carrying these messages, in order. */
export function tsharkFieldsOf(msgs: readonly DnsMessage[]): TsharkDnsFields {
  const f: Record<keyof TsharkDnsFields, string[]> = { id: [], response: [], qname: [], qtype: [], rcode: [], answers: [], a: [], aaaa: [], cname: [] };
  for (const m of msgs) {
    f.id.push(`0x${m.id.toString(16).padStart(4, '0')}`);
    f.response.push(m.qr ? '1' : '0');
    for (const q of m.questions) {
      f.qname.push(q.name === '' ? '<Root>' : tsharkEscapes(q.name));
      f.qtype.push(String(q.qtype));
    }
    if (m.qr) f.rcode.push(String(m.headerRcode));
    // For UPDATE tshark names the answer count dns.count.prerequisites.
    if (m.opcode !== 5) f.answers.push(String(m.ancount));
    for (const rr of allRecords(m)) {
      if (rr.data.kind === 'a') f.a.push(rr.data.address);
      else if (rr.data.kind === 'aaaa') f.aaaa.push(rr.data.address);
      else if (rr.type === 5 && rr.data.kind === 'name') f.cname.push(rr.data.name);
    }
  }
  const out = {} as TsharkDnsFields;
  for (const k of FIELD_NAMES) out[k] = f[k].join(',');
  return out;
}

/** Our names write odd bytes \xNN (Zeek's way); tshark writes them \ooo in octal. */
function tsharkEscapes(name: string): string {
  return name.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => `\\${parseInt(h, 16).toString(8).padStart(3, '0')}`);
}

function* allRecords(m: DnsMessage): Iterable<DnsResourceRecord> {
  yield* m.answers;
  yield* m.authority;
  yield* m.additional;
}

/** Every field where our messages and tshark's rows disagree, frame by frame (frames only one side has included). */
export function diffAgainstTshark(observed: readonly ObservedDnsMessage[], tsv: string): DnsDifference[] {
  const ours = new Map<number, ObservedDnsMessage[]>();
  for (const o of observed) {
    const list = ours.get(o.frame);
    if (list) list.push(o);
    else ours.set(o.frame, [o]);
  }
  const theirs = new Map(parseTsharkDnsTsv(tsv).map((r) => [r.frame, r]));
  const frames = [...new Set([...ours.keys(), ...theirs.keys()])].sort((a, b) => a - b);
  const diffs: DnsDifference[] = [];
  for (const frame of frames) {
    const mine = ours.get(frame);
    const row = theirs.get(frame);
    if (!mine || !row) {
      diffs.push({ frame, field: 'frame', ours: mine ? 'present' : '', tshark: row ? 'present' : '' });
      continue;
    }
    const fields = tsharkFieldsOf(mine.map((o) => o.msg));
    for (const k of FIELD_NAMES) {
      if (fields[k] !== row[k]) diffs.push({ frame, field: k, ours: fields[k], tshark: row[k] });
    }
    const first = mine[0];
    if (first.src !== undefined && !row.src.includes(first.src)) diffs.push({ frame, field: 'src', ours: first.src, tshark: row.src.join(',') });
    if (first.dst !== undefined && !row.dst.includes(first.dst)) diffs.push({ frame, field: 'dst', ours: first.dst, tshark: row.dst.join(',') });
  }
  return diffs;
}
