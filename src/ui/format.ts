/**
 * Text formatting for the terminal UI: rates, sizes, durations, sparklines and fixed-width cells. Pure
 * functions, so the views stay declarative and their tests check exact text.
 */
import { cellWidth, displayText, fitCells, splitCells } from '../analyze/display-text.js';
import type { ProcessRecord } from '../analyze/records.js';
import { isoTimeOf, utcClockText } from '../analyze/time-text.js';

const SI = ['', 'k', 'M', 'G', 'T'];

/** 1234567 → "1.2M": three significant figures at most, SI prefixes. */
export function formatSi(n: number): string {
  if (!Number.isFinite(n)) return '-';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const text = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${text}${SI[i]}`;
}

/** Bytes per second → bits per second, as "1.20Mb/s". */
export function formatBitsPerSecond(bytesPerSecond: number): string {
  return `${formatSi(bytesPerSecond * 8)}b/s`;
}

/** Byte counts with binary units: "512B", "1.5KiB" shortened to "1.5K". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)}B` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
}

/** Seconds → "850ms", "12.3s", "4m05s", "2h10m". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '-';
  return p < 10 ? `${p.toFixed(1)}%` : `${Math.round(p)}%`;
}

/** Epoch seconds → "HH:MM:SS" in UTC (agents sit in different zones; UTC reads the same everywhere). */
export const formatClock = utcClockText;

/** Epoch seconds → "YYYY-MM-DD HH:MM" UTC. */
export function formatDateTime(ts: number): string {
  return isoTimeOf(ts)?.slice(0, 16).replace('T', ' ') ?? '????-??-?? ??:??';
}

/** "10.0.0.1:443", "[2001:db8::1]:53". */
export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A local process as conn records name it (docs/records.md): `curl[4242]`. */
export function formatProcess(p: ProcessRecord): string {
  return `${p.name}[${p.pid}]`;
}

/** Every known fact of a process, for a record's detail: `curl[4242] /usr/bin/curl, user alice, unit session-3.scope`. */
export function describeProcess(p: ProcessRecord): string {
  return [`${formatProcess(p)}${p.exe ? ` ${p.exe}` : ''}`, p.user && `user ${p.user}`, p.unit && `unit ${p.unit}`].filter(Boolean).join(', ');
}

/** The processes at a flow's local ends, the originator's first: `curl[4242] → nginx[812]`, `→ sshd[90]`, or ''. */
export function flowProcesses(orig: ProcessRecord | undefined, resp: ProcessRecord | undefined): string {
  if (orig === undefined && resp === undefined) return '';
  return [orig && formatProcess(orig), '→', resp && formatProcess(resp)].filter(Boolean).join(' ');
}

const BARS = '▁▂▃▄▅▆▇█';

/** The last `width` values as block characters, scaled to their own maximum (all-zero → a flat baseline). */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const tail = values.slice(-width);
  let max = 0;
  for (const v of tail) if (v > max) max = v;
  let out = '';
  for (const v of tail) out += max === 0 ? BARS[0] : BARS[Math.min(7, Math.round((v / max) * 7))];
  return out.padStart(width, ' ');
}

/** A horizontal bar of `width` cells for fraction 0..1 (eighth-block resolution). */
export function hbar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const partial = part === 0 ? '' : '▏▎▍▌▋▊▉'[part - 1];
  return ('█'.repeat(full) + partial).padEnd(width, ' ');
}

/** Cuts or pads to exactly `width` terminal cells (wide characters count two); a cut string ends with "…". */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  return fitCells(text, width, align);
}

/**
 * An endpoint with its name after it (formatHost's `203.0.113.11:443 api.example.com`) in exactly `width` cells:
 * the name is cut first; an endpoint alone too long loses its middle, so its port stays.
 */
export function fitEndpoint(text: string, width: number): string {
  const space = text.indexOf(' ');
  const endpoint = space < 0 ? text : text.slice(0, space);
  return cellWidth(endpoint) >= width ? fitMiddle(endpoint, width) : fit(text, width);
}

/** Exactly `width` cells; a text too long loses its middle ("[2001:db8:…::1d]:48012"), keeping both ends. */
export function fitMiddle(text: string, width: number): string {
  if (cellWidth(text) <= width || width < 5) return fit(text, width);
  const tail = Math.floor((width - 1) / 2);
  const chars = [...text];
  let end = '';
  for (let i = chars.length - 1; i >= 0 && cellWidth(chars[i] + end) <= tail; i--) end = chars[i] + end;
  return fit(text, width - cellWidth(end)).replace(/ +$/, '').replace(/…?$/, '…') + end;
}

/**
 * An address (or an endpoint, `formatEndpoint`'s) with the name the traffic resolved for it (passive DNS, the
 * agent's `names` method), shown as UTF-8: `203.0.113.11 api.example.com`, or the address alone when it has
 * none. Every view that shows an address shows it through here.
 */
export function formatHost(address: string, name?: string): string {
  return name ? `${address} ${displayText(name)}` : address;
}

/**
 * `text` as rows of at most `width` cells, broken at spaces where it can (a word longer than a row is cut):
 * a view that must fit a height counts rows, and Ink's own wrapping would make them more than it counted.
 */
export function wrapRows(text: string, width: number): string[] {
  if (width <= 0) return [];
  const rows: string[] = [];
  let row = '';
  for (let word of text.split(' ')) {
    while (cellWidth(word) > width) {
      if (row) rows.push(row), (row = '');
      // A character wider than the row goes on a row of its own rather than never.
      const [head, rest] = splitCells(word, width);
      const first = [...word][0] ?? '';
      const [taken, left] = head === '' ? [first, word.slice(first.length)] : [head, rest];
      rows.push(taken);
      word = left;
    }
    if (!row) row = word;
    else if (cellWidth(row) + 1 + cellWidth(word) <= width) row += ` ${word}`;
    else rows.push(row), (row = word);
  }
  rows.push(row);
  return rows;
}

/** An agent's TARGET in `width` cells: a unix socket path keeps its end (the socket's name), others their start. */
export function fitTarget(target: string, width: number): string {
  if (cellWidth(target) <= width || !target.startsWith('unix:') || width < 4) return fit(target, width);
  return `…${target.slice(target.length - width + 1)}`;
}
