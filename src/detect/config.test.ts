import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DetectionConfigError, defaultDetectionConfig, loadDetectionConfig, parseDetectionConfig } from './config.js';
import { DETECTORS } from './detectors/index.js';
import { syslogPort } from './delivery/syslog.js';
import { testDir } from '../test-support/temp-dir.js';

test('{} is a full config: every detector enabled with its defaults', () => {
  const c = defaultDetectionConfig();
  assert.deepEqual(Object.keys(c.detectors).sort(), DETECTORS.map((d) => d.name).sort());
  for (const d of Object.values(c.detectors)) {
    assert.equal(d.enabled, true);
    assert.deepEqual(d.allowSources, []);
  }
  assert.equal(c.detectors.port_scan.minPorts, 100);
  assert.equal(c.alerts.quietPeriod, 60);
  assert.equal(c.evidence.before, 5);
  assert.ok(c.localNets.includes('10.0.0.0/8'));
});

test('errors name the key and say what is wrong, all of them at once', () => {
  const err = (() => {
    try {
      parseDetectionConfig({ alerts: { quietPeriod: -1 }, detectors: { port_scan: { minPorts: 'many', allowSources: ['10.0.0.300'] }, port_scna: {} }, bogus: 1 });
    } catch (e) {
      return e as DetectionConfigError;
    }
    throw new Error('no error');
  })();
  assert.ok(err instanceof DetectionConfigError);
  assert.equal(err.code, 'LOOPY_BAD_DETECT_CONFIG');
  const issues = err.issues.join('\n');
  assert.match(issues, /^alerts\.quietPeriod: /m);
  assert.match(issues, /^detectors\.port_scan\.minPorts: .*expected number/m);
  assert.match(issues, /^detectors\.port_scan\.allowSources\.0: not an IP address or CIDR/m);
  assert.match(issues, /^detectors\.port_scna: unknown setting \(no detector has that name\)$/m);
  assert.match(issues, /^bogus: unknown setting$/m);
  assert.ok(!err.message.includes('\n'), 'one line');
});

test('suppressions: at least one field; until as an ISO date or epoch seconds', () => {
  const c = parseDetectionConfig({ suppressions: [{ detector: 'port_scan', until: '2024-06-10T06:00:00Z' }, { src: '10.0.0.5', until: 1718000000 }] });
  assert.equal(c.suppressions[0].until, 1717999200);
  assert.equal(c.suppressions[1].until, 1718000000);
  assert.throws(() => parseDetectionConfig({ suppressions: [{ reason: 'x' }] }), /suppressions\.0: give at least one of detector, src, dst/);
  assert.throws(() => parseDetectionConfig({ suppressions: [{ src: 'x', until: 'tomorrow' }] }), /suppressions\.0\.src: not an IP address.*suppressions\.0\.until: not a date/);
});

test('delivery settings are validated too', () => {
  const c = parseDetectionConfig({ delivery: { webhook: { url: 'https://hooks.example/x' }, syslog: { host: 'log.example', protocol: 'tcp' } } });
  assert.equal(c.delivery.webhook?.attempts, 6);
  assert.equal(syslogPort(c.delivery.syslog!), 514);
  assert.throws(() => parseDetectionConfig({ delivery: { webhook: { url: 'ftp://x' } } }), /delivery\.webhook\.url: must be an http/);
});

test('a config file: unreadable and not-JSON errors name the file', () => {
  const dir = testDir('loopy-detect-config-');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "alerts": ');
  assert.throws(() => loadDetectionConfig(bad), (e: Error) => e.message.startsWith(`${bad}: not valid JSON`));
  assert.throws(() => loadDetectionConfig(join(dir, 'missing.json')), /missing\.json: cannot read it \(ENOENT\)/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ detectors: { port_scan: { minPorts: 20 } } }));
  assert.equal(loadDetectionConfig(good).detectors.port_scan.minPorts, 20);
});
