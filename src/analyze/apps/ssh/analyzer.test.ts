/**
 * The SSH analyzer from bytes: a real capture (fixtures/logins.pcap, OpenSSH 9.2 server in a network
 * namespace: three key logins with `ssh -i KEY root@A true`, three `sshpass -p WRONG ssh` connections of one
 * password each, then `hydra -l root -P 12-passwords -t 4 ssh://A`) checked against tshark's view of every
 * connection's server segments, and hand-built streams for the edges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Packet } from '../../../decode/packet.js';
import { projectRoot } from '../../../test-support/corpus.js';
import { AppDriver } from '../testing/app-driver.js';
import { CaptureRun } from '../testing/capture-run.js';
import { FakeAppContext, fillTcpPacket, synPacket } from '../testing/fake-context.js';
import { SshAnalyzer, SshLogin, sshRegistration } from './index.js';
import { KEX_REPLY_NEWKEYS_EXT_INFO, KEXINIT, NEWKEYS, failedLoginSizes } from './testing/ssh-bytes.js';

/**
 * tshark -r logins.pcap -Y 'tcp.srcport==22 && tcp.len>0' -T fields -e tcp.stream -e tcp.len -e ssh.message_code,
 * per client port: the server's segments (message codes where still readable). After NEWKEYS (21) come
 * SERVICE_ACCEPT (44), the failure answering "none" (52), then 52 per rejected password; a key login has
 * PK_OK (100) and USERAUTH_SUCCESS (28, the one packet smaller than SERVICE_ACCEPT).
 */
const TSHARK_SERVER_SEGMENTS: Record<number, string> = {
  48760: '41 1088(20) 1564(31,21) 44 52 100 28 264 192 72 124',
  48768: '41 1088(20) 1564(31,21) 44 52 100 28 264 192 72 124',
  48780: '41 1088(20) 1564(31,21) 44 52 100 28 264 192 72 36 88',
  48782: '41 1088(20) 1564(31,21) 44 52 52',
  48784: '41 1088(20) 1564(31,21) 44 52 52',
  48800: '41 1088(20) 1564(31,21) 44 52 52',
  48808: '41 1088(20) 524(31,21) 44 52',
  48810: '41 1088(20) 524(31,21) 44 52 52 52',
  48822: '41 1088(20) 524(31,21) 44 52 52 52 52',
  48836: '41 1088(20) 524(31,21) 44 52 52 52 52 52 52',
  48850: '41 1088(20) 524(31,21) 44 52 52 52',
};

/** What those segments say: rejected attempts are the 52s after the first; success is the 28. */
function expectedFromTshark(segments: string): { attempts: number; success: boolean } {
  const encrypted = segments.split(' ').slice(3).map(Number);
  return { attempts: Math.max(0, encrypted.filter((n) => n === 52).length - 1), success: encrypted.includes(28) };
}

test('real logins: every port-22 flow is ssh, and each connection\'s attempts and success match tshark\'s segments', async () => {
  const facts = new Map<number, { attempts: number; success: boolean }>();
  const run = new CaptureRun();
  const { engine } = run;
  // Detection reads the facts at a flow's end (before the analyzer forgets the flow): so does this observer.
  engine.observe({
    onFlowEnd: (flow) => {
      const f = engine.appFactsOf(flow);
      if (f instanceof SshLogin) facts.set(engine.connections.table.origPort(flow), { attempts: f.attempts, success: f.success });
    },
  });
  await run.read(join(projectRoot, 'src/analyze/apps/ssh/fixtures/logins.pcap'));
  const conns = run.records.filter((r) => r.type === 'conn') as Array<{ service?: string; 'id.resp_p': number }>;
  assert.equal(conns.length, 11);
  assert.ok(conns.every((c) => c.service === 'ssh' && c['id.resp_p'] === 22));
  const expected = Object.fromEntries(Object.entries(TSHARK_SERVER_SEGMENTS).map(([port, segs]) => [port, expectedFromTshark(segs)]));
  assert.deepEqual(Object.fromEntries(facts), expected);
  assert.equal([...facts.values()].reduce((n, f) => n + f.attempts, 0), 3 + 12, 'three sshpass passwords and hydra\'s twelve');
});

const CLIENT_ISN = 1000;
const SERVER_ISN = 5000;

/** A connection driven by hand: the client's and the server's bytes as segments, in order. */
class Conversation {
  readonly ctx = new FakeAppContext();
  readonly ssh = new AppDriver(this.ctx, sshRegistration, (c) => new SshAnalyzer(c));
  private readonly pkt = new Packet();
  private clientSeq = CLIENT_ISN + 1;
  private serverSeq = SERVER_ISN + 1;

  constructor(readonly flowId = 3) {
    this.ssh.packet(flowId, true, synPacket(this.pkt, CLIENT_ISN));
    this.ssh.packet(flowId, false, synPacket(this.pkt, SERVER_ISN, 0, CLIENT_ISN + 1));
  }

  client(bytes: Buffer | string): this {
    const payload = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.ssh.packet(this.flowId, true, fillTcpPacket(this.pkt, { seq: this.clientSeq, payload }));
    this.clientSeq += payload.length;
    return this;
  }

  server(bytes: Buffer | string): this {
    const payload = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.ssh.packet(this.flowId, false, fillTcpPacket(this.pkt, { seq: this.serverSeq, payload }));
    this.serverSeq += payload.length;
    return this;
  }

  /** Encrypted server packets of these sizes, one segment each (their bytes do not matter). */
  encrypted(...sizes: number[]): this {
    for (const n of sizes) this.server(Buffer.alloc(n, 0xa5));
    return this;
  }

  /** A server byte the capture missed: a content gap. */
  skipServer(bytes: number): this {
    this.serverSeq += bytes;
    return this;
  }

  get login(): SshLogin | undefined {
    return this.ssh.analyzer.factsOf(this.flowId);
  }
}

function failedLogins(c: Conversation, passwords: number): Conversation {
  return c.server('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n').server(KEXINIT).server(KEX_REPLY_NEWKEYS_EXT_INFO).encrypted(...failedLoginSizes(passwords));
}

test('a banner split over segments names the service once; the rest of the NEWKEYS segment (EXT_INFO) is not SERVICE_ACCEPT', () => {
  const c = new Conversation().client('SS').client('H-2.0-libssh_0.10.4\r\n');
  assert.deepEqual(c.ctx.services, [[3, 'ssh']]);
  failedLogins(c, 4);
  assert.deepEqual({ attempts: c.login?.attempts, success: c.login?.success, encrypted: c.login?.encrypted }, { attempts: 4, success: false, encrypted: true });
  assert.deepEqual(c.ctx.services, [[3, 'ssh']]);
});

test('USERAUTH_SUCCESS (smaller than SERVICE_ACCEPT) after failures is a success, and the flow is released', () => {
  const c = failedLogins(new Conversation().client('SSH-2.0-OpenSSH_9.2\r\n'), 2).encrypted(28);
  assert.equal(c.login?.success, true);
  assert.equal(c.login?.attempts, 2);
  c.encrypted(36); // released: read no more
  assert.equal(c.login?.attempts, 2);
});

test('lines before the server banner are skipped; a pre-auth banner larger than a failure is not the failure size', () => {
  const c = new Conversation()
    .server('Welcome to the lab\r\nAuthorised users only\r\n')
    .server('SSH-2.0-dropbear_2022.83\r\n')
    .server(KEXINIT)
    .server(NEWKEYS)
    .encrypted(300, 48, 180, 64, 64, 64); // EXT_INFO, SERVICE_ACCEPT, USERAUTH_BANNER, failure ("none"), 2 rejected
  assert.deepEqual(c.ctx.services, [[3, 'ssh']]);
  assert.equal(c.login?.attempts, 2);
  assert.equal(c.login?.success, false);
});

test('an SSH-1 server is named but its sizes are not read; a gap on the server side stops the reading', () => {
  const v1 = new Conversation().server('SSH-1.5-OldServer\n').encrypted(44, 52, 52, 52);
  assert.deepEqual(v1.ctx.services, [[3, 'ssh']]);
  assert.equal(v1.login?.version, 1);
  assert.equal(v1.login?.attempts, 0);
  const gap = new Conversation().server('SSH-2.0-x\r\n').server(KEXINIT).skipServer(20).server(NEWKEYS).encrypted(44, 52, 52, 52);
  assert.equal(gap.login?.encrypted, false);
  assert.equal(gap.login?.attempts, 0);
});

test('other traffic on port 22 is not ssh and has no login facts', () => {
  const c = new Conversation().client('GET / HTTP/1.1\r\nHost: x\r\n\r\n').server('HTTP/1.1 400 Bad Request\r\n\r\n');
  assert.deepEqual(c.ctx.services, []);
  assert.equal(c.login, undefined);
});

test('the probe claims "SSH-" on any port, and nothing else', () => {
  const probe = sshRegistration.probe!;
  assert.equal(probe(Buffer.from('SSH-2.0-Go\r\n'), 0, 12, 6), true);
  assert.equal(probe(Buffer.from('SSH-2.0-Go\r\n'), 0, 12, 17), false, 'TCP only');
  assert.equal(probe(Buffer.from('SSX-2.0'), 0, 7, 6), false);
  assert.equal(probe(Buffer.from('SSH'), 0, 3, 6), false);
});

test('a flow moved to another id keeps its login facts under the new one (the flow table compacted)', () => {
  const c = failedLogins(new Conversation().client('SSH-2.0-OpenSSH_9.2\r\n'), 3);
  c.ssh.analyzer.onFlowMoved(3, 4_194_307);
  assert.equal(c.ssh.analyzer.factsOf(3), undefined);
  assert.equal(c.ssh.analyzer.factsOf(4_194_307)?.attempts, 3);
  c.ssh.analyzer.onFlowEnd(4_194_307);
  assert.equal(c.ssh.analyzer.factsOf(4_194_307), undefined);
});
