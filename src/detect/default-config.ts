/**
 * The detection config when none is given: every setting's default, written out as parseDetectionConfig({})
 * gives it, so that a run on the defaults (`loopy read` without --detect-config, an agent without one) loads
 * neither zod nor any schema: ~70 ms of a `loopy read` start of 0.3 s (docs/research.md, issue 11).
 * The schemas stay the one place defaults are decided: default-config.test.ts fails, naming the setting,
 * when this copy differs from what they give; then write here what it prints.
 */
import type { DetectionConfig } from './config.js';
import { DEFAULT_LOCAL_NETS } from '../stats/local-nets.js';

/** What every detector's config has (detectorConfig), each time new arrays: no two detectors share one. */
const common = () => ({ enabled: true, allowSources: [] as string[], allowTargets: [] as string[] });
/** What both process detectors have (processDetectorShape). */
const processDetector = () => ({ learnSeconds: 86400, ignoreUnits: [] as string[], maxActors: 50000 });

const DEFAULTS: DetectionConfig = {
  alerts: {
    quietPeriod: 60,
    updateInterval: 10,
    maxCommunityIds: 20,
    idSeed: 1540483477,
  },
  evidence: {
    before: 5,
    after: 5,
    ringMiB: 64,
    snaplen: 1600,
    maxPackets: 10000,
  },
  suppressions: [],
  localNets: [...DEFAULT_LOCAL_NETS],
  delivery: {},
  detectors: {
    port_scan: {
      ...common(),
      window: 60,
      minPorts: 100,
      slowMinPorts: 20,
      slowHalfLife: 300,
      ignoreUdpPorts: [[33434, 33534]],
      maxSources: 20000,
      maxTargetsPerSource: 64,
      maxPortEntries: 1000000,
    },
    host_sweep: {
      ...common(),
      window: 60,
      minHosts: 50,
      slowMinHosts: 20,
      slowHalfLife: 300,
      minFailedShare: 0.5,
      maxSources: 20000,
      maxServicesPerSource: 256,
      maxHostEntries: 1000000,
    },
    syn_flood: {
      ...common(),
      window: 5,
      minFailed: 400,
      minSourcesHost: 50,
      maxTargets: 20000,
      maxPortsPerTarget: 256,
    },
    icmp_flood: {
      ...common(),
      window: 2,
      minPackets: 1000,
      maxTargets: 20000,
    },
    dns_tunnel: {
      ...common(),
      window: 60,
      minScore: 24,
      encodedPoints: 1,
      tunnelTypePoints: 6,
      dataTypePoints: 2,
      longLabel: 40,
      minHexLength: 16,
      minSubdomainLength: 24,
      highEntropy: 4,
      tunnelTypes: [10],
      dataTypes: [16, 15, 5, 33, 255],
      allowDomains: [],
      extraSuffixes: [],
      maxTracked: 20000,
      maxNameEntries: 1000000,
    },
    nxdomain_burst: {
      ...common(),
      window: 60,
      minNames: 50,
      minDomains: 20,
      allowDomains: [],
      extraSuffixes: [],
      maxClients: 20000,
      maxNameEntries: 1000000,
    },
    traffic_spike: {
      ...common(),
      learnSeconds: 600,
      fileLearnSeconds: 60,
      baselineSeconds: 1800,
      minBytesPerSecond: 10000000,
      minRatio: 10,
      deviations: 6,
      sustainSeconds: 3,
      scope: 'local',
      maxHosts: 10000,
    },
    blocklist: {
      ...common(),
      entries: [],
    },
    arp_spoof: {
      ...common(),
      rebindWindow: 600,
      maxBindings: 65536,
      maxClaimants: 4096,
    },
    new_service: {
      ...common(),
      learnSeconds: 86400,
      maxPort: 32767,
      clients: true,
      listeners: true,
      services: true,
      maxEntries: 1000000,
    },
    new_listener: {
      ...common(),
      ...processDetector(),
      maxUdpPort: 32767,
    },
    new_process_talker: {
      ...common(),
      ...processDetector(),
    },
    capture_loss: {
      ...common(),
      minLossPct: 0.1,
      minDropped: 1,
    },
    ssh_guessing: {
      ...common(),
      window: 600,
      minAttempts: 10,
      minConnections: 3,
      maxPairs: 20000,
    },
    udp_flood: {
      ...common(),
      window: 2,
      minPackets: 5000,
      minBytes: 100000000,
      maxAnsweredShare: 0.1,
      maxPairs: 20000,
    },
    volume: {
      ...common(),
      window: 2,
      minPackets: 20000,
      minBytes: 200000000,
      maxAnsweredShare: 0.1,
      maxPairs: 20000,
    },
    large_transfer: {
      ...common(),
      window: 600,
      minBytes: 1000000000,
      maxPairs: 20000,
    },
    beaconing: {
      ...common(),
      window: 3600,
      minEvents: 12,
      minInterval: 10,
      maxInterval: 900,
      maxJitter: 0.1,
      scope: 'outbound',
      maxSeries: 50000,
    },
  },
};

/** The built-in detectors' defaults, a fresh copy each time (a reload changes a running config in place). */
export function defaultDetectionConfig(): DetectionConfig {
  return structuredClone(DEFAULTS);
}
