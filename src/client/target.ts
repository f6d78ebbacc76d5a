/**
 * TARGET strings: `unix:PATH`, `tls://HOST:PORT`, `ssh://[USER@]HOST[:PORT]`, `nats://HOST[:PORT]` (every
 * agent on a hub) and `nats://HOST[:PORT]/AGENT` (one). Anything else that looks like a plain word is a name
 * for the client config file (client-config.ts).
 */
import { type HubAddress, hubServerUrl, parseHubAddress } from '../serve/protocol/hub-subjects.js';


export type ParsedTarget =
  | { kind: 'unix'; path: string }
  | { kind: 'tls'; host: string; port: number }
  | { kind: 'ssh'; host: string; user?: string; port?: number }
  | ({ kind: 'nats' } & HubAddress);

/** A TARGET that cannot be understood; the message is one line saying what is wrong and what form to use. */
export class TargetError extends Error {
  readonly code = 'LOOPY_TARGET';
}

const FORMS = 'use unix:PATH, tls://HOST:PORT, ssh://[USER@]HOST[:PORT], nats://HOST[:PORT][/AGENT] or a name from the client config';

/** A config name: letters, digits, dot, dash, underscore (no colon or slash, so never mistaken for a TARGET). */
export const AGENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Parses a TARGET; returns null when `text` is a plain name to look up in the config file. */
export function parseTarget(text: string): ParsedTarget | null {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw new TargetError(`target '${text}' has no socket path: ${FORMS}`);
    return { kind: 'unix', path };
  }
  if (text.startsWith('tls://')) {
    const { host, port } = hostPort(text, text.slice('tls://'.length));
    if (port === undefined) throw new TargetError(`target '${text}' needs a port (tls://HOST:PORT)`);
    return { kind: 'tls', host, port };
  }
  if (text.startsWith('ssh://')) {
    let rest = text.slice('ssh://'.length);
    let user: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      user = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (user === '' || /[\s/:]/.test(user)) throw new TargetError(`target '${text}' has a bad user name: ${FORMS}`);
    }
    const { host, port } = hostPort(text, rest);
    return user === undefined ? { kind: 'ssh', host, port } : { kind: 'ssh', host, user, port };
  }
  if (text.startsWith('nats://')) {
    try {
      return { kind: 'nats', ...parseHubAddress(text) };
    } catch (err) {
      throw new TargetError(`target ${(err as Error).message}`);
    }
  }
  if (AGENT_NAME.test(text)) return null;
  throw new TargetError(`cannot understand target '${text}': ${FORMS}`);
}

/** HOST, HOST:PORT, [V6], [V6]:PORT. */
function hostPort(target: string, text: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new TargetError(`target '${target}' has an unclosed '[' in the address`);
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new TargetError(`target '${target}': expected ':PORT' after ']'`);
    if (after !== '') portText = after.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      throw new TargetError(`target '${target}': write an IPv6 address in brackets, e.g. tls://[::1]:7070`);
    }
    host = colon >= 0 ? text.slice(0, colon) : text;
    if (colon >= 0) portText = text.slice(colon + 1);
  }
  if (host === '' || /[\s/@]/.test(host)) throw new TargetError(`target '${target}' has no valid host: ${FORMS}`);
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new TargetError(`target '${target}' has a bad port '${portText}' (1-65535)`);
  }
  return { host, port };
}

/** The canonical HOST:PORT used as the key in known_agents (IPv6 in brackets, as ssh does). */
export function hostPortKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatTarget(t: ParsedTarget): string {
  switch (t.kind) {
    case 'unix':
      return `unix:${t.path}`;
    case 'tls':
      return `tls://${hostPortKey(t.host, t.port)}`;
    case 'ssh': {
      const host = t.host.includes(':') ? `[${t.host}]` : t.host;
      return `ssh://${t.user ? `${t.user}@` : ''}${host}${t.port ? `:${t.port}` : ''}`;
    }
    case 'nats':
      return `${hubServerUrl(t)}${t.agent === undefined ? '' : `/${encodeURIComponent(t.agent)}`}`;
  }
}
