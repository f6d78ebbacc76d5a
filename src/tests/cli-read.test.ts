/** `loopy read` as a user runs it: files, stdin, damaged input, filters, exit statuses. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import type { GroundTruth } from '../synth/generate.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import { spawn, spawnSync } from 'node:child_process';
import { PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH } from '../capture/pcap-writer.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { testDir } from '../test-support/temp-dir.js';

let dir: string;
let file: string;
let truth: GroundTruth;

before(async () => {
  dir = testDir('loopy-read-');
  const made = await generatedCapture({ seed: 3, packets: 4000 });
  truth = made.truth;
  file = join(dir, 'sample.pcap');
  writeFileSync(file, made.bytes);
});

const records = (ndjson: string) => ndjson.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The first `n` packets of a classic little-endian pcap, as a file of their own. */
function firstPackets(pcap: Buffer, n: number): Buffer {
  let end = PCAP_FILE_HEADER_LENGTH;
  for (let i = 0; i < n; i++) end += PCAP_RECORD_HEADER_LENGTH + pcap.readUInt32LE(end + 8);
  return pcap.subarray(0, end);
}

test('read prints a summary that fits 80 columns', () => {
  const r = runCli(['read', file]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.ok(lines.every((l) => [...l].length <= 80), 'no line past 80 columns');
  assert.match(r.stdout, new RegExp(`${truth.packets} packets`));
  for (const section of ['Protocols', 'Top talkers', 'TCP conversations', 'UDP conversations', 'DNS:', 'TLS server names']) assert.ok(r.stdout.includes(section), section);
});

test('read --json writes NDJSON with type first and a summary last; stdin gives the same', () => {
  const r = runCli(['read', file, '--json', '--seed', '1']);
  assert.equal(r.status, 0, r.stderr);
  const records = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(records.every((rec) => Object.keys(rec)[0] === 'type'));
  const summary = records.at(-1)!;
  assert.equal(summary.type, 'summary');
  assert.equal(summary.packets, truth.packets);
  assert.equal(records.filter((rec) => rec.type === 'dns').length, truth.dns.queries);
  const fromStdin = runCli(['read', '-', '--json', '--seed', '1'], { input: readFileSync(file) });
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, r.stdout);
  const tcpdumpStyle = runCli(['read', '-r', '-', '--json', '--seed', '1'], { input: readFileSync(file) });
  assert.equal(tcpdumpStyle.stdout, r.stdout);
  const none = runCli(['read']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /read needs a capture file/);
});

test('a file cut mid-record: results for what was read, then one line naming the byte offset, exit 1', () => {
  const whole = readFileSync(file);
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2) + 3));
  const r = runCli(['read', cut, '--json']);
  assert.equal(r.status, 1);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  assert.ok(summary.packets > 0 && summary.packets < truth.packets);
  const errorLines = r.stderr.trimEnd().split('\n');
  assert.equal(errorLines.length, 1);
  assert.match(errorLines[0], /cut\.pcap: byte \d+: .*truncated/);
});

test('a missing file and a file that is no capture: one line each, exit 1', () => {
  const missing = runCli(['read', join(dir, 'nope.pcap')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.pcap/);
  assert.equal(missing.stderr.trimEnd().split('\n').length, 1);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'this is not a capture file at all\n');
  const bad = runCli(['read', text]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /notes\.txt: byte 0: /);
});

const addonProblem = captureAddonProblem();
test('read -f keeps only the packets the filter matches', { skip: addonProblem && !process.env.CI ? `capture addon: ${addonProblem}` : false }, () => {
  const r = runCli(['read', file, '--json', '-f', 'udp']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!);
  assert.equal(summary.packets, truth.udpPackets);
  const firstUdp = records(runCli(['read', file, '--json', '-f', 'udp', '-c', '10']).stdout);
  assert.equal(firstUdp.at(-1)!.packets, 10, 'tcpdump -c counts the packets the filter keeps');
  assert.equal((firstUdp.at(-1)!.protocols as Record<string, number>).udp, 10);
  const bad = runCli(['read', file, '-f', 'udp and and']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
  assert.match(bad.stderr, /-f 'udp and and'/);
});

test('a filter in trailing words, as tcpdump takes it, is -f: after FILE or after -r FILE; not both ways at once', { skip: addonProblem && !process.env.CI ? `capture addon: ${addonProblem}` : false }, () => {
  const withF = runCli(['read', file, '--json', '--seed', '1', '-f', 'udp port 53']);
  assert.equal(withF.status, 0, withF.stderr);
  for (const args of [['read', file, 'udp', 'port', '53'], ['read', '-r', file, 'udp', 'port', '53'], ['read', file, 'udp port 53']]) {
    const r = runCli([...args, '--json', '--seed', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, withF.stdout, args.join(' '));
  }
  const notAFilter = runCli(['read', file, 'other.pcap']);
  assert.equal(notAFilter.status, 2);
  assert.match(notAFilter.stderr, /^loopy: [^\n]*'other\.pcap'[^\n]*syntax error\n$/);
  const both = runCli(['read', file, '-f', 'udp', 'tcp']);
  assert.equal(both.status, 2);
  assert.equal(both.stderr, "loopy: give the filter once: -f 'udp' or the trailing words 'tcp', not both\n");
});

test('read -w FILE writes the packets kept (after the filter and -c), a pcap tcpdump reads; read back, the same records', { skip: addonProblem && !process.env.CI ? `capture addon: ${addonProblem}` : false }, () => {
  const out = join(dir, 'kept.pcap');
  const r = runCli(['read', file, '-c', '25', '-w', out, '--json', '--seed', '1', 'udp']);
  assert.equal(r.status, 0, r.stderr);
  const again = runCli(['read', out, '--json', '--seed', '1']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);
  assert.equal(records(again.stdout).at(-1)!.packets, 25);
  // Where tcpdump is installed: it reads the file, and finds in it what tcpdump -c 25 udp keeps of the original.
  const tcpdump = (args: string[]) => spawnSync('tcpdump', ['-nn', '-r', ...args], { encoding: 'utf8' });
  if (tcpdump([out]).error === undefined) {
    assert.equal(tcpdump([out]).stdout.trimEnd().split('\n').length, 25);
    assert.equal(tcpdump([out]).stdout, tcpdump([file, '-c', '25', 'udp']).stdout);
  }
  const unwritable = runCli(['read', file, '-w', join(dir, 'no-such-dir', 'x.pcap')]);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /^loopy: -w \S+x\.pcap: cannot write it \(ENOENT\)[^\n]*\n$/);
});

test('read --max-flows past the flow table bound is wrong usage, said in one line', () => {
  const r = runCli(['read', file, '--max-flows', '5000000']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, "loopy: --max-flows takes a whole number from 1 to 4194304, not '5000000'\n");
});

test('read --json | head: the reader going away ends loopy quietly with status 0', () => {
  const cli = cliCommand().map((a) => `'${a}'`).join(' ');
  const r = spawnSync('bash', ['-c', `${cli} read '${file}' --json | head -1 > /dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), '0', r.stderr);
  assert.equal(r.stderr, '');
});

test('read -c 10 stops after ten packets: the records of a file holding only those, summary included', () => {
  const first10 = join(dir, 'first10.pcap');
  writeFileSync(first10, firstPackets(readFileSync(file), 10));
  const r = runCli(['read', file, '-c', '10', '--json', '--seed', '1']);
  assert.equal(r.status, 0, r.stderr);
  const summary = records(r.stdout).at(-1)!;
  assert.equal(summary.type, 'summary');
  assert.equal(summary.packets, 10);
  assert.equal(r.stdout, runCli(['read', first10, '--json', '--seed', '1']).stdout);
  const human = runCli(['read', file, '--count', '10']);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^ {2}10 packets, /m);
});

test('read - -c N ends once it has its packets, though the pipe feeding it stays open (tcpdump -w - |)', { timeout: 60_000 }, async (t) => {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, 'read', '-', '-c', '5', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // A loopy that waits on (the failure this test is for) must not keep the test run waiting with it.
  t.after(() => child.kill());
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  // More packets than it wants, then nothing: the pipe stays open, as a live tcpdump on a quiet link leaves it.
  child.stdin.write(firstPackets(readFileSync(file), 20));
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.destroy();
  assert.equal(status, 0);
  assert.equal(records(stdout).at(-1)!.packets, 5);
});
