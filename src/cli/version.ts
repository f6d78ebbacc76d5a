/**
 * What `loopy --version` prints: this package's version, read from package.json, and, as
 * `tcpdump --version` does, the version of the libpcap the capture addon runs with, when the addon loads.
 */
import { readFileSync } from 'node:fs';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';

/** The version in package.json (dist/cli and src/cli both sit two levels below it). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** `loopy 0.1.0 (libpcap version 1.10.3, with TPACKET_V3)`; without the addon, or `libpcap: false`, no libpcap part. */
export function versionLine(options: { libpcap: boolean }): string {
  const libpcap = options.libpcap ? tryLoadCaptureAddon()?.libVersion() : undefined;
  if (!libpcap) return `loopy ${packageVersion()}`;
  // libpcap says "libpcap version 1.10.3 (with TPACKET_V3)": its note joins ours instead of nesting in it.
  return `loopy ${packageVersion()} (${libpcap.replace(/ \((.*)\)$/, ', $1')})`;
}
