/** Prints benchmark results as a small table, then ratios and targets, the same for every benchmark. */
import type { BenchResult, ToolResult } from './types.js';

function rate(pps: number | undefined): string {
  if (pps === undefined || Number.isNaN(pps)) return '-';
  if (pps >= 1e6) return `${(pps / 1e6).toFixed(2)} M/s`;
  if (pps >= 1e3) return `${(pps / 1e3).toFixed(1)} k/s`;
  return `${pps.toFixed(0)} /s`;
}

function rss(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return 'n/a';
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

function row(r: ToolResult): string[] {
  if (r.status === 'ok') return [r.tool, r.command, r.wallSeconds!.toFixed(2), rate(r.packetsPerSecond), rss(r.peakRssBytes)];
  if (r.status === 'failed') return [r.tool, r.command, 'FAILED', '', ''];
  return [r.tool, r.command, r.status, '', ''];
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

export function formatResult(b: BenchResult): string {
  const lines: string[] = [`== ${b.title} [${b.name}]`, `input: ${b.input}`, ''];
  lines.push(...table([['tool', 'command', 'wall s', 'packets/s', 'peak RSS'], ...b.results.map(row)]));
  for (const r of b.results) {
    if (r.status === 'failed') lines.push(`  ${r.tool} FAILED: ${r.detail ?? 'unknown error'}`);
  }
  lines.push('');
  lines.push(`ratios: ${b.ratios.map((r) => `${r.label} = ${r.value === null ? 'n/a' : `${r.value < 10 ? r.value.toFixed(2) : r.value.toFixed(0)}×`}`).join('   ')}`);
  lines.push('targets:');
  for (const t of b.targets) {
    const verdict = t.met === null ? 'n/a ' : t.met ? 'MET ' : 'MISS';
    lines.push(`  [${verdict}] ${t.description}: ${t.actual}`);
  }
  if (b.breakdown) {
    lines.push(`${b.breakdown.title}:`);
    const width = Math.max(...b.breakdown.rows.map(([label]) => label.length));
    for (const [label, value] of b.breakdown.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
  }
  return lines.join('\n');
}
