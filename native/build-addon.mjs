#!/usr/bin/env node
/**
 * Builds the capture addon (loopy_capture.node) with node-gyp; run by npm at install time.
 * It never fails the install: without libpcap-dev or a compiler, offline analysis still works and live
 * capture explains what to install. LOOPY_REQUIRE_ADDON=1 (or --require, for CI and development) makes
 * a failed build an error; LOOPY_SKIP_ADDON=1 skips the build. node-gyp's output (some sixty lines) is kept
 * out of the install: one line says the addon is built, and only a failed build shows what node-gyp said.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.argv.includes('--require') || process.env.LOOPY_REQUIRE_ADDON === '1';
const HINT = 'apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy-netmon';

function giveUp(why) {
  const line = `loopy: capture addon not built (${why}); offline analysis works, live capture needs: ${HINT}`;
  console.warn(line);
  process.exit(required ? 1 : 0);
}

/** node-gyp: the one npm runs us with, a local dependency, or the one bundled with npm. */
function findNodeGyp() {
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

function havePcapHeaders() {
  const dirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
  return dirs.some((d) => existsSync(join(d, 'pcap', 'pcap.h')) || existsSync(join(d, 'pcap.h')));
}

/** Runs a command with its stdout and stderr in one file (their lines stay in order), and returns what it wrote. */
function runQuietly(command, commandArgs) {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-addon-'));
  const file = join(dir, 'node-gyp.log');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(command, commandArgs, { cwd: here, stdio: ['ignore', fd, fd] });
    return { status: r.status, signal: r.signal, error: r.error, output: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.LOOPY_SKIP_ADDON === '1') giveUp('LOOPY_SKIP_ADDON=1');
if (process.platform !== 'linux') giveUp(`live capture is built for Linux, this is ${process.platform}`);
if (!havePcapHeaders()) giveUp('libpcap headers (pcap/pcap.h) not found');
const nodeGyp = findNodeGyp();
if (!nodeGyp) giveUp('node-gyp not found');

const args = [nodeGyp, 'rebuild'];
// Node's headers: npm passes its nodedir setting in the environment; a distribution's Node keeps them in
// /usr/include/node and has no tarball for node-gyp to download.
const systemNode = process.execPath.startsWith('/usr/bin/') && existsSync('/usr/include/node/node_api.h');
if (!process.env.npm_config_nodedir && systemNode) args.push('--nodedir=/usr');
const r = runQuietly(process.execPath, args);
if (r.status !== 0) {
  if (r.output) process.stderr.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
  giveUp(r.error ? `node-gyp did not start: ${r.error.message}` : `node-gyp exited with ${r.status ?? r.signal}; its output is above`);
}
console.log('loopy: capture addon built: native/build/Release/loopy_capture.node');
