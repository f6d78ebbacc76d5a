/** A mistake in how the command was called: one line, what and what to do; exit status 2. */
export class UsageError extends Error {
  readonly code = 'LOOPY_USAGE';
}

export function parsePositiveInt(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new UsageError(`${option} takes a whole number from 1 to ${max}, not '${text}'`);
  return n;
}
