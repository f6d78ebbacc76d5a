/**
 * `loopy query` and `loopy watch` run as a user runs them (a child process) against the client tests' fake
 * agent on a unix socket: output formats, usage errors, and watch ending cleanly on a closed pipe or Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { FakeAgent } from '../client/testing/fake-agent.js';
import { wireDns, wireStats } from '../client/testing/wire-records.js';
import { cliCommand, runCliAsync } from '../test-support/cli.js';
import { testDir } from '../test-support/temp-dir.js';

const loopy = runCliAsync;

const conn = (uid: string, bytes: number) => ({ type: 'conn', ts: 1718000000, uid, 'id.orig_h': '10.0.0.1', 'id.orig_p': 1234, 'id.resp_h': '10.0.0.2', 'id.resp_p': 53, proto: 'udp', conn_state: 'SF', orig_bytes: bytes });

/** The CSV headers README and docs/records.md document, written out: a change to them must be on purpose. */
const CONN_HEADER = 'type,ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,service,duration,orig_bytes,resp_bytes,conn_state,history,orig_pkts,orig_ip_bytes,resp_pkts,resp_ip_bytes,community_id,vlan,inner_vlan,rtt,orig_retrans,resp_retrans,orig_ooo,resp_ooo,orig_process,resp_process,open';
const DNS_HEADER = 'type,ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,trans_id,rtt,query,qclass,qclass_name,qtype,qtype_name,rcode,rcode_name,AA,TC,RD,RA,Z,answers,TTLs,rejected';
const UNANSWERED = { type: 'dns', ts: 1718000001, uid: 'C7', 'id.orig_h': '10.0.0.7', 'id.orig_p': 5000, 'id.resp_h': '10.0.0.53', 'id.resp_p': 53, proto: 'udp', trans_id: 7, AA: false, TC: false, RD: true, RA: false, Z: 0, rejected: false, query: 'lost.example', qclass: 1, qclass_name: 'C_INTERNET', qtype: 1, qtype_name: 'A' };
const ANSWERED = { ...UNANSWERED, uid: 'C8', ts: 1718000002, rtt: 0.012, rcode: 0, rcode_name: 'NOERROR', RA: true, answers: ['192.0.2.1'], TTLs: [300] };

const TALKERS = [{ host: '10.0.0.9', bytes: 1_234_567, packets: 950 }, { host: '2001:db8::1', bytes: 4200, packets: 12 }];

async function withAgent(f: (target: string, agent: FakeAgent, dir: string) => Promise<void>): Promise<void> {
  const dir = testDir('loopy-cli-');
  const sock = join(dir, 'agent.sock');
  const agent = await new FakeAgent({
    handlers: {
      status: () => ({ type: 'agent_status', pid: 99, user: 'nobody', started: 1, updated: 2, state: 'running', source: 'replay', filter: null, interfaces: [], packets_per_s: 10, bytes_per_s: 1000, drop_pct: 0, drop_pct_total: 0, weirds_per_s: 0, cpu_percent: 1.5, rss_bytes: 5e7, flows_active: 3 }),
      'history.flows': (p) => (p.host === '10.0.0.3' ? [{ ...conn('C3', 300), 'id.orig_h': '10.0.0.3', conn_state: 'S1', open: true }, conn('C2', 200)] : [conn('C1', 100), conn('C2', 200)]),
      'history.series': (p) => [{ ts: p.since, packets: 1, bytes: 2, packets_in: 0, packets_out: 1, bytes_in: 0, bytes_out: 2, flows_opened: 0, dns_queries: 0, dropped: 0, alerts: 0 }],
      'history.talkers': () => TALKERS,
      names: (p) => ({ names: (p.addresses as string[]).includes('10.0.0.9') ? { '10.0.0.9': 'db.example.com' } : {} }),
      // Only unanswered queries for one client; an answered one too for the others.
      'history.dns': (p) => (p.host === '10.0.0.7' ? [UNANSWERED] : [ANSWERED, UNANSWERED]),
    },
  }).listen({ path: sock });
  try {
    await f(`unix:${sock}`, agent, dir);
  } finally {
    await agent.close();
  }
}

test('query: NDJSON, CSV and a table of the same rows; the filters reach the agent', async () => {
  await withAgent(async (target, agent) => {
    const json = await loopy(['query', target, 'flows', '--json', '--since', '2024-06-10T00:00:00Z', '--until', '2024-06-10T01:00:00Z', '--host', '10.0.0.1', '--port', '53', '--proto', 'udp', '--limit', '2']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)), [conn('C1', 100), conn('C2', 200)]);
    const asked = agent.requests.find((r) => r.method === 'history.flows')!.params;
    assert.deepEqual(asked, { since: 1717977600, until: 1717981200, host: '10.0.0.1', port: 53, proto: 'udp', limit: 2 });

    const csv = await loopy(['query', target, 'flows', '--csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.split('\n')[0], CONN_HEADER);
    assert.equal(csv.stdout.split('\n')[2], 'conn,1718000000,C2,10.0.0.1,1234,10.0.0.2,53,udp,,,200,,SF,,,,,,,,,,,,,,,,false');

    const table = await loopy(['query', target, 'flows']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /udp\s+10\.0\.0\.1:1234\s+10\.0\.0\.2:53/);

    const status = await loopy(['query', target, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /pid 99, user nobody/);
    assert.match(status.stdout, /flows\s+3 active/);

    const series = await loopy(['query', target, 'series', '--since', '1718000000', '--until', '1718000060', '--resolution', '1s', '--json']);
    assert.equal(JSON.parse(series.stdout).ts, 1718000000);
    assert.equal(agent.requests.find((r) => r.method === 'history.series')!.params.resolution, '1s');
  });
});

test('query flows --csv: the open column says true for a flow still open, false for one that ended', async () => {
  await withAgent(async (target) => {
    const csv = await loopy(['query', target, 'flows', '--csv', '--host', '10.0.0.3']);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, open, ended] = csv.stdout.split('\n').map((line) => line.split(','));
    const at = header!.indexOf('open');
    assert.equal(at, header!.length - 1, 'open is the last column');
    assert.deepEqual([open![header!.indexOf('uid')], open![at]], ['C3', 'true']);
    assert.deepEqual([ended![header!.indexOf('uid')], ended![at]], ['C2', 'false']);
  });
});

test('query dns --csv: the same documented header with and without answered queries, rtt in its place', async () => {
  await withAgent(async (target) => {
    const unanswered = await loopy(['query', target, 'dns', '--csv', '--host', '10.0.0.7']);
    const answered = await loopy(['query', target, 'dns', '--csv']);
    assert.equal(unanswered.code, 0, unanswered.stderr);
    const [header, ...rows] = answered.stdout.trimEnd().split('\n');
    assert.equal(header, DNS_HEADER);
    assert.equal(unanswered.stdout.split('\n')[0], DNS_HEADER);
    const rtt = header!.split(',').indexOf('rtt');
    assert.deepEqual(rows.map((r) => r.split(',')[rtt]), ['0.012', '']);
    assert.equal(rows[0], 'dns,1718000002,C8,10.0.0.7,5000,10.0.0.53,53,udp,7,0.012,lost.example,1,C_INTERNET,1,A,0,NOERROR,false,false,true,true,0,"[""192.0.2.1""]",[300],false');
  });
});

test('query talkers: hosts biggest first as a table, NDJSON or CSV; the range and limit reach the agent', async () => {
  await withAgent(async (target, agent) => {
    const table = await loopy(['query', target, 'talkers', '--since', '1718000000', '--until', '1718003600', '--limit', '2']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^host\s+bytes\s+packets\s+name$/);
    assert.match(lines[1]!, /^10\.0\.0\.9\s+1,234,567\s+950\s+db\.example\.com$/);
    assert.match(lines[2]!, /^2001:db8::1\s+4,200\s+12\s+-$/);
    assert.deepEqual(agent.requests.find((r) => r.method === 'history.talkers')!.params, { since: 1718000000, until: 1718003600, limit: 2 });
    // The names of the hosts listed, asked of the agent's passive DNS.
    assert.deepEqual(agent.requests.find((r) => r.method === 'names')!.params, { addresses: ['10.0.0.9', '2001:db8::1'] });
    const json = await loopy(['query', target, 'talkers', '--json']);
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)), [{ ...TALKERS[0], name: 'db.example.com' }, TALKERS[1]]);
    const csv = await loopy(['query', target, 'talkers', '--csv']);
    assert.equal(csv.stdout, 'host,bytes,packets,name\n10.0.0.9,1234567,950,db.example.com\n2001:db8::1,4200,12,\n');
  });
});

test('query: usage errors are one line and exit status 2; an absent agent is status 1', async () => {
  await withAgent(async (target) => {
    const cases: Array<[string[], RegExp]> = [
      [['query', target, 'flows', '--since', 'yesterday'], /^loopy: --since 'yesterday' is not a time/],
      [['query', target, 'flows', '--since', 'now', '--until', '1h'], /swap them/],
      [['query', target, 'flows', '--port', 'http'], /--port takes 0 to 65535, not 'http'/],
      [['query', target, 'bytes'], /'bytes' is not one of status, series, flows, dns, alerts/],
      [['query', 'tls://nohost', 'status'], /needs a port/],
      [['query', target, 'series', '--resolution', '5m'], /--resolution takes 1s, 1m or 1h/],
      [['query', target, 'series', '--host', '10.0.0.1'], /--host does not apply to series: the agent keeps its series for all traffic only/],
      [['query', target, 'talkers', '--port', '443'], /--port does not apply to talkers/],
    ];
    for (const [args, re] of cases) {
      const r = await loopy(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    }
  });
  const dir = testDir('loopy-cli-');
  const r = await loopy(['query', `unix:${dir}/none.sock`, 'status'], { LOOPY_CONFIG_DIR: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^loopy: unix:.*none\.sock: no such socket/);
});

test('watch --json: events as NDJSON; ends quietly when the reader goes away (| head)', async () => {
  await withAgent(async (target, agent) => {
    const [cmd, ...pre] = cliCommand();
    const child = spawn(cmd!, [...pre, 'watch', target, '--topics', 'stats,dns', '--json']);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const lines: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
    for (let i = 0; i < 500 && ![...agent.sessions].some((s) => s.topics.has('dns')); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual([...[...agent.sessions][0]!.topics].sort(), ['dns', 'stats']);
    const timer = setInterval(() => agent.publish('stats', wireStats(1)), 20);
    try {
      for (let i = 0; i < 500 && lines.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(JSON.parse(lines[0]!), wireStats(1));
      child.stdout.destroy(); // as `head -3` does once it has its lines
      const [code] = await once(child, 'close');
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /EPIPE|Error/);
    } finally {
      clearInterval(timer);
    }
  });
});

test('watch: Ctrl-C ends it with status 0; a line per event for a person', async () => {
  await withAgent(async (target, agent) => {
    const [cmd, ...pre] = cliCommand();
    const child = spawn(cmd!, [...pre, 'watch', target, '--topics', 'dns']);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (let i = 0; i < 500 && ![...agent.sessions].some((s) => s.topics.has('dns')); i++) await new Promise((r) => setTimeout(r, 20));
    agent.publish('dns', { ...wireDns('example.org', 1718000000), qtype_name: 'A', rcode_name: 'NOERROR' }, 2);
    for (let i = 0; i < 500 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /^\d\d:\d\d:\d\d dns {4}10\.0\.0\.1 example\.org A NOERROR {2}\(2 missed\)\n$/);
    child.kill('SIGINT');
    const [code] = await once(child, 'close');
    assert.equal(code, 0);
  });
});
