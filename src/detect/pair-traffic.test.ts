/**
 * Pair tallies (pair-traffic.ts) against a Map counted from the same frames: thousands of directed pairs a
 * second, so the typed-array index meets collisions, and every roll must free exactly the slots it used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udp4, type Frame } from '../test-support/frames.js';
import { hostText } from './addresses.js';
import { detectorConfig } from './detector-config.js';
import { FollowedPairs, PairTally, pairHashOf, type PairTraffic } from './pair-traffic.js';
import { runFrames } from './testing/frames.js';
import { random } from './testing/random.js';
import type { DetectorRegistration } from './types.js';

/** A detector that only looks at each second's tallies: what every pair moved, and whether get finds it. */
function tallyProbe(seen: Map<string, { packets: number; bytes: number }>, problems: string[]): DetectorRegistration {
  return {
    name: 'tally_probe',
    title: 'test probe',
    config: detectorConfig({}),
    create: () => ({
      name: 'tally_probe',
      onPairSecond: (now: number, pairs: PairTraffic) => {
        const thisSecond = new Set<string>();
        pairs.forEach((t) => {
          const key = `${hostText(t.src)}>${hostText(t.dst)}`;
          if (thisSecond.has(key)) problems.push(`${now}: ${key} tallied twice`);
          thisSecond.add(key);
          if (pairs.get(t.src, t.dst) !== t) problems.push(`${now}: get(${key}) does not find its tally`);
          if (t.hash !== pairHashOf(t.src, t.dst)) problems.push(`${now}: ${key}'s tally holds another hash`);
          const back = pairs.get(t.dst, t.src);
          if (back !== undefined && (back.src !== t.dst || back.dst !== t.src)) problems.push(`${now}: get of ${key}'s reverse found another pair`);
          if (pairs.reverse(t) !== back) problems.push(`${now}: ${key}'s way back (linked or looked up) is not get's`);
          const total = seen.get(key) ?? { packets: 0, bytes: 0 };
          total.packets += t.packets;
          total.bytes += t.bytes;
          seen.set(key, total);
        });
      },
    }),
  };
}

test('every directed pair: the tallies of all seconds add up to what its frames carried, each found by get', async () => {
  const rnd = random(13);
  const host = () => `10.${1 + Math.floor(rnd() * 2)}.${Math.floor(rnd() * 4)}.${1 + Math.floor(rnd() * 60)}`;
  const frames: Frame[] = [];
  const expected = new Map<string, { packets: number; bytes: number }>();
  // 12,000 datagrams over 4 s among ~480 hosts: about 2,500 directed pairs a second, many both ways.
  const flows = Array.from({ length: 4000 }, () => ({ a: host(), b: host(), port: 1024 + Math.floor(rnd() * 4) }));
  for (let i = 0; i < 12_000; i++) {
    const f = flows[Math.floor(rnd() * flows.length)];
    if (f.a === f.b) continue;
    const back = rnd() < 0.4;
    const [src, dst] = back ? [f.b, f.a] : [f.a, f.b];
    const payload = Math.floor(rnd() * 200);
    frames.push({ ts: 1000 + i * (4 / 12_000), bytes: back ? udp4(src, dst, 53, f.port, payload) : udp4(src, dst, f.port, 53, payload) });
    const key = `${src}>${dst}`;
    const total = expected.get(key) ?? { packets: 0, bytes: 0 };
    total.packets++;
    total.bytes += 28 + payload;
    expected.set(key, total);
  }
  const seen = new Map<string, { packets: number; bytes: number }>();
  const problems: string[] = [];
  const probe = tallyProbe(seen, problems);
  await runFrames(frames, {}, { registrations: [probe] });
  assert.deepEqual(problems, []);
  assert.equal(seen.size, expected.size);
  for (const [key, total] of expected) assert.deepEqual(seen.get(key), total, key);
});

test('followed pairs: never a false miss among 20,000 pairs (IPv4 and IPv6, both ways), and the filter empties as they go', () => {
  const rnd = random(17);
  const followed = new FollowedPairs();
  const tally = (src: number | string, dst: number | string) => {
    const t = new PairTally();
    t.reset(src, dst, typeof src === 'number' ? 4 : 6, pairHashOf(src, dst));
    return t;
  };
  const pairs: Array<[number | string, number | string]> = [];
  for (let i = 0; i < 20_000; i++) {
    const a = (0x0a000000 + Math.floor(rnd() * 4096)) | 0;
    const b = (0xc0a80000 + Math.floor(rnd() * 4096)) | 0;
    pairs.push(i % 10 === 0 ? [`2001:db8::${a & 0xfff}`, `2001:db8:1::${b & 0xfff}`] : i % 2 ? [a, b] : [b, a]);
  }
  for (const [src, dst] of pairs) followed.add(src, dst);
  assert.ok(pairs.every(([src, dst]) => followed.mayHave(tally(src, dst))), 'every followed pair is found');
  const kept = pairs.slice(10_000);
  for (const [src, dst] of pairs.slice(0, 10_000)) followed.remove(src, dst);
  assert.ok(kept.every(([src, dst]) => followed.mayHave(tally(src, dst))), 'removing others never hides a pair still followed');
  for (const [src, dst] of kept) followed.remove(src, dst);
  // Everything gone: only buckets that saturated (none at this load) could still answer "maybe".
  const strangers = Array.from({ length: 10_000 }, (_, i) => tally(i | 0, (i * 7919) | 0));
  assert.equal(strangers.filter((t) => followed.mayHave(t)).length, 0, 'an emptied filter holds nothing');
});
