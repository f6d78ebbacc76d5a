/**
 * The prebuilt capture addons (native/prebuild.mjs): linux-x64 built here and linux-arm64 cross-compiled, each
 * an ELF of its machine; and npm's install step in a package laid out as npm installs it: a prebuild that
 * matches and loads is used with nothing compiled, and the loader picks it; with no matching prebuild, or one
 * that does not load, the addon is built from source and the loader falls back to it. Needs a compiler and
 * libpcap-dev (as `npm ci` does); the arm64 case needs gcc-aarch64-linux-gnu and arm64 in apt's lists (.ci/run
 * sets both up) and says so when they are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../test-support/corpus.js';

const ADDON = 'loopy_capture.napi.glibc.node';
const ELF_MACHINE = { x64: 62, arm64: 183 } as const;

function haveCrossCompiler(): boolean {
  return spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc'], { stdio: 'ignore' }).status === 0;
}

function prebuild(arches: string, out: string): string {
  const r = spawnSync(process.execPath, [join(projectRoot, 'native', 'prebuild.mjs'), '--arch', arches, '--out', out], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** e_machine of an ELF file, read from its header. */
function elfMachine(path: string): number {
  const r = spawnSync('od', ['-An', '-tu2', '-j18', '-N2', path], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('native/prebuild.mjs: a linux-x64 addon and a cross-compiled linux-arm64 one, each for its machine', { skip: haveCrossCompiler() ? false : 'no aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu; .ci/run does)', timeout: 600_000 }, (t) => {
  const out = mkdtempSync(join(tmpdir(), 'loopy-prebuilds-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const said = prebuild('x64,arm64', out);
  assert.match(said, /linux-x64: .*loopy_capture\.napi\.glibc\.node/);
  assert.match(said, /linux-arm64: .*loopy_capture\.napi\.glibc\.node/);
  for (const arch of ['x64', 'arm64'] as const) assert.equal(elfMachine(join(out, `linux-${arch}`, ADDON)), ELF_MACHINE[arch], arch);
  const described = spawnSync('file', ['-b', join(out, 'linux-arm64', ADDON), join(out, 'linux-x64', ADDON)], { encoding: 'utf8' });
  if (described.status === 0) {
    const [arm, x86] = described.stdout.trim().split('\n');
    assert.match(arm, /ELF 64-bit LSB shared object, ARM aarch64/);
    assert.match(x86, /ELF 64-bit LSB shared object, x86-64/);
  }
  // libpcap stays shared (libpcap0.8 at run time): the arm64 addon needs it and libc, nothing else.
  const needed = spawnSync('readelf', ['-d', join(out, 'linux-arm64', ADDON)], { encoding: 'utf8' }).stdout;
  assert.deepEqual([...needed.matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]).sort(), ['libc.so.6', 'libpcap.so.0.8']);
});

/** A package laid out as npm installs it: package.json, native/ (install script and sources), dist's loader, node_modules. */
function packageCopy(dir: string): string {
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'native'), { recursive: true });
  copyFileSync(join(projectRoot, 'package.json'), join(pkg, 'package.json'));
  for (const f of ['build-addon.mjs', 'node-gyp.mjs', 'binding.gyp']) copyFileSync(join(projectRoot, 'native', f), join(pkg, 'native', f));
  cpSync(join(projectRoot, 'native', 'src'), join(pkg, 'native', 'src'), { recursive: true });
  mkdirSync(join(pkg, 'dist', 'capture'), { recursive: true });
  copyFileSync(join(projectRoot, 'dist', 'capture', 'live-addon.js'), join(pkg, 'dist', 'capture', 'live-addon.js'));
  symlinkSync(join(projectRoot, 'node_modules'), join(pkg, 'node_modules'));
  return pkg;
}

function installStep(pkg: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(pkg, 'native', 'build-addon.mjs')], { cwd: pkg, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Which file the package's loader picks, and the libpcap version the addon it loads reports. */
function loaderPick(pkg: string): { path: string; libpcap: string } {
  const script = `import('./dist/capture/live-addon.js').then((m) => console.log(JSON.stringify({ path: m.captureAddonPath(), libpcap: m.loadCaptureAddon().libVersion() })))`;
  const env = { ...process.env };
  delete env.LOOPY_CAPTURE_ADDON;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: pkg, encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { path: string; libpcap: string };
}

test('install step: a matching prebuild is used with nothing compiled; none matching, or one that does not load, builds from source', { timeout: 600_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-install-step-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = packageCopy(dir);
  const x64 = join(pkg, 'prebuilds', `linux-${process.arch}`, ADDON);
  prebuild(process.arch, join(pkg, 'prebuilds'));

  const prebuilt = installStep(pkg);
  assert.equal(prebuilt.status, 0, prebuilt.out);
  assert.match(prebuilt.out, new RegExp(`capture addon: prebuilt prebuilds/linux-${process.arch}/${ADDON}, nothing to compile`));
  assert.ok(!existsSync(join(pkg, 'native', 'build')), 'nothing was compiled');
  const picked = loaderPick(pkg);
  assert.equal(picked.path, x64);
  assert.match(picked.libpcap, /^libpcap version /);

  // Only another architecture's prebuild: the install step compiles, and the loader takes that build.
  const other = join(pkg, 'prebuilds', 'linux-s390x');
  mkdirSync(other);
  copyFileSync(x64, join(other, ADDON));
  rmSync(join(pkg, 'prebuilds', `linux-${process.arch}`), { recursive: true });
  const built = installStep(pkg);
  assert.equal(built.status, 0, built.out);
  assert.match(built.out, /capture addon built: native\/build\/Release\/loopy_capture\.node/);
  assert.equal(loaderPick(pkg).path, join(pkg, 'native', 'build', 'Release', 'loopy_capture.node'));

  // A prebuild for this machine that does not load (a broken file): the install step says so and builds;
  // the loader tries it first, then takes the build.
  mkdirSync(dirname(x64), { recursive: true });
  writeFileSync(x64, 'not an ELF file');
  const rebuilt = installStep(pkg);
  assert.equal(rebuilt.status, 0, rebuilt.out);
  assert.match(rebuilt.out, /prebuilt capture addon prebuilds\/linux-\w+\/\S+ does not load here \(.*\); building from source/);
  assert.match(rebuilt.out, /capture addon built/);
  assert.match(loaderPick(pkg).libpcap, /^libpcap version /);
});
