/**
 * A cache of values made from few keys in practice but from input in principle (a user's zone and
 * language, a query's text or shape): each value is made once, and past `max` entries the cache starts
 * again rather than grow. The one home of that bound for every such cache in FAMOS.
 */
export class Kept<K, V> {
  readonly #values = new Map<K, V>();
  constructor(readonly max: number) {}

  get(key: K, make: (key: K) => V): V {
    let value = this.#values.get(key);
    if (value === undefined) {
      value = make(key);
      if (this.#values.size >= this.max) this.#values.clear();
      this.#values.set(key, value);
    }
    return value;
  }

  /** The value kept for `key`, if any, without making or keeping one. */
  find(key: K): V | undefined {
    return this.#values.get(key);
  }

  get size(): number {
    return this.#values.size;
  }
}
