/**
 * The keys every list view shares: arrows and j/k move, PgUp/PgDn and g/G jump, Enter opens the detail,
 * Esc closes it, `s` steps through the sort orders. Kept in one hook so all views behave alike.
 */
import { useInput } from 'ink';
import { createContext, useContext, useEffect, useState } from 'react';

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

export function useListNavigation(count: number, options: { active: boolean; page: number; sorts?: number }): ListNavigation {
  const [selected, setSelected] = useState(0);
  const [detail, setDetail] = useState(false);
  const [sort, setSort] = useState(0);
  const last = Math.max(0, count - 1);
  const detailOpen = detail && count > 0;
  const reportDetail = useContext(DetailOpenContext);
  useEffect(() => {
    reportDetail(detailOpen);
    return () => reportDetail(false);
  }, [detailOpen, reportDetail]);
  useInput(
    (input, key) => {
      if (key.escape) return setDetail(false);
      if (key.return) return setDetail(count > 0);
      if (detail) return;
      if (key.downArrow || input === 'j') return setSelected((s) => Math.min(last, s + 1));
      if (key.upArrow || input === 'k') return setSelected((s) => Math.max(0, Math.min(last, s) - 1));
      if (key.pageDown) return setSelected((s) => Math.min(last, s + options.page));
      if (key.pageUp) return setSelected((s) => Math.max(0, s - options.page));
      if (input === 'g' || key.home) return setSelected(0);
      if (input === 'G' || key.end) return setSelected(last);
      if (input === 's' && options.sorts) return setSort((s) => (s + 1) % (options.sorts ?? 1));
    },
    { isActive: options.active },
  );
  return { selected: Math.min(selected, last), detail: detailOpen, sort, closeDetail: () => setDetail(false) };
}
