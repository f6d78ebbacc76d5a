/**
 * Trust on first use for TLS agents, as ssh does with known_hosts: the first connection to HOST:PORT pins
 * the certificate's SHA-256 fingerprint in ~/.config/loopy/known_agents; later connections must present the
 * same certificate. A line per agent: `HOST:PORT FINGERPRINT` (fingerprint as openssl prints it, AB:CD:...).
 */
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirectory } from '../capture/directories.js';
import { dirname } from 'node:path';

export const KNOWN_AGENTS_FILE = 'known_agents';

export class FingerprintError extends Error {
  readonly code = 'LOOPY_FINGERPRINT';
}

/** `AB:CD:...` upper case from any of: ab:cd.., ABCD.., sha256:ABCD.., SHA256:ab:cd.. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.trim().replace(/^sha256:/i, '').replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

interface Pin {
  fingerprint: string;
  line: number;
}

function readPins(file: string): Map<string, Pin> {
  const pins = new Map<string, Pin>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return pins;
    throw new FingerprintError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, fp] = line.split(/\s+/);
    const fingerprint = fp === undefined ? null : normalizeFingerprint(fp);
    // A damaged line is ignored rather than fatal only if it cannot be a pin at all; a pin we cannot read is refused.
    if (key === undefined || fingerprint === null) {
      throw new FingerprintError(`${file}:${i + 1} is not 'HOST:PORT FINGERPRINT': fix or delete that line`);
    }
    if (!pins.has(key)) pins.set(key, { fingerprint, line: i + 1 });
  }
  return pins;
}

function writePin(file: string, key: string, fingerprint: string, replaceLine?: number): void {
  makeDirectory(dirname(file), 0o700);
  if (replaceLine === undefined) {
    appendFileSync(file, `${key} ${fingerprint}\n`, { mode: 0o600 });
  } else {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[replaceLine - 1] = `${key} ${fingerprint}`;
    writeFileSync(file, lines.join('\n'), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
}

export type PinOutcome = 'matched' | 'pinned-first-use' | 'pinned-explicit';

/** A certificate found acceptable: `pin()` writes what the outcome says (nothing when it matched). */
export interface FingerprintCheck {
  outcome: PinOutcome;
  pin(): void;
}

/**
 * Checks the certificate a TLS peer presented. With `expected` (--fingerprint or the config's fingerprint) the
 * certificate must be that one, and pin() (re)writes the pin to it; without, a known pin must match and pin()
 * pins an unknown peer. Nothing is written before pin(): the caller pins once the peer has proved to be an
 * agent (its hello), so a server that only happens to speak TLS is never remembered. Throws FingerprintError
 * with a one-line message that says what to do.
 */
export function checkFingerprint(file: string, key: string, presented: string, expected?: string): FingerprintCheck {
  const actual = normalizeFingerprint(presented);
  if (actual === null) throw new FingerprintError(`tls://${key} presented a certificate with no usable SHA-256 fingerprint`);
  const pins = readPins(file);
  const pin = pins.get(key);
  if (expected !== undefined) {
    const want = normalizeFingerprint(expected);
    if (want === null) throw new FingerprintError(`--fingerprint '${expected}' is not a SHA-256 fingerprint (64 hex digits, colons optional)`);
    if (want !== actual) {
      throw new FingerprintError(
        `tls://${key} presented certificate ${actual}, not the expected ${want}: check the fingerprint the agent printed at start-up`,
      );
    }
    if (pin?.fingerprint === actual) return MATCHED;
    return { outcome: 'pinned-explicit', pin: () => writePin(file, key, actual, readPins(file).get(key)?.line) };
  }
  if (pin === undefined) return { outcome: 'pinned-first-use', pin: () => writePin(file, key, actual) };
  if (pin.fingerprint !== actual) {
    throw new FingerprintError(
      `tls://${key} CHANGED its certificate (now ${actual}, pinned ${pin.fingerprint} at ${file}:${pin.line}): ` +
        `if the agent's key was replaced on purpose, delete that line or pass --fingerprint with the new one; otherwise someone may be intercepting`,
    );
  }
  return MATCHED;
}

const MATCHED: FingerprintCheck = { outcome: 'matched', pin: () => {} };
