/**
 * A map for entries that live for a moment (one payment or request in flight) and come and go fast:
 * the engine's and the nodes' per-payment state.
 *
 * Why not a Map: V8 replaces a Map's hash table as entries come and go. Once the Map has lived a
 * while its tables are allocated in old space, and a replaced table keeps its entries and a link
 * to its successor. Old space is only freed by a major GC; until then the young collector treats
 * everything such a dead table points at as alive, so every payment's objects (msg, promises,
 * journal state) were promoted too. In the bench with 100 terminals and Node-RED at 256 MB that
 * meant 4 major GCs a second and a p99 latency near 3x the floor's.
 *
 * Here the entries live in a dictionary-mode object (no successor links, no table churn in old
 * space) and the dictionary holds small slots that `delete` empties, so a stale copy of it keeps an
 * empty slot alive and nothing else. Keys are compared as property keys: 5 and "5" are one key.
 * Iteration follows insertion order, as a Map's does.
 */
type Key = string | number;

interface Slot<K extends Key, V> {
  readonly key: K;
  readonly seq: number;
  value: V | undefined;
}

export class InFlightMap<K extends Key, V> {
  /** Created with a null prototype: V8 keeps such an object in dictionary mode from the start. */
  private table: Record<Key, Slot<K, V> | undefined> = Object.create(null) as Record<Key, Slot<K, V> | undefined>;
  private count = 0;
  private nextSeq = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    return this.table[key]?.value;
  }

  has(key: K): boolean {
    return this.table[key] !== undefined;
  }

  set(key: K, value: V): this {
    const slot = this.table[key];
    if (slot) slot.value = value;
    else {
      this.table[key] = { key, seq: this.nextSeq++, value };
      this.count++;
    }
    return this;
  }

  delete(key: K): boolean {
    const slot = this.table[key];
    if (!slot) return false;
    slot.value = undefined;
    delete this.table[key];
    this.count--;
    return true;
  }

  clear(): void {
    for (const slot of this.slots()) slot.value = undefined;
    this.table = Object.create(null) as Record<Key, Slot<K, V> | undefined>;
    this.count = 0;
  }

  *keys(): IterableIterator<K> {
    for (const s of this.slots()) if (this.table[s.key] === s) yield s.key;
  }

  *values(): IterableIterator<V> {
    for (const s of this.slots()) if (this.table[s.key] === s) yield s.value as V;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const s of this.slots()) if (this.table[s.key] === s) yield [s.key, s.value as V];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * The slots in insertion order (an object lists integer-like keys first). Iterators walk this
   * snapshot and skip entries deleted meanwhile; entries added meanwhile are not visited.
   */
  private slots(): Slot<K, V>[] {
    const out: Slot<K, V>[] = [];
    for (const k in this.table) {
      const slot = this.table[k];
      if (slot) out.push(slot);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}
