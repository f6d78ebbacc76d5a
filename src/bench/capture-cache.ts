/**
 * The benchmark's input: a generated capture kept in bench/out/ (git-ignored), named by generator
 * version, seed and size, so a second run reuses it and a changed generator makes a new one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
