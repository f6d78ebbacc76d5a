/**
 * The TLS listener's secrets: its certificate and key (from the config, or a self-signed pair generated on
 * first start and kept in the data directory) and the bearer token (config, or generated into DATA/token).
 * Files are written 0600 with O_EXCL (never over an existing one). The fingerprint is what clients pin; it
 * is the only part ever logged.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const CERT_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';
export const TOKEN_FILE = 'token';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the certificate's DER, "AB:CD:…" as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string;
  generated: boolean;
}

export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Config paths win; else DATA's pair; else a new self-signed pair (ECDSA P-256, ten years) written there. */
export async function loadTlsMaterial(dataDir: string, config: { certFile?: string; keyFile?: string } = {}): Promise<TlsMaterial> {
  if (config.certFile || config.keyFile) {
    if (!config.certFile || !config.keyFile) throw new Error('give both tlsCert and tlsKey in the config, or neither (a self-signed pair is then generated)');
    const cert = readFileSync(config.certFile, 'utf8');
    return { cert, key: readFileSync(config.keyFile, 'utf8'), fingerprint: certificateFingerprint(cert), generated: false };
  }
  const certPath = join(dataDir, CERT_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  const cert = readIfThere(certPath);
  const key = readIfThere(keyPath);
  if (cert && key) return { cert, key, fingerprint: certificateFingerprint(cert), generated: false };
  const name = hostname();
  const now = new Date();
  // Loaded only to make a certificate: selfsigned brings node-forge, megabytes of heap an agent would keep.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: `loopy agent ${name}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  } as Parameters<typeof generate>[1]);
  writeFileSync(keyPath, pems.private, { mode: 0o600, flag: 'wx' });
  writeFileSync(certPath, pems.cert, { mode: 0o600, flag: 'wx' });
  return { cert: pems.cert, key: pems.private, fingerprint: certificateFingerprint(pems.cert), generated: true };
}

/** The config's token, else DATA/token, else a new random one (256 bits, base64url) written there 0600. */
export function loadToken(dataDir: string, configToken?: string): { token: string; generated: boolean } {
  if (configToken) return { token: configToken, generated: false };
  const path = join(dataDir, TOKEN_FILE);
  const existing = readIfThere(path)?.trim();
  if (existing) return { token: existing, generated: false };
  const token = randomBytes(32).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, generated: true };
}
