/**
 * Keys per IN list: SQLite binds at most 32,766 values and PostgreSQL 65,535; a few hundred keep each
 * statement small. A bound of one statement, not of a transaction: the import's rows per transaction
 * (IMPORT_BATCH_ROWS, support/import-users.ts) is another limit, which happens to be the same number.
 */
export const KEYS_PER_IN_LIST = 500;

/** `items` in consecutive slices of at most `size` (the last may be shorter), in their order. */
export function* slicesOf<T>(items: readonly T[], size: number): Generator<T[]> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`slice size must be a positive integer, not ${size}`);
  for (let from = 0; from < items.length; from += size) yield items.slice(from, from + size);
}
