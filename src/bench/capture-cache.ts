/**
 * The benchmark's input: a generated capture kept in bench/out/ (git-ignored), named by generator
 * version, seed and size, so a second run reuses it and a changed generator makes a new one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { META_CAPLEN, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import { GENERATOR_VERSION, generateCapture, type GroundTruth, type MixName } from '../synth/generate.js';

/** The project root: two levels up from src/bench or dist/bench. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchOutDir = join(projectRoot, 'bench', 'out');

export interface BenchCapture {
  path: string;
  truth: GroundTruth;
  fileBytes: number;
  /** True when it was already there. */
  cached: boolean;
  generateSeconds?: number;
}

export async function benchCapture(seed: number, packets: number, log: (line: string) => void, mix: MixName = 'office'): Promise<BenchCapture> {
  mkdirSync(benchOutDir, { recursive: true });
  const base = join(benchOutDir, `synth-v${GENERATOR_VERSION}-s${seed}-p${packets}${mix === 'office' ? '' : `-${mix}`}`);
  const path = `${base}.pcap`;
  const truthPath = `${base}.truth.json`;
  if (existsSync(path) && existsSync(truthPath)) {
    const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as GroundTruth;
    if (statSync(path).size > 24 && truth.packets >= packets) return { path, truth, fileBytes: statSync(path).size, cached: true };
  }
  log(`generating ${packets.toLocaleString('en-US')} packets (${mix} mix, seed ${seed}) into ${path} ...`);
  const started = process.hrtime.bigint();
  const partial = `${path}.partial`;
  try {
    const truth = await generateCapture({ seed, packets, mix }, partial);
    // Rename last: an interrupted run never leaves a file that looks complete.
    renameSync(partial, path);
    writeFileSync(truthPath, `${JSON.stringify(truth, null, 2)}\n`);
    const generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { path, truth, fileBytes: statSync(path).size, cached: false, generateSeconds };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** Frame `i` of `batch` into `writer`, dated `ts` (seconds, kept to the microsecond). */
export function copyFrame(writer: PcapWriter, batch: PacketBatch, i: number, ts: number): void {
  const m = i * META_STRIDE;
  let sec = Math.floor(ts);
  let usec = Math.round((ts - sec) * 1e6);
  if (usec >= 1e6) (sec += 1), (usec -= 1e6);
  writer.writeFrame(sec, usec, batch.data, batch.meta[m + META_OFFSET], batch.meta[m + META_CAPLEN], batch.meta[m + META_WIRELEN]);
}

/**
 * The packets of `source` as if they arrived at `rate` packets a second: the same frames in the same order,
 * each 1/rate after the one before, from the first one's second. That is what an agent fed at that rate sees.
 * A generated capture spreads its 2 M packets over 13 minutes of its own clock (2,600 a second): work done
 * once a second of capture time weighs 115 times more a packet there than at 300,000 a second. Cached beside
 * the source (classic pcap, the source's link type).
 */
export async function retimedCapture(source: string, rate: number, log: (line: string) => void): Promise<string> {
  const path = source.replace(/(\.pcap)?$/, `-at${rate}.pcap`);
  if (existsSync(path)) return path;
  log(`writing ${path}: the same packets at ${rate.toLocaleString('en-US')} a second ...`);
  const partial = `${path}.partial`;
  let writer: PcapWriter | undefined;
  try {
    let n = 0;
    let start = Number.NaN;
    for await (const b of openCaptureFile(source)) {
      writer ??= new PcapWriter(partial, { linkType: b.linkTypes[0] });
      if (Number.isNaN(start) && b.count > 0) start = Math.floor(b.ts[0]);
      for (let i = 0; i < b.count; i++, n++) copyFrame(writer, b, i, start + Math.floor(n / rate) + (n % rate) / rate);
      await writer.drain();
    }
    await writer?.close();
    renameSync(partial, path);
    return path;
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}
