/**
 * End to end, as a user sees it: two agents replaying two different generated captures in a loop at real
 * speed, `loopy ui` on both inside tmux (80×24 and 200×50), keys sent with send-keys, the screen read with
 * capture-pane. Which DNS names and TCP conversations to look for comes from `loopy read --json` of each
 * capture (the same engine, offline). Skipped without tmux (CI installs it: .ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { TmuxServer, haveTmux } from './testing/tmux.js';

const skip = haveTmux() ? false : 'tmux is not installed (apt-get install tmux)';

const server = new TmuxServer(`loopy-ui-test-${process.pid}`);
const tmux = (...args: string[]): string => server.run(...args);
const screen = (session: string): string => server.screen(session);
const keys = (session: string, ...k: string[]): void => server.keys(session, ...k);
/** Polls the screen until `pattern` shows (the UI redraws once a second; agents replay at real speed). */
const waitFor = (session: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> => server.waitFor(session, pattern, timeoutMs);

/** Opens the view's filter prompt empty (Esc in the prompt clears a previous filter) and pastes `text` + Enter. */
async function filterWith(session: string, text: string, unfiltered: RegExp): Promise<void> {
  keys(session, '/');
  await waitFor(session, /^\/\S*█ \(Enter apply/m);
  keys(session, 'Escape');
  // Closed: the status line (keys, "q quit") is back in place of the prompt, and the view is unfiltered.
  await waitFor(session, new RegExp(`${unfiltered.source}[\\s\\S]*q quit`));
  keys(session, '/');
  await waitFor(session, /^\/█ \(Enter apply/m);
  keys(session, text, 'Enter'); // pasted: the prompt takes a chunk
}

interface Capture {
  file: string;
  conn: ConnRecord;
  dns: DnsRecord;
}

/** The first finished TCP conversation with payload and the first answered DNS query of the capture's first seconds. */
function landmarks(file: string): Capture {
  const out = runCli(['read', '--json', '--no-detect', file]);
  assert.equal(out.status, 0, out.stderr);
  const records = out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string });
  const conns = records.filter((r): r is ConnRecord => r.type === 'conn') as ConnRecord[];
  const first = Math.min(...conns.map((c) => c.ts));
  const conn = conns.filter((c) => c.proto === 'tcp' && c.conn_state === 'SF' && c.ts + c.duration < first + 8).sort((a, b) => a.ts + a.duration - (b.ts + b.duration))[0];
  const dns = (records.filter((r) => r.type === 'dns') as DnsRecord[]).filter((d) => d.query && d.rcode === 0 && d.ts < first + 8)[0];
  assert.ok(conn && dns, `no early conversation or DNS answer in ${file}`);
  return { file, conn, dns };
}

function startAgent(dir: string, name: string, capture: string): ChildProcess {
  const [cmd, ...pre] = cliCommand();
  return spawn(cmd, [...pre, 'agent', '-r', capture, '--loop', '--name', name, '--listen', `unix:${join(dir, `${name}.sock`)}`, '--data', join(dir, name), '--log', join(dir, `${name}.log`)], { stdio: 'ignore' });
}

async function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) assert.fail(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stop = (p: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });

test('loopy ui in tmux over two agents: both shown, their DNS and TCP in the right views, filter, one agent down and back', { skip, timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ui-e2e-'));
  // Started as root the agents become "nobody" before they read the capture: let them in.
  chmodSync(dir, 0o755);
  const agents: ChildProcess[] = [];
  try {
    // Two different captures: other seeds, other start times; 60 s each, looped by the agents.
    await generateCapture({ seed: 11, packets: 6000, durationSeconds: 60, incidents: [] }, join(dir, 'alpha.pcap'));
    await generateCapture({ seed: 22, packets: 6000, durationSeconds: 60, incidents: [], ipv6Share: 0 }, join(dir, 'bravo.pcap'));
    const alpha = landmarks(join(dir, 'alpha.pcap'));
    const bravo = landmarks(join(dir, 'bravo.pcap'));
    agents.push(startAgent(dir, 'alpha', alpha.file), startAgent(dir, 'bravo', bravo.file));
    await Promise.all(['alpha', 'bravo'].map((n) => waitForFile(join(dir, `${n}.sock`))));
    const [cmd, ...pre] = cliCommand();
    const ui = [cmd, ...pre, 'ui', `unix:${join(dir, 'alpha.sock')}`, `unix:${join(dir, 'bravo.sock')}`].map((a) => `'${a}'`).join(' ');
    tmux('new-session', '-d', '-s', 'wide', '-x', '200', '-y', '50', `env NO_COLOR=1 ${ui}`);
    tmux('new-session', '-d', '-s', 'narrow', '-x', '80', '-y', '24', `env NO_COLOR=1 ${ui}`);

    // Overview: both agents connected, on both screens (two UIs on the same agents at once).
    for (const s of ['wide', 'narrow']) await waitFor(s, /● alpha\s+connected[\s\S]*● bravo\s+connected/);
    assert.match(screen('narrow').split('\n')[0], /1 Overview/);

    // Connections, filtered on each capture's conversation: one row, the right agent.
    for (const [cap, agent] of [[alpha, 'alpha'], [bravo, 'bravo']] as const) {
      const orig = `${cap.conn['id.orig_h']}:${cap.conn['id.orig_p']}`;
      // One key at a time, each waited for, as a person types (a burst arrives as one chunk).
      keys('wide', '4');
      await waitFor('wide', /connections.*sorted by/);
      await filterWith('wide', orig, /\d+ connections, sorted by/);
      const row = new RegExp(`${orig.replace(/\./g, '\\.')}\\s+${cap.conn['id.resp_h'].replace(/\./g, '\\.')}:${cap.conn['id.resp_p']}\\s.*SF.*\\s${agent}\\s*$`, 'm');
      // The filtered table first (the row may be on the unfiltered one too), then the row in it.
      await waitFor('wide', new RegExp(`connections matching "${orig.replace(/\./g, '\\.')}"`));
      const shown = await waitFor('wide', row, 60_000);
      assert.match(shown, new RegExp(`filter: ${orig.replace(/\./g, '\\.')}`));
    }
    // DNS: each capture's name, attributed to its agent.
    for (const [cap, agent] of [[alpha, 'alpha'], [bravo, 'bravo']] as const) {
      keys('wide', '5');
      await waitFor('wide', /DNS transactions/);
      await filterWith('wide', cap.dns.query!, /\d+ DNS transactions, newest first/);
      await waitFor('wide', new RegExp(`DNS transactions matching "${cap.dns.query!.replace(/\./g, '\\.')}"`));
      await waitFor('wide', new RegExp(`${cap.dns.query!.replace(/\./g, '\\.')}\\s.*NOERROR.*\\s${agent}\\s*$`, 'm'), 60_000);
    }
    // At 80 columns too: the DNS view lists the names.
    keys('narrow', '5');
    await waitFor('narrow', new RegExp(alpha.dns.query!.replace(/\./g, '\\.')), 60_000);

    // bravo goes away: shown down on the overview while alpha keeps going; back when it returns.
    keys('narrow', '1');
    await waitFor('narrow', /agent\s+state\s+in\s+out\s+pkt\/s/);
    await stop(agents[1]);
    await waitFor('narrow', /○ bravo\s+(down|connecting)/);
    await waitFor('narrow', /1\/2 up/);
    const alphaLine = (s: string) => s.split('\n').find((l) => /● alpha\s/.test(l)) ?? '';
    const first = alphaLine(screen('narrow'));
    let changed = false;
    for (let i = 0; i < 40 && !changed; i++) {
      await new Promise((r) => setTimeout(r, 250));
      changed = alphaLine(screen('narrow')) !== first;
    }
    assert.ok(changed, 'alpha keeps updating while bravo is down');
    agents[1] = startAgent(dir, 'bravo', bravo.file);
    await waitFor('narrow', /● bravo\s+connected/, 60_000);
    await waitFor('narrow', /2\/2 up/);

    // q leaves the UI.
    keys('narrow', 'q');
    const sessions = (): string[] => server.sessions();
    const deadline = Date.now() + 10_000;
    while (sessions().includes('narrow') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!sessions().includes('narrow'), 'the UI exits on q');
  } finally {
    server.kill();
    await Promise.all(agents.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
});
