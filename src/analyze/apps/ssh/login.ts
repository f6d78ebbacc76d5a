/**
 * What an SSH connection's encrypted packets say about its logins, after Zeek's SSH analyzer (SSH.cc,
 * ProcessEncryptedSSH2): once keys are exchanged nothing is readable, but the server's packets have telling
 * sizes. Its first encrypted packet is SERVICE_ACCEPT ("ssh-userauth"). USERAUTH_FAILURE lists the methods
 * left, so every failure of a connection has the same size: the first one answers the client's "none" probe
 * (every common client sends it first) and sets the size; each later one of that size is a rejected attempt.
 * USERAUTH_SUCCESS carries one byte of payload where SERVICE_ACCEPT carries 17, so, whatever the cipher's
 * block (8 or 16) and MAC, it is the one packet smaller than SERVICE_ACCEPT. Runs on the packet loop: numbers
 * only.
 */

/** Server packets past the failure size (a pre-auth banner, PK_OK) with no decision: a session, i.e. logged in. */
const SESSION_PACKETS = 16;
/**
 * SERVICE_ACCEPT is small (17 bytes of payload, under 100 with padding and the largest MAC): a larger first
 * packet is the server's EXT_INFO (RFC 8308) in a segment of its own, not the answer to the service request.
 */
const MAX_ACCEPT_SIZE = 100;
/** A USERAUTH_FAILURE is small; a larger first packet after SERVICE_ACCEPT is a pre-auth banner (Zeek: 90). */
const MAX_FAILURE_SIZE = 90;

/** An SSH flow's facts for detection (AppFlowFacts): read at the flow's end, reused by the analyzer. */
export class SshLogin {
  readonly service = 'ssh';
  /** The protocol's major version from the banners (1 or 2; 0 before a banner). Sizes are read for 2 only. */
  version = 0;
  /** The server sent NEWKEYS: what follows is encrypted. */
  encrypted = false;
  /** Rejected authentication attempts (USERAUTH_FAILUREs after the first). */
  attempts = 0;
  /** USERAUTH_SUCCESS seen, or the connection went on as a session. */
  success = false;
  private acceptSize = 0;
  private failureSize = 0;
  private others = 0;

  /** Once the outcome is known the flow need not be read any further. */
  get decided(): boolean {
    return this.success;
  }

  /** One encrypted packet (a segment's worth) from the server, `length` bytes. */
  serverPacket(length: number): void {
    if (this.version !== 2 || this.success) return;
    if (this.acceptSize === 0) {
      if (length <= MAX_ACCEPT_SIZE) this.acceptSize = length;
      return;
    }
    if (length < this.acceptSize) {
      this.success = true;
      return;
    }
    if (this.failureSize === 0 && length <= MAX_FAILURE_SIZE) this.failureSize = length;
    else if (length === this.failureSize) this.attempts++;
    else if (++this.others >= SESSION_PACKETS) this.success = true;
  }
}

/** True for an SSH flow's facts (what the ssh analyzer hands detection). */
export function isSshLogin(facts: unknown): facts is SshLogin {
  return facts instanceof SshLogin;
}
