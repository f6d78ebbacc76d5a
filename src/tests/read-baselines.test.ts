/**
 * `loopy read --json` against saved baselines, as Zeek's btest diffs whole logs: every record of two
 * generated captures (an office mix with a DNS tunnel and an NXDOMAIN burst raising alerts; a small-packet
 * mix over VLAN with a third of the sessions over IPv6), byte for byte. An optimisation must leave them
 * as they are; a change meant to alter records updates the baselines (LOOPY_UPDATE_BASELINES=1 npm test)
 * and says why in its commit. `--seed 0` makes the uids and alert ids repeatable (they are random per process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { GenerateOptions } from '../synth/generate.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

/** The baselines live beside the test's source (src/tests/baselines), whether it runs from src or dist. */
const BASELINES = fileURLToPath(new URL('../../src/tests/baselines/', import.meta.url));

const CASES: Array<{ name: string; options: GenerateOptions }> = [
  { name: 'office-dns-incidents', options: { seed: 41, packets: 2000, incidents: ['dns_tunnel', 'nxdomain_burst'] } },
  { name: 'small-vlan-ipv6', options: { seed: 42, packets: 2000, mix: 'small', vlan: 7, ipv6Share: 0.3 } },
];

for (const { name, options } of CASES) {
  test(`loopy read --json on ${name} writes its baseline, byte for byte`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopy-baseline-'));
    try {
      const file = join(dir, `${name}.pcap`);
      writeFileSync(file, (await generatedCapture(options)).bytes);
      const run = runCli(['read', file, '--json', '--seed', '0']);
      assert.equal(run.status, 0, run.stderr);
      const baseline = join(BASELINES, `${name}.ndjson.gz`);
      if (process.env.LOOPY_UPDATE_BASELINES === '1') writeFileSync(baseline, gzipSync(run.stdout, { level: 9 }));
      const want = gunzipSync(readFileSync(baseline)).toString('utf8').split('\n');
      const got = run.stdout.split('\n');
      const first = want.findIndex((line, i) => line !== got[i]);
      assert.ok(first < 0 && got.length === want.length, first < 0 ? `${got.length} lines, baseline ${want.length}` : `line ${first + 1} differs:\n  got      ${got[first]}\n  baseline ${want[first]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
