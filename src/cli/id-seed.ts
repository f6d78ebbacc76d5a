import { idSeedFrom, MAX_ID_SEED, setIdSeed } from '../analyze/flows/uid.js';
import { UsageError } from './errors.js';

export const SEED_HELP = 'repeatable uids and alert ids: the same capture and N give the same ids (default: random per process; also $LOOPY_SEED)';

/**
 * Makes this process's uids and alert ids repeatable when `--seed N` (or, without it, $LOOPY_SEED) asks, as
 * Zeek's seed file does; otherwise they stay random per process. A bad value is wrong usage.
 */
export function applySeedOption(flag: string | undefined, env = process.env.LOOPY_SEED): void {
  const [text, name] = flag !== undefined ? [flag, '--seed'] : [env, 'LOOPY_SEED'];
  if (text === undefined || text === '') return;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > MAX_ID_SEED) throw new UsageError(`${name} takes a whole number from 0 to ${MAX_ID_SEED}, not '${text}'`);
  setIdSeed(idSeedFrom(n));
}
