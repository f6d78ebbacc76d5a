/**
 * The capturing processes of the tap-modes bench: one tap-consumer.ts per tap mode, and tcpdump. Each is
 * started in the capturing namespace, read with a counter snapshot on a signal (SIGUSR2 for the consumer,
 * SIGUSR1 for tcpdump) and stopped; plus what the kernel says of the veth pair and of each process's ring.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Veth } from './live-veth.js';
import { TAP_MODES, type TapCounters } from './tap-consumer.js';

/** One counter reading of a capturing process. `calls` is null for tcpdump (no JS). */
export interface Snapshot {
  packets: number;
  calls: number | null;
  kernelDropped: number;
}

export interface Tap {
  pid: number;
  snapshot(): Promise<Snapshot>;
  stop(): Promise<void>;
}

export interface TapContender {
  tool: string;
  display: string;
  /** Past the process's block timeout (ours 200 ms, tcpdump's 1 s), so the last block is handed over. */
  settleMs: number;
  start(v: Veth): Promise<Tap>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A child's output as it arrives, with a bounded wait (polled) for the n-th match of a pattern. */
class Output {
  text = '';
  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (this.text += d));
  }
  async waitFor(re: RegExp, n: number, exited: Promise<unknown>, timeoutMs = 10_000): Promise<RegExpExecArray | undefined> {
    let gone = false;
    void exited.then(() => (gone = true));
    for (const deadline = Date.now() + timeoutMs; ; await sleep(20)) {
      const all = [...this.text.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))];
      if (all.length >= n) return all[n - 1];
      if (gone || Date.now() >= deadline) return undefined;
    }
  }
  tail(): string {
    return this.text.trim().split('\n').slice(-2).join(' | ');
  }
}

/** Starts `ip netns exec NS ...` and waits (bounded) until `ready` shows on stderr. */
async function launch(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: Output; err: Output; exited: Promise<number | null> }> {
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Output(child.stdout!);
  const err = new Output(child.stderr!);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  if (!(await err.waitFor(ready, 1, exited, 20_000))) {
    child.kill('SIGKILL');
    throw new Error(`${args.slice(3).join(' ')} did not start: ${err.tail()}`);
  }
  return { child, out, err, exited };
}

async function stopWith(child: ChildProcess, exited: Promise<number | null>, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  if ((await Promise.race([exited, sleep(30_000).then(() => 'late')])) !== 'late') return;
  child.kill('SIGKILL');
  await exited;
}

const here = dirname(fileURLToPath(import.meta.url));
// Run the consumer the way this module runs: compiled (dist/) with node, or from src/ under tsx.
const underTsx = import.meta.url.endsWith('.ts');
const CONSUMER = join(here, `tap-consumer.${underTsx ? 'ts' : 'js'}`);

function modeContender(mode: string): TapContender {
  return {
    tool: mode,
    display: `tap-consumer VETH ${mode}`,
    settleMs: 400,
    async start(v) {
      const node = [process.execPath, ...(underTsx ? ['--import', 'tsx'] : []), CONSUMER, v.ifCapture, mode];
      const { child, out, err, exited } = await launch(['netns', 'exec', v.nsCapture, ...node], /capturing on /);
      let asked = 0;
      return {
        pid: child.pid!,
        async snapshot() {
          child.kill('SIGUSR2');
          const line = await out.waitFor(/^\{.*\}$/m, ++asked, exited);
          if (!line) throw new Error(`tap-consumer (${mode}) gave no counters: ${err.tail()}`);
          const c = JSON.parse(line[0]) as TapCounters;
          return { packets: c.packets, calls: c.calls, kernelDropped: c.kernelDropped + c.addonDropped };
        },
        stop: () => stopWith(child, exited, 'SIGTERM'),
      };
    },
  };
}

// "tcpdump: 12 packets captured, 12 packets received by filter, 0 packets dropped by kernel" (SIGUSR1).
const TCPDUMP_COUNTS = /(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel/;

const tcpdumpContender: TapContender = {
  tool: 'tcpdump',
  display: 'tcpdump -i VETH -w /dev/null',
  settleMs: 1200,
  async start(v) {
    const { child, err, exited } = await launch(['netns', 'exec', v.nsCapture, 'tcpdump', '-i', v.ifCapture, '-w', '/dev/null'], /listening on /);
    let asked = 0;
    return {
      pid: child.pid!,
      async snapshot() {
        child.kill('SIGUSR1');
        const m = await err.waitFor(TCPDUMP_COUNTS, ++asked, exited);
        if (!m) throw new Error(`tcpdump gave no counts: ${err.tail()}`);
        return { packets: Number(m[1]), calls: null, kernelDropped: Number(m[3]) };
      },
      stop: () => stopWith(child, exited, 'SIGINT'),
    };
  },
};

export const TAP_CONTENDERS: readonly TapContender[] = [...Object.keys(TAP_MODES).map(modeContender), tcpdumpContender];

/** Frames the sending end dropped so far (veth counts a full receive backlog as its own tx drop). */
export function vethTxDropped(v: Veth): number {
  const r = spawnSync('ip', ['-n', v.nsSend, '-j', '-s', 'link', 'show', v.ifSend], { encoding: 'utf8', timeout: 10_000 });
  try {
    return (JSON.parse(r.stdout) as Array<{ stats64?: { tx?: { dropped?: number } } }>)[0]?.stats64?.tx?.dropped ?? 0;
  } catch {
    return 0;
  }
}

/**
 * The capture socket's ring as the kernel reports it (`ss -0 -e`): TPACKET_V3 blocks or TPACKET_V2 frames.
 * This is where immediate mode differs, so the report shows it.
 */
export function ringOf(v: Veth, pid: number): string {
  const r = spawnSync('ip', ['netns', 'exec', v.nsCapture, 'ss', '-0', '-e', '-p', '-n'], { encoding: 'utf8', timeout: 10_000 });
  const entry = (r.stdout ?? '').split(/\n(?=\S)/).find((e) => e.includes(`pid=${pid},`)) ?? '';
  const version = /\bver:(\d+)/.exec(entry)?.[1];
  const ring = /ring_rx\(blk_size:(\d+),blk_nr:(\d+),frm_size:(\d+),frm_nr:(\d+)/.exec(entry);
  if (!ring) return 'ring unknown';
  const [blockSize, blocks, frameSize, frames] = ring.slice(1).map(Number);
  // PACKET_VERSION: 1 = TPACKET_V2 (fixed frames), 2 = TPACKET_V3 (variable-length packets in blocks).
  if (version === '2') return `TPACKET_V3, ${blocks} blocks of ${blockSize / 1024} KiB`;
  if (version === '1') return `TPACKET_V2, ${frames} frames of ${frameSize} B`;
  return `PACKET_VERSION ${version}, ${blocks} × ${blockSize} B`;
}

