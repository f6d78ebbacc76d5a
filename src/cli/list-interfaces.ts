/**
 * `loopy list-interfaces` (`loopy -D`, as tcpdump spells it): the devices libpcap can capture on, numbered,
 * with their description and state in tcpdump -D's very words, so eyes and scripts used to tcpdump read it
 * as they read tcpdump. Listing needs no privilege, only the capture addon.
 */
import type { Command } from 'commander';
import { type DeviceInfo, captureAddonProblem, tryLoadCaptureAddon } from '../capture/live-addon.js';

// pcap_if_t flags (pcap/pcap.h).
const PCAP_IF_LOOPBACK = 0x1;
const PCAP_IF_UP = 0x2;
const PCAP_IF_RUNNING = 0x4;
const PCAP_IF_WIRELESS = 0x8;
const PCAP_IF_CONNECTION_STATUS = 0x30;
const CONNECTION_STATUS_UNKNOWN = 0x00;
const CONNECTION_STATUS_CONNECTED = 0x10;
const CONNECTION_STATUS_DISCONNECTED = 0x20;

/** In tcpdump's order. */
const STATE_WORDS: ReadonlyArray<readonly [number, string]> = [
  [PCAP_IF_UP, 'Up'],
  [PCAP_IF_RUNNING, 'Running'],
  [PCAP_IF_LOOPBACK, 'Loopback'],
  [PCAP_IF_WIRELESS, 'Wireless'],
];

export function registerListInterfaces(program: Command): void {
  program
    .command('list-interfaces')
    .description('list the interfaces this machine can capture on, numbered, as tcpdump -D does (loopy -D works too)')
    .action(() => {
      process.exitCode = listInterfaces(process.stdout, process.stderr);
    });
}

/** Writes the list; returns the exit status (1, with one line saying why, when the addon or libpcap fails). */
function listInterfaces(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): number {
  const addon = tryLoadCaptureAddon();
  if (!addon) {
    stderr.write(`loopy: cannot list interfaces: ${captureAddonProblem()}\n`);
    return 1;
  }
  try {
    stdout.write(describeDevices(addon.listDevices()));
    return 0;
  } catch (err) {
    stderr.write(`loopy: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `1.eth0 [Up, Running, Connected]`, one line a device, numbered from 1 in libpcap's order. */
export function describeDevices(devices: readonly DeviceInfo[]): string {
  return devices.map((d, i) => `${i + 1}.${d.name}${d.description ? ` (${d.description})` : ''}${d.flags !== 0 ? ` [${describeState(d.flags)}]` : ''}\n`).join('');
}

function describeState(flags: number): string {
  const words = STATE_WORDS.filter(([bit]) => (flags & bit) !== 0).map(([, word]) => word);
  const connection = describeConnection(flags);
  return [words.length > 0 ? words.join(', ') : 'none', ...(connection ? [connection] : [])].join(', ');
}

/** Whether the link is up (wired) or associated (wireless); nothing for devices where it does not apply. */
function describeConnection(flags: number): string | undefined {
  const wireless = (flags & PCAP_IF_WIRELESS) !== 0;
  switch (flags & PCAP_IF_CONNECTION_STATUS) {
    case CONNECTION_STATUS_UNKNOWN:
      return wireless ? 'Association status unknown' : 'Connection status unknown';
    case CONNECTION_STATUS_CONNECTED:
      return wireless ? 'Associated' : 'Connected';
    case CONNECTION_STATUS_DISCONNECTED:
      return wireless ? 'Not associated' : 'Disconnected';
    default:
      return undefined;
  }
}
