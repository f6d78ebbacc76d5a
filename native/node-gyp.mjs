/**
 * What native/build-addon.mjs (npm's install step) and native/prebuild.mjs (the prebuilds a package ships)
 * share: finding node-gyp, the Node headers to build against, and running it with its output kept aside.
 * Plain JS: it runs at install time, before TypeScript is compiled.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** node-gyp: the one npm runs us with, a local dependency, or the one bundled with npm. */
export function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency: fall through to npm's own copy
  }
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => existsSync(c));
}

/**
 * node-gyp's arguments for Node's headers: npm passes its nodedir setting in the environment; a Node
 * installed under /usr keeps them in /usr/include/node and there is no tarball to download.
 */
export function nodeDirArgs() {
  const systemNode = process.execPath.startsWith('/usr/bin/') && existsSync('/usr/include/node/node_api.h');
  return !process.env.npm_config_nodedir && systemNode ? ['--nodedir=/usr'] : [];
}

/** Runs a command with its stdout and stderr in one file (their lines stay in order), and returns what it wrote. */
export function runQuietly(command, commandArgs, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-addon-'));
  const file = join(dir, 'output.log');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(command, commandArgs, { ...options, stdio: ['ignore', fd, fd] });
    return { status: r.status, signal: r.signal, error: r.error, output: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
