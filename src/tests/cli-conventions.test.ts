/**
 * The conventions a sysadmin's hands expect of `loopy`, as a user runs it: wrong usage is one `loopy:` line
 * and exit status 2 in every command, --help and --version exit 0, and tcpdump's -D lists the interfaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureAddonProblem, tryLoadCaptureAddon } from '../capture/live-addon.js';
import { runCli } from '../test-support/cli.js';
import { projectRoot } from '../test-support/corpus.js';

const packageVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
/** A machine where the capture addon was never built. */
const withoutAddon = { LOOPY_CAPTURE_ADDON: join(projectRoot, 'no-such-addon.node') };
const addonProblem = captureAddonProblem();

/** Exactly one line on stderr, starting `loopy: `. */
function assertOneLoopyLine(stderr: string, what: string): void {
  assert.match(stderr, /^loopy: [^\n]+\n$/, `${what}: ${JSON.stringify(stderr)}`);
}

test('wrong usage in every command is one loopy: line and exit status 2, nothing on stdout', () => {
  const mistakes = [
    ['read', '--bogus'],
    ['read', 'x.pcap', '-c'],
    ['read', 'a.pcap', '-f', 'udp', 'tcp'],
    ['agent', '--bogus'],
    ['agent', '-i'],
    ['ui', '--bogus'],
    ['query', '--bogus'],
    ['query'],
    ['query', 'unix:/nowhere.sock', 'nonsense'],
    ['watch', '--bogus'],
    ['watch'],
    ['bridge', '--bogus'],
    ['list-interfaces', '--bogus'],
    ['hub-sites', '--bogus'],
    ['hub-sites', 'nats://127.0.0.1:4222'],
    ['hub-sites', 'nats://127.0.0.1:4222', 'site.a'],
    ['hub-sites', 'nats://127.0.0.1:4222/web1', 'site-a'],
    ['hub-sites', 'tls://127.0.0.1:7441', 'site-a'],
    ['--bogus'],
    ['bogus'],
  ];
  for (const args of mistakes) {
    const r = runCli(args);
    const what = `loopy ${args.join(' ')}`;
    assert.equal(r.status, 2, `${what}: ${r.stderr}`);
    assertOneLoopyLine(r.stderr, what);
    assert.equal(r.stdout, '', what);
  }
});

test('commander\'s own mistakes say what and where to look, on one line', () => {
  assert.equal(runCli(['read', '--bogus']).stderr, "loopy: unknown option '--bogus'; see loopy read --help\n");
  assert.equal(runCli(['read', 'x.pcap', '--jsn']).stderr, "loopy: unknown option '--jsn' (Did you mean --json?); see loopy read --help\n");
  assert.equal(runCli(['bogus']).stderr, "loopy: unknown command 'bogus'; see loopy --help\n");
});

test('--help (of loopy and of a command) and help COMMAND exit 0 with the usage on stdout', () => {
  for (const args of [['--help'], ['read', '--help'], ['help', 'agent'], ['list-interfaces', '--help']]) {
    const r = runCli(args);
    assert.equal(r.status, 0, `loopy ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: loopy/);
  }
  assert.match(runCli(['read', '--help']).stdout, /-c, --count <n>/);
  assert.match(runCli(['--help']).stdout, /list-interfaces .*tcpdump -D/s);
});

test('loopy alone prints the usage on stderr and exits 2', () => {
  const r = runCli([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^Usage: loopy/);
});

test('--version is the version in package.json, with libpcap\'s when the capture addon is built', () => {
  for (const flag of ['--version', '-V']) {
    const r = runCli([flag]);
    assert.equal(r.status, 0, r.stderr);
    const libpcap = tryLoadCaptureAddon()?.libVersion().match(/^libpcap version (\S+)/)?.[1];
    if (libpcap === undefined) assert.equal(r.stdout, `loopy ${packageVersion}\n`);
    else assert.match(r.stdout, new RegExp(`^loopy ${packageVersion.replaceAll('.', '\\.')} \\(libpcap version ${libpcap.replaceAll('.', '\\.')}[^()]*\\)\\n$`));
  }
  const bare = runCli(['--version'], { env: withoutAddon });
  assert.equal(bare.status, 0, bare.stderr);
  assert.equal(bare.stdout, `loopy ${packageVersion}\n`);
});

test('-D, --list-interfaces and list-interfaces list the capture devices, numbered, lo among them', () => {
  for (const spelling of ['-D', '--list-interfaces', 'list-interfaces']) {
    const r = runCli([spelling]);
    if (addonProblem) {
      // No addon on this machine: what the user would see is the one line saying what to install.
      assert.equal(r.status, 1);
      assertOneLoopyLine(r.stderr, spelling);
      continue;
    }
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    lines.forEach((line, i) => assert.match(line, new RegExp(`^${i + 1}\\.\\S+`), `${spelling}: line ${i + 1}`));
    assert.ok(lines.some((l) => /^\d+\.lo( |$)/.test(l)), `${spelling} lists lo:\n${r.stdout}`);
  }
});

const tcpdumpMissing = spawnSync('tcpdump', ['--version']).error ? 'tcpdump is not installed' : false;
test('-D describes a device in tcpdump -D\'s words', { skip: addonProblem ? `capture addon: ${addonProblem}` : tcpdumpMissing }, () => {
  const tcpdump = spawnSync('tcpdump', ['-D'], { encoding: 'utf8' });
  assert.equal(tcpdump.status, 0, tcpdump.stderr);
  // Compared by name, without the numbers: other tests may add or remove interfaces in between.
  const byName = (text: string) => new Map(text.trimEnd().split('\n').map((l) => [l.replace(/^\d+\.(\S+).*$/, '$1'), l.replace(/^\d+\./, '')]));
  const ours = byName(runCli(['-D']).stdout);
  const theirs = byName(tcpdump.stdout);
  for (const name of ['lo', 'any']) assert.equal(ours.get(name), theirs.get(name), name);
});

test('-D without the capture addon: one line saying what to install, exit 1', () => {
  const r = runCli(['-D'], { env: withoutAddon });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assertOneLoopyLine(r.stderr, '-D');
  assert.match(r.stderr, /^loopy: cannot list interfaces: .*no-such-addon\.node.*apt-get install/);
});
