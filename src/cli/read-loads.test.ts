/**
 * What `loopy read` loads, as a user runs it: a run that does not need detection (and so zod, which gives its
 * defaults), the alert transports (http, tls, sockets), the text summary's width tables, the UI, the store or
 * worker threads does not load them, and a run that does need them does. Watched with a module-load hook (node:module register)
 * that writes every URL the child process loads; no timing is measured here (that is bench/offline-read).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliCommand } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { testDir } from '../test-support/temp-dir.js';

let dir: string;
let capture: string;
let registerHook: string;

/** What each kind of module looks like in the list of URLs. */
const KINDS: Record<string, RegExp> = {
  zod: /\/node_modules\/zod\//,
  transports: /^node:(http|https|tls|net|dgram)$/,
  textWidths: /\/node_modules\/(string-width|get-east-asian-width|strip-ansi)\//,
  ui: /\/(dist|src)\/ui\//,
  store: /\/(dist|src)\/store\//,
  workerThreads: /^node:worker_threads$/,
  detection: /\/(dist|src)\/detect\/detection-engine\.(js|ts)$/,
  readCommand: /\/(dist|src)\/cli\/read\.(js|ts)$/,
};

before(async () => {
  dir = testDir('loopy-read-loads-');
  capture = join(dir, 'sample.pcap');
  writeFileSync(capture, (await generatedCapture({ seed: 5, packets: 500 })).bytes);
  // The hooks run in a thread of their own: each URL is appended to the file the child's environment names.
  writeFileSync(join(dir, 'hooks.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    'let out;',
    'export function initialize(data) { out = data.out; }',
    "export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }",
  ].join('\n'));
  registerHook = join(dir, 'register.mjs');
  writeFileSync(registerHook, [
    "import { register } from 'node:module';",
    `register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { out: process.env.LOOPY_TEST_LOADS } });`,
  ].join('\n'));
});

let runs = 0;

/** Runs the CLI with the hook; which KINDS it loaded, by name (the exit status checked first). */
function kindsLoaded(args: string[]): Set<string> {
  const out = join(dir, `loads-${runs++}.txt`);
  writeFileSync(out, '');
  const [node, ...script] = cliCommand();
  const r = spawnSync(node, ['--import', registerHook, ...script, ...args], { env: { ...process.env, LOOPY_TEST_LOADS: out }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `loopy ${args.join(' ')}: ${r.stderr}`);
  const urls = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.ok(urls.length > 10, 'the hook saw the modules load');
  return new Set(Object.keys(KINDS).filter((kind) => urls.some((url) => KINDS[kind].test(url))));
}

test('read --json on the defaults loads detection and zod (its defaults), and none of transports, text widths, UI, store, workers', () => {
  const loaded = kindsLoaded(['read', capture, '--json']);
  assert.deepEqual([...loaded].sort(), ['detection', 'readCommand', 'zod']);
});

test('a detection config with a delivery target loads zod and the transports', () => {
  const config = join(dir, 'detect.json');
  // Alerts, if the capture raises any, go to the discard port on loopback.
  writeFileSync(config, JSON.stringify({ delivery: { syslog: { host: '127.0.0.1', port: 9, protocol: 'udp' } } }));
  const loaded = kindsLoaded(['read', capture, '--json', '--detect-config', config]);
  assert.ok(loaded.has('zod'), 'zod validates the file');
  assert.ok(loaded.has('transports'), 'syslog over udp needs node:dgram');
  assert.ok(!loaded.has('ui') && !loaded.has('store') && !loaded.has('workerThreads'));
});

test('a detection config without a delivery target loads zod, not the transports', () => {
  const config = join(dir, 'quiet.json');
  writeFileSync(config, JSON.stringify({ alerts: { quietPeriod: 30 } }));
  const loaded = kindsLoaded(['read', capture, '--json', '--detect-config', config]);
  assert.ok(loaded.has('zod'));
  assert.ok(!loaded.has('transports'));
});

test('the text summary loads its width tables; --zeek-logs the store; --workers 2 the worker threads', () => {
  assert.ok(kindsLoaded(['read', capture]).has('textWidths'));
  assert.ok(kindsLoaded(['read', capture, '--json', '--zeek-logs', join(dir, 'zeek')]).has('store'));
  assert.ok(kindsLoaded(['read', capture, '--json', '--workers', '2']).has('workerThreads'));
});

test('--no-detect and read --help load neither detection nor zod; --version loads no command', () => {
  assert.deepEqual([...kindsLoaded(['read', capture, '--json', '--no-detect'])], ['readCommand']);
  assert.deepEqual([...kindsLoaded(['read', '--help'])], ['readCommand']);
  assert.deepEqual([...kindsLoaded(['--version'])], []);
});
