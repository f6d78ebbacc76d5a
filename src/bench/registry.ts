/**
 * Every benchmark, in the order `npm run bench` runs them. A new one (live capture, the agent service,
 * the UI) is a file in src/bench/ exporting a Benchmark, added to this list.
 */
import { offlineRead } from './offline-read.js';
import { liveCapture } from './live-capture.js';
import { tapModes } from './tap-modes.js';
import { historyQuery } from './history-query.js';
import { historyWrite } from './history-write.js';
import { detectionCost } from './detection.js';
import { flowCost } from './flow-cost.js';
import { jsFloor } from './js-floor.js';
import { serviceBench } from './service.js';
import { transportsBench } from './transports.js';
import { uiBench } from './ui.js';
import { uiRenderBench } from './ui-render.js';
import { fleetBench } from './fleet.js';
import type { Benchmark } from './types.js';

export const BENCHMARKS: readonly Benchmark[] = [offlineRead, liveCapture, tapModes, historyQuery, historyWrite, detectionCost, flowCost, jsFloor, serviceBench, transportsBench, uiBench, uiRenderBench, fleetBench];
