/**
 * A client's connection to a NATS hub, and the two things every hub client does on it: ask one agent a
 * protocol method (request/reply, the reply checked against the method's schema). Asking every agent at once,
 * and finding out which agents there are, is scatter.ts. src/serve/protocol/hub-subjects.ts has the subjects.
 */
import { readFileSync } from 'node:fs';
import { type MsgHdrs, type NatsConnection, connect, credsAuthenticator, headers, usernamePasswordAuthenticator } from '@nats-io/transport-node';
import { CLIENT_HEADER, type HubAddress, agentSubjects, agentToken, hubServerUrl } from '../../serve/protocol/hub-subjects.js';
import { type MethodResults, type Topic, checkEventRecord, checkResult } from '../../serve/protocol/messages.js';
import type { LiveEvent } from '../agent-client.js';
import { RpcError } from '../rpc-connection.js';
import { FatalConnectError } from '../transports.js';

export interface HubLogin {
  /** A NATS credentials file (.creds). */
  creds?: string;
  user?: string;
  password?: string;
  /** PEM CA of the hub's TLS certificate (the link then uses TLS). */
  caFile?: string;
}

export interface HubClientOptions extends HubLogin {
  /** The client's name on requests (as its hello would give it), e.g. "loopy-query 0.1.0". */
  clientName: string;
  connectTimeoutMs: number;
  /** Keep reconnecting when the hub goes away (the UI, watch) or give up (query). */
  reconnect: boolean;
}

function readFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FatalConnectError(`cannot read the hub ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a readable file`, 'LOOPY_HUB');
  }
}

export async function connectHub(address: HubAddress, o: HubClientOptions): Promise<NatsConnection> {
  const user = o.user ?? address.user;
  const password = o.password ?? address.password;
  const authenticator = o.creds !== undefined
    ? credsAuthenticator(new TextEncoder().encode(readFile(o.creds, 'credentials file')))
    : user !== undefined ? usernamePasswordAuthenticator(user, password) : undefined;
  const where = hubServerUrl(address);
  try {
    return await connect({
      servers: where, name: o.clientName, authenticator, tls: o.caFile === undefined ? undefined : { ca: readFile(o.caFile, 'CA file') },
      timeout: o.connectTimeoutMs, reconnect: o.reconnect, maxReconnectAttempts: o.reconnect ? -1 : 0, reconnectTimeWait: 1000,
    });
  } catch (err) {
    if (err instanceof FatalConnectError) throw err;
    const e = err as Error & { code?: string };
    const why = /authoriz|authent/i.test(e.message) ? `${e.message} (give --hub-creds FILE, or --hub-user and $LOOPY_HUB_PASSWORD)` : e.message;
    throw new Error(`${where}: cannot connect to the hub: ${why}`);
  }
}

/** The headers of a client's request: its name, as its hello would give it. */
export function clientHeaders(clientName: string): MsgHdrs {
  const h = headers();
  h.set(CLIENT_HEADER, clientName);
  return h;
}

/** One method of one agent on the hub; the reply checked against the method's schema. */
export async function hubRequest<M extends keyof MethodResults>(
  nc: NatsConnection, agent: string, method: M, params: object, o: { clientName: string; timeoutMs: number },
): Promise<MethodResults[M]> {
  let text: string;
  try {
    const msg = await nc.request(agentSubjects(agentToken(agent)).rpc(method), JSON.stringify(params), { timeout: o.timeoutMs, headers: clientHeaders(o.clientName) });
    text = msg.string();
  } catch (err) {
    const e = err as Error & { isNoResponders?: () => boolean };
    if (e.isNoResponders?.()) throw new Error(`${agent}: no such agent on the hub (or it is down)`);
    if (e.name === 'TimeoutError' || /timeout/i.test(e.message)) throw new Error(`${agent}: no reply to ${method} within ${o.timeoutMs} ms`);
    throw new Error(`${agent}: ${e.message}`);
  }
  return parseReply(agent, method, text);
}

/**
 * A reply's text as the method's result, checked against its schema (or by `check`); an agent's error as an
 * RpcError.
 */
export function parseReply<M extends keyof MethodResults, R = MethodResults[M]>(
  agent: string, method: M, text: string, check: (method: M, result: unknown) => R = checkResult as (method: M, result: unknown) => R,
): R {
  let reply: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  try {
    reply = JSON.parse(text) as typeof reply;
  } catch {
    throw new Error(`${agent}: the reply to ${method} is not JSON (is a loopy agent answering?)`);
  }
  if (reply.error !== undefined) {
    const message = typeof reply.error.message === 'string' ? reply.error.message : 'error';
    throw new RpcError(`${agent}: ${method}: ${message}`, typeof reply.error.code === 'number' ? reply.error.code : -32603, reply.error.data);
  }
  try {
    return check(method, reply.result);
  } catch (err) {
    throw new Error(`${agent}: ${(err as Error).message}`);
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A live message as a LiveEvent, its record checked against its topic's schema; undefined when foreign. */
export function liveEvent(topic: Topic, text: string): LiveEvent | undefined {
  try {
    return { topic, record: checkEventRecord(topic, JSON.parse(text)), missed: 0 } as LiveEvent;
  } catch {
    return undefined;
  }
}
