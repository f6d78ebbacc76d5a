/** A mistake in how the command was called: one line, what and what to do; exit status 2. */
export class UsageError extends Error {
  readonly code = 'LOOPY_USAGE';
}

export function parsePositiveInt(text: string, option: string, max?: number): number {
  const n = Number(text);
  const range = max === undefined ? '1 or more' : `from 1 to ${max}`;
  if (!Number.isSafeInteger(n) || n <= 0 || n > (max ?? Infinity)) throw new UsageError(`${option} takes a whole number ${range}, not '${text}'`);
  return n;
}
