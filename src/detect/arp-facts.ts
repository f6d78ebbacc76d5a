/** ARP messages as detectors see them: Ethernet/IPv4 ARP read from the frame at pkt.arpOffset. */
import type { Packet } from '../decode/packet.js';
import type { ArpFacts } from './types.js';

/** Fills `f` from the ARP message in `pkt`; false for other hardware/protocol types (nothing to report). */
export function readArpFacts(pkt: Packet, f: ArpFacts): boolean {
  const a = pkt.arpOffset;
  const d = pkt.data;
  // Hardware type 1 (Ethernet), protocol 0x0800 (IPv4), 6-byte MACs, 4-byte addresses.
  if (a < 0 || d.readUInt16BE(a) !== 1 || d.readUInt16BE(a + 2) !== 0x0800 || d[a + 4] !== 6 || d[a + 5] !== 4) return false;
  f.ts = pkt.ts;
  f.opcode = d.readUInt16BE(a + 6);
  f.senderMac = d.readUIntBE(a + 8, 6);
  f.senderIp = d.readUInt32BE(a + 14);
  f.targetMac = d.readUIntBE(a + 18, 6);
  f.targetIp = d.readUInt32BE(a + 24);
  f.frameSourceMac = pkt.macOffset >= 0 ? d.readUIntBE(pkt.macOffset + 6, 6) : -1;
  return true;
}
