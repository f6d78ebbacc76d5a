/**
 * A TCP link that a test can cut and restore: listens on a loopback port and relays each connection to
 * `target` (set once known: a server may need to be told the link's port before it starts). cut() drops every connection and refuses new ones (the far end sees the link die, as when a
 * site's uplink goes down); restore() accepts again on the same port.
 */
import { type Server, type Socket, createServer, connect } from 'node:net';
import { once } from 'node:events';
import { freePort } from './real-agent.js';

export class CuttableLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  target = 0;

  private constructor(readonly port: number) {}

  static async open(): Promise<CuttableLink> {
    const link = new CuttableLink(await freePort());
    await link.restore();
    return link;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  async restore(): Promise<void> {
    if (this.server) return;
    this.server = createServer((inbound) => {
      const outbound = connect({ host: '127.0.0.1', port: this.target });
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    }).listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}
