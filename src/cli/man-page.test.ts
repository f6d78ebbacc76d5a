/**
 * loopy(1): the shipped page is what the generator writes from the commands' definitions, groff reads it
 * without a warning, man shows every command and option, and the package installs it with the completions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandSpecs } from './command-specs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE = `${ROOT}man/loopy.1`;

test('man/loopy.1 is what src/cli/man-page.ts generates', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./man-page.js', import.meta.url))], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(PAGE, 'utf8'), r.stdout, 'regenerate it: node dist/cli/man-page.js > man/loopy.1');
});

test('groff reads the page without a warning; man shows every command and option', async () => {
  const lint = spawnSync('groff', ['-man', '-ww', '-z', PAGE], { encoding: 'utf8' });
  assert.equal(lint.status, 0);
  assert.equal(lint.stderr, '');
  const shown = spawnSync('man', ['-l', PAGE], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '120', MAN_KEEP_FORMATTING: '' } });
  assert.equal(shown.status, 0, shown.stderr);
  // Plain text: man may still hyphenate or embolden; join what it split.
  const text = shown.stdout.replace(/.\x08/g, '').replace(/‐\n\s*/g, '');
  for (const section of ['NAME', 'SYNOPSIS', 'COMMANDS', 'FILES', 'SIGNALS', 'ENVIRONMENT', 'EXIT STATUS', 'EXAMPLES', 'SHELL COMPLETION']) assert.match(text, new RegExp(`^${section}$`, 'm'));
  for (const spec of await commandSpecs()) {
    assert.match(text, new RegExp(`^ {3}loopy ${spec.name} `, 'm'), spec.name);
    for (const option of spec.options) for (const name of option.names) assert.ok(text.includes(name), `loopy ${spec.name} ${name}`);
  }
});

test('npm installs the man page (package.json "man") and ships the completion scripts and config schemas', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { man: string[] };
  assert.deepEqual(pkg.man, ['./man/loopy.1']);
  const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
  for (const f of ['man/loopy.1', 'contrib/completion/loopy.bash', 'contrib/completion/_loopy', 'contrib/loopy-agent.schema.json', 'contrib/loopy-detection.schema.json', 'contrib/agent.json', 'contrib/detect.json']) {
    assert.ok(files.has(f), `${f} is in the package`);
  }
});
