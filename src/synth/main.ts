#!/usr/bin/env node
/**
 * loopy-synth: writes a generated capture and prints its ground truth as JSON.
 *   node dist/synth/main.js OUT.pcap [--packets N] [--seed S] [--incidents a,b] [--duration SEC]
 *                                    [--ipv6-share F] [--vlan ID] [--start-time EPOCH] [--mix office|small|few] [--details]
 */
import { parseArgs } from 'node:util';
import { INCIDENT_KINDS, MIX_NAMES, generateCapture, type GenerateOptions, type IncidentKind, type MixName } from './generate.js';

const USAGE = 'usage: synth OUT.pcap [--packets N] [--seed S] [--incidents port_scan,host_sweep,dns_tunnel,nxdomain_burst] [--duration SEC] [--ipv6-share F] [--vlan ID] [--start-time EPOCH] [--mix office|small|few] [--details]';

function fail(message: string): never {
  process.stderr.write(`synth: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function numberOption(name: string, value: string | undefined, check: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) fail(`--${name} ${value}: not a valid value`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        packets: { type: 'string' },
        seed: { type: 'string' },
        incidents: { type: 'string' },
        duration: { type: 'string' },
        'ipv6-share': { type: 'string' },
        vlan: { type: 'string' },
        'start-time': { type: 'string' },
        details: { type: 'boolean' },
        mix: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) fail('give exactly one output file');
  const incidents = (values.incidents ?? '').split(',').filter((s) => s.length > 0);
  for (const kind of incidents) {
    if (!INCIDENT_KINDS.includes(kind as IncidentKind)) fail(`unknown incident "${kind}" (known: ${INCIDENT_KINDS.join(', ')})`);
  }
  if (values.mix !== undefined && !MIX_NAMES.includes(values.mix as MixName)) fail(`unknown mix "${values.mix}" (known: ${MIX_NAMES.join(', ')})`);
  const options: GenerateOptions = {
    mix: values.mix as MixName | undefined,
    seed: numberOption('seed', values.seed, Number.isInteger) ?? 1,
    packets: numberOption('packets', values.packets, (n) => Number.isInteger(n) && n > 0),
    durationSeconds: numberOption('duration', values.duration, (n) => n > 0),
    ipv6Share: numberOption('ipv6-share', values['ipv6-share'], (n) => n >= 0 && n <= 1),
    vlan: numberOption('vlan', values.vlan, (n) => Number.isInteger(n) && n >= 1 && n <= 4094),
    startTime: numberOption('start-time', values['start-time'], (n) => n >= 0 && n < 4294967296),
    incidents: incidents as IncidentKind[],
    details: values.details ?? false,
  };
  const truth = await generateCapture(options, positionals[0]);
  process.stdout.write(`${JSON.stringify(truth, null, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`synth: failed: ${err.message}\n`);
  process.exit(1);
});
