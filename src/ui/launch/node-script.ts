/**
 * The Node arguments that run one of Loopy's own scripts (the CLI, the capture generator) in a child process:
 * the built .js file, or its .ts source under tsx when running from the sources (development).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `js`: the script's URL as built, e.g. new URL('../cli/main.js', import.meta.url). */
export function nodeScript(js: URL): string[] {
  const path = fileURLToPath(js);
  if (existsSync(path)) return [path];
  return ['--import', 'tsx', path.replace(/\.js$/, '.ts')];
}
