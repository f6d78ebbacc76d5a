#!/usr/bin/env node
/**
 * Provides the capture addon (loopy_capture.node); run by npm at install time. A prebuilt addon for this
 * machine (prebuilds/linux-ARCH/, shipped in the package: native/prebuild.mjs) that loads is used as it is,
 * with no compiler; otherwise node-gyp builds native/ from source into native/build/Release.
 * It never fails the install: without libpcap-dev or a compiler, offline analysis still works and live
 * capture explains what to install. LOOPY_REQUIRE_ADDON=1 (or --require, for CI and development) makes
 * a missing addon an error; --from-source (or LOOPY_BUILD_FROM_SOURCE=1) builds even when a prebuild loads;
 * LOOPY_SKIP_ADDON=1 skips it all. node-gyp's output (some sixty lines) is kept out of the install: one line
 * says which addon is used, and only a failed build shows what node-gyp said.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, nodeDirArgs, runQuietly } from './node-gyp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const required = process.argv.includes('--require') || process.env.LOOPY_REQUIRE_ADDON === '1';
const fromSource = process.argv.includes('--from-source') || process.env.LOOPY_BUILD_FROM_SOURCE === '1';
const HINT = 'apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy-netmon';

function giveUp(why) {
  const line = `loopy: capture addon not built (${why}); offline analysis works, live capture needs: ${HINT}`;
  console.warn(line);
  process.exit(required ? 1 : 0);
}

function havePcapHeaders() {
  const dirs = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
  return dirs.some((d) => existsSync(join(d, 'pcap', 'pcap.h')) || existsSync(join(d, 'pcap.h')));
}

/** The prebuilt addon node-gyp-build picks for this machine, if there is one and it loads here; else undefined. */
function loadablePrebuild() {
  const require = createRequire(import.meta.url);
  let path;
  try {
    path = require('node-gyp-build').path(root);
  } catch {
    return undefined; // none for this platform and architecture
  }
  try {
    require(path);
    return path;
  } catch (err) {
    console.warn(`loopy: prebuilt capture addon ${relative(root, path)} does not load here (${String(err.message).split('\n')[0]}); building from source`);
    return undefined;
  }
}

if (process.env.LOOPY_SKIP_ADDON === '1') giveUp('LOOPY_SKIP_ADDON=1');
if (!fromSource) {
  const prebuilt = loadablePrebuild();
  if (prebuilt) {
    console.log(`loopy: capture addon: prebuilt ${relative(root, prebuilt)}, nothing to compile`);
    process.exit(0);
  }
}
if (process.platform !== 'linux') giveUp(`live capture is built for Linux, this is ${process.platform}`);
if (!havePcapHeaders()) giveUp('libpcap headers (pcap/pcap.h) not found');
const nodeGyp = findNodeGyp();
if (!nodeGyp) giveUp('node-gyp not found');

const r = runQuietly(process.execPath, [nodeGyp, 'rebuild', ...nodeDirArgs()], { cwd: here });
if (r.status !== 0) {
  if (r.output) process.stderr.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
  giveUp(r.error ? `node-gyp did not start: ${r.error.message}` : `node-gyp exited with ${r.status ?? r.signal}; its output is above`);
}
console.log('loopy: capture addon built: native/build/Release/loopy_capture.node');
