/**
 * Every detector Loopy runs, in one list: a new detector is one file in this folder plus one line here.
 * The config schema (detectors.<name>) and the DetectionEngine both come from this list.
 */
import type { DetectorRegistration } from '../types.js';
import { arpSpoof } from './arp-spoof.js';
import { beaconing } from './beaconing.js';
import { blocklist } from './blocklist.js';
import { captureLoss } from './capture-loss.js';
import { dnsTunnel } from './dns-tunnel.js';
import { hostSweep } from './host-sweep.js';
import { icmpFlood } from './icmp-flood.js';
import { largeTransfer } from './large-transfer.js';
import { newListener } from './new-listener.js';
import { newProcessTalker } from './new-process-talker.js';
import { newService } from './new-service.js';
import { nxdomainBurst } from './nxdomain-burst.js';
import { portScan } from './port-scan.js';
import { sshGuessing } from './ssh-guessing.js';
import { synFlood } from './syn-flood.js';
import { trafficSpike } from './traffic-spike.js';
import { udpFlood } from './udp-flood.js';
import { volume } from './volume.js';

/** Each registration is typed with its own config; the list holds them by the common part (hence the cast). */
export const DETECTORS: readonly DetectorRegistration[] = [
  portScan,
  hostSweep,
  synFlood,
  icmpFlood,
  dnsTunnel,
  nxdomainBurst,
  trafficSpike,
  blocklist,
  arpSpoof,
  newService,
  newListener,
  newProcessTalker,
  captureLoss,
  sshGuessing,
  udpFlood,
  volume,
  largeTransfer,
  beaconing,
] as unknown as readonly DetectorRegistration[];
