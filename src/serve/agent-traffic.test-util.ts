/**
 * Known traffic for agent-live.test.ts: small node scripts (CommonJS, run with `node -e` inside a namespace).
 * Their sizes and counts are the test's expectations, so each script does exactly what its comment says.
 */

/** The answers of the DNS responder; any other name gets NXDOMAIN. */
export const DNS_TABLE: Record<string, string> = { 'a.loopy.test': '192.0.2.1', 'b.loopy.test': '192.0.2.2', 'c.loopy.test': '192.0.2.3' };

/**
 * Servers, in the agent's namespace. argv: tcpPort udpPort dnsPort tableJson. Prints {"event":"ready"}; runs
 * until its stdin closes.
 * - TCP: reads until the client half-closes; the first 4 bytes (big-endian) say how many bytes to answer;
 *   writes them and closes.
 * - UDP: a sink (so datagrams draw no ICMP port unreachable).
 * - DNS: one question per query; A record (TTL 60) for names in the table, else rcode 3 (NXDOMAIN).
 */
export const SERVERS = `
const net = require('node:net'), dgram = require('node:dgram');
const [tcpPort, udpPort, dnsPort] = process.argv.slice(1, 4).map(Number);
const table = JSON.parse(process.argv[4]);
let pending = 3;
const ready = () => { if (--pending === 0) console.log(JSON.stringify({ event: 'ready' })); };
const tcp = net.createServer((s) => {
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  s.on('end', () => { const all = Buffer.concat(chunks); s.end(Buffer.alloc(all.readUInt32BE(0), 0x61)); });
  s.on('error', () => {});
}).listen(tcpPort, ready);
const udp = dgram.createSocket('udp4').bind(udpPort, ready);
const dns = dgram.createSocket('udp4');
dns.on('message', (q, peer) => {
  let at = 12; const labels = [];
  while (q[at] !== 0) { labels.push(q.toString('latin1', at + 1, at + 1 + q[at])); at += 1 + q[at]; }
  const question = q.subarray(12, at + 5);
  const addr = table[labels.join('.')];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.readUInt16BE(0), 0);
  header.writeUInt16BE(addr ? 0x8180 : 0x8183, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addr ? 1 : 0, 6);
  const answer = addr ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...addr.split('.').map(Number)]) : Buffer.alloc(0);
  dns.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
});
dns.bind(dnsPort, ready);
process.stdin.on('end', () => { tcp.close(); udp.close(); dns.close(); });
process.stdin.resume();
`;

/**
 * TCP clients, one connection after the other. argv: host port "up:down,up:down,...". Each sends `up` bytes
 * (the first 4 say `down`), half-closes, reads `down` bytes to the end. Prints the byte counts it saw.
 */
export const TCP_CLIENTS = `
const net = require('node:net');
const [host, port, spec] = process.argv.slice(1);
(async () => {
  const seen = [];
  for (const pair of spec.split(',')) {
    const [up, down] = pair.split(':').map(Number);
    const got = await new Promise((resolve, reject) => {
      const s = net.connect(Number(port), host, () => {
        const body = Buffer.alloc(up, 0x62);
        body.writeUInt32BE(down, 0);
        s.end(body);
      });
      let n = 0;
      s.on('data', (d) => (n += d.length));
      s.on('end', () => resolve(n));
      s.on('error', reject);
      s.setTimeout(5000, () => reject(new Error('tcp timeout')));
    });
    seen.push([up, got]);
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

/** UDP: argv host port count size; `count` datagrams of `size` bytes from one socket. */
export const UDP_CLIENT = `
const s = require('node:dgram').createSocket('udp4');
const [host, port, count, size] = process.argv.slice(1);
let left = Number(count);
for (let i = 0; i < Number(count); i++) s.send(Buffer.alloc(Number(size), i), Number(port), host, () => { if (--left === 0) s.close(); });
`;

/**
 * DNS: argv host port name...; one A query per name (id 0x100 + i, RD set), from one socket, each waiting
 * for its answer (2 s at most). Prints [[name, rcode, answerCount], ...].
 */
export const DNS_CLIENT = `
const s = require('node:dgram').createSocket('udp4');
const [host, port, ...names] = process.argv.slice(1);
(async () => {
  const out = [];
  for (const [i, name] of names.entries()) {
    const qname = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
    const header = Buffer.from([0x01, i, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    const reply = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer for ' + name)), 2000);
      s.once('message', (m) => { clearTimeout(timer); resolve(m); });
      s.send(Buffer.concat([header, qname, Buffer.from([0, 1, 0, 1])]), Number(port), host);
    });
    out.push([name, reply[3] & 15, reply.readUInt16BE(6)]);
  }
  s.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
`;
