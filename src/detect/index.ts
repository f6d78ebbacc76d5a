/**
 * Detection: detectors over the engine's events, one alert per incident, evidence pcaps, delivery.
 * See detection-engine.ts for the wiring and docs/design.md "Detection" for the decisions.
 */
export { DetectionEngine, type DetectionOptions } from './detection-engine.js';
export { parseDetectionConfig, loadDetectionConfig, defaultDetectionConfig, DetectionConfigError, type DetectionConfig, type SuppressionConfig } from './config.js';
export { DETECTORS } from './detectors/index.js';
export { AlertBook, type AlertBookOptions } from './alerts.js';
export { Suppressions, type Suppression, type SuppressionRule } from './suppressions.js';
export { AlertCollector, renderAlertsSection } from './alerts-summary.js';
export { PacketRing, type PacketRingOptions } from './evidence/packet-ring.js';
export { EvidenceRecorder, type EvidenceSink, type EvidenceOptions } from './evidence/evidence-recorder.js';
export { directoryEvidenceSink } from './evidence/file-sink.js';
export { textFileSource, textFileOnce } from './text-file-source.js';
export { AlertDelivery, type DeliveryDeps } from './delivery/index.js';
export { Outcome, type AlertSignal, type Detector, type DetectorContext, type DetectorRegistration, type DetectorDeps, type Severity, type TextSource } from './types.js';
export type { AlertRecord, AlertEvidence } from '../analyze/records.js';
