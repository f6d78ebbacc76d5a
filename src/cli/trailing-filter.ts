import { UsageError } from './errors.js';

/**
 * The filter of a command that takes it as tcpdump does, with -f or as trailing words (`tcp port 80`);
 * both at once is wrong usage.
 */
export function filterOf(flag: string | undefined, words: readonly string[]): string | undefined {
  if (words.length === 0) return flag;
  if (flag !== undefined) throw new UsageError(`give the filter once: -f '${flag}' or the trailing words '${words.join(' ')}', not both`);
  return words.join(' ');
}
