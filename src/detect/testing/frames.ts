/**
 * A harness that runs hand-built frames (src/test-support/frames.ts) through the real engine and detection.
 */
import type { Engine } from '../../analyze/engine.js';
import { Pipeline } from '../../analyze/pipeline.js';
import type { AlertRecord, LoopyRecord } from '../../analyze/records.js';
import { batchOf, type Frame } from '../../test-support/frames.js';
import { parseDetectionConfig } from '../config.js';
import { DetectionEngine, type DetectionOptions } from '../detection-engine.js';

export interface FramesRun {
  alerts: AlertRecord[];
  records: LoopyRecord[];
  detection: DetectionEngine;
  engine: Engine;
}

/** Runs frames through the pipeline with detection (config as JSON, validated), then finishes. */
export async function runFrames(frames: readonly Frame[], config: unknown = {}, options: Partial<DetectionOptions> = {}): Promise<FramesRun> {
  const alerts: AlertRecord[] = [];
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => r.type !== 'alert' && records.push(r) });
  const detection = new DetectionEngine({ config: parseDetectionConfig(config, options.registrations), onAlert: (a) => alerts.push(a), ...options });
  detection.attach(pipeline);
  pipeline.process(batchOf(frames));
  pipeline.finish();
  await detection.close();
  return { alerts, records, detection, engine: pipeline.engine };
}
