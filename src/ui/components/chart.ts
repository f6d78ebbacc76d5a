/**
 * A column chart as text lines: one column per value, `rows` lines tall, eighth-block resolution on the top
 * cell. Plain strings, so the chart costs one <Text> per line and tests can compare it exactly.
 */
const EIGHTHS = ' ▁▂▃▄▅▆▇█';

export function columnChart(values: readonly number[], rows: number, max?: number): string[] {
  let top = max ?? 0;
  if (max === undefined) for (const v of values) if (v > top) top = v;
  const lines: string[] = [];
  for (let r = rows - 1; r >= 0; r--) {
    let line = '';
    for (const v of values) {
      const cells = top === 0 ? 0 : (Math.max(0, v) / top) * rows;
      const fill = cells - r;
      line += fill >= 1 ? '█' : fill <= 0 ? ' ' : EIGHTHS[Math.max(1, Math.round(fill * 8))];
    }
    lines.push(line);
  }
  return lines;
}
