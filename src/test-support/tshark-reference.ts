/** Parsers for the tshark outputs in corpus-reference/ (see the corpus README for the commands). */
import { existsSync, readFileSync } from 'node:fs';

export interface TsharkConversation {
  a: string;
  b: string;
  /** Frames from a to b ("->") and from b to a ("<-"). */
  framesAB: number;
  framesBA: number;
}

/** Splits "host:port" where host may be IPv6 ("2001:db8::1:53" → "2001:db8::1", 53). */
export function splitEndpoint(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

export function readConversations(path: string): TsharkConversation[] {
  if (!existsSync(path)) return [];
  const out: TsharkConversation[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\d+/.exec(line);
    if (!m) continue;
    out.push({ a: m[1], b: m[2], framesBA: Number(m[3]), framesAB: Number(m[4]) });
  }
  return out;
}

export function readFrameCount(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const m = /Number of packets:\s+([\d,]+)/.exec(readFileSync(path, 'utf8'));
  return m ? Number(m[1].replace(/,/g, '')) : undefined;
}

export interface TsharkDnsRow {
  frame: number;
  src: string;
  dst: string;
  id: number;
  response: boolean;
  names: string[];
  types: number[];
  rcode: number;
  answers: number;
  addresses: string[];
  cnames: string[];
}

export function readDnsRows(path: string): TsharkDnsRow[] {
  if (!existsSync(path)) return [];
  const list = (s: string | undefined) => (s ? s.split(',').filter((x) => x.length > 0) : []);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const f = line.split('\t');
      return {
        frame: Number(f[0]),
        src: f[1] || f[2],
        dst: f[3] || f[4],
        id: Number(f[5]),
        response: f[6] === '1' || f[6] === 'True',
        names: list(f[7]),
        types: list(f[8]).map(Number),
        rcode: Number(f[9] || 0),
        answers: Number(f[10] || 0),
        addresses: [...list(f[11]), ...list(f[12])],
        cnames: list(f[13]),
      };
    });
}
