/** Typed-array columns that grow: the DNS parse and the pending queries keep their per-item fields in them. */
export type Column = Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

/** A copy of the column, `length` long (default: twice as long), of the same type. */
export function grownColumn<T extends Column>(old: T, length = old.length * 2): T {
  const next = new (old.constructor as new (length: number) => T)(length);
  next.set(old as ArrayLike<number>);
  return next;
}
