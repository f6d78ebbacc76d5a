/**
 * A harness that runs hand-built frames (src/test-support/frames.ts) through the real engine and detection.
 */
import { Engine } from '../../analyze/engine.js';
import { defaultApps } from '../../analyze/apps/index.js';
import type { AlertRecord, LoopyRecord } from '../../analyze/records.js';
import { defaultProtocols } from '../../decode/protocols/index.js';
import { batchOf, type Frame } from '../../test-support/frames.js';
import { parseDetectionConfig } from '../config.js';
import { DetectionEngine, type DetectionOptions } from '../detection-engine.js';

export interface FramesRun {
  alerts: AlertRecord[];
  records: LoopyRecord[];
  detection: DetectionEngine;
  engine: Engine;
}

/** Runs frames through Engine + DetectionEngine (config as JSON, validated), then finishes. */
export async function runFrames(frames: readonly Frame[], config: unknown = {}, options: Partial<DetectionOptions> = {}): Promise<FramesRun> {
  const alerts: AlertRecord[] = [];
  const records: LoopyRecord[] = [];
  const detection = new DetectionEngine({ config: parseDetectionConfig(config, options.registrations), onAlert: (a) => alerts.push(a), ...options });
  const engine = new Engine(detection.wrap({ protocols: defaultProtocols, apps: defaultApps, onRecord: (r) => records.push(r) }));
  detection.attach(engine);
  const batch = batchOf(frames);
  detection.addBatch(batch);
  engine.processBatch(batch);
  engine.finish();
  await detection.close();
  return { alerts, records, detection, engine };
}
