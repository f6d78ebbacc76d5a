/**
 * A filter run in user space, for what the kernel cannot do: a replayed file has no kernel filter, and an
 * open live handle keeps the filter it was opened with. libpcap's own BPF interpreter runs it (one addon
 * call per batch), so it keeps exactly what the kernel would.
 */
import type { PacketBatch } from '../capture/batch.js';
import { type PacketFilter, compilePacketFilter } from '../capture/bpf-filter.js';

/** A filter expression libpcap rejected, or no addon to compile it: one line. */
export class FilterError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function explain(expression: string, err: unknown): FilterError {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'LOOPY_CAPTURE_ADDON_MISSING') return new FilterError(e.code, String(e.message));
  return new FilterError(e?.code ?? 'LOOPY_BAD_FILTER', `-f '${expression}': ${e?.message ?? String(err)}`);
}

export class UserSpaceFilter {
  private expression: string | undefined;
  private compiled: PacketFilter | undefined;

  /** Compiles once for Ethernet, so a mistake in the expression is reported at start. */
  static validate(expression: string): void {
    try {
      compilePacketFilter(expression, 1);
    } catch (err) {
      throw explain(expression, err);
    }
  }

  /** The expression to apply from the next batch on (undefined: keep everything). */
  set(expression: string | undefined): void {
    if (expression === this.expression) return;
    this.expression = expression;
    this.compiled = undefined;
  }

  /** The keep bytes for Engine.processBatch, or undefined when there is no filter. */
  matches(batch: PacketBatch): Uint8Array | undefined {
    if (this.expression === undefined) return undefined;
    if (!this.compiled) {
      try {
        this.compiled = compilePacketFilter(this.expression, batch.linkTypes[0] ?? 1);
      } catch (err) {
        throw explain(this.expression, err);
      }
    }
    return this.compiled.matches(batch);
  }
}
