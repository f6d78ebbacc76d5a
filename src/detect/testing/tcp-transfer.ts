/** A TCP bulk transfer as frames (test-support/frames.ts), for the flood and transfer detectors' tests. */
import { ACK, FIN, PSH, SYN, tcp4, type Frame } from '../../test-support/frames.js';

/** A TCP transfer: handshake, `n` full segments each ACKed, FINs (what iperf3 sends, at any speed). */
export function tcpTransfer(client: string, server: string, n: number, t0: number, gap: number): Frame[] {
  const f: Frame[] = [
    { ts: t0, bytes: tcp4(client, server, 50000, 5201, SYN, 0, 0) },
    { ts: t0 + gap, bytes: tcp4(server, client, 5201, 50000, SYN | ACK, 0, 1) },
    { ts: t0 + 2 * gap, bytes: tcp4(client, server, 50000, 5201, ACK, 1, 1) },
  ];
  for (let i = 0; i < n; i++) {
    f.push({ ts: t0 + (3 + 2 * i) * gap, bytes: tcp4(client, server, 50000, 5201, PSH | ACK, 1 + i * 1448, 1, 1448) });
    if (i % 2 === 1) f.push({ ts: t0 + (4 + 2 * i) * gap, bytes: tcp4(server, client, 5201, 50000, ACK, 1, 1 + (i + 1) * 1448) });
  }
  const end = t0 + (4 + 2 * n) * gap;
  f.push({ ts: end, bytes: tcp4(client, server, 50000, 5201, FIN | ACK, 1 + n * 1448, 1) }, { ts: end + gap, bytes: tcp4(server, client, 5201, 50000, FIN | ACK, 1, 2 + n * 1448) });
  return f;
}
