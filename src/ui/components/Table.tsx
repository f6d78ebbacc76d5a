/**
 * A scrolling table sized to the space it is given: fixed columns keep their width, `grow` columns share what
 * is left, and `optional` columns are dropped (last first) when the terminal is too narrow. The selected row is
 * shown inverse (which needs no colour), and the window scrolls to keep it visible.
 */
import { Box, Text } from 'ink';
import { fit, fitEndpoint, fitMiddle } from '../format.js';
import { type Theme, type Tone, tone } from '../theme.js';

export interface Column<Row> {
  header: string;
  width: number;
  /** Share of the spare width this column takes (0: fixed). */
  grow?: number;
  align?: 'left' | 'right';
  /** May be hidden when the table does not fit. */
  optional?: boolean;
  cell: (row: Row) => string;
  tone?: (row: Row) => Tone | undefined;
  /**
   * Where a text too long is cut: at its end (default); in its middle, which keeps an endpoint's port; or, for
   * an endpoint and its name, the name first (fitEndpoint).
   */
  cut?: 'end' | 'middle' | 'endpoint';
}

export interface TableProps<Row> {
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  width: number;
  /** Lines for header + rows. */
  height: number;
  selected: number;
  theme: Theme;
  empty?: string;
}

/** The columns that fit in `width` (one space between columns) and their widths. */
export function layoutColumns<Row>(columns: readonly Column<Row>[], width: number): Array<{ col: Column<Row>; width: number }> {
  const shown = [...columns];
  const total = (cols: Column<Row>[]): number => cols.reduce((s, c) => s + c.width, 0) + Math.max(0, cols.length - 1);
  while (total(shown) > width) {
    let drop = -1;
    for (let i = shown.length - 1; i >= 0; i--) if (shown[i].optional) { drop = i; break; }
    if (drop < 0) break;
    shown.splice(drop, 1);
  }
  const spare = Math.max(0, width - total(shown));
  const weights = shown.reduce((s, c) => s + (c.grow ?? 0), 0);
  let given = 0;
  const out = shown.map((col) => {
    const extra = weights === 0 ? 0 : Math.floor((spare * (col.grow ?? 0)) / weights);
    given += extra;
    return { col, width: col.width + extra };
  });
  // Rounding leftovers go to the first growing column so rows fill the width exactly.
  const first = out.find((c) => (c.col.grow ?? 0) > 0);
  if (first) first.width += spare - given;
  return out;
}

/** The first row to show so that `selected` is visible in `visible` lines. */
export function scrollTop(selected: number, count: number, visible: number): number {
  if (count <= visible || visible <= 0) return 0;
  const top = selected - Math.floor(visible / 2);
  return Math.max(0, Math.min(count - visible, top));
}

export function Table<Row>({ columns, rows, width, height, selected, theme, empty }: TableProps<Row>) {
  const layout = layoutColumns(columns, width);
  const visible = Math.max(0, height - 1);
  const top = scrollTop(selected, rows.length, visible);
  const header = layout.map((l) => fit(l.col.header, l.width, l.col.align)).join(' ');
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">{header}</Text>
      {rows.length === 0 ? <Text {...tone(theme, 'dim')}>{empty ?? 'nothing yet'}</Text> : null}
      {rows.slice(top, top + visible).map((row, i) => {
        const index = top + i;
        const isSelected = index === selected;
        return (
          <Text key={index} inverse={isSelected} wrap="truncate">
            {layout.map((l, c) => {
              const t = l.col.tone?.(row);
              const cell = l.col.cell(row);
              const text = l.col.cut === 'middle' ? fitMiddle(cell, l.width) : l.col.cut === 'endpoint' ? fitEndpoint(cell, l.width) : fit(cell, l.width, l.col.align);
              const sep = c === 0 ? '' : ' ';
              return t && !isSelected ? (
                <Text key={c} {...tone(theme, t)}>{sep + text}</Text>
              ) : (
                sep + text
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
}
