/** The SSH analyzer's registration: Zeek's service name "ssh", port 22, and a version-banner probe. */
import { IPPROTO_TCP } from '../../../decode/packet.js';
import type { AppRegistration } from '../types.js';
import { SshAnalyzer } from './analyzer.js';

export { SshAnalyzer } from './analyzer.js';
export { SshLogin, isSshLogin } from './login.js';

/** The first payload starts "SSH-" (RFC 4253 §4.2: the client's first line is its banner; the server's usually is). */
export function looksLikeSshBanner(data: Buffer, offset: number, length: number): boolean {
  return length >= 4 && data[offset] === 0x53 && data[offset + 1] === 0x53 && data[offset + 2] === 0x48 && data[offset + 3] === 0x2d;
}

export const sshRegistration: AppRegistration = {
  name: 'ssh',
  tcpPorts: [22],
  probe: (data, offset, length, transport) => transport === IPPROTO_TCP && looksLikeSshBanner(data, offset, length),
  create: (ctx) => new SshAnalyzer(ctx),
};
