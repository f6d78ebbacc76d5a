/**
 * The demo capture `loopy ui --local` replays when it cannot capture live: samples/demo.pcap in the package,
 * made by Loopy's own generator (src/synth, run as a child process) the first time it is needed. Where the
 * package cannot be written (installed by root, a read-only checkout) it is made in the user's cache instead
 * ($XDG_CACHE_HOME/loopy, default ~/.cache/loopy). Never looked for relative to the working directory.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirectory } from '../../capture/directories.js';
import { userDir } from '../../client/user-dirs.js';
import { nodeScript } from './node-script.js';

/** The generator's arguments after the output file: 80 s of office traffic with a port scan, a DNS tunnel and an NXDOMAIN burst. */
export const DEMO_SAMPLE_ARGS = ['--packets', '32000', '--duration', '80', '--incidents', 'port_scan,dns_tunnel,nxdomain_burst'];

/** Where the demo capture may be: in the package, or in the user's cache. */
export interface DemoSamplePlaces {
  packaged: string;
  cached: string;
}

export function demoSamplePlaces(env: NodeJS.ProcessEnv = process.env): DemoSamplePlaces {
  const packageDir = fileURLToPath(new URL('../../../', import.meta.url));
  return { packaged: join(packageDir, 'samples', 'demo.pcap'), cached: join(userDir('cache', env), 'demo.pcap') };
}

export interface FileProbe {
  exists(path: string): boolean;
  /** Whether files can be made in `dir`, or in its nearest existing parent when `dir` is not there yet. */
  writable(dir: string): boolean;
}

export const realFileProbe: FileProbe = {
  exists: existsSync,
  writable(dir) {
    let d = dir;
    while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
    try {
      accessSync(d, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** The file to replay and whether it must be made first: one already made, else the package's if it can be written, else the cache's. */
export function pickDemoSample(places: DemoSamplePlaces, probe: FileProbe = realFileProbe): { path: string; make: boolean } {
  for (const path of [places.packaged, places.cached]) if (probe.exists(path)) return { path, make: false };
  return { path: probe.writable(dirname(places.packaged)) ? places.packaged : places.cached, make: true };
}

/** The demo capture's path, made first if need be; `say` tells the user while it is being made. */
export async function ensureDemoSample(say: (line: string) => void, places = demoSamplePlaces(), probe: FileProbe = realFileProbe): Promise<string> {
  const { path, make } = pickDemoSample(places, probe);
  if (!make) return path;
  say(`making the demo capture ${path} (once)`);
  // Written beside and renamed into place: a replay never sees half a file, and two first runs do not collide.
  const partial = `${path}.${process.pid}.partial`;
  try {
    makeDirectory(dirname(path), 0o755);
    await runGenerator([...nodeScript(new URL('../../synth/main.js', import.meta.url)), partial, ...DEMO_SAMPLE_ARGS]);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw new Error(`cannot make the demo capture ${path}: ${(err as Error).message}`);
  }
  return path;
}

function runGenerator(args: string[]): Promise<void> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim().split('\n')[0] || `the generator exited with ${signal ?? `status ${code}`}`));
    });
  });
}
