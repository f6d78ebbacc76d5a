/**
 * The config files' JSON Schemas and the commented examples in contrib/: the shipped schemas are what
 * `loopy config-schema` prints, every key is described, and the agent takes the examples as they are and with
 * every commented-out setting turned on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentDir } from '../client/testing/real-agent.js';
import { loadDetectionConfig } from '../detect/config.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { agentConfigSchema, loadAgentConfig, resolveAgentSettings } from './config.js';
import { CONFIG_KINDS, type ConfigKind } from './config-schema.js';

const CONTRIB = new URL('../../contrib/', import.meta.url);
const contrib = (name: string) => new URL(name, CONTRIB).pathname;

interface JsonSchema {
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

/** Every property path under `schema` that has no description; `skip` says which subtrees not to enter. */
function undescribed(schema: JsonSchema, path: string, skip: (path: string) => boolean): string[] {
  const missing: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const at = path ? `${path}.${key}` : key;
    if (child.description === undefined) missing.push(at);
    if (!skip(at)) missing.push(...undescribed(child, at, skip));
  }
  for (const inner of [schema.items, ...(schema.anyOf ?? [])]) if (inner) missing.push(...undescribed(inner, path, skip));
  return missing;
}

/** The example with every `// "key": value` line turned on. */
function uncommented(text: string): string {
  return text.replace(/^(\s*)\/\/ (")/gm, '$1$2');
}

for (const kind of Object.keys(CONFIG_KINDS) as ConfigKind[]) {
  test(`contrib/${CONFIG_KINDS[kind].file} is what loopy config-schema ${kind} prints`, () => {
    const r = runCli(['config-schema', kind]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(contrib(CONFIG_KINDS[kind].file), 'utf8'), r.stdout, 'regenerate it: node dist/cli/main.js config-schema KIND > contrib/FILE');
    const schema = JSON.parse(r.stdout) as JsonSchema & { $schema: string; additionalProperties: boolean };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.additionalProperties, false, 'an unknown key is a mistake, as the agent says');
    // Each detector's own thresholds are described in docs/detectors.md; everything else here.
    assert.deepEqual(undescribed(schema, '', (at) => /^detectors\.[a-z_]+$/.test(at)), []);
  });
}

test('loopy config-schema with an unknown kind is wrong usage: one line, exit 2', () => {
  const r = runCli(['config-schema', 'ui']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^loopy: config-schema ui: expected agent or detection; see loopy config-schema --help\n$/);
});

test('contrib/agent.json: accepted as it is, names every key, and every commented-out setting is valid too', () => {
  const file = contrib('agent.json');
  const settings = resolveAgentSettings(loadAgentConfig(file), {}, 0);
  assert.deepEqual(settings.source, { kind: 'live', interfaces: ['eth0'] });
  assert.equal(settings.detectConfig, '/etc/loopy/detect.json');
  assert.deepEqual(settings.serve?.metrics, { host: '127.0.0.1', port: 9464 });
  const text = readFileSync(file, 'utf8');
  for (const key of Object.keys(agentConfigSchema.shape)) assert.match(text, new RegExp(`"${key.replace('$', '\\$')}":`), `the example shows ${key}`);
  const dir = agentDir();
  writeFileSync(join(dir, 'all.json'), uncommented(text));
  const all = loadAgentConfig(join(dir, 'all.json'));
  assert.equal(all.hub, 'nats://hub.example:4222');
  assert.equal(all.snaplen, 262144);
});

test('contrib/detect.json: accepted as it is and with every commented-out setting turned on', () => {
  const file = contrib('detect.json');
  const config = loadDetectionConfig(file);
  assert.equal(config.detectors.port_scan.minPorts, 100);
  assert.deepEqual(config.suppressions.map((s) => s.detector), ['beaconing']);
  assert.equal(config.delivery.webhook, undefined);
  const dir = agentDir();
  writeFileSync(join(dir, 'all.json'), uncommented(readFileSync(file, 'utf8')));
  const all = loadDetectionConfig(join(dir, 'all.json'));
  assert.equal(all.delivery.webhook?.url, 'https://hooks.example/loopy');
  assert.equal(all.delivery.syslog?.protocol, 'tls');
  assert.equal(all.detectors.volume.enabled, false);
});

test('the agent runs with both examples as its config (the command line naming what differs here)', async () => {
  const dir = agentDir();
  const capture = join(dir, 'scan.pcap');
  writeFileSync(capture, (await generatedCapture({ seed: 3, packets: 2000, incidents: ['port_scan'] })).bytes);
  const r = runCli(
    ['agent', '--config', contrib('agent.json'), '--detect-config', contrib('detect.json'), '-r', capture, '--max', '--data', join(dir, 'data'),
      '--log', join(dir, 'agent.log'), '--listen', `unix:${join(dir, 'agent.sock')}`, '--metrics', '127.0.0.1:0', '--stdout'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr + readFileSync(join(dir, 'agent.log'), 'utf8').slice(-2000));
  const types = new Set(r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type));
  for (const type of ['conn', 'stats', 'summary']) assert.ok(types.has(type), `${type} records`);
});
