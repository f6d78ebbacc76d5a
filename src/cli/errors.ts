/** A mistake in how the command was called: one line, what and what to do; exit status 2. */
export class UsageError extends Error {
  readonly code = 'LOOPY_USAGE';
}

export function parsePositiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${option} takes a whole number above 0, not '${text}'`);
  return n;
}
