/**
 * setFilter on an open capture: the agent changes its kernel filter when its own client sessions come and go.
 * Directly on the addon, on loopback (127.0.0.1 only), with a short block timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { captureAddonProblem, tryLoadCaptureAddon } from './live-addon.js';

function skipReason(): string | false {
  const reason = captureAddonProblem() ?? (process.getuid?.() !== 0 ? 'capturing on loopback needs root or CAP_NET_RAW' : undefined);
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason ?? false;
}

test('a new kernel filter applies to an open handle; a bad one throws and keeps the old', { skip: skipReason() }, async () => {
  const addon = tryLoadCaptureAddon()!;
  const portA = 43000 + (process.pid % 500);
  const portB = portA + 500;
  const seen: number[] = [];
  let wake = () => {};
  const h = addon.openLive('lo', { filter: `udp dst port ${portA}`, timeoutMs: 20 }, (data, meta, count) => {
    for (let i = 0; i < count; i++) seen.push(data.readUInt16BE(meta[i * 5] + 14 + 20 + 2)); // Ethernet + IPv4: UDP dst port
    wake();
  }, (m) => assert.fail(m));
  const until = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
    assert.ok(pred(), `timed out waiting until ${what}`);
  };
  const s = createSocket('udp4');
  const send = (port: number) => new Promise<void>((r) => s.send('x', port, '127.0.0.1', () => r()));
  try {
    await send(portA);
    await until(() => seen.length >= 1, 'the first datagram is seen');
    addon.setFilter(h, `udp dst port ${portB}`);
    assert.throws(() => addon.setFilter(h, 'udp and and'), /bad capture filter/);
    await send(portA);
    await send(portB);
    await until(() => seen.includes(portB), 'the datagram to the new port is seen');
    // On loopback each packet shows once to the capture (outgoing only is not filtered by direction here).
    assert.deepEqual([...new Set(seen)], [portA, portB]);
    assert.equal(seen.filter((p) => p === portA).length, seen.filter((p) => p === portB).length, 'the second datagram to A was filtered out');
  } finally {
    s.close();
    addon.close(h);
  }
});
