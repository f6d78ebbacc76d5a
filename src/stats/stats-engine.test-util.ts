import { PassThrough } from 'node:stream';
import { Pipeline, type PipelineOptions } from '../analyze/pipeline.js';
import type { LoopyRecord } from '../analyze/records.js';
import { META_STRIDE, type PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { SecondStats, type SecondStatsOptions } from './second-stats.js';

/** A pipeline with a SecondStats, wired the way the agent wires them. */
export function statsEngine(options: SecondStatsOptions, pipelineOptions: PipelineOptions = {}, records: LoopyRecord[] = []) {
  const pipeline = new Pipeline(pipelineOptions).observe({ onRecord: (r) => records.push(r) });
  const stats = new SecondStats(pipeline, options);
  return { pipeline, stats, records };
}


/** The part [from, to) of a batch, sharing its buffers (valid as long as the batch is). */
function slice(batch: PacketBatch, from: number, to: number): PacketBatch {
  return { ...batch, count: to - from, meta: batch.meta.subarray(from * META_STRIDE, to * META_STRIDE), ts: batch.ts.subarray(from, to) };
}

/**
 * Feeds a capture to the engine second by second of capture time, as the agent's timer does: before the first
 * packet of a later second, every whole second that ended is closed, empty ones too — `engine.tick(second)`,
 * then `onSecond(second)`. `onPacket` is called for each packet after that. Returns the last second begun:
 * rolling it, after `engine.finish()`, is the caller's.
 */
export async function feedBySecond(bytes: Buffer, pipeline: Pipeline, onSecond: (second: number) => void, onPacket: () => void = () => {}): Promise<number> {
  let second = Number.NaN;
  const closeUpTo = (t: number) => {
    while (second + 1 <= t) {
      second += 1;
      pipeline.tick(second);
      onSecond(second);
    }
  };
  const input = new PassThrough();
  input.end(bytes);
  for await (const batch of openCaptureFile('-', { input })) {
    let from = 0;
    for (let i = 0; i < batch.count; i++) {
      const t = batch.ts[i];
      if (Number.isNaN(second)) second = Math.floor(t);
      if (t >= second + 1) {
        pipeline.process(slice(batch, from, i));
        from = i;
        closeUpTo(t);
      }
      onPacket();
    }
    pipeline.process(slice(batch, from, batch.count));
  }
  return second;
}
