#!/usr/bin/env node
/**
 * The tap-modes benchmark's capturing process: opens a live capture on IFACE with one tap mode's addon
 * options and only counts, in onBatch, packets, wire bytes and calls. It decodes nothing, so what the
 * benchmark measures is the tap itself (kernel ring → capture thread → JS), not the engine.
 *   node dist/bench/tap-consumer.js IFACE MODE        (MODE: one of TAP_MODES' names)
 * stderr: one ready line once the capture is open ("tap-consumer: capturing on IFACE (MODE)").
 * SIGUSR2: prints the counters as one JSON line on stdout and keeps capturing (the bench's per-step snapshot).
 * SIGTERM: prints the counters as one JSON line on stdout, closes the capture and exits 0.
 * The line: {"packets","bytes","calls","kernelDropped","ifDropped","addonDropped"} (all since the start).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LiveOpenOptions, LIVE_META_WIRELEN, LIVE_META_WORDS, loadCaptureAddon } from '../capture/live-addon.js';

/** The tap modes compared, by name: the addon's options for each (everything else at its default). */
export const TAP_MODES: Readonly<Record<string, LiveOpenOptions>> = {
  'blocks+batches': {},
  'immediate+batches': { immediate: true },
  'blocks+per-packet': { packetsPerCall: 1 },
  'immediate+per-packet': { immediate: true, packetsPerCall: 1 },
};

export interface TapCounters {
  packets: number;
  bytes: number;
  calls: number;
  kernelDropped: number;
  ifDropped: number;
  addonDropped: number;
}

function main(argv: string[]): void {
  const [device, mode] = argv;
  const options = mode === undefined ? undefined : TAP_MODES[mode];
  if (!device || !options) {
    process.stderr.write(`usage: tap-consumer IFACE MODE (MODE: ${Object.keys(TAP_MODES).join(', ')})\n`);
    process.exit(2);
  }
  const addon = loadCaptureAddon();
  let packets = 0;
  let bytes = 0;
  let calls = 0;
  // The whole consumer: a few additions per packet, no allocation, no decoding.
  const onBatch = (_data: Buffer, meta: Uint32Array, count: number): void => {
    calls++;
    packets += count;
    for (let i = 0, j = LIVE_META_WIRELEN; i < count; i++, j += LIVE_META_WORDS) bytes += meta[j];
  };
  const handle = addon.openLive(device, options, onBatch, (message) => {
    process.stderr.write(`tap-consumer: ${message}\n`);
    process.exit(1);
  });
  const report = (): void => {
    const s = addon.stats(handle);
    const counters: TapCounters = { packets, bytes, calls, kernelDropped: s.dropped, ifDropped: s.ifDropped, addonDropped: s.addonDropped };
    process.stdout.write(`${JSON.stringify(counters)}\n`);
  };
  process.on('SIGUSR2', report);
  process.on('SIGTERM', () => {
    // Counters first: close() ends the capture thread, and batches still queued are then discarded.
    report();
    addon.close(handle);
    process.exit(0);
  });
  process.stderr.write(`tap-consumer: capturing on ${device} (${mode})\n`);
}

/** Run as a program (node or tsx), not when imported for TAP_MODES. */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) main(process.argv.slice(2));
