/**
 * TLS records as browsers and servers send them: a ClientHello with SNI and the extensions a current
 * client offers, TLS 1.3 and TLS 1.2 server flights, and application data. Everything after the hellos is
 * random bytes, as encrypted traffic looks on the wire; only record framing is real.
 * Layouts: RFC 8446 sections 4.1.2, 4.1.3, 4.2 and RFC 5246 section 7.4.
 */
import { bytesOf, fillRandom, randomBytes, u16, u24, vec16 } from './content.js';
import type { Rng } from './prng.js';

export const TLS_CONTENT_CCS = 20;
export const TLS_CONTENT_HANDSHAKE = 22;
export const TLS_CONTENT_APPLICATION_DATA = 23;
export const TLS_HANDSHAKE_CLIENT_HELLO = 1;
export const TLS_HANDSHAKE_SERVER_HELLO = 2;
/** Largest plaintext per record (2^14) plus the AEAD tag and inner content type TLS 1.3 adds. */
const MAX_RECORD_PAYLOAD = 16384 + 17;

const CIPHER_SUITES = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SIGNATURE_ALGORITHMS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

function extension(type: number, data: Uint8Array): Buffer {
  return bytesOf(u16(type), vec16(data));
}

function record(contentType: number, version: number, body: Uint8Array): Buffer {
  return bytesOf(contentType, u16(version), vec16(body));
}

function handshake(type: number, body: Uint8Array): Buffer {
  return bytesOf(type, u24(body.length), body);
}

/** A ClientHello offering TLS 1.3 and 1.2, with SNI when `serverName` is given (clients omit it for bare IPs). */
export function tlsClientHello(serverName: string | undefined, rng: Rng): Buffer {
  const exts: Buffer[] = [];
  if (serverName) {
    const host = Buffer.from(serverName, 'ascii');
    exts.push(extension(0x0000, vec16(bytesOf(0, vec16(host))))); // server_name: host_name entry
  }
  exts.push(extension(0x0017, Buffer.alloc(0))); // extended_master_secret
  exts.push(extension(0xff01, bytesOf(0))); // renegotiation_info
  exts.push(extension(0x000a, vec16(bytesOf(u16(0x001d), u16(0x0017), u16(0x0018))))); // x25519, P-256, P-384
  exts.push(extension(0x000b, bytesOf(1, 0))); // ec_point_formats: uncompressed
  exts.push(extension(0x0023, Buffer.alloc(0))); // session_ticket
  const alpn = bytesOf(2, Buffer.from('h2'), 8, Buffer.from('http/1.1'));
  exts.push(extension(0x0010, vec16(alpn)));
  exts.push(extension(0x0005, bytesOf(1, 0, 0, 0, 0))); // status_request: OCSP
  exts.push(extension(0x000d, vec16(Buffer.concat(SIGNATURE_ALGORITHMS.map(u16)))));
  exts.push(extension(0x0012, Buffer.alloc(0))); // signed_certificate_timestamp
  exts.push(extension(0x0033, vec16(bytesOf(u16(0x001d), vec16(randomBytes(rng, 32)))))); // key_share x25519
  exts.push(extension(0x002d, bytesOf(1, 1))); // psk_key_exchange_modes: psk_dhe_ke
  exts.push(extension(0x002b, bytesOf(4, u16(0x0304), u16(0x0303)))); // supported_versions
  const body = bytesOf(
    u16(0x0303), // legacy_version
    randomBytes(rng, 32),
    32, randomBytes(rng, 32), // legacy_session_id (middlebox compatibility mode)
    vec16(Buffer.concat(CIPHER_SUITES.map(u16))),
    1, 0, // compression: null
    vec16(Buffer.concat(exts)),
  );
  return record(TLS_CONTENT_HANDSHAKE, 0x0301, handshake(TLS_HANDSHAKE_CLIENT_HELLO, body));
}

/** ServerHello for TLS 1.3 (`tls13`) or 1.2, echoing the client's session id length. */
function serverHello(rng: Rng, tls13: boolean): Buffer {
  const exts = tls13
    ? [extension(0x002b, u16(0x0304)), extension(0x0033, bytesOf(u16(0x001d), vec16(randomBytes(rng, 32))))]
    : [extension(0xff01, bytesOf(0)), extension(0x0017, Buffer.alloc(0))];
  const body = bytesOf(u16(0x0303), randomBytes(rng, 32), 32, randomBytes(rng, 32), u16(tls13 ? 0x1301 : 0x009c), 0, vec16(Buffer.concat(exts)));
  return handshake(TLS_HANDSHAKE_SERVER_HELLO, body);
}

const CHANGE_CIPHER_SPEC = record(TLS_CONTENT_CCS, 0x0303, Uint8Array.of(1));

/**
 * TLS 1.3 server flight: ServerHello, the compatibility ChangeCipherSpec, then `encryptedBytes` of
 * encrypted handshake (EncryptedExtensions, Certificate, CertificateVerify, Finished) as application data.
 */
export function tls13ServerFlight(rng: Rng, encryptedBytes: number): Buffer {
  return bytesOf(record(TLS_CONTENT_HANDSHAKE, 0x0303, serverHello(rng, true)), CHANGE_CIPHER_SPEC, tlsApplicationData(rng, encryptedBytes));
}

/** TLS 1.3 client's second flight: ChangeCipherSpec and its encrypted Finished (53 bytes). */
export function tls13ClientFinished(rng: Rng): Buffer {
  return bytesOf(CHANGE_CIPHER_SPEC, tlsApplicationData(rng, 53));
}

/** TLS 1.2 (RSA key exchange) server flight: ServerHello, Certificate (an empty list), ServerHelloDone. */
export function tls12ServerFlight(rng: Rng): Buffer {
  const certificate = handshake(11, u24(0));
  const helloDone = handshake(14, Buffer.alloc(0));
  return record(TLS_CONTENT_HANDSHAKE, 0x0303, bytesOf(serverHello(rng, false), certificate, helloDone));
}

/** TLS 1.2 client: ClientKeyExchange (a 2048-bit encrypted premaster secret), ChangeCipherSpec, Finished. */
export function tls12ClientKeyExchange(rng: Rng): Buffer {
  const cke = handshake(16, vec16(randomBytes(rng, 256)));
  return bytesOf(record(TLS_CONTENT_HANDSHAKE, 0x0303, cke), CHANGE_CIPHER_SPEC, record(TLS_CONTENT_HANDSHAKE, 0x0303, randomBytes(rng, 40)));
}

/** TLS 1.2 server: ChangeCipherSpec and its encrypted Finished. */
export function tls12ServerFinished(rng: Rng): Buffer {
  return bytesOf(CHANGE_CIPHER_SPEC, record(TLS_CONTENT_HANDSHAKE, 0x0303, randomBytes(rng, 40)));
}

/** `bytes` of encrypted payload as a run of application_data records (the record headers come on top). */
export function tlsApplicationData(rng: Rng, bytes: number): Buffer {
  const records = Math.max(1, Math.ceil(bytes / MAX_RECORD_PAYLOAD));
  const out = Buffer.allocUnsafe(bytes + records * 5);
  let at = 0;
  let left = bytes;
  for (let i = 0; i < records; i++) {
    const n = i === records - 1 ? left : MAX_RECORD_PAYLOAD;
    out[at] = TLS_CONTENT_APPLICATION_DATA;
    out.writeUInt16BE(0x0303, at + 1);
    out.writeUInt16BE(n, at + 3);
    fillRandom(rng, out, at + 5, at + 5 + n);
    at += 5 + n;
    left -= n;
  }
  return out;
}
