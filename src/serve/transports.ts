/**
 * The listeners: `unix:PATH` (mode 0660, group `loopy` when it exists: the file's permissions are the
 * access control) and `tls://HOST:PORT` (certificate from credentials.ts, token checked in hello). Both are
 * bound before the agent drops privileges, so /run/loopy and ports below 1024 work.
 */
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { makeDirectory } from '../capture/directories.js';
import { type Server as NetServer, createConnection, createServer as createNetServer } from 'node:net';
import { dirname } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

export type ListenSpec = { kind: 'unix'; path: string } | { kind: 'tls'; host: string; port: number };

export const DEFAULT_ROOT_SOCKET = '/run/loopy/agent.sock';
export const SOCKET_GROUP = 'loopy';

/** `unix:PATH` or `tls://HOST:PORT` (`tls://[::1]:7441` for IPv6). Throws RangeError with what is expected. */
export function parseListenSpec(text: string): ListenSpec {
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    if (!path) throw new RangeError(`--listen ${text}: expected unix:PATH`);
    return { kind: 'unix', path };
  }
  const m = /^tls:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port > 65535) throw new RangeError(`--listen ${text}: the port must be 0 (any free one) to 65535`);
    return { kind: 'tls', host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  throw new RangeError(`--listen ${text}: expected unix:PATH or tls://HOST:PORT`);
}

export function formatListenSpec(spec: ListenSpec): string {
  return spec.kind === 'unix' ? `unix:${spec.path}` : `tls://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}`;
}

/** The gid of a group from /etc/group (Node has no getgrnam), or undefined. */
export function groupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** Removes a socket file left by an agent that died, but never one an agent still answers on. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket: remove it or give another --listen unix:PATH`);
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${path}: another agent is listening there: stop it or give another --listen unix:PATH`);
  unlinkSync(path);
}

function listening(server: NetServer, listen: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    listen();
    server.once('listening', () => {
      server.off('error', reject);
      // Later errors (EMFILE on accept) must not crash the agent: the next accept may succeed.
      server.on('error', () => {});
      resolve();
    });
  });
}

/**
 * A unix listener at `path` (0660, group `group` when it exists). `owner`: the user a root agent becomes; the
 * socket, and its directory when this made it, are handed to it, so that once privileges are dropped the
 * agent can still remove the socket at a clean stop.
 */
export async function listenUnix(path: string, group = SOCKET_GROUP, owner?: { uid: number; gid: number }): Promise<NetServer> {
  const madeDirectory = makeDirectory(dirname(path), 0o750) !== undefined;
  await removeStaleSocket(path);
  const server = createNetServer({ allowHalfOpen: false });
  await listening(server, () => server.listen(path));
  chmodSync(path, 0o660);
  if (owner) {
    chownSync(path, owner.uid, -1);
    if (madeDirectory) chownSync(dirname(path), owner.uid, -1);
  }
  const gid = groupId(group);
  if (gid !== undefined) {
    try {
      chownSync(path, -1, gid);
      chownSync(dirname(path), -1, gid);
    } catch {
      // Not root and not in the group: the socket stays the owner's alone (mode 0660, the owner's group).
    }
  }
  // A clean stop removes the file; after a crash the next start finds it stale and removes it.
  server.on('close', () => {
    try {
      unlinkSync(path);
    } catch {
      /* already gone, or no longer ours to remove after the privilege drop */
    }
  });
  return server;
}

export async function listenTls(host: string, port: number, material: { cert: string; key: string }): Promise<NetServer> {
  const server = createTlsServer({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 });
  await listening(server, () => server.listen(port, host));
  return server;
}

/** The port a listener got (for `tls://…:0` in tests). */
export function boundPort(server: NetServer): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}
