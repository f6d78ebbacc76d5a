/**
 * The keys every list view shares: arrows and j/k move, PgUp/PgDn and g/G jump, Enter opens the detail,
 * Esc closes it, `s` steps through the sort orders. Kept in one hook so all views behave alike.
 */
import { useInput } from 'ink';
import { createContext, useContext, useEffect, useRef, useState } from 'react';

/**
 * Where a list tells the shell whether its detail is open: Esc closes an open detail, and only otherwise
 * clears the view's filter (the shell's key), so one Esc never does both.
 */
export const DetailOpenContext = createContext<(open: boolean) => void>(() => {});

export interface ListNavigation {
  selected: number;
  detail: boolean;
  sort: number;
  closeDetail: () => void;
}

export interface ListNavigationOptions {
  active: boolean;
  page: number;
  sorts?: number;
  /**
   * Each row's identity, in display order: the selection then stays on the same row when rows come, go or
   * move under it (an alert list re-sorting as alerts arrive), so a key acts on the row the user chose.
   */
  rowKeys?: readonly string[];
}

export function useListNavigation(count: number, options: ListNavigationOptions): ListNavigation {
  const [, setRenders] = useState(0);
  const [detail, setDetail] = useState(false);
  const [sort, setSort] = useState(0);
  const last = Math.max(0, count - 1);
  // Refs, changed synchronously by each key: a burst of keys (j j j from tmux) arrives before React renders.
  const position = useRef(0);
  const chosenKey = useRef<string | undefined>(undefined);
  const found = chosenKey.current === undefined ? -1 : (options.rowKeys?.indexOf(chosenKey.current) ?? -1);
  // The row chosen, wherever it now is; when it is gone (or rows have no keys), the same place in the list.
  position.current = found >= 0 ? found : Math.min(position.current, last);
  const selected = position.current;
  chosenKey.current = options.rowKeys?.[selected];
  const detailOpen = detail && count > 0;
  const reportDetail = useContext(DetailOpenContext);
  useEffect(() => {
    reportDetail(detailOpen);
    return () => reportDetail(false);
  }, [detailOpen, reportDetail]);
  const moveTo = (to: (at: number) => number) => {
    position.current = Math.max(0, Math.min(last, to(position.current)));
    chosenKey.current = options.rowKeys?.[position.current];
    setRenders((n) => n + 1);
  };
  useInput(
    (input, key) => {
      if (key.escape) return setDetail(false);
      if (key.return) return setDetail(count > 0);
      if (detail) return;
      if (key.downArrow || input === 'j') return moveTo((at) => at + 1);
      if (key.upArrow || input === 'k') return moveTo((at) => at - 1);
      if (key.pageDown) return moveTo((at) => at + options.page);
      if (key.pageUp) return moveTo((at) => at - options.page);
      if (input === 'g' || key.home) return moveTo(() => 0);
      if (input === 'G' || key.end) return moveTo(() => last);
      if (input === 's' && options.sorts) return setSort((s) => (s + 1) % (options.sorts ?? 1));
    },
    { isActive: options.active },
  );
  return { selected, detail: detailOpen, sort, closeDetail: () => setDetail(false) };
}
