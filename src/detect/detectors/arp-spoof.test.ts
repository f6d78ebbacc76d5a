/** ARP spoofing from hand-built ARP frames through the engine's arp layer observer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arp, udp4 } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

const GATEWAY_MAC = [0x02, 0, 0, 0, 0, 0x01];
const ATTACKER_MAC = [0x02, 0, 0, 0, 0, 0x66];
const HOST_MAC = [0x02, 0, 0, 0, 0, 0x0a];

/** An IPv4 packet from `mac` (frames.ts builds every frame from one source MAC). */
function fromMac(mac: readonly number[], frame: Buffer): Buffer {
  frame.set(mac, 6);
  return frame;
}

test('a MAC claiming the gateway while the gateway is alive: one alert naming it, more claims update it', async () => {
  const { alerts } = await runFrames(
    [
      { ts: 1000, bytes: arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5') },
      { ts: 1001, bytes: arp(1, ATTACKER_MAC, '10.0.0.66', [0, 0, 0, 0, 0, 0], '10.0.0.5') },
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
  assert.equal(open[0].src, '10.0.0.66');
  assert.equal(open[0].dst, '10.0.0.1');
  assert.equal(open[0].ts, 1002);
  assert.equal(open[0].message, '02:00:00:00:00:66 (10.0.0.66) claims 10.0.0.1 (owned by 02:00:00:00:00:01) to 10.0.0.5: ARP spoofing (1 spoofed ARP message)');
  assert.equal(open[0].evidence.attacker_mac, '02:00:00:00:00:66');
  const last = alerts.at(-1)!;
  assert.equal(last.alert_id, open[0].alert_id);
  assert.equal(last.evidence.counters.spoofed_messages, 2, 'the gateway answering for itself is no claim');
  assert.equal(last.evidence.last_seen, 1004);
});

test('arpspoof -t A -r B, bindings from IP traffic, then the caches restored: one alert naming the attacker and both victims', async () => {
  const A = [0x02, 0, 0, 0, 0, 0x0a];
  const B = [0x02, 0, 0, 0, 0, 0x0b];
  const { alerts } = await runFrames([
    // A and B talk (no ARP seen: their caches were already warm); they own their addresses by IP traffic.
    { ts: 1000, bytes: fromMac(A, udp4('10.0.0.10', '10.0.0.11', 5000, 53, 10)) },
    { ts: 1000.1, bytes: fromMac(B, udp4('10.0.0.11', '10.0.0.10', 53, 5000, 10)) },
    // The attacker resolves its victims from its own address, then poisons both ways.
    { ts: 1001, bytes: arp(1, ATTACKER_MAC, '10.0.0.66', [0, 0, 0, 0, 0, 0], '10.0.0.10') },
    { ts: 1002, bytes: arp(2, ATTACKER_MAC, '10.0.0.11', A, '10.0.0.10') },
    { ts: 1002, bytes: arp(2, ATTACKER_MAC, '10.0.0.10', B, '10.0.0.11') },
    // It forwards their packets with its own MAC; they keep talking.
    { ts: 1003, bytes: fromMac(ATTACKER_MAC, udp4('10.0.0.10', '10.0.0.11', 5000, 53, 10)) },
    { ts: 1004, bytes: arp(2, ATTACKER_MAC, '10.0.0.11', A, '10.0.0.10') },
    { ts: 1004, bytes: arp(2, ATTACKER_MAC, '10.0.0.10', B, '10.0.0.11') },
    // 700 s later (past the rebind window since any ARP from A or B), still talking: their bindings are alive.
    { ts: 1700, bytes: fromMac(A, udp4('10.0.0.10', '10.0.0.11', 5000, 53, 10)) },
    { ts: 1700.1, bytes: fromMac(B, udp4('10.0.0.11', '10.0.0.10', 53, 5000, 10)) },
    { ts: 1701, bytes: arp(2, ATTACKER_MAC, '10.0.0.11', A, '10.0.0.10') },
    // Cleanup: the attacker sends the true bindings from its own MAC, and the owners answer for themselves.
    { ts: 1702, bytes: fromMac(ATTACKER_MAC, arp(2, B, '10.0.0.11', A, '10.0.0.10')) },
    { ts: 1702, bytes: fromMac(ATTACKER_MAC, arp(2, A, '10.0.0.10', B, '10.0.0.11')) },
    { ts: 1703, bytes: arp(2, A, '10.0.0.10', B, '10.0.0.11') },
    { ts: 1703, bytes: arp(2, B, '10.0.0.11', A, '10.0.0.10') },
  ]);
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 2, 'the attack and, after a quiet minute, its resumption (never the owners)');
  assert.deepEqual(open.map((a) => a.evidence.attacker_mac), ['02:00:00:00:00:66', '02:00:00:00:00:66']);
  assert.equal(open[0].ts, 1002);
  assert.equal(open[0].severity, 'critical');
  assert.equal(open[0].src, '10.0.0.66');
  assert.deepEqual(open[0].evidence.victims, ['10.0.0.10', '10.0.0.11']);
  assert.equal(open[0].evidence.man_in_the_middle, true);
  assert.equal(
    open[0].message,
    '02:00:00:00:00:66 (10.0.0.66) claims 10.0.0.11 (owned by 02:00:00:00:00:0b) and 10.0.0.10 (owned by 02:00:00:00:00:0a) to each other: man in the middle between 10.0.0.10 and 10.0.0.11 (2 spoofed ARP messages)',
  );
  assert.equal(open[1].ts, 1701);
});

test('a rebind long after the old owner left, a host moving to a free address, ARP probes from 0.0.0.0 stay quiet', async () => {
  const { alerts } = await runFrames([
    { ts: 1000, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1') },
    { ts: 1001, bytes: arp(1, HOST_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.5') },
    { ts: 1700, bytes: arp(1, ATTACKER_MAC, '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1') },
    { ts: 1701, bytes: arp(1, GATEWAY_MAC, '0.0.0.0', [0, 0, 0, 0, 0, 0], '10.0.0.5') },
    // DHCP gave the host a new address: one gratuitous ARP for it.
    { ts: 1710, bytes: arp(1, HOST_MAC, '10.0.0.77', [0, 0, 0, 0, 0, 0], '10.0.0.77') },
  ]);
  assert.deepEqual(alerts, []);
});

test('a router forwarding local addresses is not their owner: their own ARP answers are no claim', async () => {
  const ROUTER = [0x02, 0, 0, 0, 0, 0xfe];
  const frames = [];
  for (let i = 1; i <= 8; i++) frames.push({ ts: 1000 + i / 10, bytes: fromMac(ROUTER, udp4(`10.1.0.${i}`, '10.0.0.5', 5000, 53, 10)) });
  frames.push({ ts: 1002, bytes: arp(2, HOST_MAC, '10.1.0.3', GATEWAY_MAC, '10.0.0.5') });
  const { alerts } = await runFrames(frames);
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
  // 24-byte file header, then per frame a 16-byte record header and the 42-byte ARP frame: all 4 frames
  // name the claimed address (10.0.0.1) or the host told (10.0.0.5).
  assert.equal(pcap.length, 24 + 4 * (16 + 42));
  assert.deepEqual(pcap.subarray(24 + 16, 24 + 16 + 42), arp(2, GATEWAY_MAC, '10.0.0.1', HOST_MAC, '10.0.0.5'));
});
