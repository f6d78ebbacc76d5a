/**
 * The SSH transport as seen before and after keys are exchanged (RFC 4253): version banners, then binary
 * packets (KEXINIT, ECDH init/reply, NEWKEYS) with real framing, then chacha20-poly1305 packets (all
 * random bytes, the length too) whose sizes look like an interactive session's.
 */
import { bytesOf, randomBytes, u32 } from './content.js';
import type { Rng } from './prng.js';

export const SSH_CLIENT_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';
export const SSH_SERVER_BANNER = 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n';

const KEX_NAME_LISTS = [
  'curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group16-sha512,ext-info-c',
  'ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256',
  'chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com',
  'umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com',
  'umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com',
  'none,zlib@openssh.com',
  'none,zlib@openssh.com',
  '',
  '',
];

function sshString(data: Uint8Array | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'ascii') : data;
  return bytesOf(u32(b.length), b);
}

/** An unencrypted binary packet: length, padding length, payload, random padding to a multiple of 8. */
function binaryPacket(payload: Uint8Array, rng: Rng): Buffer {
  let padding = 8 - ((5 + payload.length) % 8);
  if (padding < 4) padding += 8;
  return bytesOf(u32(1 + payload.length + padding), padding, payload, randomBytes(rng, padding));
}

export function sshKexInit(rng: Rng): Buffer {
  const lists = KEX_NAME_LISTS.map((l) => sshString(l));
  return binaryPacket(bytesOf(20, randomBytes(rng, 16), ...lists, 0, u32(0)), rng);
}

export function sshEcdhInit(rng: Rng): Buffer {
  return binaryPacket(bytesOf(30, sshString(randomBytes(rng, 32))), rng);
}

/** Server's ECDH reply (host key, its public value, signature) followed by its NEWKEYS. */
export function sshEcdhReplyAndNewKeys(rng: Rng): Buffer {
  const hostKey = bytesOf(sshString('ssh-ed25519'), sshString(randomBytes(rng, 32)));
  const signature = bytesOf(sshString('ssh-ed25519'), sshString(randomBytes(rng, 64)));
  return bytesOf(binaryPacket(bytesOf(31, sshString(hostKey), sshString(randomBytes(rng, 32)), sshString(signature)), rng), sshNewKeys(rng));
}

export function sshNewKeys(rng: Rng): Buffer {
  return binaryPacket(bytesOf(21), rng);
}

/** One encrypted packet (chacha20-poly1305: encrypted 4-byte length, payload padded to 8, 16-byte tag). */
export function sshEncrypted(rng: Rng, plaintext: number): Buffer {
  const body = Math.ceil((plaintext + 5) / 8) * 8;
  return randomBytes(rng, 4 + body + 16);
}
