#!/usr/bin/env node
/**
 * Builds the prebuilt capture addons a package ships, so that a server needs no compiler and no libpcap-dev:
 * `node native/prebuild.mjs [--arch x64,arm64] [--out DIR]` (npm run prebuild). Each lands where node-gyp-build
 * looks for it: DIR/linux-ARCH/loopy_capture.napi.glibc.node (default DIR: prebuilds/ at the package root).
 * One Node-API 8 build serves every Node version; libpcap stays a shared library (libpcap0.8 at run time:
 * docs/decisions/0019-packaging.md says why not a static one).
 * arm64 is cross-compiled: gcc-aarch64-linux-gnu, and libpcap's arm64 headers and library taken from Debian's
 * .debs (apt-get download, unpacked into a cache: nothing of the other architecture is installed).
 * Each build runs in a copy of native/, so native/build (the developer's own build) is left alone.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, nodeDirArgs, runQuietly } from './node-gyp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const ADDON_FILE = 'loopy_capture.napi.glibc.node';

/** What each architecture is built with; `machine` is the ELF e_machine its output must carry. */
const TARGETS = {
  x64: { machine: 62, toolPrefix: '', debArch: 'amd64', triplet: 'x86_64-linux-gnu' },
  arm64: { machine: 183, toolPrefix: 'aarch64-linux-gnu-', debArch: 'arm64', triplet: 'aarch64-linux-gnu' },
};

function fail(line) {
  console.error(`loopy prebuild: ${line}`);
  process.exit(1);
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** The ELF e_machine of a file (offset 18, little-endian on both targets), or -1 when it is not ELF. */
export function elfMachine(path) {
  const head = readFileSync(path).subarray(0, 20);
  if (head.length < 20 || head.toString('latin1', 0, 4) !== '\x7fELF') return -1;
  return head.readUInt16LE(18);
}

/**
 * libpcap's headers and library for a foreign architecture, unpacked from Debian's own packages into a cache
 * directory (kept between runs). Needs that architecture in apt's lists (dpkg --add-architecture, apt-get update).
 */
function foreignSysroot(target) {
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'loopy', `sysroot-${target.debArch}`);
  const lib = join(cache, 'usr', 'lib', target.triplet);
  if (existsSync(join(lib, 'libpcap.so'))) return cache;
  if (!spawnSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).stdout?.split('\n').includes(target.debArch)) {
    fail(`apt has no ${target.debArch} packages to take libpcap from: dpkg --add-architecture ${target.debArch} && apt-get update`);
  }
  const debs = mkdtempSync(join(tmpdir(), 'loopy-debs-'));
  try {
    const packages = [`libpcap0.8:${target.debArch}`, `libpcap0.8-dev:${target.debArch}`];
    const got = runQuietly('apt-get', ['download', ...packages], { cwd: debs });
    if (got.status !== 0) fail(`apt-get download ${packages.join(' ')} failed:\n${got.output}`);
    mkdirSync(cache, { recursive: true });
    for (const deb of readdirSync(debs)) spawnSync('dpkg-deb', ['-x', join(debs, deb), cache], { stdio: 'inherit' });
  } finally {
    rmSync(debs, { recursive: true, force: true });
  }
  return cache;
}

/** The environment node-gyp's make runs with: the cross tools and the sysroot's paths for another architecture. */
function buildEnv(arch) {
  const target = TARGETS[arch];
  if (arch === process.arch) return process.env;
  const cc = `${target.toolPrefix}gcc`;
  if (!onPath(cc)) fail(`${cc} is not installed: apt-get install gcc-${target.triplet}`);
  // The cross compiler only recommends its C library's headers (apt's --no-install-recommends leaves them out).
  const libcHeaders = `/usr/${target.triplet}/include/stdio.h`;
  if (!existsSync(libcHeaders)) fail(`the ${target.debArch} C library's headers are missing (${libcHeaders}): apt-get install libc6-dev-${target.debArch}-cross`);
  const sysroot = foreignSysroot(target);
  return {
    ...process.env,
    CC: cc,
    CXX: `${target.toolPrefix}g++`,
    LINK: cc,
    AR: `${target.toolPrefix}ar`,
    CFLAGS: `-I${join(sysroot, 'usr', 'include')}`,
    LDFLAGS: `-L${join(sysroot, 'usr', 'lib', target.triplet)}`,
  };
}

/** Builds one architecture's addon in a scratch copy of native/ and returns where it was put. */
function prebuild(arch, outDir, nodeGyp) {
  const target = TARGETS[arch];
  const work = mkdtempSync(join(tmpdir(), `loopy-prebuild-${arch}-`));
  try {
    copyFileSync(join(here, 'binding.gyp'), join(work, 'binding.gyp'));
    cpSync(join(here, 'src'), join(work, 'src'), { recursive: true });
    const args = [nodeGyp, 'rebuild', `--arch=${arch}`, ...nodeDirArgs()];
    const r = runQuietly(process.execPath, args, { cwd: work, env: buildEnv(arch) });
    if (r.status !== 0) fail(`node-gyp failed for linux-${arch}:\n${r.output}`);
    const built = join(work, 'build', 'Release', 'loopy_capture.node');
    const strip = runQuietly(`${target.toolPrefix}strip`, ['--strip-unneeded', built]);
    if (strip.status !== 0) fail(`${target.toolPrefix}strip failed: ${strip.output}`);
    const machine = elfMachine(built);
    if (machine !== target.machine) fail(`linux-${arch} build is ELF machine ${machine}, not ${target.machine}`);
    const dest = join(outDir, `linux-${arch}`, ADDON_FILE);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(built, dest);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arches = option('--arch', 'x64,arm64').split(',');
  const unknown = arches.filter((a) => !(a in TARGETS));
  if (unknown.length) fail(`unknown --arch ${unknown.join(',')}: x64 or arm64`);
  const outDir = resolve(option('--out', join(root, 'prebuilds')));
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) fail('node-gyp not found (it comes with npm)');
  for (const arch of arches) {
    const dest = prebuild(arch, outDir, nodeGyp);
    console.log(`loopy prebuild: linux-${arch}: ${relative(process.cwd(), dest) || dest}`);
  }
}
