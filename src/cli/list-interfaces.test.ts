import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceInfo } from '../capture/live-addon.js';
import { describeDevices } from './list-interfaces.js';

const device = (name: string, flags: number, description: string | null = null): DeviceInfo => ({
  name,
  description,
  flags,
  loopback: (flags & 1) !== 0,
  up: (flags & 2) !== 0,
  running: (flags & 4) !== 0,
  addresses: [],
});

test('devices are described as tcpdump -D does, connection and association states included', () => {
  const text = describeDevices([
    device('eth0', 0x16),
    device('any', 0x36, 'Pseudo-device that captures on all interfaces'),
    device('lo', 0x37),
    device('ifb0', 0x30),
    device('wlan0', 0x1e),
    device('wlan1', 0x2a),
    device('wlan2', 0x0a),
    device('eth1', 0x22),
    device('eth2', 0x02),
    device('odd0', 0),
  ]);
  assert.equal(
    text,
    [
      '1.eth0 [Up, Running, Connected]',
      '2.any (Pseudo-device that captures on all interfaces) [Up, Running]',
      '3.lo [Up, Running, Loopback]',
      '4.ifb0 [none]',
      '5.wlan0 [Up, Running, Wireless, Associated]',
      '6.wlan1 [Up, Wireless, Not associated]',
      '7.wlan2 [Up, Wireless, Association status unknown]',
      '8.eth1 [Up, Disconnected]',
      '9.eth2 [Up, Connection status unknown]',
      '10.odd0',
      '',
    ].join('\n'),
  );
});
