import { chownSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AlertRecord } from '../analyze/records.js';
import { makeDirectory } from '../capture/directories.js';
import { releasePages } from '../capture/live-addon.js';
import { defaultDetectionConfig, loadDetectionConfig, type DetectionConfig } from '../detect/config.js';
import { changedKeys } from '../detect/config-diff.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { AlertDelivery, hasDeliveryTargets } from '../detect/delivery/index.js';
import { directoryEvidenceSink } from '../detect/evidence/file-sink.js';
import type { AlertAcks } from './alert-acks.js';
import type { SuppressionRule } from '../detect/suppressions.js';
import type { AlertControl } from './server.js';

/** Detection as the agent runs it: the engine, the delivery in use (it may change on reload), and reload. */
export interface AgentDetection {
  readonly detection: DetectionEngine;
  readonly delivery: AlertDelivery | undefined;
  /** Rereads the config file (SIGHUP): what changed, or why the file was refused (the running settings stay). */
  reload(): ReloadOutcome;
}

export type ReloadOutcome =
  | { ok: true; applied: string[]; needRestart: string[] }
  | { ok: false; error: string };

/**
 * Detection in the agent: the same detectors as `loopy read`, fed live; evidence pcaps in `evidenceDir`;
 * alerts also to the webhook and syslog the detection config names. Alert ids are unique per process
 * (analyze/flows/uid.ts), so two agents (or two runs) never repeat one.
 */
export function agentDetection(
  evidenceDir: string,
  configFile: string | undefined,
  onAlert: (alert: AlertRecord) => void,
  onGiveUp: (target: string, alert: AlertRecord, error: Error) => void,
): AgentDetection {
  const config = configFile ? loadDetectionConfig(configFile) : defaultDetectionConfig();
  // Webhook and syslog, as configured: queued and retried off the capture path, never blocking it.
  const deliveryFor = (c: DetectionConfig) => (hasDeliveryTargets(c.delivery) ? new AlertDelivery(c.delivery, { onGiveUp }) : undefined);
  let delivery = deliveryFor(config);
  let deliveryConfig = config.delivery;
  const detection = new DetectionEngine({
    config,
    onAlert: (alert) => {
      onAlert(alert);
      delivery?.deliver(alert);
    },
    evidence: directoryEvidenceSink(evidenceDir),
    releaseRingPages: releasePages,
  });
  const reload = (): ReloadOutcome => {
    if (configFile === undefined) return { ok: false, error: 'no detection config file was given (--detect-config FILE, or the config key "detectConfig")' };
    let next: DetectionConfig;
    let nextDelivery: AlertDelivery | undefined;
    try {
      next = loadDetectionConfig(configFile);
      // A new delivery is made before anything changes: a CA file that cannot be read refuses the whole file.
      nextDelivery = changedKeys(deliveryConfig, next.delivery).length > 0 ? deliveryFor(next) : delivery;
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const { applied, needRestart } = detection.reconfigure(next);
    if (nextDelivery !== delivery) {
      // What the old targets still hold goes out (or is dropped) in the background.
      void delivery?.close();
      delivery = nextDelivery;
      applied.push(...changedKeys(deliveryConfig, next.delivery, 'delivery'));
      deliveryConfig = next.delivery;
    }
    return { ok: true, applied, needRestart };
  };
  return {
    detection,
    get delivery() {
      return delivery;
    },
    reload,
  };
}

/**
 * A directory the agent writes into after dropping privileges (--evidence, --zeek-logs), made at start so a
 * mistake is one line then, not a failed write at the first record: parents 0755, itself 0700 and, made by
 * root, owned by the user the agent becomes. One that exists is used as it is. (The default, DATA/evidence, is made by the first evidence file.)
 */
export function prepareAgentDir(dir: string, owner?: { uid: number; gid: number }): void {
  makeDirectory(dirname(dir), 0o755);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

/**
 * Acknowledge (kept by `acks`: in memory while open, in the store for good) and suppress, as clients ask;
 * `alsoSuppress` hands the rule to the agent's other engines (--workers).
 */
export function alertControl(detection: DetectionEngine, acks: AlertAcks, alsoSuppress?: (rule: SuppressionRule) => void): AlertControl {
  return {
    ack: (alertId, by) => acks.ack(alertId, by),
    suppress(rule) {
      const suppression: SuppressionRule = { detector: rule.detector, src: rule.source, dst: rule.destination, unit: rule.unit, until: rule.expires_at, reason: 'from a client' };
      alsoSuppress?.(suppression);
      return detection.suppress(suppression);
    },
  };
}
