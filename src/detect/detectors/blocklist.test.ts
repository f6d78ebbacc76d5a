/** Blocklisted addresses and domains, with the list file behind a fake TextSource that can change. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, SYN, tcp4 } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';
import { DetectionHarness } from '../testing/harness.js';
import { parseDetectionConfig } from '../config.js';
import { DetectionEngine } from '../detection-engine.js';
import type { TextSource } from '../types.js';

class FakeFile implements TextSource {
  private listener: (() => void) | undefined;
  stopped = false;
  constructor(public text: string) {}
  read(): string {
    if (this.text === '<unreadable>') throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return this.text;
  }
  watch(onChange: () => void): () => void {
    this.listener = onChange;
    return () => {
      this.stopped = true;
    };
  }
  change(text: string): void {
    this.text = text;
    this.listener?.();
  }
}

test('a flow to a listed address fires with the flow Community ID; more flows update the same alert', async () => {
  const file = new FakeFile('203.0.113.0/24\n');
  const { alerts } = await runFrames(
    [
      { ts: 1000, bytes: tcp4('10.0.0.5', '203.0.113.7', 40000, 443, SYN, 1000, 0) },
      { ts: 1000.05, bytes: tcp4('203.0.113.7', '10.0.0.5', 443, 40000, SYN | ACK, 7000, 1001) },
      { ts: 1001, bytes: tcp4('10.0.0.6', '203.0.113.7', 40001, 443, SYN, 1000, 0) },
      { ts: 1002, bytes: tcp4('10.0.0.6', '198.51.100.1', 40002, 443, SYN, 1000, 0) },
    ],
    { detectors: { blocklist: { file: '/etc/loopy/blocklist.txt' } } },
    { deps: { blocklistSource: () => file } },
  );
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  assert.equal(open[0].detector, 'blocklist');
  assert.equal(open[0].dst, '203.0.113.7');
  assert.equal(open[0].src, '10.0.0.5');
  assert.equal(open[0].message, '10.0.0.5 reached blocklisted address 203.0.113.7: 10.0.0.5 connected to it (tcp/443)');
  // Community ID of 10.0.0.5:40000 → 203.0.113.7:443/tcp, as `zeek`/`tshark -z conv` with community-id compute it.
  assert.match(open[0].community_ids[0], /^1:[A-Za-z0-9+/]{27}=$/);
  const closed = alerts.find((a) => a.state === 'closed')!;
  assert.equal(closed.evidence.counters.matches, 2);
  assert.deepEqual(closed.evidence.hosts, ['203.0.113.7', '10.0.0.5', '10.0.0.6']);
  assert.equal(closed.community_ids.length, 2);
  assert.equal(file.stopped, true, 'watch stopped on close');
});

test('DNS lookups of listed domains, answers pointing at listed addresses, TLS server names', () => {
  const h = new DetectionHarness({ detectors: { blocklist: { entries: ['evil.example', '192.0.2.66'] } } });
  h.dns({ ts: 1000, client: '10.0.0.5', query: 'cdn.evil.example' });
  h.dns({ ts: 1001, client: '10.0.0.6', query: 'innocent.example', answers: ['192.0.2.66'] });
  h.dns({ ts: 1002, client: '10.0.0.7', query: 'fine.example', answers: ['192.0.2.67'] });
  h.detection.onRecord({ type: 'tls', ts: 1003, uid: 'C1', 'id.orig_h': '10.0.0.8', 'id.orig_p': 1, 'id.resp_h': '192.0.2.1', 'id.resp_p': 443, proto: 'tcp', server_name: 'www.evil.example' });
  h.finish();
  const closed = h.states('closed');
  assert.equal(closed.length, 2);
  const domain = closed.find((a) => a.evidence.indicator === 'evil.example')!;
  assert.deepEqual(domain.evidence.hosts, ['10.0.0.5', '10.0.0.8']);
  assert.deepEqual(domain.evidence.how, ['10.0.0.5 looked up cdn.evil.example', '10.0.0.8 connected to www.evil.example (TLS server name)']);
  const address = closed.find((a) => a.evidence.indicator === '192.0.2.66')!;
  assert.equal((address.evidence.how as string[])[0], 'innocent.example resolved to it for 10.0.0.6');
});

test('the list reloads when its file changes (a bad reload keeps the old list)', () => {
  const file = new FakeFile('bad.example\n');
  const alerts: string[] = [];
  const detection = new DetectionEngine({
    config: parseDetectionConfig({ detectors: { blocklist: { file: 'list.txt' } } }),
    onAlert: (a) => a.state === 'open' && alerts.push(a.evidence.indicator as string),
    deps: { blocklistSource: () => file },
  });
  const h = { dns: (ts: number, query: string) => detection.onRecord({ type: 'dns', ts, uid: 'C', 'id.orig_h': '10.0.0.5', 'id.orig_p': 1, 'id.resp_h': '10.0.0.1', 'id.resp_p': 53, proto: 'udp', trans_id: 1, query, AA: false, TC: false, RD: true, RA: true, Z: 0, rejected: false }) };
  h.dns(1000, 'new.example');
  file.change('bad.example\nnew.example\n');
  h.dns(1001, 'new.example');
  file.change('<unreadable>');
  h.dns(1002, 'bad.example');
  file.change('only.example\n');
  h.dns(1003, 'bad.example');
  h.dns(1004, 'only.example');
  assert.deepEqual(alerts, ['new.example', 'bad.example', 'only.example']);
});

test('an unreadable list at start is a one-line error naming the file and the setting', () => {
  assert.throws(
    () => new DetectionEngine({ config: parseDetectionConfig({ detectors: { blocklist: { file: '/nope/list.txt' } } }), onAlert: () => {}, deps: { blocklistSource: () => new FakeFile('<unreadable>') } }),
    (err: Error & { code?: string }) => err.code === 'LOOPY_BLOCKLIST' && /blocklist \/nope\/list\.txt: cannot read it \(ENOENT\)/.test(err.message) && /detectors\.blocklist\.file/.test(err.message),
  );
});
