/**
 * `loopy read --zeek-logs DIR` as a user runs it: the logs are read back with a zeek-cut written here from
 * Zeek's header rules (#separator, #set_separator, #empty_field, #unset_field, #fields, #types), and every
 * row compared with the `--json` records of the same run; the JSON variant too. Weird names are Zeek's
 * for a capture crafted with a bad TCP header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcap, LINKTYPE_ETHERNET } from '../capture/pcap-writer.js';
import { parseHex } from '../decode/protocols/test-helpers.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

interface ZeekLog {
  path: string;
  fields: string[];
  types: string[];
  rows: Array<Record<string, string>>;
  closed: boolean;
}

/** zeek-cut's reading of a Zeek ASCII log: the header says the separators and markers; rows by #fields. */
function readZeekTsv(text: string): ZeekLog {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the log ends with a newline');
  const sepLine = lines[0];
  assert.match(sepLine, /^#separator \\x[0-9a-f]{2}$/);
  const separator = String.fromCharCode(parseInt(sepLine.slice('#separator \\x'.length), 16));
  const header = new Map<string, string[]>();
  const rows: Array<Record<string, string>> = [];
  let closed = false;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#')) {
      const [key, ...values] = line.slice(1).split(separator);
      header.set(key, values);
      if (key === 'close') closed = true;
      continue;
    }
    assert.ok(!closed, 'no row after #close');
    const fields = header.get('fields')!;
    const values = line.split(separator);
    assert.equal(values.length, fields.length, `a row has one value per field: ${line}`);
    rows.push(Object.fromEntries(fields.map((f, i) => [f, values[i]])));
  }
  assert.deepEqual(header.get('set_separator'), [',']);
  assert.deepEqual(header.get('empty_field'), ['(empty)']);
  assert.deepEqual(header.get('unset_field'), ['-']);
  assert.match(header.get('open')![0], /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  return { path: header.get('path')![0], fields: header.get('fields')!, types: header.get('types')!, rows, closed };
}

/** A TSV value back to the JSON value it stands for, by its Zeek type. */
function fromTsv(text: string, type: string): unknown {
  if (text === '-') return undefined;
  if (type.startsWith('set[') || type.startsWith('vector[')) {
    if (text === '(empty)') return [];
    const inner = type.slice(type.indexOf('[') + 1, -1);
    return text.split(',').map((item) => fromTsv(item, inner));
  }
  if (type === 'bool') return text === 'T';
  if (['time', 'interval', 'count', 'int', 'port', 'double'].includes(type)) return Number(text);
  return text.replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The JSON record's value for a column (dotted names walk into objects as the writer does). */
function jsonValue(record: Record<string, unknown>, name: string): unknown {
  if (name in record) return record[name];
  return name.split('.').reduce<unknown>((v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined), record);
}

function assertSameValue(got: unknown, want: unknown, type: string, where: string): void {
  if (typeof want === 'number' && (type === 'time' || type === 'interval')) {
    assert.ok(typeof got === 'number' && Math.abs(got - want) < 1e-6, `${where}: ${String(got)} vs ${want}`);
  } else if (Array.isArray(want) && type === 'vector[interval]') {
    assert.deepEqual((got as number[]).map((x) => x.toFixed(6)), want.map((x: number) => x.toFixed(6)), where);
  } else assert.deepEqual(got, want, where);
}

const TYPE_PATHS: Record<string, string> = { conn: 'conn', dns: 'dns', tls: 'ssl', http: 'http', weird: 'weird' };

test('read --zeek-logs: TSV logs whose every row, read by its header, equals the --json record of the same run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-tsv-'));
  try {
    const capture = join(dir, 'office.pcap');
    writeFileSync(capture, (await generatedCapture({ seed: 41, packets: 2000, incidents: ['dns_tunnel', 'nxdomain_burst'] })).bytes);
    const logs = join(dir, 'logs');
    const run = runCli(['read', capture, '--json', '--seed', '0', '--zeek-logs', logs]);
    assert.equal(run.status, 0, run.stderr);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(readdirSync(logs).sort(), ['conn.log', 'dns.log', 'http.log', 'notice.log', 'ssl.log']);
    let compared = 0;
    for (const [type, path] of Object.entries(TYPE_PATHS)) {
      const want = records.filter((r) => r.type === type);
      if (want.length === 0) continue;
      const log = readZeekTsv(readFileSync(join(logs, `${path}.log`), 'utf8'));
      assert.equal(log.path, path);
      assert.ok(log.closed, `${path}.log ends with #close`);
      assert.equal(log.rows.length, want.length, `${path}.log has one row per ${type} record`);
      want.forEach((record, i) => {
        assert.equal(record._path, path);
        log.fields.forEach((field, f) => {
          assertSameValue(fromTsv(log.rows[i][field], log.types[f]), jsonValue(record, field), log.types[f], `${path}.log row ${i + 1} ${field}`);
          compared++;
        });
      });
    }
    assert.ok(compared > 10_000, `${compared} values compared`);
    // The alerts as Zeek notices: Loopy::<detector>, the message, one row per alert record.
    const alerts = records.filter((r) => r.type === 'alert');
    const notices = readZeekTsv(readFileSync(join(logs, 'notice.log'), 'utf8')).rows;
    assert.ok(alerts.length > 0);
    assert.deepEqual(notices.map((n) => [n.note, n.msg, n.alert_id, n.state]), alerts.map((a) => [`Loopy::${String(a.detector)}`, a.message, a.alert_id, a.state]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read --zeek-logs --zeek-format json: Zeek JSON lines holding the set columns of each --json record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-json-'));
  try {
    const capture = join(dir, 'vlan.pcap');
    writeFileSync(capture, (await generatedCapture({ seed: 42, packets: 2000, mix: 'small', vlan: 7, ipv6Share: 0.3 })).bytes);
    const logs = join(dir, 'logs');
    const run = runCli(['read', capture, '--json', '--seed', '0', '--zeek-logs', logs, '--zeek-format', 'json']);
    assert.equal(run.status, 0, run.stderr);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const path of ['conn', 'dns']) {
      const lines = readFileSync(join(logs, `${path}.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const want = records.filter((r) => r._path === path);
      assert.equal(lines.length, want.length);
      lines.forEach((line, i) => {
        for (const [key, value] of Object.entries(line)) assert.deepEqual(value, jsonValue(want[i], key), `${path}.log line ${i + 1} ${key}`);
        assert.equal(line.uid, want[i].uid);
      });
    }
    assert.ok(records.some((r) => r.type === 'conn' && r.vlan === 7));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read --zeek-logs into a directory that cannot be made: one line naming it, exit status 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-bad-'));
  try {
    const capture = join(dir, 'x.pcap');
    writeFileSync(capture, encodePcap(LINKTYPE_ETHERNET, []));
    writeFileSync(join(dir, 'file'), '');
    const run = runCli(['read', capture, '--zeek-logs', join(dir, 'file', 'logs')]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^loopy: --zeek-logs .*file\/logs: cannot make the directory \(ENOTDIR\): choose one you can write\n$/);
    assert.equal(runCli(['read', capture, '--zeek-logs', dir, '--zeek-format', 'xml']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A TCP SYN (tcpdump: 141.142.228.5.59856 > 192.150.187.43.80: Flags [S]) whose data offset byte is patched.
const SYN = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00
0010  00 40 df 8e 40 00 40 06 6d d3 8d 8e e4 05 c0 96
0020  bb 2b e9 d0 00 50 fe 21 32 3a 00 00 00 00 b0 02
0030  ff ff 3b c0 00 00 02 04 05 b4 01 03 03 04 01 01
0040  08 0a 16 4a dd 20 00 00 00 00 04 02 00 00
`;

test("weirds carry Zeek's names: a data offset of 3 words is bad_TCP_header_len, in --json and in weird.log", () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-weird-'));
  try {
    const bad = parseHex(SYN);
    bad[14 + 20 + 12] = 0x30; // 3 words: 12 bytes, under TCP's 20
    const past = parseHex(SYN);
    past[14 + 20 + 12] = 0xf0; // 15 words: past the 44 bytes the IP packet holds
    const capture = join(dir, 'bad-tcp.pcap');
    writeFileSync(capture, encodePcap(LINKTYPE_ETHERNET, [{ ts: 1700000000, data: bad }, { ts: 1700000001, data: past }, { ts: 1700000002, data: parseHex(SYN) }]));
    const logs = join(dir, 'logs');
    const run = runCli(['read', capture, '--json', '--zeek-logs', logs]);
    assert.equal(run.status, 0, run.stderr);
    const weirds = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.type === 'weird');
    assert.deepEqual(weirds.map((w) => [w.name, w.count, w._path, w.ts]), [['bad_TCP_header_len', 1, 'weird', 1700000002], ['truncated_header', 1, 'weird', 1700000002]]);
    const log = readZeekTsv(readFileSync(join(logs, 'weird.log'), 'utf8'));
    assert.deepEqual(log.rows.map((r) => [r.name, r.count, r.uid, r.ts]), [['bad_TCP_header_len', '1', '-', '1700000002.000000'], ['truncated_header', '1', '-', '1700000002.000000']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
