/**
 * An SSH connection as frames (test-support/frames.ts): handshake, banners, key exchange, then the client's
 * encrypted requests each answered by a server packet of the given size, then FINs. What the ssh analyzer
 * reads of a real one (analyze/apps/ssh/analyzer.test.ts checks it against a real capture).
 */
import { CLIENT_BANNER, KEX_REPLY_NEWKEYS_EXT_INFO, KEXINIT, NEWKEYS, SERVER_BANNER, binaryPacket } from '../../analyze/apps/ssh/testing/ssh-bytes.js';
import { ACK, FIN, PSH, SYN, tcp4, type Frame } from '../../test-support/frames.js';

/** Client encrypted requests: their size plays no part in the inference. */
const CLIENT_REQUEST = 76;

export function sshConnection(client: string, server: string, clientPort: number, t0: number, serverEncrypted: readonly number[], step = 0.002): Frame[] {
  const frames: Frame[] = [];
  let t = t0;
  let c = 1000;
  let s = 50_000;
  const fromClient = (flags: number, payload: Buffer | number = 0) => {
    frames.push({ ts: (t += step), bytes: tcp4(client, server, clientPort, 22, flags, c, s, payload) });
    c += (typeof payload === 'number' ? payload : payload.length) + (flags & (SYN | FIN) ? 1 : 0);
  };
  const fromServer = (flags: number, payload: Buffer | number = 0) => {
    frames.push({ ts: (t += step), bytes: tcp4(server, client, 22, clientPort, flags, s, c, payload) });
    s += (typeof payload === 'number' ? payload : payload.length) + (flags & (SYN | FIN) ? 1 : 0);
  };
  fromClient(SYN);
  fromServer(SYN | ACK);
  fromClient(ACK);
  fromClient(PSH | ACK, Buffer.from(CLIENT_BANNER, 'latin1'));
  fromServer(PSH | ACK, Buffer.from(SERVER_BANNER, 'latin1'));
  fromClient(PSH | ACK, KEXINIT);
  fromServer(PSH | ACK, KEXINIT);
  fromClient(PSH | ACK, binaryPacket(30, 40));
  fromServer(PSH | ACK, KEX_REPLY_NEWKEYS_EXT_INFO);
  fromClient(PSH | ACK, NEWKEYS);
  for (const size of serverEncrypted) {
    fromClient(PSH | ACK, CLIENT_REQUEST);
    fromServer(PSH | ACK, size);
  }
  fromClient(FIN | ACK);
  fromServer(FIN | ACK);
  fromClient(ACK);
  return frames;
}
