/**
 * Mutation fuzzing of the whole engine and detection (every detector on its defaults, as `loopy read` runs
 * them): real packets with bit flips, truncation and corrupted length fields, at least 200,000 packets per run;
 * and packets stamped at any time a capture file can give (before 1970, past 2106, past what a date holds,
 * stepping back), whose records every output must write. Nothing may throw. The seed is fixed (LOOPY_FUZZ_SEED overrides it) so a failure reproduces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { META_STRIDE, type PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { Pipeline } from '../analyze/pipeline.js';
import { defaultDetectionConfig } from '../detect/config.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { corpusPath, haveCorpus, readManifest } from '../test-support/corpus.js';
import { sampleFrames } from '../test-support/sample-frames.js';
import { randomFractions } from '../test-support/random.js';
import type { AlertRecord, LoopyRecord } from '../analyze/records.js';
import { toEcs } from '../analyze/ecs.js';
import { DATE_RANGE_SECONDS } from '../analyze/time-text.js';
import { renderAlertsSection } from '../detect/alerts-summary.js';

interface Frame {
  bytes: Buffer;
  linkType: number;
}

async function corpusFrames(limit: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const row of readManifest()) {
    if (row.tsharkStatus !== 'ok' || row.path.startsWith('large/')) continue;
    try {
      for await (const batch of openCaptureFile(corpusPath(row.path))) {
        for (let i = 0; i < batch.count && frames.length < limit; i++) {
          const m = i * META_STRIDE;
          frames.push({ bytes: Buffer.from(batch.data.subarray(batch.meta[m], batch.meta[m] + batch.meta[m + 1])), linkType: batch.linkTypes[batch.meta[m + 3]] });
        }
      }
    } catch {
      // damaged files are covered elsewhere
    }
    if (frames.length >= limit) break;
  }
  return frames;
}

const prng = randomFractions;

function mutate(frame: Buffer, random: () => number): Buffer {
  const copy = Buffer.from(frame);
  const kind = random();
  if (kind < 0.4) {
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
  } else if (kind < 0.7) {
    // Length fields live in the first ~80 bytes of most headers: overwrite two bytes there.
    const at = Math.floor(random() * Math.min(copy.length - 1, 80));
    copy[at] = Math.floor(random() * 256);
    copy[at + 1] = random() < 0.5 ? 0xff : 0;
  } else {
    return copy.subarray(0, Math.floor(random() * copy.length));
  }
  return copy;
}

/** `total` mutated frames, a thousand a batch, stamped by `time()` in turn, each batch through `pipeline.process`. */
function feed(pipeline: Pipeline, frames: readonly Frame[], random: () => number, total: number, time: () => number, label: string): void {
  const perBatch = 1000;
  for (let done = 0; done < total; done += perBatch) {
    const parts: Buffer[] = [];
    const meta = new Uint32Array(perBatch * META_STRIDE);
    const times = new Float64Array(perBatch);
    const linkTypes: number[] = [];
    let offset = 0;
    for (let i = 0; i < perBatch; i++) {
      const frame = frames[Math.floor(random() * frames.length)];
      const bytes = mutate(frame.bytes, random);
      let iface = linkTypes.indexOf(frame.linkType);
      if (iface < 0) iface = linkTypes.push(frame.linkType) - 1;
      meta.set([offset, bytes.length, frame.bytes.length, iface], i * META_STRIDE);
      times[i] = time();
      parts.push(bytes);
      offset += bytes.length;
    }
    const batch: PacketBatch = { data: Buffer.concat(parts), count: perBatch, meta, ts: times, linkTypes };
    assert.doesNotThrow(() => pipeline.process(batch), `${label}, batch at packet ${done}`);
  }
}

test('fuzz: 200,000 mutated packets through the whole engine and detection never throw', async () => {
  const seed = Number(process.env.LOOPY_FUZZ_SEED ?? 20261121);
  const frames = haveCorpus() ? await corpusFrames(20_000) : await sampleFrames();
  assert.ok(frames.length > 100, 'enough source frames');
  const random = prng(seed);
  const pipeline = new Pipeline();
  pipeline.observe({ onRecord: () => {} }); // records are built and handed out, as in loopy read
  let alerts = 0;
  new DetectionEngine({ config: defaultDetectionConfig(), onAlert: () => alerts++, fromFile: true }).attach(pipeline);
  let ts = 1_700_000_000;
  feed(pipeline, frames, random, 200_000, () => (ts += random() * 0.01), `seed ${seed}`);
  const summary = pipeline.finish();
  assert.equal(summary.packets, 200_000);
  assert.ok(Object.keys(summary.weirds).length > 5, 'mutations produce weirds');
  assert.ok(alerts > 0, 'detection ran over them (a scan or a flood among 200,000 random packets)');
});

test('fuzz: packets stamped at any time (before 1970, past 2106, past what a date holds, going back) give records every output writes', async () => {
  const seed = Number(process.env.LOOPY_FUZZ_SEED ?? 20261206);
  const frames = haveCorpus() ? await corpusFrames(20_000) : await sampleFrames();
  const random = prng(seed);
  const pipeline = new Pipeline();
  const records: LoopyRecord[] = [];
  pipeline.observe({ onRecord: (r) => void records.push(r) });
  const alerts: AlertRecord[] = [];
  new DetectionEngine({ config: defaultDetectionConfig(), onAlert: (a) => void alerts.push(a), fromFile: true }).attach(pipeline);
  // A pcapng's 64-bit time and signed offset reach all of these; a capture may also step back (clock changes).
  const epochs = [-4e9, -1, 0, 1.7e9, 2 ** 32 - 2, 1e11, DATE_RANGE_SECONDS - 3, 1.8e13, 1.7e9];
  let base = 1.7e9;
  let t = 0;
  const time = () => {
    if (random() < 0.002) {
      base = epochs[Math.floor(random() * epochs.length)];
      t = 0;
    }
    return base + (t += random() * 0.01);
  };
  feed(pipeline, frames, random, 50_000, time, `seed ${seed}`);
  pipeline.finish();
  assert.ok(records.length > 1000);
  for (const record of records) assert.doesNotThrow(() => JSON.stringify(toEcs(record)), `ECS of a ${record.type} record at ${(record as { ts?: number }).ts}`);
  assert.ok(records.some((r) => Math.abs((r as { ts?: number }).ts ?? 0) > DATE_RANGE_SECONDS), 'some records past what a date holds');
  assert.doesNotThrow(() => renderAlertsSection(alerts, ['port_scan'], 80));
});
