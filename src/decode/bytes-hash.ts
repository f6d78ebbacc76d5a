/**
 * A 32-bit hash of a run of bytes: FNV-1a, then a finaliser so that the low bits (a slot, a shard) mix well
 * even for inputs that differ in their last byte only (consecutive addresses). Not for anything an attacker
 * must not steer: it is for spreading, not for trust.
 */
export function hashBytes(data: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ data[at + i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
