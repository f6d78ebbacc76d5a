/**
 * V8 compiles reads and writes of typed arrays without a "was the buffer detached?" check for as long as no
 * ArrayBuffer in the thread's isolate has ever been detached (its ArrayBufferDetaching protector). The first
 * detach anywhere (a postMessage with a transfer list: the history store's batches, an engine worker's
 * records) invalidates the protector, and every optimized function that touched a typed array is thrown
 * away and compiled again: the whole packet loop, at once, in the middle of capture. On the few-flows mix
 * that happened 4 s into a 300 kpps run (the first flow to end sends the store its first batch), ~25
 * functions deoptimized together and V8's compiler threads took ~1 % of a core to rebuild them.
 *
 * Detaching one throw-away buffer before any of that code is compiled pays the invalidation while nothing
 * depends on the protector: code is then compiled once, with the check, and kept.
 */
export function settleBufferDetaching(): void {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
}
