/**
 * The harness of live.test.ts's namespace tests (root only): two network namespaces joined by a veth pair,
 * a capture child in one (live-capture-child.test-util.ts) and known UDP traffic from the other, and
 * teardown (src/test-support/netns.ts: names unique per test process, addresses only inside them).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NamespacePair, sh } from '../test-support/netns.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');
const underTsx = import.meta.url.endsWith('.ts');
const childScript = join(here, `live-capture-child.test-util.${underTsx ? 'ts' : 'js'}`);

const pair = new NamespacePair('lpy');
export const NS_CAP = pair.nsA; // the namespace that captures
const NS_GEN = pair.nsB; // the namespace that sends
export const IF_CAP = pair.ifA;
const ADDR_CAP = pair.addrA;
const OPEN_PORT = 40001; // the capture child listens here
const CLOSED_PORT = 40002; // nobody listens: each datagram draws one ICMP port unreachable
export const OPEN_N = 30;
export const CLOSED_N = 10;

export function setUpNamespaces(): void {
  pair.setUp();
}

export function tearDownNamespaces(): void {
  pair.tearDown();
}

/** Sends OPEN_N datagrams to the open port and CLOSED_N to the closed port, from the sending namespace. */
function sendTraffic(): void {
  const code = `const s = require('node:dgram').createSocket('udp4');
    const [host, open, closed, n, m] = process.argv.slice(1);
    let left = Number(n) + Number(m);
    const done = () => { if (--left === 0) s.close(); };
    for (let i = 0; i < Number(n); i++) s.send('open ' + i, Number(open), host, done);
    for (let i = 0; i < Number(m); i++) s.send('closed ' + i, Number(closed), host, done);`;
  sh(['ip', 'netns', 'exec', NS_GEN, process.execPath, '-e', code, ADDR_CAP, String(OPEN_PORT), String(CLOSED_PORT),
    String(OPEN_N), String(CLOSED_N)]);
}

export interface Counts { udp: number; icmp: number; other: number; frames: number; bytes: number }
export interface Final { counts: Counts[]; stats: Array<Record<string, number | string>>; linkTypes: number[] }

/**
 * Runs the capture child in the capturing namespace, sends the traffic once it is ready, waits (bounded)
 * until `enough` says the expected frames arrived, then stops it and returns its final report.
 */
export async function captureWhileSending(config: object, enough: (c: Counts[]) => boolean, timeoutMs = 15_000): Promise<Final> {
  const args = ['netns', 'exec', NS_CAP, process.execPath, ...(underTsx ? ['--import', 'tsx'] : []), childScript,
    JSON.stringify({ listenPort: OPEN_PORT, ...config })];
  const child = spawn('ip', args, { cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let onLine: () => void = () => {};
  child.stdout.on('data', (d) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
    onLine();
  });
  const exited = new Promise<number | null>((res) => child.on('exit', res));
  const waitFor = (pred: () => boolean) =>
    new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), timeoutMs);
      const check = () => pred() && (clearTimeout(timer), res(true));
      onLine = check;
      void exited.then(() => (clearTimeout(timer), res(pred())));
      check();
    });
  try {
    const ready = await waitFor(() => lines.some((l) => l.event === 'ready' || l.event === 'error'));
    const failure = lines.find((l) => l.event === 'error');
    assert.ok(ready && !failure, `capture child did not start: ${JSON.stringify(failure)} ${stderr}`);
    sendTraffic();
    await waitFor(() => lines.some((l) => l.event === 'progress' && enough(l.counts as Counts[])));
    child.stdin.write('stop\n');
    await waitFor(() => lines.some((l) => l.event === 'final'));
    const final = lines.find((l) => l.event === 'final');
    assert.ok(final, `no final report from the capture child: ${stderr}`);
    return final as unknown as Final;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}
