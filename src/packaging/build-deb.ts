/**
 * `npm run package`: builds the .deb a sysadmin installs in one command (`apt install ./loopy-netmon_V_amd64.deb`)
 * on a server with no compiler and no Node.js (docs/decisions/0019-packaging.md). It holds the built CLI
 * (dist/), the production node_modules (better-sqlite3's compiled module among them), the prebuilt capture
 * addon, and the Node binary that runs this script (Debian 12's own nodejs is 18, too old); apt resolves the
 * shared libraries they need (dpkg-shlibdeps reads them off the ELF files: libc, libstdc++, libpcap0.8).
 * The system files are the repository's own: contrib/loopy-agent.service (ExecStart pointed at /usr/bin/loopy),
 * contrib/agent.json and detect.json as /etc/loopy, the logrotate snippet, man/loopy.1, contrib/completion/, and
 * the maintainer scripts in contrib/deb/ (the loopy user, /var/lib/loopy, /var/log/loopy).
 * A build tool: it runs on the developer's or CI's machine, never in the agent.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the application lives on the server; /usr/bin/loopy links to its launcher. */
export const APP_DIR = '/usr/lib/loopy';
export const PACKAGE_NAME = 'loopy-netmon';
const DEB_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64' };

export interface DebOptions {
  /** Folder the .deb is written to (default package/ in the repository, gitignored). */
  outDir: string;
  /** The Node binary to ship (default: the one running this). */
  node: string;
  /** Prebuilt addons to ship (prebuilds/ layout); default: built now by native/prebuild.mjs. */
  prebuilds?: string;
  /**
   * zstd (default: 2 s, 37 MiB; dpkg ≥ 1.21.18, i.e. Debian 12, Ubuntu 22.04 and later) or xz (50 s on two
   * busy cores, 26 MiB; any dpkg).
   */
  compress?: 'zstd' | 'xz';
}

export interface BuiltDeb {
  path: string;
  bytes: number;
  installedKiB: number;
  depends: string;
}

/** A step that failed: one line, what and what to do. */
export class PackageError extends Error {}

function run(command: string, args: string[], cwd = projectRoot): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new PackageError(`${command} did not start (${r.error.message})`);
  if (r.status !== 0) throw new PackageError(`${command} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** The application tree: package.json, bin/, dist/ without tests, production node_modules, prebuilds, Node. */
function stageApp(app: string, options: DebOptions): void {
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(projectRoot, f), join(app, f));
  cpSync(join(projectRoot, 'bin'), join(app, 'bin'), { recursive: true });
  if (!existsSync(join(projectRoot, 'dist', 'cli', 'main.js'))) throw new PackageError('dist/ is not built: npx tsc -p tsconfig.json');
  cpSync(join(projectRoot, 'dist'), join(app, 'dist'), { recursive: true, filter: (src) => !/\.test\.(js|d\.ts)(\.map)?$/.test(src) });
  cpSync(join(projectRoot, 'node_modules'), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  // npm's own pruning, from the lock file, offline: the development dependencies go.
  run('npm', ['prune', '--prefix', app, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  rmSync(join(app, 'package-lock.json'));
  keepOnlyCompiledSqlite(join(app, 'node_modules', 'better-sqlite3'));
  stagePrebuilds(join(app, 'prebuilds'), options.prebuilds);
  const node = join(app, 'node', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  run('strip', ['--strip-unneeded', '-o', node, options.node]);
}

/** better-sqlite3 needs its lib/ and the one compiled module; its C sources and object files are 27 MB. */
function keepOnlyCompiledSqlite(dir: string): void {
  const module = join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(module)) throw new PackageError(`${relative(projectRoot, module)} is missing: npm ci builds it`);
  const keep = readFileSync(module);
  for (const name of ['deps', 'src', 'build']) rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(dirname(module), { recursive: true });
  writeFileSync(module, keep, { mode: 0o755 });
}

function stagePrebuilds(dest: string, from: string | undefined): void {
  if (from) {
    cpSync(from, dest, { recursive: true });
    return;
  }
  const arch = process.arch;
  const out = run(process.execPath, [join(projectRoot, 'native', 'prebuild.mjs'), '--arch', arch, '--out', dest]);
  if (!out.includes(`linux-${arch}`)) throw new PackageError(`native/prebuild.mjs made no linux-${arch} addon`);
}

/** The unit as contrib has it, with ExecStart on the packaged command instead of npm's /usr/local/bin. */
export function packagedUnit(unit: string): string {
  return unit
    .split('\n')
    .filter((line) => !line.startsWith('# Adjust the path'))
    .map((line) => (line.startsWith('ExecStart=') ? line.replace(/^ExecStart=\S+/, 'ExecStart=/usr/bin/loopy') : line))
    .join('\n');
}

/** Configuration under /etc (conffiles: dpkg keeps the admin's edits), the unit, man page, completion. */
function stageSystemFiles(root: string): string[] {
  const contrib = (name: string) => join(projectRoot, 'contrib', name);
  const conffiles: Array<[string, string]> = [
    [contrib('agent.json'), '/etc/loopy/agent.json'],
    [contrib('detect.json'), '/etc/loopy/detect.json'],
    [contrib('loopy-agent.schema.json'), '/etc/loopy/loopy-agent.schema.json'],
    [contrib('loopy-detection.schema.json'), '/etc/loopy/loopy-detection.schema.json'],
    [contrib('logrotate.d/loopy'), '/etc/logrotate.d/loopy'],
  ];
  for (const [from, to] of conffiles) place(root, to, readFileSync(from));
  place(root, '/lib/systemd/system/loopy-agent.service', packagedUnit(readFileSync(contrib('loopy-agent.service'), 'utf8')));
  place(root, '/usr/share/man/man1/loopy.1.gz', gzipSync(readFileSync(join(projectRoot, 'man', 'loopy.1')), { level: 9 }));
  place(root, '/usr/share/bash-completion/completions/loopy', readFileSync(contrib('completion/loopy.bash')));
  place(root, '/usr/share/zsh/vendor-completions/_loopy', readFileSync(contrib('completion/_loopy')));
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  symlinkSync(`../lib/loopy/bin/loopy`, join(root, 'usr', 'bin', 'loopy'));
  return conffiles.map(([, to]) => to);
}

function place(root: string, path: string, content: string | Buffer): void {
  const dest = join(root, path);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, content, { mode: 0o644 });
}

/** The Depends line dpkg-shlibdeps derives from the ELF files' needed libraries and symbol versions. */
function sharedLibraryDepends(root: string): string {
  const elves = [
    join(root, APP_DIR, 'node', 'bin', 'node'),
    join(root, APP_DIR, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    ...readdirSync(join(root, APP_DIR, 'prebuilds'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.startsWith(`linux-${process.arch}/`) && f.endsWith('.node'))
      .map((f) => join(root, APP_DIR, 'prebuilds', f)),
  ];
  // dpkg-shlibdeps wants a debian/control to read; it is only consulted for the package's name.
  const work = join(dirname(root), 'shlibdeps');
  place(work, '/debian/control', `Source: ${PACKAGE_NAME}\n\nPackage: ${PACKAGE_NAME}\nArchitecture: any\n`);
  const out = run('dpkg-shlibdeps', ['-O', ...elves.map((e) => `-e${e}`)], work);
  const depends = /shlibs:Depends=(.*)/.exec(out)?.[1];
  if (!depends) throw new PackageError(`dpkg-shlibdeps gave no Depends: ${out}`);
  return depends;
}

function installedKiB(dir: string): number {
  let bytes = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const s = statSync(join(dir, f), { throwIfNoEntry: false });
    if (s?.isFile()) bytes += s.size;
  }
  return Math.ceil(bytes / 1024);
}

function control(version: string, arch: string, depends: string, kib: number): string {
  return `Package: ${PACKAGE_NAME}
Version: ${version}
Architecture: ${arch}
Maintainer: Loopy developers <loopy@localhost>
Installed-Size: ${kib}
Depends: ${depends}
Section: net
Priority: optional
Description: network traffic monitor for Linux servers (the loopy command)
 Passive capture (libpcap, kernel BPF filter), flows, DNS, TLS, HTTP, alerts on
 suspicious traffic, history in SQLite, and a terminal UI over several agents.
 Ships its own Node.js and a prebuilt capture addon: no compiler needed. The
 loopy-agent systemd unit runs the agent as the loopy user with CAP_NET_RAW.
`;
}

function writeMaintainerFiles(root: string, version: string, arch: string, conffiles: string[]): void {
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian, { mode: 0o755 });
  const depends = sharedLibraryDepends(root);
  writeFileSync(join(debian, 'control'), control(version, arch, depends, installedKiB(root)));
  writeFileSync(join(debian, 'conffiles'), `${conffiles.join('\n')}\n`);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(projectRoot, 'contrib', 'deb', script), join(debian, script));
    chmodSync(join(debian, script), 0o755);
  }
}

/** Builds the .deb for this machine's architecture and returns where it is and what it weighs. */
export function buildDeb(options: DebOptions): BuiltDeb {
  const arch = DEB_ARCH[process.arch];
  if (process.platform !== 'linux' || !arch) throw new PackageError(`a .deb is built for linux x64 or arm64, this is ${process.platform} ${process.arch}`);
  const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `${PACKAGE_NAME}_${version}_${arch}`;
  const stage = join(options.outDir, `${name}.stage`);
  const root = join(stage, 'root');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(root, APP_DIR), { recursive: true });
  try {
    stageApp(join(root, APP_DIR), options);
    const conffiles = stageSystemFiles(root);
    writeMaintainerFiles(root, version, arch, conffiles);
    const path = join(options.outDir, `${name}.deb`);
    run('dpkg-deb', ['--root-owner-group', `-Z${options.compress ?? 'zstd'}`, '--build', root, path]);
    const fields = run('dpkg-deb', ['--field', path, 'Depends', 'Installed-Size']);
    const installed = Number(/Installed-Size: (\d+)/.exec(fields)?.[1]);
    return { path, bytes: statSync(path).size, installedKiB: installed, depends: /Depends: (.*)/.exec(fields)?.[1] ?? '' };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function optionValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = resolve(optionValue(args, '--out') ?? join(projectRoot, 'package'));
  mkdirSync(outDir, { recursive: true });
  const compress = optionValue(args, '--compress') ?? 'zstd';
  try {
    if (compress !== 'zstd' && compress !== 'xz') throw new PackageError(`--compress ${compress}: zstd or xz`);
    const deb = buildDeb({ outDir, node: optionValue(args, '--node') ?? process.execPath, prebuilds: optionValue(args, '--prebuilds'), compress });
    const shown = relative(process.cwd(), deb.path).startsWith('..') ? deb.path : `./${relative(process.cwd(), deb.path)}`;
    console.log(`${shown}: ${(deb.bytes / 2 ** 20).toFixed(1)} MiB, ${(deb.installedKiB / 1024).toFixed(0)} MiB installed; Depends: ${deb.depends}`);
    console.log(`install it on a server: apt install ${shown}`);
  } catch (err) {
    if (!(err instanceof PackageError)) throw err;
    console.error(`loopy package: ${err.message}`);
    process.exit(1);
  }
}
