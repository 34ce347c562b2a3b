/**
 * A map of at most about `2 × limit` entries that keeps what is used: entries go into a young
 * generation; when it holds `limit`, it becomes the old one and the previous old one is dropped.
 * A hit in the old generation moves the entry back into the young one. So a hit costs one `Map`
 * lookup (two when old), with no bookkeeping per hit as an LRU list would need, and a stream of
 * one-off keys (SQL built with its values inlined) cannot push out the ones in steady use for
 * longer than it takes them to be used again.
 *
 * @example
 * const cache = new BoundedCache<string, number>(1000);
 * cache.set("SELECT 1", 1);
 * cache.get("SELECT 1"); // 1
 */
export class BoundedCache<K, V> {
  readonly #limit: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`BoundedCache limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= this.#limit && !this.#young.has(key)) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}
