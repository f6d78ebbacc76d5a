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

/** Cells of a y-axis label and its tick: "123Mb/s ┤". */
export const AXIS_WIDTH = 10;

/**
 * The y-axis beside a `rows`-tall column chart scaled to `top`: each line's label is the value at its top
 * edge, shown for the top line and the middle one, and 0 at the bottom; the others are blank.
 */
export function axisLabels(rows: number, top: number, format: (value: number) => string): string[] {
  const middle = Math.floor(rows / 2);
  return Array.from({ length: rows }, (_, row) => {
    const text = row === rows - 1 ? '0' : top === 0 || (row !== 0 && row !== middle) ? '' : format((top * (rows - row)) / rows);
    return `${text.padStart(AXIS_WIDTH - 2)} ┤`;
  });
}
