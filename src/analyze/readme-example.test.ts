/**
 * Runs the README's "Library use" example exactly as written, against a build of the library: under
 * `npm test` the dist/ that `npm run build` just made from scratch; from the sources (tsx), a fresh build of
 * src/index.ts into a temporary directory. Its output is checked against the generator's ground truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { captureAddonPath, captureAddonProblem } from '../capture/live-addon.js';
import { projectRoot } from '../test-support/corpus.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { META_CAPLEN, META_OFFSET, META_STRIDE } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { formatIPv4Bytes } from './format-address.js';
import type { DnsRecord } from './records.js';

const run = promisify(execFile);

/** The first ```js block of the README section "## Library use". */
function readmeExample(): string {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library use');
  assert.ok(start >= 0, 'README has a "Library use" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const block = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a js example');
  return block[1];
}

/** dist/index.js of a clean build. */
async function builtLibrary(scratch: string): Promise<string> {
  if (fileURLToPath(import.meta.url).includes(`${join(projectRoot, 'dist')}`)) return join(projectRoot, 'dist', 'index.js');
  // Only the library's own import graph is compiled, so other folders' work in progress cannot get in the way.
  const config = join(scratch, 'tsconfig.json');
  const outDir = join(scratch, 'dist');
  await writeFile(config, JSON.stringify({
    extends: join(projectRoot, 'tsconfig.json'),
    // Type packages are looked up from the config's directory unless told where they are.
    compilerOptions: { rootDir: join(projectRoot, 'src'), outDir, declaration: false, sourceMap: false, typeRoots: [join(projectRoot, 'node_modules', '@types')] },
    include: [],
    files: [join(projectRoot, 'src', 'index.ts')],
  }));
  try {
    await run(process.execPath, [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config]);
  } catch (err) {
    assert.fail(`building the library failed:\n${(err as { stdout?: string }).stdout ?? err}`);
  }
  return join(outDir, 'index.js');
}

/**
 * The IPv4 frames whose TCP flags are exactly SYN, as "src → dst:dport", found with a parser of its own (the
 * generator writes untagged Ethernet and IPv4 without options). IPv4 only, as libpcap's `tcp[tcpflags]`:
 * pcap-filter(7) says such expressions "only look at IPv4 packets" (tcpdump -r agreed: 76 of 82 bare SYNs).
 */
async function bareSyns(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of openCaptureFile(path)) {
    for (let i = 0; i < b.count; i++) {
      const at = b.meta[i * META_STRIDE + META_OFFSET];
      const f = b.data.subarray(at, at + b.meta[i * META_STRIDE + META_CAPLEN]);
      if (f.readUInt16BE(12) !== 0x0800 || f[23] !== 6) continue;
      const tcp = 14 + (f[14] & 0x0f) * 4;
      if (f[tcp + 13] === 0x02) out.push(`${formatIPv4Bytes(f, 26)} → ${formatIPv4Bytes(f, 30)}:${f.readUInt16BE(tcp + 2)}`);
    }
  }
  return out;
}

test('the README library example runs and prints what the capture holds', { skip: captureAddonProblem() ?? false, timeout: 120_000 }, async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'loopy-readme-'));
  try {
    const library = await builtLibrary(scratch);
    assert.ok(existsSync(library), `no ${library}`);
    const example = readmeExample();
    assert.equal(example.match(/from 'loopy-netmon'/g)?.length, 1, 'the example imports the package once, as users do');
    const script = join(scratch, 'example.mjs');
    await writeFile(script, example.replace("from 'loopy-netmon'", `from '${pathToFileURL(library).href}'`));

    const { bytes, truth } = await generatedCapture({ seed: 31, packets: 1500 });
    const capture = join(scratch, 'capture.pcap');
    await writeFile(capture, bytes);
    // The addon is found beside the build it belongs to; a temporary build is told where it is.
    const env = { ...process.env, LOOPY_CAPTURE_ADDON: captureAddonPath() };
    const { stdout } = await run(process.execPath, [script, capture], { env, cwd: scratch });
    const lines = stdout.trimEnd().split('\n');

    const dns = (await runEngineOnFile(capture)).records.filter((r): r is DnsRecord => r.type === 'dns');
    assert.equal(dns.length, truth.dns.queries);
    const syns = await bareSyns(capture);
    assert.ok(syns.length > 10);
    assert.deepEqual(lines, [
      ...dns.map((r) => `${r.query} ${r.qtype_name} ${r.rcode_name ?? '(no answer)'}`),
      `${truth.packets} packets, ${truth.tcp.connections + truth.udp.flows + truth.icmp.sessions} flows`,
      ...syns.slice(0, 3).map((s) => `${s} [S]`),
      `${syns.length} connection attempts`,
    ]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
