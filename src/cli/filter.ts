import type { PacketBatch } from '../capture/batch.js';
import { UsageError } from './errors.js';

export interface PacketFilterFactory {
  matches(batch: PacketBatch): Uint8Array;
}

/**
 * Compiles a tcpdump-syntax filter with libpcap (through the capture addon), so `loopy read -f` keeps exactly
 * what `tcpdump -r FILE EXPR` keeps. The program is compiled for the link type of the first batch, as
 * tcpdump compiles for the file's link type. The addon is loaded only when a filter is asked for: reading
 * without one works where the addon could not be built.
 */
export async function loadPacketFilter(expression: string): Promise<PacketFilterFactory> {
  let module: typeof import('../capture/bpf-filter.js');
  try {
    module = await import('../capture/bpf-filter.js');
  } catch (err) {
    throw new UsageError(`-f needs the capture addon: ${(err as Error).message}`);
  }
  let compiled: ReturnType<typeof module.compilePacketFilter> | undefined;
  return {
    matches(batch: PacketBatch): Uint8Array {
      try {
        compiled ??= module.compilePacketFilter(expression, batch.linkTypes[0] ?? 1);
      } catch (err) {
        throw new UsageError(`-f '${expression}': ${(err as Error).message}`);
      }
      return compiled.matches(batch);
    },
  };
}
