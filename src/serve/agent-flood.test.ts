/**
 * The agent through a spoofed SYN flood (root only): 1 M SYNs from random sources to random ports of one host,
 * replayed by tcpreplay at 100 kpps into a veth pair, the agent capturing on the other end with detection
 * and the history store on, as deployed (no NDJSON output). Its resident memory stays within 350 MB all
 * along, it loses no packet, it names the flood, and its detection tables stay within their bounds. And when
 * the agent cannot keep up (stopped, a tiny ring), the loss itself is an alert (capture_loss) and a log line.
 * Skipped loudly when not root or without tcpreplay; in CI (process.env.CI) a skip is a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { writeSynFlood } from '../synth/syn-flood.js';
import { runCli } from '../test-support/cli.js';
import { NamespacePair } from '../test-support/netns.js';
import { JsonChild, startAgentIn } from './agent-netns.test-util.js';
import type { AgentStatus } from './status.js';

const SYNS = 1_000_000;
const RATE = 100_000;
const RSS_LIMIT = 350 * 1024 * 1024;

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the flood test needs root (it creates network namespaces)';
  if (!reason && spawnSync('tcpreplay', ['-V']).status !== 0) reason = 'tcpreplay is not installed';
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING the agent flood test: ${reason}`);
  return reason;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

describe('loopy agent through a 1 M-SYN spoofed flood', { skip: skipReason() }, () => {
  const root = mkdtempSync(join(tmpdir(), 'loopy-flood-'));
  const pair = new NamespacePair('lfl', { addresses: false });
  before(() => pair.setUp());

  /** `loopy agent` capturing on the pair's A side, as root, with no config file; resolves once it captures. */
  async function capturingAgent(name: string, extra: string[]): Promise<{ agent: JsonChild; data: string; socket: string }> {
    const noConfig = join(root, `${name}.json`);
    writeFileSync(noConfig, '{}');
    const data = join(root, `data-${name}`);
    const socket = join(data, 'agent.sock');
    const agent = startAgentIn(pair.nsA, ['--config', noConfig, '-i', pair.ifA, '--data', data, '--listen', `unix:${socket}`, '--user', 'root', ...extra]);
    if (!(await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on '))))) {
      await agent.stop();
      assert.fail(`the agent did not start: ${agent.stderrText}`);
    }
    return { agent, data, socket };
  }
  after(() => {
    pair.tearDown();
    rmSync(root, { recursive: true, force: true });
  });

  test('peak RSS within 350 MB, no packet lost, the flood named, every detection table within its bound', async () => {
    const capture = join(root, 'flood.pcap');
    await writeSynFlood(capture, { packets: SYNS, rate: RATE, seed: 7 });
    // As deployed: the default flow table (DEFAULT_MAX_FLOWS), which a spoofed flood fills.
    const { agent, data, socket } = await capturingAgent('flood', []);
    try {
      let peak = rssOf(agent.pid);
      const replay = new JsonChild(spawn('ip', ['netns', 'exec', pair.nsB, 'tcpreplay', '-q', `--pps=${RATE}`, '-i', pair.ifB, capture], { stdio: ['pipe', 'pipe', 'pipe'] }));
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(agent.pid))), 100);
      const code = await Promise.race([replay.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 60_000).unref())]);
      if (code === 'late') await replay.stop();
      assert.equal(code, 0, `tcpreplay: ${replay.stderrText}`);
      // The last seconds: flows time out, the store writes, detection raises and rolls on.
      await new Promise((r) => setTimeout(r, 4000));
      clearInterval(sampler);
      peak = Math.max(peak, rssOf(agent.pid));
      const status = JSON.parse(readFileSync(join(data, 'status.json'), 'utf8')) as AgentStatus;
      assert.ok(status.packets_total >= SYNS, `${status.packets_total} packets captured of ${SYNS}; dropped ${status.drop_pct_total} %`);
      assert.equal(status.drop_pct_total, 0);
      const tables = status.detection_state ?? [];
      assert.ok(tables.length >= 5, JSON.stringify(tables));
      for (const t of tables) assert.ok(t.size <= t.capacity && (t.items ?? 0) <= (t.itemLimit ?? Infinity), JSON.stringify(t));
      const alerts = runCli(['query', `unix:${socket}`, 'alerts', '--since', '1h', '--json'], { timeoutMs: 20_000 });
      assert.equal(alerts.status, 0, alerts.stderr);
      const floods = alerts.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { detector: string; dst?: string });
      assert.ok(floods.some((a) => a.detector === 'syn_flood' && a.dst === '198.51.100.7'), alerts.stdout.slice(0, 2000));
      assert.ok(peak <= RSS_LIMIT, `peak RSS ${(peak / 1048576).toFixed(0)} MB (limit ${RSS_LIMIT / 1048576} MB)`);
      console.log(`flood: peak RSS ${(peak / 1048576).toFixed(0)} MB, ${status.packets_total} packets, tables ${tables.map((t) => `${t.detector}/${t.table} ${t.size}/${t.capacity} declined ${t.declined} evicted ${t.evicted}`).join('; ')}`);
    } finally {
      await agent.stop();
    }
  });
  test('a stalled agent loses packets: a capture_loss alert names the interface, and the log says so', async () => {
    const capture = join(root, 'burst.pcap');
    await writeSynFlood(capture, { packets: 200_000, rate: 50_000, seed: 11, port: 80 });
    // A 1 MiB ring and the agent stopped for the replay: the kernel has nowhere to put most of the burst.
    const { agent, socket } = await capturingAgent('loss', ['--buffer', '1']);
    try {
      process.kill(agent.pid, 'SIGSTOP');
      const replay = spawnSync('ip', ['netns', 'exec', pair.nsB, 'tcpreplay', '-q', '--pps=50000', '-i', pair.ifB, capture], { encoding: 'utf8', timeout: 30_000 });
      process.kill(agent.pid, 'SIGCONT');
      assert.equal(replay.status, 0, replay.stderr);
      assert.ok(await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capture is losing packets')), 10_000), agent.stderrText.slice(-2000));
      const warn = agent.err.find((l) => typeof l.msg === 'string' && l.msg.startsWith('capture is losing packets'))!;
      assert.equal(warn.interface, pair.ifA);
      assert.ok(warn.dropped > 0);
      let alerts: Array<{ detector: string; message: string; state: string }> = [];
      for (let i = 0; i < 20 && !alerts.some((a) => a.detector === 'capture_loss'); i++) {
        await new Promise((r) => setTimeout(r, 500));
        const q = runCli(['query', `unix:${socket}`, 'alerts', '--since', '1h', '--json'], { timeoutMs: 20_000 });
        alerts = q.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { detector: string; message: string; state: string });
      }
      const loss = alerts.filter((a) => a.detector === 'capture_loss');
      assert.equal(loss.length, 1, JSON.stringify(alerts));
      assert.match(loss[0].message, new RegExp(`^capture on ${pair.ifA} lost \\d+ packets`));
    } finally {
      await agent.stop();
    }
  });
});
