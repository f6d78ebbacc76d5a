/** ARP spoofing from hand-built ARP frames through the engine's arp layer observer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arp, udp4 } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

const GATEWAY_MAC = [0x02, 0, 0, 0, 0, 0x01];
const ATTACKER_MAC = [0x02, 0, 0, 0, 0, 0x66];
const HOST_MAC = [0x02, 0, 0, 0, 0, 0x0a];

test('an address whose MAC changes while the old one is alive fires, each flip updates', async () => {
  const { alerts } = await runFrames(
    [
      { ts: 1000, bytes: arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1002, bytes: arp(2, ATTACKER_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1003, bytes: arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1004, bytes: arp(2, ATTACKER_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1020, bytes: udp4('10.0.0.5', '10.0.0.9', 1, 2, 4) },
    ],
    { alerts: { updateInterval: 1 } },
  );
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  assert.equal(open[0].detector, 'arp_spoof');
  assert.equal(open[0].dst, '10.0.0.1');
  assert.equal(open[0].ts, 1002);
  assert.equal(open[0].message, '10.0.0.1 changed MAC from 02:00:00:00:00:01 to 02:00:00:00:00:66 2 s after the old one was last seen (1 change, 2 MACs): ARP spoofing?');
  assert.deepEqual(open[0].evidence.macs, ['02:00:00:00:00:01', '02:00:00:00:00:66']);
  const last = alerts.at(-1)!;
  assert.equal(last.alert_id, open[0].alert_id);
  assert.equal(last.evidence.counters.mac_changes, 3);
  assert.equal(last.evidence.last_seen, 1004);
});

test('a rebind long after the old owner left, ARP probes from 0.0.0.0 and gratuitous ARPs stay quiet', async () => {
  const { alerts } = await runFrames([
    { ts: 1000, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1') },
    { ts: 1001, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.5') },
    { ts: 1700, bytes: arp(1, ATTACKER_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1') },
    { ts: 1701, bytes: arp(1, GATEWAY_MAC, '0.0.0.0', [0, 0, 0, 0, 0, 0], '10.0.0.5') },
  ]);
  assert.deepEqual(alerts, []);
});

test('an allow-listed address (a failover pair) is left alone', async () => {
  const { alerts } = await runFrames(
    [
      { ts: 1000, bytes: arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1002, bytes: arp(2, ATTACKER_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
    ],
    { detectors: { arp_spoof: { allowTargets: ['10.0.0.1'] } } },
  );
  assert.deepEqual(alerts, []);
});

test('the evidence pcap holds the ARP frames about the address (sender or target)', async () => {
  const files = new Map<string, Buffer>();
  const { alerts } = await runFrames(
    [
      { ts: 1000, bytes: arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1001, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1') },
      { ts: 1001.5, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.7') },
      { ts: 1002, bytes: arp(2, ATTACKER_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
    ],
    {},
    { evidence: { pathFor: (id) => id, write: async (path, pcap) => void files.set(path, pcap) } },
  );
  const pcap = files.get(alerts[0].evidence.pcap!)!;
  // 24-byte file header, then per frame a 16-byte record header and the 42-byte ARP frame: 3 of the 4 frames.
  assert.equal(pcap.length, 24 + 3 * (16 + 42));
  assert.deepEqual(pcap.subarray(24 + 16, 24 + 16 + 42), arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5'));
});
