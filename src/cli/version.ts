/**
 * What `loopy --version` prints: this package's version, read from package.json, and, as
 * `tcpdump --version` does, the version of the libpcap the capture addon runs with, when the addon loads.
 */
import { tryLoadCaptureAddon } from '../capture/live-addon.js';
import { PACKAGE_VERSION } from '../capture/package-version.js';

/** `loopy 0.1.0 (libpcap version 1.10.3, with TPACKET_V3)`; without the addon, or `libpcap: false`, no libpcap part. */
export function versionLine(options: { libpcap: boolean }): string {
  const libpcap = options.libpcap ? tryLoadCaptureAddon()?.libVersion() : undefined;
  if (!libpcap) return `loopy ${PACKAGE_VERSION}`;
  // libpcap says "libpcap version 1.10.3 (with TPACKET_V3)": its note joins ours instead of nesting in it.
  return `loopy ${PACKAGE_VERSION} (${libpcap.replace(/ \((.*)\)$/, ', $1')})`;
}
