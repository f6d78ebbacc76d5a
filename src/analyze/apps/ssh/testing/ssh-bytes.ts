/**
 * SSH server bytes for tests (RFC 4253 §6 framing): a banner, unencrypted binary packets up to NEWKEYS, and
 * the encrypted packets' sizes that the login inference reads. Sizes below are those OpenSSH 9.2 sent in
 * fixtures/logins.pcap (tshark's view is in analyzer.test.ts).
 */

/** An unencrypted binary packet: uint32 length, padding length, message number, payload, padding. */
export function binaryPacket(msg: number, payloadBytes: number, padding = 4): Buffer {
  const b = Buffer.alloc(4 + 1 + 1 + payloadBytes + padding);
  b.writeUInt32BE(1 + 1 + payloadBytes + padding, 0);
  b[4] = padding;
  b[5] = msg;
  return b;
}

export const SERVER_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';
export const CLIENT_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';
export const KEXINIT = binaryPacket(20, 900, 6);
export const NEWKEYS = binaryPacket(21, 0, 10);
/** ECDH reply and NEWKEYS in one segment, then the server's EXT_INFO (RFC 8308), encrypted, in the same one. */
export const KEX_REPLY_NEWKEYS_EXT_INFO = Buffer.concat([binaryPacket(31, 480), NEWKEYS, Buffer.alloc(316, 0x5a)]);

/** Encrypted server packets of OpenSSH 9.2 with chacha20-poly1305 (see analyzer.test.ts). */
export const SERVICE_ACCEPT = 44;
export const USERAUTH_FAILURE = 52;
export const PK_OK = 100;
export const USERAUTH_SUCCESS = 28;

/** The server's encrypted packets of a connection whose `passwords` were all rejected. */
export function failedLoginSizes(passwords: number): number[] {
  return [SERVICE_ACCEPT, USERAUTH_FAILURE, ...new Array<number>(passwords).fill(USERAUTH_FAILURE)];
}

/** The server's encrypted packets of a key login that ran one command (as `ssh -i KEY host true`). */
export const KEY_LOGIN_SIZES: readonly number[] = [SERVICE_ACCEPT, USERAUTH_FAILURE, PK_OK, USERAUTH_SUCCESS, 264, 192, 72, 124];
