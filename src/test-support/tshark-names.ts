/** Passive DNS as tshark reads it from a capture: the second opinion for Loopy's passive names. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Why tshark cannot be asked here, or false when it can. */
export const noTshark: string | false = spawnSync('tshark', ['--version']).error ? 'tshark is not installed' : false;

/**
 * For every NOERROR response of the capture, each A/AAAA answer's address named by the first question's name,
 * in capture order: the later answer for an address wins, as the map's order says.
 */
export function tsharkNames(capture: string): Map<string, string> {
  const fields = ['dns.qry.name', 'dns.a', 'dns.aaaa'].flatMap((f) => ['-e', f]);
  const filter = 'dns.flags.response == 1 && dns.flags.rcode == 0';
  const r = spawnSync('tshark', ['-n', '-r', capture, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const names = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [query, v4, v6] = line.split('\t');
    if (!query) continue;
    const name = query.split(',')[0];
    for (const address of [...(v4 ? v4.split(',') : []), ...(v6 ? v6.split(',') : [])]) {
      names.delete(address);
      names.set(address, name);
    }
  }
  return names;
}
