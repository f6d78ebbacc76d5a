/**
 * Weird records carry their flow's uid and id.* as Zeek's weird.log does, run as a user runs `loopy read`:
 * a hand-built capture with DNS datagrams too short for a DNS header (DNS_truncated_len_lt_hdr_len, twice in
 * one flow, once in another) and an IPv4 header cut short before any flow exists (truncated_IP). The same
 * run's NDJSON, weird.log (--zeek-logs) and ECS documents, and `--workers 2`, all say the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcap, LINKTYPE_ETHERNET } from '../capture/pcap-writer.js';
import { runCli } from '../test-support/cli.js';
import { dnsMessage, udp4 } from '../test-support/frames.js';

type Rec = Record<string, any>;
const T0 = 1700000000;
const SHORT_DNS = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00]); // 5 bytes: under DNS's 12-byte header
const CLIENT_A = '192.0.2.10';
const CLIENT_B = '192.0.2.11';
const RESOLVER = '198.51.100.53';

function capture(): Buffer {
  const cutIp = udp4(CLIENT_A, RESOLVER, 40000, 53, 4).subarray(0, 14 + 12); // 12 of the 20 IPv4 header bytes
  return encodePcap(LINKTYPE_ETHERNET, [
    { ts: T0, data: udp4(CLIENT_A, RESOLVER, 40000, 53, dnsMessage(1, false, 'example.com')) },
    { ts: T0 + 0.25, data: udp4(CLIENT_A, RESOLVER, 40000, 53, SHORT_DNS) },
    { ts: T0 + 0.5, data: udp4(CLIENT_B, RESOLVER, 40001, 53, SHORT_DNS) },
    { ts: T0 + 0.75, data: udp4(CLIENT_A, RESOLVER, 40000, 53, SHORT_DNS) },
    { ts: T0 + 1, data: cutIp },
  ]);
}

function ndjson(text: string): Rec[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as Rec);
}

const ID_FIELDS = ['uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto'];
const idOf = (r: Rec) => Object.fromEntries(ID_FIELDS.map((f) => [f, r[f]]));

test('a flow weird names its flow (uid, id.*) once per name with its count; a weird before any flow has none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ops14-weird-'));
  try {
    const file = join(dir, 'weirds.pcap');
    writeFileSync(file, capture());
    const logs = join(dir, 'logs');
    const run = runCli(['read', file, '--json', '--zeek-logs', logs, '--seed', '0']);
    assert.equal(run.status, 0, run.stderr);
    const records = ndjson(run.stdout);
    const conns = records.filter((r) => r.type === 'conn');
    const connOf = (client: string) => conns.find((c) => c['id.orig_h'] === client)!;
    const weirds = records.filter((r) => r.type === 'weird');
    const seen = (list: unknown[][]) => list.map((w) => JSON.stringify(w)).sort();
    assert.deepEqual(seen(weirds.map((w) => [w.name, w.count, w.ts, w.uid ?? null])), seen([
      ['DNS_truncated_len_lt_hdr_len', 2, T0 + 0.25, connOf(CLIENT_A).uid],
      ['DNS_truncated_len_lt_hdr_len', 1, T0 + 0.5, connOf(CLIENT_B).uid],
      ['truncated_IP', 1, T0 + 1, null],
    ]));
    for (const w of weirds.filter((r) => r.uid !== undefined)) assert.deepEqual(idOf(w), idOf(conns.find((c) => c.uid === w.uid)!));
    const flowless = weirds.find((w) => w.name === 'truncated_IP')!;
    assert.deepEqual(Object.keys(flowless), ['type', '_path', 'ts', 'name', 'count'], 'no uid or id.* without a flow');
    const summary = records.at(-1)!;
    assert.deepEqual(summary.weirds, { DNS_truncated_len_lt_hdr_len: 3, truncated_IP: 1 }, 'the records add up to the counts');

    const log = readFileSync(join(logs, 'weird.log'), 'utf8').split('\n');
    const fields = log.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
    assert.deepEqual(fields.slice(0, 8), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'name', 'addl']);
    const rows = log.filter((l) => l !== '' && !l.startsWith('#')).map((l) => Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v])));
    assert.deepEqual(rows.map((r) => [r.uid, r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p'], r.name, r.count]), weirds.map((w) => [
      w.uid ?? '-', w['id.orig_h'] ?? '-', w['id.orig_p'] === undefined ? '-' : String(w['id.orig_p']), w['id.resp_h'] ?? '-',
      w['id.resp_p'] === undefined ? '-' : String(w['id.resp_p']), w.name, String(w.count),
    ]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--format ecs: a flow weird has the flow\'s source, destination, Community ID and session id; --workers 2 writes the same weirds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ops14-weird-'));
  try {
    const file = join(dir, 'weirds.pcap');
    writeFileSync(file, capture());
    const run = runCli(['read', file, '--format', 'ecs', '--seed', '0']);
    assert.equal(run.status, 0, run.stderr);
    const docs = ndjson(run.stdout);
    const conn = docs.find((d) => d.event.dataset === 'loopy.conn' && d.source.ip === CLIENT_A)!;
    const weird = docs.find((d) => d.event.dataset === 'loopy.weird' && d.source?.ip === CLIENT_A)!;
    assert.deepEqual([weird.source, weird.destination.ip, weird.destination.port], [{ ip: CLIENT_A, port: 40000 }, RESOLVER, 53]);
    assert.equal(weird.network.community_id, conn.network.community_id);
    assert.equal(weird.zeek.session_id, conn.zeek.session_id);
    assert.deepEqual(weird.loopy.weird, { name: 'DNS_truncated_len_lt_hdr_len', count: 2 });
    const flowless = docs.find((d) => d.event.dataset === 'loopy.weird' && d.loopy.weird.name === 'truncated_IP')!;
    assert.equal(flowless.source, undefined);

    const one = ndjson(runCli(['read', file, '--json']).stdout).filter((r) => r.type === 'weird');
    const two = runCli(['read', file, '--json', '--workers', '2']);
    assert.equal(two.status, 0, two.stderr);
    const key = (w: Rec) => `${w.name} ${w.count} ${w.ts} ${w['id.orig_h'] ?? '-'}`;
    assert.deepEqual(ndjson(two.stdout).filter((r) => r.type === 'weird').map(key).sort(), one.map(key).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loopy agent replaying the capture writes the same weirds to --stdout and its weird.log, the flow\'s with its uid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ops14-weird-'));
  try {
    // A root agent becomes another user (nobody): it must reach the capture and its directories.
    chmodSync(dir, 0o755);
    const file = join(dir, 'weirds.pcap');
    writeFileSync(file, capture(), { mode: 0o644 });
    const noConfig = join(dir, 'empty.json');
    writeFileSync(noConfig, '{}');
    const data = join(dir, 'data');
    const logs = join(dir, 'logs');
    const run = runCli(['agent', '--config', noConfig, '-r', file, '--max', '--stdout', '--zeek-logs', logs, '--data', data, '--listen', `unix:${data}/agent.sock`]);
    assert.equal(run.status, 0, run.stderr);
    const records = ndjson(run.stdout);
    const conns = records.filter((r) => r.type === 'conn');
    const weirds = records.filter((r) => r.type === 'weird');
    const key = (w: Rec) => `${w.name} ${w.count} ${w['id.orig_h'] ?? '-'}`;
    assert.deepEqual(weirds.map(key).sort(), [`DNS_truncated_len_lt_hdr_len 1 ${CLIENT_B}`, `DNS_truncated_len_lt_hdr_len 2 ${CLIENT_A}`, 'truncated_IP 1 -']);
    for (const w of weirds.filter((r) => r.uid !== undefined)) assert.deepEqual(idOf(w), idOf(conns.find((c) => c.uid === w.uid)!));
    const rows = readFileSync(join(logs, 'weird.log'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(rows.map((l) => l.split('\t')[1]).sort(), weirds.map((w) => w.uid ?? '-').sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
