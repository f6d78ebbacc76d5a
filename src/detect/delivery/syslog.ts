/**
 * Alerts to syslog as RFC 5424 messages, over UDP (RFC 5426: one message a datagram), TCP (RFC 6587
 * octet counting: "LEN SP MSG") or TLS (RFC 5425: the same frames). The formatter is pure; the socket is an injected transport.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [loopy@32473 alert_id=".." state=".." ...] MESSAGE
 *
 * PRI = facility × 8 + severity (critical 2, high 3, medium 4, low 5; a closed alert is 6, informational).
 * MSGID is the detector. 32473 is the private enterprise number RFC 5612 reserves for examples: the SD-ID
 * names our parameters without claiming a number we do not own.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, isIP, type Socket as TcpSocket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname as osHostname } from 'node:os';
import type { AlertRecord } from '../../analyze/records.js';
import type { SyslogConfig } from './config.js';
import { AlertDelivery, type Timers } from './retry-queue.js';
import { isoTimeOf } from '../../analyze/time-text.js';

const SEVERITY: Record<AlertRecord['severity'], number> = { critical: 2, high: 3, medium: 4, low: 5 };
const INFORMATIONAL = 6;
const SD_ID = 'loopy@32473';
/** Longest MESSAGE part we send (receivers must take 480 octets, should take 2048; ours are one line). */
const MAX_MESSAGE = 1500;

export interface SyslogFormat {
  facility: number;
  hostname: string;
  appName: string;
  procId?: string;
}

/** Escapes an SD-PARAM value (RFC 5424 §6.3.3: '"', '\' and ']' take a backslash). */
function sdValue(text: string): string {
  return text.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without spaces, '-' when empty (RFC 5424 NILVALUE). */
function headerField(text: string | undefined, max: number): string {
  const clean = (text ?? '').replace(/[^!-~]/g, '').slice(0, max);
  return clean || '-';
}

export function formatSyslog5424(alert: AlertRecord, f: SyslogFormat): string {
  const severity = alert.state === 'closed' ? INFORMATIONAL : SEVERITY[alert.severity];
  const pri = f.facility * 8 + severity;
  // RFC 5424's NILVALUE for a time no date holds (a damaged capture's).
  const ts = isoTimeOf(Math.round(alert.state_ts * 1000) / 1000) ?? '-';
  const params: Array<[string, string | number | undefined]> = [
    ['alert_id', alert.alert_id],
    ['state', alert.state],
    ['severity', alert.severity],
    ['src', alert.src],
    ['dst', alert.dst],
    ['first_seen', alert.evidence.first_seen],
    ['last_seen', alert.evidence.last_seen],
    ['community_id', alert.community_ids[0]],
    ['pcap', alert.evidence.pcap],
  ];
  const sd = `[${SD_ID}${params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${sdValue(String(v))}"`)
    .join('')}]`;
  const text = (alert.state === 'closed' ? `closed: ${alert.message}` : alert.message).replace(/[\r\n]+/g, ' ');
  const message = text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
  return `<${pri}>1 ${ts} ${headerField(f.hostname, 255)} ${headerField(f.appName, 48)} ${headerField(f.procId, 128)} ${headerField(alert.detector, 32)} ${sd} ${message}`;
}

/** RFC 6587 octet counting for a stream: the message's length in bytes, a space, the message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

export interface SyslogTransport {
  send(frame: Buffer): Promise<void>;
  close(): Promise<void>;
}

export function udpSyslogTransport(host: string, port: number): SyslogTransport {
  let socket: UdpSocket | undefined;
  return {
    send: (frame) =>
      new Promise((resolve, reject) => {
        socket ??= createSocket(host.includes(':') ? 'udp6' : 'udp4').unref();
        socket.send(frame, port, host, (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => {
      socket?.close();
      socket = undefined;
    },
  };
}

/**
 * A stream with reconnect (TCP, or TLS as RFC 5425 has it): a failed write drops the connection; the retry
 * queue's next attempt opens a new one. `dial` opens the socket; `readyEvent` is when frames may go.
 */
function streamSyslogTransport(where: string, dial: () => TcpSocket, readyEvent: 'connect' | 'secureConnect', connectTimeoutMs: number): SyslogTransport {
  let socket: TcpSocket | undefined;
  let ready: Promise<TcpSocket> | undefined;
  const forget = (): void => {
    socket = undefined;
    ready = undefined;
  };
  const open = (): Promise<TcpSocket> =>
    (ready ??= new Promise<TcpSocket>((resolve, reject) => {
      const s = dial();
      const fail = (err: Error): void => {
        s.destroy();
        forget();
        reject(err);
      };
      s.once(readyEvent, () => {
        s.setTimeout(0);
        s.off('error', fail);
        s.on('error', forget);
        s.on('close', forget);
        s.unref();
        socket = s;
        resolve(s);
      });
      s.once('timeout', () => fail(new Error(`syslog ${where}: no connection within ${connectTimeoutMs} ms`)));
      s.once('error', fail);
    }));
  return {
    async send(frame) {
      const s = await open();
      await new Promise<void>((resolve, reject) => s.write(frame, (err) => (err ? reject(err) : resolve())));
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!socket) return resolve();
        socket.end(() => resolve());
        forget();
      }),
  };
}

export function tcpSyslogTransport(host: string, port: number, connectTimeoutMs = 5000): SyslogTransport {
  return streamSyslogTransport(`${host}:${port}`, () => connect({ host, port, timeout: connectTimeoutMs }), 'connect', connectTimeoutMs);
}

/**
 * RFC 5425: the same octet-counted frames over TLS. The receiver's certificate is checked against `ca` (PEM,
 * read once, at start, before the agent drops its privileges) or, without it, the system's CAs.
 */
export function tlsSyslogTransport(host: string, port: number, ca: Buffer | undefined, connectTimeoutMs = 5000): SyslogTransport {
  const servername = isIP(host) === 0 ? host : undefined;
  return streamSyslogTransport(`tls://${host}:${port}`, () => tlsConnect({ host, port, ca, servername, timeout: connectTimeoutMs }), 'secureConnect', connectTimeoutMs);
}

/** The transport the config asks for; the CA file is read here, so a mistake shows at start. */
export function syslogTransportFor(cfg: SyslogConfig): SyslogTransport {
  const port = syslogPort(cfg);
  if (cfg.protocol === 'udp') return udpSyslogTransport(cfg.host, port);
  if (cfg.protocol === 'tcp') return tcpSyslogTransport(cfg.host, port);
  return tlsSyslogTransport(cfg.host, port, cfg.ca === undefined ? undefined : readFileSync(cfg.ca));
}

/** 514 for UDP and TCP, 6514 for TLS (RFC 5425's port), unless the config names one. */
export function syslogPort(cfg: SyslogConfig): number {
  return cfg.port ?? (cfg.protocol === 'tls' ? 6514 : 514);
}

export class SyslogDelivery extends AlertDelivery {
  constructor(
    cfg: SyslogConfig,
    private readonly transport: SyslogTransport = syslogTransportFor(cfg),
    timers?: Timers,
    onGiveUp?: (alert: AlertRecord, error: Error) => void,
    procId = String(process.pid),
  ) {
    const format: SyslogFormat = { facility: cfg.facility, hostname: cfg.hostname ?? osHostname(), appName: cfg.appName, procId };
    const stream = cfg.protocol !== 'udp';
    super(
      cfg,
      (alert) => {
        const message = formatSyslog5424(alert, format);
        return transport.send(stream ? octetCounted(message) : Buffer.from(message, 'utf8'));
      },
      timers,
      onGiveUp,
    );
  }

  override async close(deadlineMs?: number): Promise<void> {
    await super.close(deadlineMs);
    await this.transport.close();
  }
}
