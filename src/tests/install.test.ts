/**
 * The README's install, as a user runs it: the quick start's `ln` puts `loopy` on the PATH (here into a
 * temporary bin directory instead of /usr/local/bin), and the command then runs from any folder; the package
 * npm would publish is named loopy-netmon and carries the `loopy` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { projectRoot } from '../test-support/corpus.js';

/** The shell commands of the README's quick start (its first ```sh block), split at `&&`. */
function quickStartCommands(): string[] {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section);
  assert.ok(block, 'the quick start has a sh block');
  return block[1].split(' && ').map((c) => c.trim());
}

test('README install: its ln puts loopy on the PATH, and loopy then runs from any folder', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const link = quickStartCommands().find((c) => /\bln -sf\b/.test(c));
  assert.ok(link !== undefined && link.endsWith(' /usr/local/bin/loopy'), `the quick start links loopy into /usr/local/bin: ${link}`);
  // As root, where $(command -v sudo) is empty; run in the clone, as the quick start is.
  const asRun = link.replace('$(command -v sudo) ', '').replace(' /usr/local/bin/loopy', ` ${bin}/loopy`);
  const made = spawnSync('sh', ['-c', asRun], { cwd: projectRoot, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);

  const user = join(dir, 'elsewhere');
  mkdirSync(user);
  await generateCapture({ seed: 3, packets: 300, incidents: [] }, join(user, 'small.pcap'));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const version = spawnSync('loopy', ['--version'], { cwd: user, env, encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^loopy \d+\.\d+\.\d+/);
  const read = spawnSync('loopy', ['read', 'small.pcap'], { cwd: user, env, encoding: 'utf8' });
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, /^small\.pcap \(pcap/);
});

test('the npm package: a publishable name of its own, the loopy command and what it runs packed in', { timeout: 60_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
  // `loopy` on the npm registry is an unrelated project.
  assert.equal(pkg.name, 'loopy-netmon');
  assert.deepEqual(Object.keys(pkg.bin), ['loopy']);
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const [packed] = JSON.parse(r.stdout) as Array<{ name: string; files: Array<{ path: string; mode: number }> }>;
  assert.equal(packed.name, 'loopy-netmon');
  const files = new Map(packed.files.map((f) => [f.path, f.mode]));
  assert.equal((files.get(pkg.bin.loopy) ?? 0) & 0o111, 0o111, `${pkg.bin.loopy} is packed, executable`);
  assert.ok(files.has('dist/cli/main.js'), 'the CLI it runs is packed');
  // npm's install step and the modules it imports (a file left out breaks every install of the package).
  const install = readFileSync(join(projectRoot, 'native', 'build-addon.mjs'), 'utf8');
  const imported = [...install.matchAll(/from '\.\/([^']+)'/g)].map((m) => `native/${m[1]}`);
  assert.ok(imported.length > 0);
  for (const f of ['native/build-addon.mjs', ...imported]) assert.ok(files.has(f), `${f} is packed`);
});
