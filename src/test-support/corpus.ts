/**
 * Finds the shared capture corpus (../shared beside the clone, or LOOPY_CORPUS_DIR). A user's clone has
 * none: tests that need it call `corpusOrSkip` and are skipped with a message saying why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root: two levels up from src/test-support or dist/test-support. */
export const projectRoot = resolve(here, '..', '..');

export const sharedDir = process.env.LOOPY_SHARED_DIR ?? resolve(projectRoot, '..', 'shared');
export const corpusDir = join(sharedDir, 'corpus');
export const referenceDir = join(sharedDir, 'corpus-reference');

export function haveCorpus(): boolean {
  return existsSync(join(corpusDir, 'MANIFEST.tsv'));
}

/** For node:test's `skip` option: false when the corpus is there, else the reason. */
export function corpusSkipReason(): string | false {
  if (haveCorpus()) return false;
  const reason = `corpus not found at ${corpusDir}: clone beside ../shared or set LOOPY_SHARED_DIR`;
  if (process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason;
}

export interface ManifestRow {
  path: string;
  format: string;
  formatDetail: string;
  linkType: string;
  packets: number;
  tsharkStatus: string;
  protocols: string;
  note: string;
  [column: string]: string | number;
}

export function readManifest(): ManifestRow[] {
  const lines = readFileSync(join(corpusDir, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split('\t');
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const row: Record<string, string> = {};
    header.forEach((name, i) => (row[name] = cells[i] ?? ''));
    return {
      ...row,
      path: row.path,
      format: row.format,
      formatDetail: row.format_detail,
      linkType: row.link_type,
      packets: Number(row.packets),
      tsharkStatus: row.tshark_status,
      protocols: row.protocols,
      note: row.note,
    } as ManifestRow;
  });
}

export function corpusPath(rel: string): string {
  return join(corpusDir, rel);
}

export function referencePath(rel: string, suffix: string): string {
  return join(referenceDir, `${rel}.${suffix}`);
}
